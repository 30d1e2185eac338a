"""Bounded list pages: a work list shows PAGE_SIZE rows at a time, most urgent first, and
discloses only the persons of the rows it shows (minimum necessary). The page number travels
in the query string (it names no one); a bad one is a 422 from the request's validation."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Query

PAGE_SIZE = 50
MAX_PAGE = 100_000

T = TypeVar("T")

PageNumber = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description="Which page of the list, from 1 (50 rows each).")
]


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
