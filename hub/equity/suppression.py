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
    # Only the atoms this holds for (e.g. referrals in the dashboard's period).
    where: Callable[[Atom], bool] | None = None


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
    # Each atom falls in one inner cell; the totals are unions of cells, built once per cell
    # rather than once per atom.
    cells: dict[tuple[str, str], list[int]] = {}
    sums: dict[tuple[str, str], int] = {}
    for index, (atom, weight) in enumerate(cube):
        if spec.where is not None and not spec.where(atom):
            continue
        key = (spec.rows(atom), spec.columns(atom) if spec.columns else TOTAL)
        cells.setdefault(key, []).append(index)
        sums[key] = sums.get(key, 0) + weight
    rows = _ordered({r for r, _ in cells}, spec.row_order)
    columns = _ordered({c for _, c in cells}, spec.column_order) if spec.columns else []
    members: dict[tuple[str, str], set[int]] = {}
    values: dict[tuple[str, str], int] = {}
    for (row, column), atoms in cells.items():
        for key in {(row, column), (row, TOTAL), (TOTAL, column), (TOTAL, TOTAL)}:
            members.setdefault(key, set()).update(atoms)
            values[key] = values.get(key, 0) + sums[(row, column)]
    counts = []
    for row in [*rows, TOTAL]:
        for column in [*columns, TOTAL]:
            key = (row, column)
            shared = frozenset(members.get(key, ()))
            counts.append(Count(spec.name, row, column, shared, values.get(key, 0)))
    return counts, rows, columns


def _vectors(counts: Sequence[Count]) -> np.ndarray:
    """One row per count, in coordinates that keep every linear relation between the counts'
    atom vectors and no more: the rows X with X Xᵀ = G, G the Gram matrix of the 0/1 atom
    vectors (G[i, j] = atoms the two counts share). At most one column per count however many
    atoms the cube has, so each round's solve is small."""
    # Atoms are the cube's row numbers: they index the columns as they are.
    width = max((max(c.atoms) for c in counts if c.atoms), default=0) + 1
    # float32 holds these 0/1 sums exactly (fewer than 2**24 atoms) and halves the product's time
    matrix = np.zeros((len(counts), width), dtype=np.float32)
    for index, count in enumerate(counts):
        if count.atoms:
            matrix[index, np.fromiter(count.atoms, dtype=np.intp, count=len(count.atoms))] = 1.0
    gram = (matrix @ matrix.T).astype(np.float64)
    values, vectors = np.linalg.eigh(gram)
    keep = values > max(float(values[-1]), 1.0) * 1e-10 if values.size else values > 0
    return vectors[:, keep] * np.sqrt(values[keep])


def _preference(other: Count, target: Count) -> tuple[int, bool, int]:
    if other.atoms == target.atoms:
        rank = 0  # the same count published elsewhere
    elif other.table == target.table and (other.row == target.row or other.column == target.column):
        rank = 1  # its own row or column
    elif other.table == target.table:
        rank = 2
    else:
        rank = 3
    # Inner cells before totals, small before large: the least information lost.
    return (rank, TOTAL in (other.row, other.column), other.value)


def protect(counts: Sequence[Count], threshold: int) -> set[int]:
    """The indexes of `counts` to suppress: every count from 1 to threshold - 1, and enough
    others that none of them is a linear combination of the counts left shown."""
    vectors = _vectors(counts)
    hidden = {i for i, c in enumerate(counts) if 0 < c.value < threshold}
    while True:
        shown = [i for i, c in enumerate(counts) if i not in hidden and c.atoms]
        targets = sorted(hidden)
        if not shown or not targets:
            return hidden
        # Each distinct shown vector once; hiding it hides every count it stands for (the
        # same count published in several tables).
        distinct: dict[frozenset[int], list[int]] = {}
        for i in shown:
            distinct.setdefault(counts[i].atoms, []).append(i)
        groups = list(distinct.values())
        basis = vectors[[g[0] for g in groups]]
        wanted = vectors[targets]
        # One least-squares solve for every hidden count: a residual of zero means it can be
        # worked out, and the weights say from which shown counts.
        weights = np.linalg.lstsq(basis.T, wanted.T, rcond=None)[0]
        residual = np.linalg.norm(basis.T @ weights - wanted.T, axis=0)
        exposed = [j for j, r in enumerate(residual) if r < 1e-7]
        if not exposed:
            return hidden
        uses = np.abs(weights[:, exposed]) > 1e-9
        for column, j in enumerate(exposed):
            target = counts[targets[j]]
            used = [groups[k] for k in np.flatnonzero(uses[:, column])]
            if any(i in hidden for g in used for i in g):
                continue  # an earlier choice this round already took one of its sources
            ranked = sorted(
                (*_preference(counts[g[0]], target), g[0], n) for n, g in enumerate(used)
            )
            hidden.update(used[ranked[0][-1]])


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


def shown_or_none(value: int, threshold: int) -> int | None:
    """A lone count outside any table (a cost table's quantity): suppressed from 1 to
    threshold - 1, like every count here."""
    return None if 0 < value < threshold else value
