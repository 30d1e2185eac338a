"""The relative rate index and its 95% interval on a worked example (issue 16, item 2)."""

import pytest

from hub.equity.disparity import relative_rate


def test_worked_example():
    # 30 of 200 eligible arrests of the group referred, 40 of 400 of the reference group:
    # rates 0.15 and 0.10, RRI 1.5; SE(ln RRI) = sqrt(1/30 - 1/200 + 1/40 - 1/400) = 0.22546,
    # so the interval is exp(ln 1.5 -/+ 1.96 x 0.22546) = 0.9642 to 2.3335.
    rate = relative_rate(30, 200, 40, 400)
    assert rate is not None
    assert rate.rri == pytest.approx(1.5)
    assert rate.low == pytest.approx(0.9642, abs=5e-4)
    assert rate.high == pytest.approx(2.3335, abs=5e-4)
    assert not rate.beyond_chance


def test_a_difference_beyond_chance():
    rate = relative_rate(120, 400, 100, 1000)
    assert rate is not None and rate.rri == pytest.approx(3.0)
    assert rate.low > 1 and rate.beyond_chance


@pytest.mark.parametrize(
    "counts", [(0, 100, 10, 100), (10, 0, 10, 100), (10, 100, 0, 100), (200, 100, 10, 100)]
)
def test_undefined_without_counts_or_when_sources_disagree(counts):
    assert relative_rate(*counts) is None
