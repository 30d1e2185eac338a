"""Who may write which part of a client's record, for the plan and the ledger.

Provisional until the write policy of hub.caserecord.writing lands (issue 14, item 1): this
asks the same question (`require_write(db, viewer, person_id, category)`) so that the services
change one import when it does. Until then a writer needs the role's door (hub.permissions)
and the read policy's yes for that category for case management: nobody writes what they
could not read back, and treatment (a substance-use goal, a clinical service, anything a Part 2
program records) only where Part 2 data of that category may be shown to them."""

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.db import utcnow
from hub.disclosure.policy import Decision, PersonNotFound, decide, gather_facts
from hub.disclosure.releases import policy_in_force
from hub.permissions import allowed
from hub.vocabulary import Action, Category, Purpose


class WriteRefused(PermissionError):
    """This viewer may not write this part of this client's record; nothing changed."""


def require_write(
    db: Session, viewer: Viewer, person_id: int, category: Category, action: Action
) -> Decision:
    """The decision the write rests on, or WriteRefused (PersonNotFound for no such client)."""
    if not allowed(viewer.role, action):
        raise WriteRefused("Your role does not keep this part of a client's record.")
    facts = gather_facts(db, viewer, person_id, utcnow())
    decision = decide(viewer, facts, Purpose.case_management, policy_in_force(db))
    if not decision.allows(category):
        raise WriteRefused(f"You cannot write {category.value} data for this client.")
    if category == Category.treatment and not decision.allows_part2(Category.treatment):
        raise WriteRefused("You cannot write treatment data for this client.")
    return decision


__all__ = ["PersonNotFound", "WriteRefused", "require_write"]
