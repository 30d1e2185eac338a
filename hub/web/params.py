"""The numbers a route takes from its path, query string or form, bounded by what the database
can hold (hub.db.MAX_RECORD_ID, MAX_LOG_SEQ): a larger number is a 422 from the request's
validation before any query runs (bad input gets a clear error and changes nothing).

Use the same type whatever the parameter's place: `person_id: RecordNumber` in a path or query,
`Annotated[RecordNumber, Form()]` in a form, `list[RecordNumber]` for a multiple choice; a
number typed into a text field goes through hub.db.record_number. tests/test_bad_input.py fails
when a route takes an int that none of these bound."""

from typing import Annotated

from annotated_types import Ge, Le

from hub.db import MAX_LOG_SEQ, MAX_RECORD_ID

# Ids are assigned from 1; 0 and below name nothing.
RecordNumber = Annotated[int, Ge(1), Le(MAX_RECORD_ID)]
# The log's leaves count from 0 (RFC 6962).
LogSeq = Annotated[int, Ge(0), Le(MAX_LOG_SEQ)]
# A count a person types (days, a page): the service says which range it takes; this keeps it
# within what a column holds and what a date can be moved by.
Count = Annotated[int, Ge(0), Le(MAX_RECORD_ID)]
# A code from a published list (HUD HMIS race, gender): the service checks it is on the list.
Code = Count
