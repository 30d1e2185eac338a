"""`hub witness ...`: run a witness of a hub's log on another machine (c2sp.org/tlog-witness)."""

import logging
from pathlib import Path

import typer

from hub.audit.notes import NoteError, Verifier
from hub.witness.cosignature import cosigner_key
from hub.witness.keys import WitnessKeyError, generate_key, load_key
from hub.witness.server import WitnessServer
from hub.witness.service import Witness, WitnessState

witness_app = typer.Typer(
    help="A witness that cosigns a hub's checkpoints while its log only grows.",
    no_args_is_help=True,
)

STATE = typer.Option(..., "--state", help="The witness's own directory: its key and its state.")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@witness_app.command("keygen")
def keygen_command(
    state: Path = STATE,
    name: str = typer.Option(
        ..., help="The witness's name, a schema-less URL (defender.example.org/witness)."
    ),
) -> None:
    """Make the witness's Ed25519 key in --state and print its verifier key (for HUB_WITNESSES)."""
    try:
        signer = generate_key(state, name)
    except WitnessKeyError as exc:
        _fail(str(exc))
    typer.echo(cosigner_key(signer))


@witness_app.command("pubkey")
def pubkey_command(state: Path = STATE) -> None:
    """Print the witness's verifier key."""
    try:
        typer.echo(cosigner_key(load_key(state)))
    except WitnessKeyError as exc:
        _fail(str(exc))


@witness_app.command("serve")
def serve_command(
    state: Path = STATE,
    log_keys: list[str] = typer.Option(
        ..., "--log", help="A log's verifier key (`hub audit pubkey` of the hub); repeatable."
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8100, help="Port to listen on."),
) -> None:
    """Serve POST /add-checkpoint: cosign each checkpoint that extends the last one cosigned."""
    logs: dict[str, list[Verifier]] = {}
    try:
        for text in log_keys:
            key = Verifier.parse(text)
            logs.setdefault(key.name, []).append(key)
        signer = load_key(state)
    except (NoteError, WitnessKeyError) as exc:
        _fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = WitnessServer(Witness(signer, logs, WitnessState(state)), host, port)
    typer.echo(f"witness {cosigner_key(signer)} on http://{host}:{server.server_port}/", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
