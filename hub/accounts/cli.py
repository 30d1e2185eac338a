"""`hub users ...` and `hub agencies ...`: account administration by the server's operator.

Each command writes its security event like the web pages do; the actor is the operator, named
by their login on the server (CJIS AU-3: who)."""

import getpass
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from sqlmodel import Session

from hub.accounts import administration, approvals, own_access, rules, signing_in
from hub.accounts.administration import OPERATOR
from hub.accounts.models import Agency, User
from hub.accounts.rules import OPERATOR_ROLE, AccountError
from hub.audit.log import Actor
from hub.db import get_session, ident
from hub.vocabulary import AgencyKind, Role, TokenScope

users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
agencies_app = typer.Typer(help="Manage agencies.", no_args_is_help=True)

T = TypeVar("T")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def operator_actor() -> Actor:
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    # No request here: the request id names this command-line invocation and its operator.
    return Actor(role=OPERATOR_ROLE, request_id=f"cli:{login}:{secrets.token_hex(4)}"[:64])


@contextmanager
def _database() -> Iterator[Session]:
    yield from get_session()


def _run(work: Callable[[Session, Actor], T]) -> T:
    """Runs one change; a refused rule prints its reason and exits non-zero, changing nothing."""
    with _database() as db:
        try:
            return work(db, operator_actor())
        except AccountError as refused:
            db.rollback()
            _fail(str(refused))
            raise  # unreachable: _fail exits


def _user(db: Session, email: str) -> User:
    user = rules.user_by_email(db, email)
    if user is None:
        _fail("there is no account with that e-mail address")
    assert user is not None
    return user


def _agency(db: Session, name: str) -> Agency:
    agency = next((a for a in administration.list_agencies(db, OPERATOR) if a.name == name), None)
    if agency is None:
        _fail(f"there is no agency named {name!r} (see `hub agencies list`)")
    assert agency is not None
    return agency


@users_app.command("add")
def add_user(
    email: str = typer.Option(..., help="Work e-mail address; it is also the sign-in name."),
    name: str = typer.Option(..., help="The person's name as others see it."),
    role: Role = typer.Option(..., help="A role that fits the agency's kind."),
    agency: str = typer.Option(..., help="The agency's name, exactly."),
    base_url: str = typer.Option(
        "", help="The hub's address (https://hub.example), to print the link in full."
    ),
) -> None:
    """Add an account awaiting approval; prints its one-time enrolment link, through which the
    person sets their own password and second factor (the operator learns neither)."""

    def work(db: Session, actor: Actor) -> administration.NewAccount:
        return administration.create_user(
            db,
            actor,
            OPERATOR,
            email=email,
            display_name=name,
            role=role,
            agency_id=ident(_agency(db, agency).id),
        )

    created = _run(work)
    typer.echo(f"Added {created.user.email} ({created.user.role.value}), awaiting approval.")
    _echo_link(base_url, created.enrolment_token)
    typer.echo(
        "A second person approves the account on the hub's Approvals page (or `hub users approve`)."
    )


def _echo_link(base_url: str, token: str) -> None:
    typer.echo(f"enrolment link: {base_url.rstrip('/')}{rules.ENROLMENT_PATH}{token}")
    typer.echo(
        f"Shown only now; it works once, for {rules.ENROLMENT_LINK_HOURS} hours. "
        "Hand it to the person by a safe route."
    )


@users_app.command("enrolment-link")
def enrolment_link(
    email: str = typer.Argument(..., help="The account's e-mail address."),
    base_url: str = typer.Option("", help="The hub's address, to print the link in full."),
) -> None:
    """A new enrolment link for a person who has not enrolled yet (the older one stops)."""

    def work(db: Session, actor: Actor) -> str:
        return administration.issue_enrolment_link(db, actor, OPERATOR, ident(_user(db, email).id))

    _echo_link(base_url, _run(work))


@users_app.command("approve")
def approve_access(email: str = typer.Argument(..., help="The account's e-mail address.")) -> None:
    """Approve the account's pending access request as the operator: for the first supervisor
    of an agency, whom nobody in the hub can approve yet."""

    def work(db: Session, actor: Actor) -> object:
        pending = administration.pending_request(db, ident(_user(db, email).id))
        if pending is None:
            raise AccountError("the account has no access request waiting for approval")
        return approvals.approve(db, actor, approvals.OPERATOR_APPROVER, ident(pending.id))

    _run(work)
    typer.echo("Approved.")


def _user_command(email: str, act: Callable[[Session, Actor, int], object], done: str) -> None:
    def work(db: Session, actor: Actor) -> object:
        return act(db, actor, ident(_user(db, email).id))

    _run(work)
    typer.echo(done)


@users_app.command("disable")
def disable_user(email: str = typer.Argument(..., help="The account's e-mail address.")) -> None:
    """Disable an account and end all its sessions."""
    _user_command(
        email,
        lambda db, actor, uid: administration.disable_user(db, actor, OPERATOR, uid),
        "The account is disabled and its sessions ended.",
    )


@users_app.command("release")
def release_user(email: str = typer.Argument(..., help="The account's e-mail address.")) -> None:
    """Release an account locked after failed sign-ins (CJIS AC-7)."""
    _user_command(
        email,
        lambda db, actor, uid: administration.release_lockout(db, actor, OPERATOR, uid),
        "The lockout is released.",
    )


@users_app.command("reset-mfa")
def reset_mfa(email: str = typer.Argument(..., help="The account's e-mail address.")) -> None:
    """Remove the second factor; the person sets up a new one at the next sign-in."""
    _user_command(
        email,
        lambda db, actor, uid: administration.reset_mfa(db, actor, OPERATOR, uid),
        "The second factor is removed and the account's sessions ended.",
    )


@users_app.command("token")
def create_token(
    email: str = typer.Argument(..., help="The account's e-mail address."),
    name: str = typer.Option(..., help="What the token is for."),
    days: int = typer.Option(
        rules.API_TOKEN_DEFAULT_DAYS, help="Days until it expires (1 to 365)."
    ),
    scope: TokenScope = typer.Option(TokenScope.read, help="read, or read_write."),
) -> None:
    """Create an API bearer token for an account; prints it once (it is kept hashed)."""

    def work(db: Session, actor: Actor) -> str:
        return own_access.create_api_token(db, actor, _user(db, email), name, days, scope=scope)

    token = _run(work)
    typer.echo(token)


@users_app.command("disable-inactive")
def disable_inactive() -> None:
    """Disable every account unused for HUB_INACTIVE_ACCOUNT_DAYS (CJIS AC-2(3))."""
    disabled = _run(signing_in.disable_inactive_accounts)
    typer.echo(f"Disabled {len(disabled)} inactive account(s).")


@agencies_app.command("add")
def add_agency(
    name: str = typer.Option(..., help="The agency's name."),
    kind: AgencyKind = typer.Option(..., help="What kind of agency it is."),
    jurisdiction: str = typer.Option("", help="For prosecution offices: which cases."),
) -> None:
    """Add an agency."""

    def work(db: Session, actor: Actor) -> Agency:
        return administration.create_agency(
            db, actor, OPERATOR, name=name, kind=kind, jurisdiction=jurisdiction
        )

    agency = _run(work)
    typer.echo(f"Added agency {agency.name} ({agency.kind.value}).")


@agencies_app.command("list")
def list_agencies() -> None:
    """List the agencies and their kinds (and which are 42 CFR Part 2 programs)."""
    with _database() as db:
        for agency in administration.list_agencies(db, OPERATOR):
            part2 = "\tpart2_program" if agency.part2_program else ""
            typer.echo(f"{agency.name}\t{agency.kind.value}{part2}")


@agencies_app.command("part2-program")
def part2_program(
    name: str = typer.Argument(..., help="The agency's name, exactly."),
    on: bool = typer.Option(..., "--on/--off", help="Mark it a Part 2 program, or unmark it."),
) -> None:
    """Mark an agency as a 42 CFR Part 2 program (2.11), or unmark it: what its staff record
    about a client is then Part 2 data in every field."""

    def work(db: Session, actor: Actor) -> Agency:
        agency_id = _agency(db, name).id
        assert agency_id is not None
        return administration.set_part2_program(db, actor, OPERATOR, agency_id, part2_program=on)

    agency = _run(work)
    state = "a Part 2 program" if agency.part2_program else "not a Part 2 program"
    typer.echo(f"{agency.name} is now {state}.")
