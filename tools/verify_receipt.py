#!/usr/bin/env python3
"""Check a Diversion Hub disclosure receipt, offline, without the hub.

Needs Python 3.9+ and the `cryptography` package, nothing else; short enough to read whole.

    python3 verify_receipt.py RECEIPT.json --key 'ORIGIN+KEYID+BASE64KEY'
        [--older OLDER.checkpoint --consistency PROOF.json]
        [--witness 'NAME+KEYID+BASE64KEY' ... [--min-witnesses K]]
        [--rotations KEY-ROTATIONS.json]

What is checked, in order:
 1. the entry: when the receipt holds its personal part and salt, the personal digest is
    SHA-256(salt || canonical JSON of the personal part); the leaf is
    SHA-256(0x00 || canonical JSON of the public part plus personal_digest) (RFC 6962 2.1);
    canonical JSON = sorted keys, no spaces, UTF-8;
 2. the inclusion proof leads from that leaf, at its index, to a root (RFC 9162 2.1.3.2);
 3. the checkpoint (C2SP tlog-checkpoint) is signed by the key you give (C2SP signed-note,
    Ed25519), or by a key that the receipt's key rotations link to it (each statement signed
    by both the old and the new key), and names that root and tree size;
 4. optionally, an older checkpoint you kept (also signed by that key) is consistent with this
    one (RFC 9162 2.1.4.2): the log only grew in between;
 5. optionally, at least K of the witnesses you name (`hub witness pubkey` of each; K defaults
    to all of them) cosigned the checkpoint (C2SP tlog-cosignature, Ed25519 cosignature/v1):
    each saw this log grow to it, and no other tree of its size. Cosignatures by keys you did
    not name are ignored.
The keys must come from you (the hub's published `hub audit pubkey`), never from the receipt.
Prints VALID or INVALID with the reason; exit status 0 or 1.
"""

import argparse
import base64
import binascii
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Invalid(Exception):
    pass


def canonical(value):
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def unhex(value, what):
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise Invalid(f"{what} is not hex") from None
    if len(raw) != 32:
        raise Invalid(f"{what} is not a 32-byte hash")
    return raw


# --- the entry -------------------------------------------------------------------------------


def entry_leaf(entry):
    digest = entry["personal_digest"]
    if entry.get("personal") is not None:
        if entry.get("salt") is None:
            raise Invalid("the receipt has a personal part but no salt")
        salt = bytes.fromhex(entry["salt"])
        if hashlib.sha256(salt + canonical(entry["personal"])).hexdigest() != digest:
            raise Invalid("the personal part does not match the personal digest")
    public = dict(entry["public"])
    if "personal_digest" in public:
        raise Invalid("the public part may not carry its own personal_digest")
    public["personal_digest"] = digest
    return hashlib.sha256(b"\x00" + canonical(public)).digest()


# --- Merkle proofs (RFC 9162) ------------------------------------------------------------------


def root_from_inclusion(index, size, leaf, proof):
    if not 0 <= index < size:
        raise Invalid("the leaf index is outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Invalid("the inclusion proof is too short")
    return r


def check_consistency(m, n, proof, first, second):
    if not 0 < m <= n:
        raise Invalid("the older checkpoint is not older")
    if m == n:
        if proof or first != second:
            raise Invalid("two checkpoints of one size with different roots: a fork")
        return
    if not proof:
        raise Invalid("the consistency proof is empty")
    path = ([first] if m & (m - 1) == 0 else []) + list(proof)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Invalid("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first or sr != second:
        raise Invalid("the newer checkpoint does not extend the older one")


# --- signed notes and checkpoints (C2SP) -------------------------------------------------------


def parse_key(text, key_type=1):
    try:
        name, key_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        key_id = bytes.fromhex(key_id)
    except (ValueError, binascii.Error):
        raise Invalid("the verifier key is not NAME+KEYID+BASE64") from None
    if len(raw) != 33 or raw[0] != key_type:
        raise Invalid(
            "the verifier key is not an Ed25519 key"
            if key_type == 1
            else f"the witness key {name} is not an Ed25519 cosignature/v1 key"
        )
    expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id != expected:
        raise Invalid("the verifier key's id does not match its name and key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def signed_text(note, key):
    """The text of a signed note, if it carries a valid signature by the key."""
    name, key_id, public_key = key
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise Invalid("the checkpoint is not a signed note")
    text = note[: cut + 1]
    signed = False
    for line in note[cut + 2 : -1].split("\n"):
        if not line.startswith("\u2014 "):
            raise Invalid("malformed signature line")
        signer, _, blob = line[2:].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise Invalid("malformed signature") from None
        if signer == name and raw[:4] == key_id:
            try:
                public_key.verify(raw[4:], text.encode())
            except InvalidSignature:
                raise Invalid("the checkpoint's signature is not valid") from None
            signed = True
            break
    if not signed:
        raise Invalid("the checkpoint is not signed by the given key")
    return text


def open_checkpoint(note, key):
    name = key[0]
    text = signed_text(note, key)
    lines = text.split("\n")
    if len(lines) < 4 or lines[0] != name:
        raise Invalid("the checkpoint's origin is not the key's name")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        raise Invalid("malformed checkpoint") from None
    if str(size) != lines[1] or len(root) != 32:
        raise Invalid("malformed checkpoint")
    return size, root


def announced_keys(key_text, statements):
    """The key you trust and every key a rotation statement links to it. A statement (the
    receipt's key_rotations) is the text ORIGIN, "key rotation", OLD KEY, NEW KEY, TREE SIZE,
    signed by both keys, so no one holding neither key can add a key to those you trust."""
    keys = [key_text.strip()]
    links = []
    for note in statements:
        lines = note[: note.rfind("\n\n") + 1].split("\n")
        if len(lines) != 6 or lines[1] != "key rotation":
            continue
        try:
            for named in lines[2:4]:
                key = parse_key(named)
                if key[0] != lines[0]:
                    raise Invalid("a rotation names a key of another origin")
                signed_text(note, key)
        except Invalid:
            continue
        links.append((lines[2], lines[3]))
    grew = True
    while grew:
        grew = False
        for old, new in links:
            for known, other in ((old, new), (new, old)):
                if known in keys and other not in keys:
                    keys.append(other)
                    grew = True
    return keys


def open_by_any(note, keys):
    for key_text in keys:
        try:
            return open_checkpoint(note, parse_key(key_text))
        except Invalid:
            continue
    raise Invalid("the checkpoint is not signed by the given key, nor by a key it announced")


def cosigned_by(note_text, lines, witnesses):
    """Names of the witnesses (name, key id, key) with a valid cosignature among `lines`."""
    found = set()
    for line in lines:
        if not isinstance(line, str) or not line.startswith("\u2014 "):
            raise Invalid("malformed cosignature line")
        signer, _, blob = line[2:].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise Invalid("malformed cosignature") from None
        for name, key_id, public_key in witnesses:
            if signer != name or raw[:4] != key_id:
                continue
            if len(raw) != 4 + 8 + 64:
                raise Invalid(f"the cosignature by {name} is malformed")
            timestamp = int.from_bytes(raw[4:12], "big")
            message = f"cosignature/v1\ntime {timestamp}\n{note_text}".encode()
            try:
                public_key.verify(raw[12:], message)
            except InvalidSignature:
                raise Invalid(f"the cosignature by {name} is not valid") from None
            found.add(name)
    return found


def check_witnesses(receipt, witness_texts, min_witnesses):
    witnesses = [parse_key(text, key_type=4) for text in witness_texts]
    if len({w[0] for w in witnesses}) != len(witnesses):
        raise Invalid("a witness is named twice")
    wanted = len(witnesses) if min_witnesses is None else min_witnesses
    if not 1 <= wanted <= len(witnesses):
        raise Invalid("--min-witnesses is between 1 and the number of --witness keys")
    note = receipt["checkpoint"]
    text = note[: note.rfind("\n\n") + 1]
    lines = receipt.get("cosignatures") or []
    found = cosigned_by(text, lines, witnesses)
    if len(found) < wanted:
        raise Invalid(
            f"cosigned by {len(found)} of the named witnesses"
            f"{' (' + ', '.join(sorted(found)) + ')' if found else ''}, {wanted} required"
        )
    return sorted(found)


def verify(
    receipt,
    key_text,
    older_note=None,
    consistency=None,
    witnesses=(),
    minimum=None,
    rotations=(),
):
    key = parse_key(key_text)
    keys = announced_keys(key_text, [*(receipt.get("key_rotations") or []), *rotations])
    if receipt.get("verifier_key") not in (None, *keys):
        raise Invalid("the receipt names another verifier key than the one given")
    leaf = entry_leaf(receipt["entry"])
    if leaf.hex() != receipt["leaf_hash"]:
        raise Invalid("the entry does not hash to the receipt's leaf hash")
    index = receipt["leaf_index"]
    if receipt["entry"]["public"].get("seq") != index:
        raise Invalid("the entry's seq is not its leaf index")
    proof = [unhex(p, "an inclusion proof hash") for p in receipt["inclusion_proof"]]
    size, root = open_by_any(receipt["checkpoint"], keys)
    if size != receipt["tree_size"]:
        raise Invalid("the checkpoint's tree size is not the receipt's")
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise Invalid("the inclusion proof does not lead to the signed root")
    if older_note is not None:
        older_size, older_root = open_by_any(older_note, keys)
        hashes = [unhex(p, "a consistency proof hash") for p in consistency or []]
        check_consistency(older_size, size, hashes, older_root, root)
    message = f"entry {index} is in the log of {key[0]} at tree size {size}"
    if witnesses or minimum is not None:
        if not witnesses:
            raise Invalid("--min-witnesses needs --witness keys")
        found = check_witnesses(receipt, witnesses, minimum)
        message += f", cosigned by {len(found)} witness(es): {', '.join(found)}"
    return message


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check a Diversion Hub disclosure receipt.")
    parser.add_argument("receipt", help="the receipt (JSON file)")
    parser.add_argument("--key", required=True, help="the hub's verifier key")
    parser.add_argument("--older", help="an older checkpoint (signed note file) you kept")
    parser.add_argument("--consistency", help="JSON list of hex hashes: proof older -> receipt")
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        help="a witness's verifier key NAME+KEYID+BASE64 (repeatable)",
    )
    parser.add_argument(
        "--rotations",
        help="the hub's key rotations (JSON as /log/key-rotations serves it), for a receipt "
        "issued before a rotation that you check with the newer key",
    )
    parser.add_argument(
        "--min-witnesses",
        type=int,
        help="how many of the --witness keys must have cosigned (default: all)",
    )
    args = parser.parse_args(argv)
    try:
        with open(args.receipt, encoding="utf-8") as handle:
            receipt = json.load(handle)
        older = consistency = None
        if args.older:
            with open(args.older, encoding="utf-8") as handle:
                older = handle.read()
            if not args.consistency:
                raise Invalid("--older needs --consistency")
            with open(args.consistency, encoding="utf-8") as handle:
                consistency = json.load(handle)
        rotations = []
        if args.rotations:
            with open(args.rotations, encoding="utf-8") as handle:
                rotations = json.load(handle)["rotations"]
        found = verify(
            receipt, args.key, older, consistency, args.witness, args.min_witnesses, rotations
        )
        print("VALID: " + found)
        return 0
    except Invalid as exc:
        print(f"INVALID: {exc}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"INVALID: the receipt is malformed ({type(exc).__name__}: {exc})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
