"""The demo's case managers re-engage a client only after the time not engaged began: a status
changed late yesterday must not be followed by a re-engagement dated earlier (the replay sorts
by time, and the case record refuses re-engaged from any other status)."""

import random
from datetime import UTC, date, datetime

from hub.demo.keeping import _Record, _status
from hub.vocabulary import ProgramStatus


def test_re_engagement_follows_the_time_not_engaged_even_when_that_began_yesterday_evening():
    yesterday = date(2026, 12, 3)
    changed_at = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # after the 18:00 of "back"
    for seed in range(50):
        record = _Record(index=0, user_id=1)
        _status(
            record,
            random.Random(seed),
            ProgramStatus.active,
            ProgramStatus.re_engaged,
            changed_at,
            yesterday,
        )
        away, back = sorted(record.events, key=lambda e: (e.at, e.number))
        assert away.at == changed_at and back.at > away.at
