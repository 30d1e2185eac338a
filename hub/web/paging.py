"""Bounded list pages: a work list shows PAGE_SIZE rows at a time, most urgent first, and
discloses only the persons of the rows it shows (minimum necessary). The page number travels
in the query string (it names no one); a bad one is a 422 from the request's validation.

The JSON API pages a list that grows at its head (newest first) by key instead: `before` is
the last record id of the previous page, so a record added meanwhile shifts nothing."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Query

from hub.web.api import MAX_RECORD_ID

PAGE_SIZE = 50
MAX_PAGE = 100_000
MAX_LIMIT = 100

T = TypeVar("T")

PageNumber = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description="Which page of the list, from 1 (50 rows each).")
]


Before = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_RECORD_ID,
        description="Only records with a smaller id: the last id of the previous page, as "
        'the Link header (rel="next") names it. Without it, the list starts at the newest.',
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"How many records, 1 to {MAX_LIMIT}.")
]


def keyset_page(
    rows: Sequence[T], limit: int, key: Callable[[T], int]
) -> tuple[list[T], int | None]:
    """This page of `rows` (read newest first with limit + 1, so the extra one tells that more
    follow) and the `before` of the next page, None on the last."""
    page = list(rows[:limit])
    return page, (key(page[-1]) if len(rows) > limit else None)


@dataclass(frozen=True)
class Paging:
    """Where a page sits in its list: `number` from 1, `total` rows in the whole list."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_row(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last_row(self) -> int:
        return min(self.offset + self.size, self.total)

    @property
    def has_next(self) -> bool:
        return self.offset + self.size < self.total

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def window(self, rows: Sequence[T]) -> list[T]:
        """This page's rows of the whole (ordered) list of keys."""
        return list(rows[self.offset : self.offset + self.size])
