"""The log, read-only, over HTTP in the C2SP tlog-tiles layout, so that any transparency-log
client (a monitor, a witness, a defender's office) can follow it and check that it only grows:

    /log/checkpoint                      the newest signed checkpoint
    /log/key-rotations                   the signing key's rotation statements (JSON list)
    /log/tile/<L>/<N>[.p/<W>]            the Merkle tree's tiles (hub.audit.tiles)
    /log/tile/entries/<N>[.p/<W>]        entry bundles: each entry's leaf data

Public, like a checkpoint pushed to a witness: what it serves is what the tree commits to in
the clear, each entry's public part (when, which kind of event, the actor's role and agency,
the categories, the purpose) and the salted digest of its personal part. Who, about whom and
from where never leave the database this way (hub/audit/log.py). Only what the newest
checkpoint covers is served, and the URLs hold tile numbers only.
"""

import gzip

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response

from hub.audit.checkpoint import latest_head, rotation_statements
from hub.audit.tiles import entry_bundle, parse_tile_path, served_tile
from hub.web.dependencies import DB

router = APIRouter(prefix="/log", include_in_schema=False)

_NOT_FOUND = "No such tile in the log as checkpointed."


@router.get("/checkpoint")
def checkpoint(db: DB) -> Response:
    head = latest_head(db)
    if head is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No checkpoint has been signed yet.")
    return Response(head.signed_note, media_type="text/plain; charset=utf-8")


@router.get("/key-rotations")
def key_rotations(db: DB) -> dict[str, list[str]]:
    """Each rotation of the checkpoint signing key, a note signed by the old key and the new
    (hub.audit.signing_keys), oldest first: a verifier that trusts one key learns the next."""
    return {"rotations": rotation_statements(db)}


@router.get("/tile/{path:path}")
def tile(request: Request, db: DB, path: str) -> Response:
    try:
        level, index, width = parse_tile_path(path)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND) from None
    head = latest_head(db)
    size = 0 if head is None else head.tree_size
    headers = {}
    if level == "entries":
        data = entry_bundle(db, index, width, size)
        # tlog-tiles: entry bundles SHOULD be compressed at the HTTP layer (JSON compresses).
        if data is not None and "gzip" in request.headers.get("accept-encoding", ""):
            data = gzip.compress(data, mtime=0)
            headers["content-encoding"] = "gzip"
    else:
        data = served_tile(db, int(level), index, width, size)
    if data is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND)
    return Response(data, media_type="application/octet-stream", headers=headers)
