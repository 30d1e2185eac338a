"""`hub keys rotate`: re-seal every value sealed at rest under the current (first) key of
HUB_DATA_KEYS, so that the old keys can then be dropped. Idempotent: values already under the
current key are left alone, so an interrupted rotation is finished by running it again."""

from sqlalchemy import Engine, Text, column, select, table, update
from sqlmodel import Session

from hub.audit.log import Actor, Event, append_and_commit
from hub.crypto import EncryptedText, key_ring
from hub.models import metadata
from hub.vocabulary import SecurityEventTag

BATCH = 500
# Sealed by hand (hub.crypto.KeyRing.seal) in a plain text column, not through EncryptedText.
HAND_SEALED = {("user", "totp_secret_sealed")}


def sealed_columns() -> list[tuple[str, str, str]]:
    """(table, primary-key column, sealed column) for every value sealed at rest."""
    found = []
    for tbl in metadata.sorted_tables:
        for col in tbl.columns:
            if isinstance(col.type, EncryptedText) or (tbl.name, col.name) in HAND_SEALED:
                (pk,) = tbl.primary_key.columns  # every sealed table has a one-column key
                found.append((tbl.name, pk.name, col.name))
    return found


def rotate_data_keys(engine: Engine, actor: Actor) -> dict[str, int]:
    """Re-seals, in batches, every value not sealed under the current key; returns how many
    values of each column were re-sealed, and logs the rotation as a security event."""
    ring = key_ring()
    counts: dict[str, int] = {}
    with Session(engine) as db:
        for table_name, pk_name, col_name in sealed_columns():
            # Raw text columns: read and write the sealed tokens, not the plaintext.
            raw = table(table_name, column(pk_name), column(col_name, Text))
            done, last = 0, None
            while True:
                query = select(raw.c[pk_name], raw.c[col_name]).where(raw.c[col_name].is_not(None))
                if last is not None:
                    query = query.where(raw.c[pk_name] > last)
                rows = db.execute(query.order_by(raw.c[pk_name]).limit(BATCH)).all()
                if not rows:
                    break
                for key, token in rows:
                    if not ring.sealed_with_current(token):
                        db.execute(
                            update(raw)
                            .where(raw.c[pk_name] == key)
                            .values({col_name: ring.seal(ring.open(token))})
                        )
                        done += 1
                    last = key
                db.commit()
            counts[f"{table_name}.{col_name}"] = done
        append_and_commit(
            db,
            actor,
            Event(
                kind="security",
                tag=SecurityEventTag.data_keys_rotated.value,
                outcome="success",
                detail={"key_id": ring.current_id, "resealed": counts},
            ),
        )
    return counts
