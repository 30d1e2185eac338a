"""The equity figures computed once per version of the data they count, kept in the process.

The published figures depend on the data (referrals, persons' HMIS codes and status, charging
matters and decisions, the imports, agency and officer names) and on the moment only through
edges: the period, a referral's age crossing 6, 12 or 24 months, a referral not yet made. So
figures computed at one moment are exactly what a computation at any later moment would give,
as long as the data's version (`equity_data_version`, drawn anew by triggers in every writing
transaction, migration 0010eqv) is the same and no edge has been crossed. The version is read
before the data, in the reader's transaction: a version never precedes the data read with it,
so a change is never hidden behind kept figures.

Only what is published is kept (suppressed tables, never the cube of counts), and keeping
changes nothing of the disclosure: every view is still read and logged as one aggregate
disclosure by hub.disclosure.aggregates.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from hub.equity.models import EquityDataVersion
from hub.equity.tables import WINDOWS
from hub.referrals.models import Referral

T = TypeVar("T")

# Periods kept per database: 3, 6, 12, 24 and 36 months and the report's quarter.
KEPT_PER_PROCESS = 16
# Recompute a little before an edge: SQLite measures ages in floating-point days.
EDGE_MARGIN = timedelta(seconds=1)
# The follow-up edges of the figures: the re-arrest windows (and the jail table's year).
AGE_EDGES = [timedelta(days=days) for days in sorted(set(WINDOWS.values()))]


@dataclass(frozen=True)
class _Kept:
    version: int
    computed_at: datetime
    valid_until: datetime
    value: Any


_kept: OrderedDict[tuple[Hashable, ...], _Kept] = OrderedDict()
_lock = threading.Lock()


def data_version(db: Session) -> int:
    """The version of the data the equity figures count, as this transaction sees it."""
    return int(db.execute(core_select(col(EquityDataVersion.version))).scalar_one())


def next_edge(db: Session, now: datetime, period_end: datetime) -> datetime:
    """The first moment after `now` at which the same data would give other figures: the
    period's end, the next referral to cross a follow-up edge, or one not yet made (a referral
    dated ahead of now). One index seek on referral.referred_at each."""
    edges = [period_end]
    for age in [timedelta(0), *AGE_EDGES]:
        earliest = db.execute(
            core_select(func.min(col(Referral.referred_at))).where(
                col(Referral.referred_at) >= now - age
            )
        ).scalar_one()
        if earliest is not None:
            edges.append(earliest + age)
    return min(edges) - EDGE_MARGIN


def kept_or_computed(
    db: Session,
    key: tuple[Hashable, ...],
    now: datetime,
    period_end: datetime,
    compute: Callable[[], T],
) -> T:
    """`compute()`'s value for this data version and `key`, computed now or kept from an
    earlier moment of the same version with no edge crossed since."""
    url = db.get_bind().engine.url.render_as_string(hide_password=True)
    where = (url, *key)
    version = data_version(db)  # before any data: see the module's docstring
    with _lock:
        kept = _kept.get(where)
    if kept is not None and kept.version == version and kept.computed_at <= now < kept.valid_until:
        return kept.value
    valid_until = next_edge(db, now, period_end)
    value = compute()
    with _lock:
        _kept[where] = _Kept(version, now, valid_until, value)
        _kept.move_to_end(where)
        while len(_kept) > KEPT_PER_PROCESS:
            _kept.popitem(last=False)
    return value


def forget_all() -> None:
    """Drops every kept value (a test that compares kept with computed figures)."""
    with _lock:
        _kept.clear()
