"""With CI=true a PostgreSQL or browser item that did not run fails the run: skipped for want
of a service, or marked xfail(run=False). An xfail that ran is left to xfail_strict."""

from collections.abc import Mapping
from typing import Literal

import pytest

from tests.conftest import _skipped_for_a_service


def report(keywords: Mapping[str, Literal[1]], *, wasxfail: str | None = None) -> pytest.TestReport:
    longrepr = ("tests/test_x.py", 1, "Skipped: some reason")
    made = pytest.TestReport(
        "tests/test_x.py::test_x", ("tests/test_x.py", 1, "test_x"), keywords, "skipped",
        longrepr, "setup",
    )  # fmt: skip
    if wasxfail is not None:
        made.wasxfail = wasxfail
    return made


@pytest.mark.parametrize(
    ("keywords", "wasxfail", "fails_the_run"),
    [
        ({"postgres": 1}, None, True),
        ({"browser": 1}, None, True),
        ({"postgres": 1}, "reason: [NOTRUN] flaky", True),
        ({"browser": 1}, "reason: [NOTRUN] flaky", True),
        ({"postgres": 1}, "known bug", False),
        ({"sqlite": 1}, "reason: [NOTRUN] flaky", False),
        ({"sqlite": 1}, None, False),
    ],
)
def test_an_item_that_needs_a_service_and_did_not_run_fails_under_ci(
    keywords, wasxfail, fails_the_run
):
    assert _skipped_for_a_service(report(keywords, wasxfail=wasxfail)) is fails_the_run


def test_every_item_parametrized_on_the_server_is_marked(request):
    # The marker is how `-m "not postgres"` runs the SQLite half and how the CI guard knows
    # an item needs the server; an item parametrized on PostgreSQL without it escapes both.
    on_server = [
        item
        for item in request.session.items
        if "postgres" in getattr(getattr(item, "callspec", None), "id", "")
    ]
    unmarked = [item.nodeid for item in on_server if item.get_closest_marker("postgres") is None]
    assert unmarked == []
