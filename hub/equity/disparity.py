"""Disparity as juvenile-justice DMC monitoring reports it: the relative rate index (RRI).

For a group g and the reference group (White, as DMC reports it), with r referrals out of n
eligible arrests in each: RRI = (r_g / n_g) / (r_ref / n_ref). Its 95% confidence interval is
the log-RRI normal approximation (Katz): ln RRI +/- 1.96 * sqrt(1/r_g - 1/n_g + 1/r_ref -
1/n_ref). An RRI above 1 means the group's eligible arrests are diverted more often than the
reference group's; an interval that excludes 1 is a difference beyond chance.
"""

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class RelativeRate:
    rri: float
    low: float
    high: float

    @property
    def beyond_chance(self) -> bool:
        return self.low > 1 or self.high < 1


def relative_rate(
    referrals: int, eligible: int, reference_referrals: int, reference_eligible: int
) -> RelativeRate | None:
    """The RRI of a group against the reference group, or None where it is undefined (a zero
    count, or more referrals than eligible arrests: then the two sources do not match)."""
    if min(referrals, eligible, reference_referrals, reference_eligible) <= 0:
        return None
    if referrals > eligible or reference_referrals > reference_eligible:
        return None
    rri = (referrals / eligible) / (reference_referrals / reference_eligible)
    variance = 1 / referrals - 1 / eligible + 1 / reference_referrals - 1 / reference_eligible
    spread = Z_95 * math.sqrt(max(variance, 0.0))
    log_rri = math.log(rri)
    return RelativeRate(rri=rri, low=math.exp(log_rri - spread), high=math.exp(log_rri + spread))
