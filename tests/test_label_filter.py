"""Vocabulary values reach a page in words through one filter, `label`, not through copies of
`.value.replace('_', ' ')` in each template."""

from pathlib import Path

import pytest

from hub.vocabulary import Purpose, Role
from hub.web.templating import label, templates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (Role.case_manager_supervisor, "case manager supervisor"),
        (Purpose.charging_decision, "charging decision"),
        ("not_engaged", "not engaged"),
        ("", ""),
        (None, ""),
    ],
)
def test_label_says_a_value_in_words(value, words):
    assert label(value) == words


def test_templates_use_the_label_filter():
    assert templates.env.filters["label"] is label
    spelled_out = [
        str(path.relative_to(TEMPLATES))
        for path in sorted(TEMPLATES.rglob("*.html"))
        if "replace('_'" in path.read_text() or 'replace("_"' in path.read_text()
    ]
    assert spelled_out == []
