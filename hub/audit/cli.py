"""`hub audit ...`: checkpoints, verification, receipts, export and erasure of the log."""

import json
import sys
import time
from datetime import date

import typer
from sqlmodel import Session

from hub.audit.key_rotation import rotate_signing_key
from hub.audit.log import Actor
from hub.audit.notes import NoteError
from hub.db import get_engine

audit_app = typer.Typer(
    help="The tamper-evident disclosure log: verify, sign, export, erase.", no_args_is_help=True
)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@audit_app.command("pubkey")
def pubkey_command() -> None:
    """Print the verifier key of this hub's checkpoints (for witnesses and receipt checkers)."""
    from hub.audit.checkpoint import verifier_key

    typer.echo(verifier_key())


@audit_app.command("rotate-signing-key")
def rotate_signing_key_command() -> None:
    """Announce a new checkpoint signing key. Put the new seed (`hub keys generate`) in front of
    the current one in HUB_LOG_SIGNING_KEY ("NEW,CURRENT"), run this, then restart the hub:
    the new key signs from then on, and checkpoints of the old key still verify."""
    try:
        rotation = rotate_signing_key(get_engine(), Actor())
    except NoteError as exc:
        _fail(str(exc), 2)
    typer.echo(rotation.statement, nl=False)
    typer.echo(f"New verifier key: {rotation.new_key}", err=True)


@audit_app.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint over every entry now (if there are new ones), push pending ones and
    ask the witnesses (HUB_WITNESSES) to cosign the newest."""
    from hub.audit.checkpoint import CheckpointRefused, latest_head, push_pending, sign_checkpoint
    from hub.audit.witnessing import witness_round

    with Session(get_engine(), expire_on_commit=False) as db:
        try:
            head = sign_checkpoint(db)
        except CheckpointRefused as exc:
            _fail(f"no checkpoint signed: {exc}")
        db.commit()
        pushed = push_pending(db)
        if head is None:
            head = latest_head(db)
            typer.echo("No new entries since the last checkpoint.", err=True)
    for name, outcome in witness_round().items():
        typer.echo(f"witness {name}: {outcome}", err=True)
    if head is not None:
        typer.echo(head.signed_note, nl=False)
    if pushed:
        typer.echo(f"{pushed} checkpoint(s) pushed.", err=True)


@audit_app.command("verify")
def verify_command(
    key: str = typer.Option(
        None, help="Verifier key to check heads with (default: this hub's own, from its key)."
    ),
) -> None:
    """Recompute every leaf and the tree; check every signed head. Exit 1 naming the first
    entry found altered, deleted, inserted or reordered."""
    from hub.audit.checkpoint import trusted_verifier
    from hub.audit.notes import Verifier
    from hub.audit.verify import verify_log

    try:
        if key:
            verifier = Verifier.parse(key)
        else:
            # This hub's key and the older keys it announced (hub audit rotate-signing-key).
            with Session(get_engine()) as db:
                verifier = trusted_verifier(db)
    except NoteError as exc:
        _fail(str(exc), 2)
    started = time.perf_counter()
    report = verify_log(get_engine(), verifier)
    elapsed = time.perf_counter() - started
    typer.echo(f"entries checked: {report.entries}")
    typer.echo(f"erased (personal part removed at end of retention): {report.erased}")
    typer.echo(f"tree heads checked: {report.heads}")
    typer.echo(f"tiles checked: {report.tiles}")
    typer.echo(f"root: {report.root.hex()} (size {report.entries})")
    typer.echo(f"time: {elapsed:.2f} s")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not report.ok:
        typer.echo(f"FAILED: {report.first}", err=True)
        for problem in report.problems[:20]:
            if problem is not report.first:
                typer.echo(f"  also: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo("OK: the log is intact.")


@audit_app.command("receipt")
def receipt_command(seq: int = typer.Argument(..., help="The entry's seq.")) -> None:
    """Print the disclosure receipt (JSON) for one entry; check it with tools/verify_receipt.py.
    It holds the entry's personal part: give it only to someone entitled to see it."""
    from hub.audit.log import Event, append
    from hub.audit.receipts import NoReceipt, build_receipt
    from hub.audit.services import command_line_actor
    from hub.vocabulary import LogKind, LogOutcome, SecurityEventTag

    with Session(get_engine(), expire_on_commit=False) as db:
        try:
            receipt = build_receipt(db, seq)
        except NoReceipt as exc:
            _fail(str(exc))
        append(
            db,
            command_line_actor(),
            Event(
                kind=LogKind.security,
                tag=SecurityEventTag.receipt_issued,
                outcome=LogOutcome.success,
                detail={"seq": seq},
            ),
        )
        db.commit()
    typer.echo(json.dumps(receipt, indent=2, ensure_ascii=False))


@audit_app.command("consistency")
def consistency_command(
    old_size: int = typer.Argument(..., help="Size of the older checkpoint."),
    new_size: int = typer.Argument(..., help="Size of the newer checkpoint."),
) -> None:
    """Print the RFC 9162 consistency proof between two tree sizes (JSON list of hex hashes)."""
    from hub.audit.checkpoint import CheckpointRefused, proof_nodes
    from hub.audit.merkle import consistency_proof
    from hub.audit.tiles import TilesMissing

    with Session(get_engine()) as db:
        if not 0 <= old_size <= new_size:
            _fail("the older size must not exceed the newer one", 2)
        try:
            proof = consistency_proof(old_size, new_size, proof_nodes(db, new_size))
        except (CheckpointRefused, TilesMissing) as exc:
            _fail(f"no proof: {exc}")
    typer.echo(json.dumps([node.hex() for node in proof]))


@audit_app.command("export")
def export_command(
    fmt: str = typer.Option("jsonl", "--format", help="csv or jsonl."),
    since: str = typer.Option(None, help="First day (YYYY-MM-DD, UTC) to include."),
    until: str = typer.Option(None, help="Last day (YYYY-MM-DD, UTC) to include."),
) -> None:
    """Stream the log to standard output. The export is itself logged (audit:log:exported)."""
    from hub.audit.services import export_log

    if fmt not in ("csv", "jsonl"):
        _fail("--format is csv or jsonl", 2)
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError:
        _fail("--since and --until are dates: YYYY-MM-DD", 2)
    with Session(get_engine(), expire_on_commit=False) as db:
        export_log(db, sys.stdout, fmt, first, last)


@audit_app.command("erase-expired")
def erase_expired_command() -> None:
    """Erase the personal part of entries older than the retention period (HUB_RETENTION_YEARS,
    at least 6). The tree still verifies; `hub audit verify` counts them as erased."""
    from hub.audit.services import erase_expired

    with Session(get_engine(), expire_on_commit=False) as db:
        erased = erase_expired(db)
        db.commit()
    typer.echo(f"Personal parts erased: {erased}.")


@audit_app.command("flags")
def flags_command(
    days: int = typer.Option(2, help="Site-local days to look at, today included (1-400)."),
) -> None:
    """Compute the privacy console's review flags from the log (idempotent: run it from cron,
    e.g. every 15 minutes). Prints how many flags were created and updated."""
    from hub.audit.services import command_line_actor
    from hub.privacy.flags.computing import compute_flags

    if not 1 <= days <= 400:
        _fail("--days is 1 to 400", 2)
    with Session(get_engine(), expire_on_commit=False) as db:
        run = compute_flags(db, command_line_actor(), days=days)
    typer.echo(f"Flags created: {len(run.created)}; updated: {len(run.updated)}.")
