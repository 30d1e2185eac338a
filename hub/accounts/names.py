"""Staff and agencies by name, for pages that show who did what: names, not record numbers
(issue 17). Staff names and agency names are not client data."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from hub.accounts.models import Agency, User


@dataclass(frozen=True)
class Names:
    """Staff and agencies by id; an id not found reads as what it is, not as a bare number."""

    users: Mapping[int, str] = field(default_factory=dict)
    agencies: Mapping[int, str] = field(default_factory=dict)

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return "—"
        return self.users.get(user_id, f"user #{user_id}")

    def agency(self, agency_id: int | None) -> str:
        if agency_id is None:
            return "—"
        return self.agencies.get(agency_id, f"agency #{agency_id}")


def names_for(
    db: Session, user_ids: Iterable[int | None], agency_ids: Iterable[int | None]
) -> Names:
    """The names of these staff and agencies: two queries of ids at most."""
    users = sorted({u for u in user_ids if u is not None})
    agencies = sorted({a for a in agency_ids if a is not None})
    found_users: dict[int, str] = {}
    found_agencies: dict[int, str] = {}
    if users:
        rows = db.exec(select(User.id, User.display_name).where(col(User.id).in_(users)))
        found_users = {int(i): str(n) for i, n in rows if i is not None}
    if agencies:
        rows = db.exec(select(Agency.id, Agency.name).where(col(Agency.id).in_(agencies)))
        found_agencies = {int(i): str(n) for i, n in rows if i is not None}
    return Names(users=found_users, agencies=found_agencies)


def staff_directory(db: Session) -> Names:
    """Every staff member and agency by name: a client record's sections name the officers,
    case managers and offices in them (a few hundred rows at the largest demo)."""
    users = {int(i): str(n) for i, n in db.exec(select(User.id, User.display_name)) if i}
    agencies = {int(i): str(n) for i, n in db.exec(select(Agency.id, Agency.name)) if i}
    return Names(users=users, agencies=agencies)
