"""A witness for the tests: `hub.witness` served in-process on loopback (a thread), with its
own key and state directory, trusting the hub's log key; and scratch logs (another tree,
signed with the hub's key) to play a hub that shows different trees to different parties."""

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.audit.checkpoint import signer, verifier_key
from hub.audit.merkle import ListNodes, consistency_proof, hash_leaf, root
from hub.audit.notes import Checkpoint, Signer, Verifier
from hub.witness.cosignature import cosigner_key
from hub.witness.server import WitnessServer
from hub.witness.service import Witness, WitnessState

NOW = 1_796_300_000  # 2026-12-03, the witnesses' fixed clock


@dataclass
class RunningWitness:
    witness: Witness
    server: WitnessServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def key(self) -> str:
        return cosigner_key(self.witness.signer)

    @property
    def name(self) -> str:
        return self.witness.signer.name

    def config(self) -> dict[str, str]:
        return {"url": self.url, "key": self.key}


def witness_signer(name: str, byte: int) -> Signer:
    return Signer.from_seed(name, base64.b64encode(bytes([byte]) * 32).decode())


@contextmanager
def running_witness(state: Path, name: str, byte: int) -> Iterator[RunningWitness]:
    log_key = Verifier.parse(verifier_key())
    witness = Witness(
        witness_signer(name, byte), {log_key.name: [log_key]}, WitnessState(state), lambda: NOW
    )
    server = WitnessServer(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningWitness(witness, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def scratch_leaves(size: int, seed: str = "scratch") -> list[bytes]:
    return [hash_leaf(f"{seed} {n}".encode()) for n in range(size)]


def scratch_note(leaves: list[bytes], key: Signer | None = None) -> str:
    """A checkpoint over `leaves`, signed with the hub's key unless another is given."""
    key = key or signer()
    return key.sign(Checkpoint(key.name, len(leaves), root(leaves)).text())


def add_request(old: int, leaves: list[bytes], key: Signer | None = None) -> bytes:
    proof = consistency_proof(old, len(leaves), ListNodes(leaves))
    lines = [f"old {old}", *(base64.b64encode(p).decode() for p in proof)]
    return ("\n".join(lines) + "\n\n" + scratch_note(leaves, key)).encode()
