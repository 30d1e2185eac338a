"""De-identification under HIPAA Safe Harbor (45 CFR 164.514(b)(2)): pure functions that turn
what the policy layer read into the cells of a research file, and the k-anonymity report.

- Names, addresses, telephone numbers and record numbers never reach these functions, except
  the hub's person id, which becomes a per-study pseudonym (keyed HMAC-SHA256). The key is
  derived from HUB_SECRET_KEY and the protocol's id, so two studies' files cannot be linked
  and a recipient without the secret cannot recompute them (164.514(c): the code is not
  derived from information about the person in a way that can be reversed).
- Dates are reduced to their year; ages over 89 are one band, 90+.
- Geography is the precinct at most.
"""

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

K_MINIMUM = 5  # the k: every combination of quasi-identifiers shared by 5 or more

AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 17, "under 18"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 89, "65-89"),
)
OVER_89 = "90+"
NOT_COLLECTED = "not_collected"
MULTIPLE = "multiple"

# HUD HMIS FY2024 3.04 RaceAndEthnicity; 6 is Hispanic/Latina/e/o, reported as ethnicity.
HISPANIC_LATINAEO = 6
RACE_LABELS = {
    1: "american_indian_alaska_native_indigenous",
    2: "asian_asian_american",
    3: "black_african_american_african",
    4: "native_hawaiian_pacific_islander",
    5: "white",
    7: "middle_eastern_north_african",
}
# HUD HMIS FY2024 3.06 Gender.
GENDER_LABELS = {
    0: "woman",
    1: "man",
    2: "culturally_specific_identity",
    3: "different_identity",
    4: "non_binary",
    5: "transgender",
    6: "questioning",
}


def study_key(secret: str, protocol_id: int) -> bytes:
    """The per-study pseudonym key: HMAC-SHA256 of the protocol's id under the hub's secret,
    with a label of its own so it is never the same as any other key derived from it."""
    label = f"diversion-hub/research-pseudonym/v1/protocol:{protocol_id}".encode()
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


def pseudonym(key: bytes, person_id: int) -> str:
    """A person's pseudonym in one study: 20 hex digits (80 bits) of HMAC-SHA256."""
    return hmac.new(key, f"person:{person_id}".encode(), hashlib.sha256).hexdigest()[:20]


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return NOT_COLLECTED
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return OVER_89  # 164.514(b)(2)(i)(C): all ages over 89 aggregated


def race(codes: Sequence[int]) -> str:
    known = sorted({c for c in codes if c in RACE_LABELS})
    if not known:
        return NOT_COLLECTED
    return RACE_LABELS[known[0]] if len(known) == 1 else MULTIPLE


def ethnicity(codes: Sequence[int]) -> str:
    if HISPANIC_LATINAEO in codes:
        return "yes"
    if any(c in RACE_LABELS for c in codes):
        return "no"
    return NOT_COLLECTED


def gender(codes: Sequence[int]) -> str:
    known = sorted({c for c in codes if c in GENDER_LABELS})
    if not known:
        return NOT_COLLECTED
    return GENDER_LABELS[known[0]] if len(known) == 1 else MULTIPLE


def year(day: date | None) -> str:
    return "" if day is None else str(day.year)


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


@dataclass(frozen=True)
class KAnonymityReport:
    """How many rows share each combination of the quasi-identifiers in the file."""

    quasi_identifiers: tuple[str, ...]
    k_required: int
    rows: int
    classes: int
    k: int  # the smallest class; 0 for an empty file
    small_classes: int  # classes under k_required
    rows_in_small_classes: int
    suppressed_rows: int = 0
    generalised_cells: int = 0

    @property
    def passes(self) -> bool:
        return self.rows > 0 and self.k >= self.k_required


def k_anonymity(
    rows: Iterable[Mapping[str, str]],
    quasi_identifiers: Sequence[str],
    k_required: int = K_MINIMUM,
    suppressed_rows: int = 0,
    generalised_cells: int = 0,
) -> KAnonymityReport:
    counts = Counter(tuple(row[q] for q in quasi_identifiers) for row in rows)
    small = [n for n in counts.values() if n < k_required]
    return KAnonymityReport(
        quasi_identifiers=tuple(quasi_identifiers),
        k_required=k_required,
        rows=sum(counts.values()),
        classes=len(counts),
        k=min(counts.values(), default=0),
        small_classes=len(small),
        rows_in_small_classes=sum(small),
        suppressed_rows=suppressed_rows,
        generalised_cells=generalised_cells,
    )


def suppress_small_classes(
    rows: Sequence[Mapping[str, str]], quasi_identifiers: Sequence[str], k_required: int
) -> list[int]:
    """The indexes of the rows to keep: those whose combination of quasi-identifiers is shared
    by at least k_required rows (row suppression; no cell is altered)."""
    keys = [tuple(row[q] for q in quasi_identifiers) for row in rows]
    counts = Counter(keys)
    return [i for i, key in enumerate(keys) if counts[key] >= k_required]


OTHER = "other"


def generalise_rare_values(
    rows: Sequence[Mapping[str, str]], quasi_identifiers: Sequence[str], k_required: int
) -> tuple[list[dict[str, str]], int]:
    """Global recoding: in each quasi-identifier, a value held by fewer than k_required rows
    of the whole file becomes "other" (a rare race, gender or area no longer singles anyone
    out). Returns the new rows and how many cells changed."""
    rare = {
        q: {v for v, n in Counter(row[q] for row in rows).items() if n < k_required}
        for q in quasi_identifiers
    }
    changed = 0
    recoded = []
    for row in rows:
        new = dict(row)
        for q in quasi_identifiers:
            if new[q] in rare[q]:
                new[q] = OTHER
                changed += 1
        recoded.append(new)
    return recoded, changed
