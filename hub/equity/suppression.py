"""No one exposed by a small number (issue 16, item 4): every table the equity pages publish is
built here, from one cube of counts, and suppressed together with every other table drawn from
the same cube.

A published count is the sum of some cells of the cube (its atoms). A count from 1 to
`threshold - 1` is suppressed (primary suppression; a zero names no one, as the site's
existing demographic report and CMS's cell-size rule treat it). A suppressed count that a
reader could still work out as a linear combination of what is shown (a row total minus the
shown cells of its row, or the same population counted in another table) is protected by
suppressing more counts (complementary suppression) until none can: a count is derivable
exactly when its atom vector lies in the span of the shown counts' atom vectors.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Atom = Mapping[str, Hashable]  # one cell of the cube: dimension -> value
TOTAL = "Total"


@dataclass(frozen=True)
class Count:
    """One published number: where it sits (table, row, column) and the atoms it sums."""

    table: str
    row: str
    column: str
    atoms: frozenset[int]
    value: int


@dataclass(frozen=True)
class TableSpec:
    """A table to publish: counts of the cube by `rows` and (optionally) `columns`, each a
    function of an atom's dimensions giving the row or column label."""

    name: str
    title: str
    row_heading: str
    rows: Callable[[Atom], str]
    columns: Callable[[Atom], str] | None = None
    row_order: Sequence[str] = ()
    column_order: Sequence[str] = ()


@dataclass(frozen=True)
class PublishedTable:
    """A table as the page shows it: None where a count is suppressed."""

    name: str
    title: str
    row_heading: str
    columns: list[str]
    rows: list[tuple[str, list[int | None]]]  # each row's counts, its total last
    suppressed: int = 0
    values: dict[tuple[str, str], int | None] = field(default_factory=dict)

    def value(self, row: str, column: str = TOTAL) -> int | None:
        return self.values.get((row, column))


def _ordered(seen: Iterable[str], order: Sequence[str]) -> list[str]:
    seen = set(seen)
    return [v for v in order if v in seen] + sorted(seen - set(order))


def _counts(
    spec: TableSpec, cube: Sequence[tuple[Atom, int]]
) -> tuple[list[Count], list[str], list[str]]:
    members: dict[tuple[str, str], set[int]] = {}
    for index, (atom, _) in enumerate(cube):
        row = spec.rows(atom)
        column = spec.columns(atom) if spec.columns else TOTAL
        for key in {(row, column), (row, TOTAL), (TOTAL, column), (TOTAL, TOTAL)}:
            members.setdefault(key, set()).add(index)
    rows = _ordered({r for r, _ in members if r != TOTAL}, spec.row_order)
    columns = _ordered({c for _, c in members if c != TOTAL}, spec.column_order)
    if spec.columns is None:
        columns = []
    counts = []
    for row in [*rows, TOTAL]:
        for column in [*columns, TOTAL]:
            atoms = frozenset(members.get((row, column), set()))
            value = sum(cube[i][1] for i in atoms)
            counts.append(Count(spec.name, row, column, atoms, value))
    return counts, rows, columns


def _basis(vectors: list[np.ndarray], width: int) -> np.ndarray:
    """An orthonormal basis (rows) of the span of `vectors`."""
    if not vectors:
        return np.zeros((0, width))
    matrix = np.vstack(vectors)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((singular > 1e-9 * max(1.0, singular[0] if singular.size else 1.0)).sum())
    return vt[:rank]


def _derivable(vector: np.ndarray, basis: np.ndarray) -> bool:
    residual = vector - basis.T @ (basis @ vector)
    return bool(np.linalg.norm(residual) < 1e-7 * max(1.0, np.linalg.norm(vector)))


def protect(counts: Sequence[Count], threshold: int) -> set[int]:
    """The indexes of `counts` to suppress: every count from 1 to threshold - 1, and enough
    others that none of them is a linear combination of the counts left shown."""
    width = 1 + max((max(c.atoms) for c in counts if c.atoms), default=0)
    vectors = []
    for count in counts:
        vector = np.zeros(width)
        vector[list(count.atoms)] = 1.0
        vectors.append(vector)
    hidden = {i for i, c in enumerate(counts) if 0 < c.value < threshold}
    while True:
        shown = [i for i, c in enumerate(counts) if i not in hidden and c.atoms]
        basis = _basis([vectors[i] for i in shown], width)
        exposed = [i for i in sorted(hidden) if _derivable(vectors[i], basis)]
        if not exposed:
            return hidden
        target = counts[exposed[0]]
        # The shown counts the target is derived from (least-norm combination): hiding one of
        # them takes that derivation away; the loop goes on until no derivation is left.
        matrix = np.vstack([vectors[i] for i in shown])
        weights = np.linalg.lstsq(matrix.T, vectors[exposed[0]], rcond=None)[0]
        candidates = [i for i, w in zip(shown, weights, strict=True) if abs(w) > 1e-9]

        def preference(i: int, target: Count = target) -> tuple[int, bool, int, int]:
            other = counts[i]
            if other.atoms == target.atoms:
                rank = 0  # the same count published elsewhere
            elif other.table == target.table and (
                other.row == target.row or other.column == target.column
            ):
                rank = 1  # its own row or column
            elif other.table == target.table:
                rank = 2
            else:
                rank = 3
            # Inner cells before totals, small before large: the least information lost.
            is_total = TOTAL in (other.row, other.column)
            return (rank, is_total, other.value, i)

        hidden.add(min(candidates, key=preference))


def publish(
    cube: Sequence[tuple[Atom, int]], specs: Sequence[TableSpec], threshold: int
) -> list[PublishedTable]:
    """The tables of `specs` drawn from one cube, suppressed together: no suppressed count can
    be derived from the shown counts of any of them."""
    built = [_counts(spec, cube) for spec in specs]
    counts = [count for table_counts, _, _ in built for count in table_counts]
    hidden = protect(counts, threshold)
    published_value = {
        (c.table, c.row, c.column): (None if i in hidden else c.value) for i, c in enumerate(counts)
    }
    tables = []
    for spec, (table_counts, rows, columns) in zip(specs, built, strict=True):
        values = {
            (c.row, c.column): published_value[(c.table, c.row, c.column)] for c in table_counts
        }
        shown_columns = [*columns, TOTAL]
        tables.append(
            PublishedTable(
                name=spec.name,
                title=spec.title,
                row_heading=spec.row_heading,
                columns=shown_columns,
                rows=[
                    (row, [values[(row, col)] for col in shown_columns]) for row in [*rows, TOTAL]
                ],
                suppressed=sum(1 for v in values.values() if v is None),
                values=values,
            )
        )
    return tables


def published_counts(
    cube: Sequence[tuple[Atom, int]], specs: Sequence[TableSpec], threshold: int
) -> list[tuple[Count, bool]]:
    """Every count of `publish` with whether it is shown: what a reader (and the property
    test's attacker) sees, atoms included."""
    counts = [count for spec in specs for count in _counts(spec, cube)[0]]
    hidden = protect(counts, threshold)
    return [(c, i not in hidden) for i, c in enumerate(counts)]
