"""Issue 16, item 4: no suppressed count can be worked out from what the equity pages show.

Hypothesis builds cubes of counts (race group x gender x referral kind x area), publishes the
dashboard's kind of tables from them through hub.equity.suppression, and then an attacker who
knows every shown count, and which cube cells each count sums, tries to derive each
suppressed count exactly: by exact rational elimination, i.e. every linear combination of
shown counts (row and column totals minus shown cells, and the same population in the other
tables). It must recover none, and every count from 1 to 10 must be suppressed.
"""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.equity.suppression import TOTAL, Count, TableSpec, publish, published_counts

THRESHOLD = 11


def _by(dimension):
    return lambda atom: str(atom[dimension])


SPECS = [
    TableSpec("race_kind", "Race by kind", "Race", _by("race"), _by("kind")),
    TableSpec("gender_kind", "Gender by kind", "Gender", _by("gender"), _by("kind")),
    TableSpec("race_area", "Race by area", "Race", _by("race"), _by("area")),
    TableSpec("area", "By area", "Area", _by("area")),
]


def _span_contains(shown: list[frozenset[int]], target: frozenset[int], width: int) -> bool:
    """Whether the 0/1 vector of `target` is a rational linear combination of those of `shown`."""
    rows = [[Fraction(int(i in atoms)) for i in range(width)] for atoms in shown]
    basis: list[tuple[int, list[Fraction]]] = []  # (pivot column, row) in echelon form
    for row in rows:
        for pivot, b in basis:
            if row[pivot]:
                factor = row[pivot]
                row = [x - factor * y for x, y in zip(row, b, strict=True)]
        lead = next((j for j, x in enumerate(row) if x), None)
        if lead is not None:
            row = [x / row[lead] for x in row]
            basis = [(p, [x - b[lead] * y for x, y in zip(b, row, strict=True)]) for p, b in basis]
            basis.append((lead, row))
    vector = [Fraction(int(i in target)) for i in range(width)]
    for pivot, b in basis:
        if vector[pivot]:
            factor = vector[pivot]
            vector = [x - factor * y for x, y in zip(vector, b, strict=True)]
    return not any(vector)


cubes = st.lists(
    st.tuples(
        st.sampled_from(["1", "3", "5", "6", "multiracial"]),
        st.sampled_from(["0", "1", "4"]),
        st.sampled_from(["arrest", "social_contact"]),
        st.sampled_from(["north", "south", "east"]),
        st.one_of(st.integers(1, 10), st.integers(11, 60)),
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda t: t[:4],
)


@settings(max_examples=60, deadline=None)
@given(cubes)
def test_no_suppressed_count_can_be_derived(rows):
    cube = [({"race": r, "gender": g, "kind": k, "area": a}, n) for r, g, k, a, n in rows]
    published = published_counts(cube, SPECS, THRESHOLD)
    shown = [c.atoms for c, visible in published if visible and c.atoms]
    for count, visible in published:
        if 0 < count.value < THRESHOLD:
            assert not visible, count
        if not visible:
            assert not _span_contains(shown, count.atoms, len(cube)), (
                f"{count.table} {count.row}/{count.column} = {count.value} can be derived"
            )
    # What the page renders is the same decision.
    tables = {t.name: t for t in publish(cube, SPECS, THRESHOLD)}
    for count, visible in published:
        assert (tables[count.table].value(count.row, count.column) is not None) == visible


def test_a_row_total_does_not_give_away_its_one_small_cell():
    cube = [
        ({"race": "3", "gender": "1", "kind": "arrest", "area": "north"}, 4),
        ({"race": "3", "gender": "1", "kind": "social_contact", "area": "north"}, 40),
        ({"race": "5", "gender": "1", "kind": "arrest", "area": "north"}, 30),
        ({"race": "5", "gender": "1", "kind": "social_contact", "area": "north"}, 50),
    ]
    table = publish(cube, SPECS[:1], THRESHOLD)[0]
    assert table.value("3", "arrest") is None
    # Its row total and its column neighbour would give it away, so they go too (or enough
    # others that no subtraction recovers the 4).
    assert [table.value("3", "social_contact"), table.value("3", TOTAL)].count(None) >= 1
    assert [table.value("5", "arrest"), table.value(TOTAL, "arrest")].count(None) >= 1
    assert table.value(TOTAL, TOTAL) == 124


def test_the_attacker_finds_what_is_derivable():
    # The attacker itself is checked: a total minus one shown cell recovers the other.
    assert _span_contains([frozenset({0, 1}), frozenset({0})], frozenset({1}), 2)
    assert not _span_contains([frozenset({0, 1}), frozenset({2, 3})], frozenset({1}), 4)
    assert isinstance(Count("t", "r", "c", frozenset(), 0), Count)
