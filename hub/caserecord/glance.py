"""The caseload at a glance (issue 17, item 9): the clients on the caseload page counted by
program status and by the state of their intake clock, drawn with their data.

Made only from the rows hub.disclosure.caseload already decided and logged for this page: no
second read of client data. A client whose engagement is withheld from the viewer is counted
as withheld, never guessed."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from hub.charts import Chart, bars
from hub.disclosure.caseload import CaseloadRow
from hub.referrals.intake_clock import clock_status
from hub.vocabulary import DeadlineStatus, ProgramStatus

# The clock's states in the case manager's words, in the order the chart shows them.
ON_TIME, DUE_SOON, OVERDUE, DONE, NO_CLOCK = "on time", "due soon", "overdue", "done", "no clock"
_OPEN_CLOCK = {
    DeadlineStatus.pending: ON_TIME,
    DeadlineStatus.near: DUE_SOON,
    DeadlineStatus.missed: OVERDUE,
}


@dataclass(frozen=True)
class CaseloadGlance:
    statuses: tuple[tuple[ProgramStatus, int], ...]
    clocks: tuple[tuple[str, int], ...]
    withheld: int  # clients on the page whose engagement this viewer may not see
    status_chart: Chart
    clock_chart: Chart


def clock_state(row: CaseloadRow, today: date) -> str:
    """On time, due soon, overdue or done: the intake clock as the caseload row shows it."""
    if row.intake_due_on is None:
        return NO_CLOCK
    if row.intake_done:
        return DONE
    return _OPEN_CLOCK[clock_status(row.intake_due_on, None, None, today)]


def caseload_glance(rows: Sequence[CaseloadRow], today: date) -> CaseloadGlance | None:
    """Counts of the page's clients by status and clock state; None for an empty page."""
    shown = [r for r in rows if r.program_status is not None]
    if not rows:
        return None
    by_status = Counter(r.program_status for r in shown)
    by_clock = Counter(clock_state(r, today) for r in shown)
    statuses = tuple((s, by_status[s]) for s in ProgramStatus)
    states = [ON_TIME, DUE_SOON, OVERDUE, DONE] + ([NO_CLOCK] if by_clock[NO_CLOCK] else [])
    clocks = tuple((state, by_clock[state]) for state in states)
    return CaseloadGlance(
        statuses=statuses,
        clocks=clocks,
        withheld=len(rows) - len(shown),
        status_chart=bars(
            "Clients by program status",
            [s.value.replace("_", " ") for s, _ in statuses],
            [("clients", [n for _, n in statuses])],
            horizontal=True,
        ),
        clock_chart=bars(
            "Clients by intake clock",
            [state for state, _ in clocks],
            [("clients", [n for _, n in clocks])],
            horizontal=True,
        ),
    )
