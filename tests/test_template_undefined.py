"""Templates fail on a name or field they were not given (issue 13): a misspelt field of a
disclosed section must not render as empty or as "withheld"."""

import pytest
from jinja2.exceptions import UndefinedError

from hub.disclosure.record_view import Identity, WithheldCategory
from hub.vocabulary import Category, WithheldReason
from hub.web.templating import templates

SHOWN = Identity(first_name="Ada", last_name="Quill", date_of_birth=None)
WITHHELD = WithheldCategory(Category.identity, WithheldReason.no_consent)


def render(source: str, **context: object) -> str:
    return templates.env.from_string(source).render(**context)


def test_a_misspelt_field_of_a_section_fails_the_render():
    with pytest.raises(UndefinedError):
        render("{{ s.frist_name }}", s=SHOWN)
    with pytest.raises(UndefinedError):
        render("{% if s.frist_name %}shown{% endif %}", s=SHOWN)


def test_a_name_the_page_did_not_hand_over_fails_the_render():
    with pytest.raises(UndefinedError):
        render("{% if swap %}x{% endif %}")


def test_withheld_is_asked_of_the_policy_layers_answer():
    source = (
        "{% if s is withheld %}withheld: {{ s.reason.value }}"
        "{% else %}{{ s.first_name }}{% endif %}"
    )
    assert render(source, s=SHOWN) == "Ada"
    assert render(source, s=WITHHELD) == f"withheld: {WithheldReason.no_consent.value}"


def test_a_form_field_not_filled_in_reads_as_empty():
    assert render('<input value="{{ values.title or "" }}">', values={}) == '<input value="">'
    assert render("{% if errors.form %}error{% endif %}", errors={}) == ""
