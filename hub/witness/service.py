"""The witness's one decision (c2sp.org/tlog-witness, add-checkpoint) and its state.

The state is the witness's own small SQLite file (never the hub's database): for each log it
trusts, the newest checkpoint it cosigned. A checkpoint is cosigned only if it carries a valid
signature of that log, the client's old size is the size the witness holds, and an RFC 6962
consistency proof leads from the held root to the new one. So the witness never signs a tree
smaller than one it saw (a rollback) nor a second tree of one size (a split view). Refusals
from a trusted log are kept as evidence: two signed trees of one size prove misbehaviour.
"""

import base64
import binascii
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.audit.merkle import EMPTY_ROOT, ProofError, verify_consistency
from hub.audit.notes import Checkpoint, NoteError, Signer, Verifier
from hub.witness.cosignature import cosign

MAX_PROOF_LINES = 63  # tlog-witness: a client sends at most 63 consistency proof lines
SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT = "text/plain; charset=utf-8"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    cosignature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    origin TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = TEXT


class Refused(Exception):
    def __init__(self, status: int, reason: str, content_type: str = TEXT) -> None:
        super().__init__(reason)
        self.answer = Answer(status, reason + "\n", content_type)


@dataclass(frozen=True)
class Held:
    tree_size: int
    root_hash: bytes
    note: str
    cosignature: str


class WitnessState:
    """The witness's SQLite file, `<state dir>/witness.db`."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "witness.db"
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, timeout=30)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        # tlog-witness: checking the old size and storing the new checkpoint are one atomic
        # step, or two requests could roll the witness back. BEGIN IMMEDIATE takes the write
        # lock before the read.
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def held(self, origin: str, connection: sqlite3.Connection | None = None) -> Held | None:
        query = "SELECT tree_size, root_hash, note, cosignature FROM cosigned WHERE origin = ?"
        if connection is None:
            with self._connect() as own:
                row = own.execute(query, (origin,)).fetchone()
        else:
            row = connection.execute(query, (origin,)).fetchone()
        return None if row is None else Held(int(row[0]), bytes(row[1]), row[2], row[3])

    def refusals(self, origin: str) -> list[tuple[int, str, str]]:
        """(status, reason, request) of each refused request from that log, oldest first."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT status, reason, request FROM refused WHERE origin = ? ORDER BY id",
                (origin,),
            ).fetchall()
        return [(int(s), r, q) for s, r, q in rows]


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, consistency proof, checkpoint note) of a request body; 400 if malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the request is not UTF-8") from None
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise Refused(400, "the request has no blank line before the checkpoint")
    lines = head.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    size = old_line.removeprefix("old ")
    if size == old_line or not size.isdigit() or str(int(size)) != size:
        raise Refused(400, "the first line is `old <size>`")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise Refused(400, f"at most {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            node = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise Refused(400, "a consistency proof line is not base64") from None
        if len(node) != 32:
            raise Refused(400, "a consistency proof line is not a 32-byte hash")
        proof.append(node)
    return int(size), proof, note


def _open(note: str, keys: Iterable[Verifier]) -> tuple[Checkpoint, str]:
    """The checkpoint and its text if a trusted key of its origin signed it; 403 otherwise."""
    for key in keys:
        try:
            text = key.open(note)
        except NoteError as exc:
            if "carries no signature" not in str(exc):
                raise Refused(403, f"the checkpoint's signature is not valid ({exc})") from None
            continue
        try:
            return Checkpoint.parse(text), text
        except NoteError as exc:
            raise Refused(400, str(exc)) from None
    raise Refused(403, "the checkpoint carries no signature by a key trusted for its origin")


class Witness:
    """Cosigns checkpoints of the logs it trusts (origin -> the log's verifier keys)."""

    def __init__(
        self,
        signer: Signer,
        logs: dict[str, list[Verifier]],
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = signer
        self.logs = logs
        self.state = state
        self.clock = clock
        self._lock = threading.Lock()

    def add_checkpoint(self, body: bytes) -> Answer:
        """POST /add-checkpoint: the cosignature line, or the refusal and its status."""
        try:
            old_size, proof, note = _parse_request(body)
            origin = note.split("\n", 1)[0]
            if origin not in self.logs:
                raise Refused(404, "unknown log origin")
            checkpoint, text = _open(note, self.logs[origin])
        except Refused as refused:
            return refused.answer
        try:
            with self._lock, self.state.transaction() as connection:
                line = self._cosign(connection, old_size, proof, note, checkpoint, text)
        except Refused as refused:
            answer = refused.answer
            # Evidence of misbehaviour: a signed tree that does not extend the one held, or a
            # signed tree smaller than it (a 409 is otherwise a client catching up).
            if answer.status == 422 or (
                answer.status == 409 and checkpoint.tree_size < int(answer.body)
            ):
                self._keep_refusal(origin, answer, body)
            return answer
        return Answer(200, line + "\n")

    def _cosign(
        self,
        connection: sqlite3.Connection,
        old_size: int,
        proof: list[bytes],
        note: str,
        checkpoint: Checkpoint,
        text: str,
    ) -> str:
        if old_size > checkpoint.tree_size:
            raise Refused(400, "the old size is larger than the checkpoint's")
        held = self.state.held(checkpoint.origin, connection)
        held_size = 0 if held is None else held.tree_size
        if old_size != held_size:
            raise Refused(409, str(held_size), SIZE_CONTENT_TYPE)
        if checkpoint.tree_size == 0 and checkpoint.root_hash != EMPTY_ROOT:
            raise Refused(422, "a tree of size 0 has the empty tree's root")
        if old_size == 0 and proof:
            raise Refused(422, "no consistency proof from the empty tree")
        try:
            verify_consistency(
                old_size,
                checkpoint.tree_size,
                proof,
                EMPTY_ROOT if held is None else held.root_hash,
                checkpoint.root_hash,
            )
        except ProofError as exc:
            # A second tree of the size held (a split view), or one that does not extend it.
            raise Refused(422, f"not consistent with the tree of size {held_size}: {exc}") from None
        # The whole note text, extension lines included (tlog-cosignature).
        line = cosign(self.signer, text, int(self.clock()))
        connection.execute(
            "INSERT INTO cosigned (origin, tree_size, root_hash, note, cosignature) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
            "tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
            "note = excluded.note, cosignature = excluded.cosignature",
            (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, note, line),
        )
        return line

    def _keep_refusal(self, origin: str, answer: Answer, body: bytes) -> None:
        # tlog-witness: a refused checkpoint validly signed by the log may prove misbehaviour.
        with self.state.transaction() as connection:
            connection.execute(
                "INSERT INTO refused (received_at, origin, status, reason, request) "
                "VALUES (?, ?, ?, ?, ?)",
                (int(self.clock()), origin, answer.status, answer.body.strip(), body.decode()),
            )

    def latest(self, origin_hash: str) -> Answer:
        """GET /<sha256 hex of the origin>/checkpoint: the newest cosigned checkpoint, with the
        log's signature and the witness's cosignature."""
        for origin in self.logs:
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                held = self.state.held(origin)
                if held is not None:
                    return Answer(200, held.note + held.cosignature + "\n")
        return Answer(404, "no checkpoint cosigned for that log\n")
