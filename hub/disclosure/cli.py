"""`hub policy`: check the disclosure policy and explain its decisions."""

import uuid
from pathlib import Path

import typer

policy_app = typer.Typer(
    help="Check the disclosure policy and explain its decisions.", no_args_is_help=True
)


@policy_app.command("test")
def policy_test(
    directory: Path = typer.Option(None, help="Policy directory (default: policies/)."),
) -> None:
    """Run the decision tables in policies/tests/*.csv; exit 1 on any mismatch."""
    from hub.disclosure.policy import POLICY_DIR, load_policy
    from hub.disclosure.tables import check, read_rows

    directory = directory or POLICY_DIR
    policy = load_policy(directory)
    paths = sorted((directory / "tests").glob("*.csv"))
    rows = read_rows(paths)
    mismatches = check(rows, policy)
    for m in mismatches:
        v = m.row.values
        typer.echo(
            f"MISMATCH {m.row.source}: {v['role']} {v['relationship']} consent={v['consent']} "
            f"{v['purpose']} {v['category']}: expected {v['expected']}, got {m.got}"
        )
    typer.echo(
        f"policy {policy.version[:12]}: {len(rows)} rows in {len(paths)} tables, "
        f"{len(mismatches)} mismatches"
    )
    # Issue 14: the write policy (policies/write.csv) and its tables in tests/write/.
    from hub.caserecord.tables import check_write_tables, read_write_rows
    from hub.caserecord.writing import WRITE_TABLES_DIR, load_write_policy

    write_policy = load_write_policy(directory)
    write_paths = sorted((directory / WRITE_TABLES_DIR).glob("*.csv"))
    write_rows = read_write_rows(write_paths)
    write_mismatches = check_write_tables(write_rows, write_policy)
    for w in write_mismatches:
        v = w.row.values
        typer.echo(
            f"MISMATCH {w.row.source}: {v['role']} {v['relationship']} agency={v['agency']} "
            f"write {v['category']}: expected {v['expected']}, got {w.got}"
        )
    typer.echo(
        f"write policy {write_policy.version[:12]}: {len(write_rows)} rows in "
        f"{len(write_paths)} tables, {len(write_mismatches)} mismatches"
    )
    if mismatches or not rows or write_mismatches or not write_rows:
        raise typer.Exit(1)


@policy_app.command("release")
def policy_release(
    directory: Path = typer.Option(None, help="Policy directory (default: policies/)."),
) -> None:
    """Make the policy files the policy in force on every process: compile them, run their
    decision tables (refused on any mismatch), record the release, log it, notify."""
    from sqlmodel import Session

    from hub.audit.log import Actor
    from hub.db import get_engine
    from hub.disclosure.releases import VIA_COMMAND_LINE, ReleaseError, release_policy

    actor = Actor(role="cli", request_id=f"cli-{uuid.uuid4().hex[:12]}", address="cli")
    with Session(get_engine(), expire_on_commit=False) as db:
        try:
            released = release_policy(db, actor, via=VIA_COMMAND_LINE, directory=directory)
        except ReleaseError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    release = released.release
    how = "notified through Redis" if released.announced else "found by their version check"
    typer.echo(
        f"released policy {release.version[:12]} (release {release.id}); every process applies "
        f"it within half a second ({how})"
    )


@policy_app.command("releases")
def policy_releases() -> None:
    """List the policy releases, newest first; the first is in force."""
    from sqlmodel import Session

    from hub.db import get_engine
    from hub.disclosure.policy import load_policy
    from hub.disclosure.releases import release_history

    with Session(get_engine()) as db:
        history = release_history(db)
    if not history:
        typer.echo(
            f"no release yet: the files in policies/ are in force ({load_policy().version[:12]})"
        )
    for n, release in enumerate(history):
        by = "command line" if release.released_by_id is None else f"user {release.released_by_id}"
        typer.echo(
            f"{release.id:>5}  {release.version[:12]}  {release.released_at:%Y-%m-%d %H:%M:%S}Z  "
            f"{by}{'  (in force)' if n == 0 else ''}"
        )


@policy_app.command("explain")
def policy_explain(
    user_email: str = typer.Argument(..., help="The user whose view to explain."),
    person_id: int = typer.Argument(..., help="The client's id."),
    purpose: str = typer.Option(..., "--purpose", help="The purpose of use."),
) -> None:
    """Print, category by category, whether USER_EMAIL would see PERSON_ID's record for the
    purpose, and why. Shows no client content; logged as a security event."""
    from sqlmodel import Session, select

    from hub.accounts.models import User
    from hub.accounts.sessions import viewer_for
    from hub.audit.log import Actor, Event, append_and_commit
    from hub.db import get_engine, rollback_on_error, utcnow
    from hub.disclosure.policy import PersonNotFound, decide, gather_facts
    from hub.disclosure.releases import policy_in_force
    from hub.vocabulary import Category, Purpose, SecurityEventTag

    try:
        chosen = Purpose(purpose)
    except ValueError:
        typer.echo(f"error: purpose is one of {', '.join(Purpose)}", err=True)
        raise typer.Exit(2) from None
    with Session(get_engine()) as db, rollback_on_error(db):
        user = db.exec(select(User).where(User.email == user_email.strip().lower())).first()
        if user is None:
            typer.echo("error: no such user", err=True)
            raise typer.Exit(1)
        viewer = viewer_for(db, user)
        try:
            facts = gather_facts(db, viewer, person_id, utcnow())
        except PersonNotFound as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        decision = decide(viewer, facts, chosen, policy_in_force(db))
        append_and_commit(
            db,
            Actor(request_id=f"cli-{uuid.uuid4().hex[:12]}", address="cli"),
            Event(
                kind="security",
                tag=SecurityEventTag.policy_explained.value,
                outcome="success",
                purpose=chosen.value,
                person_id=person_id,
                categories=[c.value for c in decision.categories],
                policy_version=decision.policy_version,
                detail={"explained_user_id": user.id, "role": viewer.role.value},
            ),
        )
    typer.echo(
        f"{viewer.role.value} (agency {viewer.agency_id}) reading client {person_id} for "
        f"{chosen.value}; policy {decision.policy_version[:12]}"
    )
    typer.echo("relationships: " + ", ".join(sorted(facts.relationships)))
    for category in Category:
        if category in decision.disclosed:
            typer.echo(f"  {category.value:<13} disclosed  {decision.disclosed[category]}")
        else:
            typer.echo(f"  {category.value:<13} withheld   {decision.withheld[category].value}")
    participation = decision.participation
    typer.echo(
        f"  {'participation':<13} "
        + (f"disclosed  {participation}" if participation else "withheld")
    )
    # 42 CFR 2.11: what a Part 2 program recorded in each category is decided as treatment.
    typer.echo("recorded by a Part 2 program:")
    for category in Category:
        if decision.allows_part2(category):
            typer.echo(f"  {category.value:<13} disclosed  {decision.part2_disclosed[category]}")
        else:
            typer.echo(f"  {category.value:<13} withheld   {decision.part2_reason(category).value}")
