"""Disclosure receipts: one entry with everything needed to check, offline and without the
hub, that it is in the log the hub signed (tools/verify_receipt.py does the checking).

A receipt is for someone entitled to the entry's personal part (the person it is about, their
defender, an oversight body): while the entry is not erased it carries the personal part and
its salt, so the reader can recompute the digest the leaf commits to.
"""

from typing import Any

from sqlmodel import Session, col, select

from hub.audit.checkpoint import proof_nodes, rotation_statements, verifier_key
from hub.audit.log import personal_part, public_part
from hub.audit.merkle import ProofError, inclusion_proof, verify_inclusion
from hub.audit.models import LogEntry, TreeHead, WitnessCosignature
from hub.audit.tiles import TilesMissing
from hub.audit.witnessing import cosignatures

RECEIPT_FORMAT = "diversion-hub-receipt/1"


class NoReceipt(LookupError):
    """There is no such entry, or no signed checkpoint covers it yet."""


def build_receipt(db: Session, seq: int) -> dict[str, Any]:
    """The receipt for entry `seq`, proven against the newest signed checkpoint."""
    entry = db.get(LogEntry, seq)
    if entry is None:
        raise NoReceipt(f"there is no log entry {seq}")
    # The newest head that witnesses cosigned, so the receipt carries their cosignatures; else
    # the newest head.
    newest = select(TreeHead).where(TreeHead.tree_size > seq)
    order = (col(TreeHead.tree_size).desc(), col(TreeHead.id).desc())
    head = (
        db.exec(
            newest.join(
                WitnessCosignature, col(WitnessCosignature.tree_head_id) == col(TreeHead.id)
            )
            .order_by(*order)
            .limit(1)
        ).first()
        or db.exec(newest.order_by(*order).limit(1)).first()
    )
    if head is None:
        raise NoReceipt(f"no signed checkpoint covers entry {seq} yet: run `hub audit checkpoint`")
    try:
        proof = inclusion_proof(seq, head.tree_size, proof_nodes(db, head.tree_size, [seq]))
        # The proof comes from stored tiles: never hand out one that does not lead to the root.
        leaf = bytes.fromhex(entry.leaf_hash)
        verify_inclusion(seq, head.tree_size, leaf, proof, bytes.fromhex(head.root_hash))
    except (ProofError, TilesMissing, ValueError):
        raise NoReceipt(
            f"entry {seq} cannot be proven against the signed checkpoint: run `hub audit verify`"
        ) from None
    erased = entry.erased_at is not None
    return {
        "format": RECEIPT_FORMAT,
        "entry": {
            "public": public_part(entry),
            "personal_digest": entry.personal_digest,
            "personal": None if erased else personal_part(entry),
            "salt": None if erased else entry.salt,
            "erased": erased,
        },
        "leaf_index": seq,
        "leaf_hash": entry.leaf_hash,
        "tree_size": head.tree_size,
        "inclusion_proof": [node.hex() for node in proof],
        "checkpoint": head.signed_note,
        # c2sp.org/tlog-cosignature lines; appended to the checkpoint they make a cosigned note.
        "cosignatures": cosignatures(db, head),
        "verifier_key": verifier_key(),
        # The signing key's rotations: a checker who trusts an older or a newer key of this
        # hub's follows them to the key that signed the checkpoint (hub.audit.signing_keys).
        "key_rotations": rotation_statements(db),
    }
