"""The charging queue places a page by deciding only as many persons as that page needs
(hub.charging.queue_order.queue_page_keys), and every page is exactly that page of the whole
queue ordered as if every person had been decided."""

import random

import pytest

from hub.charging.queue_order import QUEUE_DECIDE_CHUNK, QueueKey, queue_page_keys, urgency
from hub.vocabulary import DeadlineStatus

STATUSES = [None, *DeadlineStatus]


def _queue(count, persons, seed):
    pick = random.Random(seed)
    return [
        QueueKey(
            matter_id=matter_id,
            person_id=pick.randrange(persons),
            days_since_arrest=pick.randrange(60),
            deadline_status=pick.choice(STATUSES),
        )
        for matter_id in pick.sample(range(1, 10 * count), count)
    ]


def _fully_ordered(keys, shown):
    ripe = urgency(None)
    return sorted(
        keys,
        key=lambda k: (
            urgency(k.deadline_status) if k.person_id in shown else ripe,
            -k.days_since_arrest,
            k.matter_id,
        ),
    )


@pytest.mark.parametrize("seed", range(8))
def test_every_page_is_that_page_of_the_fully_decided_order(seed):
    keys = _queue(700, 400, seed)
    shown = {p for p in range(400) if random.Random(seed * 7 + p).random() < 0.3}
    expected = _fully_ordered(keys, shown)
    asked: list[list[int]] = []

    def clock_shown(persons):
        asked.append(list(persons))
        assert len(persons) <= QUEUE_DECIDE_CHUNK
        return frozenset(p for p in persons if p in shown)

    for offset in range(0, 750, 50):
        asked.clear()
        assert queue_page_keys(keys, offset, 50, clock_shown) == expected[offset : offset + 50]
        decided = [p for chunk in asked for p in chunk]
        assert len(decided) == len(set(decided)), "a person decided twice for one page"


def test_the_first_page_decides_fewer_persons_than_the_queue_holds():
    keys = _queue(3000, 2500, 1)
    decided: set[int] = set()

    def clock_shown(persons):
        decided.update(persons)
        return frozenset()

    page = queue_page_keys(keys, 0, 50, clock_shown)
    assert page == _fully_ordered(keys, set())[:50]
    ripe = urgency(None)
    needing = {k.person_id for k in keys if urgency(k.deadline_status) != ripe}
    assert len(decided) < len(needing)


def test_a_queue_of_ripe_matters_decides_no_one():
    keys = [QueueKey(i, i, i % 9, None) for i in range(1, 120)]

    def clock_shown(persons):
        raise AssertionError("a ripe row needs no decision")

    assert queue_page_keys(keys, 50, 50, clock_shown) == _fully_ordered(keys, set())[50:100]
    assert queue_page_keys(keys, 150, 50, clock_shown) == []
