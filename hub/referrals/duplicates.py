"""Duplicate detection before a new person is created: simple, explainable scoring.

score = name_weight * best name similarity + dob_weight * (same date of birth)

Name similarity is difflib's ratio between normalised full names (accents and punctuation
dropped, case folded), tried both in the order given and with the words sorted (so "Smith
Jay" meets "Jay Smith"), over every name of each side: the person's name and aliases against
the name and aliases entered. The weights and thresholds are site data (`duplicates` in the
referral rules).

The result is ids, scores and reasons only: the page shows candidates through the policy
layer's identity disclosure, which decides what this viewer may see of each and logs it.
"""

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from sqlmodel import Session, col, select

from hub.clients.models import Person, PersonAlias
from hub.referrals.rules import DuplicateRules, SiteRules, current_rules


@dataclass(frozen=True)
class DuplicateCandidate:
    person_id: int
    score: float
    reason: str


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(
        ch if ch.isalpha() else " " for ch in decomposed if not unicodedata.combining(ch)
    )
    return " ".join(letters.casefold().split())


def _ratio(a: str, b: str, cutoff: float) -> float:
    matcher = SequenceMatcher(None, a, b)
    # The quick ratios are upper bounds: most names on file are dismissed without the full one.
    if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
        return 0.0
    return matcher.ratio()


def name_similarity(a: str, b: str, cutoff: float = 0.0) -> float:
    """Similarity of two normalised names, 0..1, whichever word order matches better; 0 when
    it is certainly below `cutoff`."""
    if not a or not b:
        return 0.0
    sorted_a, sorted_b = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    return max(_ratio(a, b, cutoff), _ratio(sorted_a, sorted_b, cutoff))


def _best_match(
    entered: list[str], on_file: list[tuple[str, bool]], cutoff: float
) -> tuple[float, bool]:
    """The best similarity between any entered name and any name on file, and whether the name
    on file it matched is an alias."""
    best = (0.0, False)
    for name in entered:
        for candidate, is_alias in on_file:
            similarity = name_similarity(name, candidate, cutoff)
            if similarity > best[0]:
                best = (similarity, is_alias)
    return best


def score_candidate(
    rules: DuplicateRules,
    entered: list[str],
    dob: date | None,
    on_file: list[tuple[str, bool]],
    dob_on_file: date | None,
) -> tuple[float, str] | None:
    """The score and reason for one person on file, or None when they are no candidate."""
    same_dob = dob is not None and dob == dob_on_file
    # The least similarity that could still make a candidate; below it nothing is reported.
    needed = rules.name_only_at
    if same_dob and rules.name_weight > 0:
        needed = min(needed, (rules.report_at - rules.dob_weight) / rules.name_weight)
    similarity, is_alias = _best_match(entered, on_file, needed)
    score = rules.name_weight * similarity + (rules.dob_weight if same_dob else 0.0)
    if not (same_dob and score >= rules.report_at) and similarity < rules.name_only_at:
        return None
    which = "an alias" if is_alias else "the name"
    if same_dob:
        dob_says = "same date of birth"
    elif dob is None or dob_on_file is None:
        dob_says = "date of birth not known on both sides"
    else:
        dob_says = "a different date of birth"
    # The reason names no name: it is shown before the policy layer discloses identity.
    return round(score, 3), f"{dob_says}; {which} {round(similarity * 100)}% similar"


def find_possible_duplicates(
    db: Session,
    first: str,
    last: str,
    dob: date | None,
    aliases: list[str] | tuple[str, ...] = (),
    *,
    rules: SiteRules | None = None,
) -> list[DuplicateCandidate]:
    """Persons on file who may be the one being entered, best first: ids, scores, reasons."""
    settings = (rules or current_rules(db)).duplicates
    entered = [n for n in (normalise_name(f"{first} {last}"), *map(normalise_name, aliases)) if n]
    if not entered:
        return []
    # Every person is read: programs hold hundreds to a few thousand, and a typo in the last
    # name must still be found (bench/duplicates.py measures it).
    names: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    dobs: dict[int, date | None] = {}
    for person_id, first_name, last_name, born in db.exec(
        select(col(Person.id), Person.first_name, Person.last_name, col(Person.date_of_birth))
    ):
        assert person_id is not None
        names[person_id].append((normalise_name(f"{first_name} {last_name}"), False))
        dobs[person_id] = born
    for person_id, alias in db.exec(select(PersonAlias.person_id, PersonAlias.name)):
        names[person_id].append((normalise_name(alias), True))
    found = []
    for person_id, on_file in names.items():
        scored = score_candidate(settings, entered, dob, on_file, dobs.get(person_id))
        if scored is not None:
            found.append(DuplicateCandidate(person_id, *scored))
    return sorted(found, key=lambda c: (-c.score, c.person_id))
