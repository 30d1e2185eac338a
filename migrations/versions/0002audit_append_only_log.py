"""append-only log: triggers on log_entry, tree_head and log_retention; compact ranges

The database itself refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of the log and its
signed tree heads (CJIS AU-9; ASVS V16.4). Two changes are let through:
- the end-of-retention erasure of an entry's personal part (personal fields to NULL, erased_at
  set, nothing else touched) for entries recorded before log_retention.erase_before; that date
  only moves forward and never past now minus six years (HIPAA 164.316(b)(2));
- tree_head.pushed_at, set once when a checkpoint has been copied outside the database.
A new entry must take the next seq, so the log stays gapless even if a writer skips
hub.audit.log.append. On PostgreSQL every refused change also advances log_refused_change_seq,
which a rollback cannot undo: the checkpointer and `hub audit verify` report the count.

Revision ID: 0002audit
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.db

revision: str = "0002audit"
down_revision: str | None = "0002ref"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Public part and commitments: an erasure must leave every one of them as it was.
_KEPT = (
    "seq", "recorded_at", "kind", "tag", "outcome", "purpose", "actor_role", "actor_agency_id",
    "policy_version", "personal_digest", "leaf_hash",
)
_ERASED = ("actor_user_id", "person_id", "request_id", "address", "detail", "salt")
_HEAD_KEPT = ("id", "tree_size", "root_hash", "signed_note", "created_at", "compact_range")

_ERASURE_ONLY = "only the end-of-retention erasure of the personal part is allowed"


def _sqlite_upgrade() -> None:
    def refuse(name: str, when: str, table: str, op_name: str, why: str) -> None:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {op_name} ON {table}{when} BEGIN "
            f"SELECT RAISE(ABORT, 'append-only log: {op_name} on {table} refused ({why})'); END"
        )

    kept = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (*_KEPT, "categories"))
    erased = " AND ".join(f"NEW.{c} IS NULL" for c in _ERASED)
    # `(...) IS NOT 1` also refuses when the condition is NULL (a missing retention row).
    refuse(
        "log_entry_append_only_insert",
        " WHEN (NEW.erased_at IS NULL AND NEW.seq IS "
        "(SELECT coalesce(max(seq) + 1, 0) FROM log_entry)) IS NOT 1",
        "log_entry", "INSERT", "a new entry takes the next seq and is not erased",
    )
    refuse(
        "log_entry_append_only_update",
        f" WHEN (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND {erased} AND {kept}"
        " AND julianday(OLD.recorded_at) <"
        " (SELECT julianday(erase_before) FROM log_retention WHERE id = 1)) IS NOT 1",
        "log_entry", "UPDATE", _ERASURE_ONLY,
    )
    refuse("log_entry_append_only_delete", "", "log_entry", "DELETE", "the log is append-only")
    head_kept = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _HEAD_KEPT)
    refuse(
        "tree_head_append_only_update",
        f" WHEN (OLD.pushed_at IS NULL AND NEW.pushed_at IS NOT NULL AND {head_kept}) IS NOT 1",
        "tree_head", "UPDATE", "only pushed_at may be set, once",
    )
    refuse("tree_head_append_only_delete", "", "tree_head", "DELETE", "signed heads are kept")
    refuse("log_retention_guard_insert", "", "log_retention", "INSERT", "it has one row")
    refuse("log_retention_guard_delete", "", "log_retention", "DELETE", "it has one row")
    refuse(
        "log_retention_guard_update",
        " WHEN (NEW.id IS OLD.id"
        " AND julianday(NEW.erase_before) >= julianday(OLD.erase_before)"
        " AND julianday(NEW.erase_before) <= julianday('now', '-6 years')) IS NOT 1",
        "log_retention", "UPDATE",
        "the erasure date only moves forward and stays at least six years back",
    )


def _postgres_upgrade(schema: str) -> None:
    path = f"SET search_path = pg_catalog, {schema}"
    op.execute("CREATE SEQUENCE log_refused_change_seq")
    # SECURITY DEFINER: the application role may not advance (or reset) the counter itself,
    # but every refusal it provokes must.
    op.execute(f"""
CREATE FUNCTION log_refuse(tbl text, operation text, why text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  PERFORM nextval('{schema}.log_refused_change_seq');
  RAISE EXCEPTION 'append-only log: % on % refused (%)', operation, tbl, why
    USING ERRCODE = 'insufficient_privilege';
END $$""")
    op.execute(f"""
CREATE FUNCTION log_refuse_always() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  PERFORM log_refuse(TG_TABLE_NAME, TG_OP, TG_ARGV[0]);
  RETURN NULL;
END $$""")
    kept = " AND ".join(
        [f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _KEPT]
        # json has no equality operator: compare the stored text
        + ["NEW.categories::text IS NOT DISTINCT FROM OLD.categories::text"]
    )
    erased = " AND ".join(f"NEW.{c} IS NULL" for c in _ERASED)
    op.execute(f"""
CREATE FUNCTION log_entry_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.erased_at IS NULL
       AND NEW.seq = (SELECT coalesce(max(seq) + 1, 0) FROM log_entry) THEN
      RETURN NEW;
    END IF;
    PERFORM log_refuse(TG_TABLE_NAME, TG_OP, 'a new entry takes the next seq and is not erased');
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
     AND {erased} AND {kept}
     AND OLD.recorded_at < (SELECT erase_before FROM log_retention WHERE id = 1) THEN
    RETURN NEW;
  END IF;
  PERFORM log_refuse(TG_TABLE_NAME, TG_OP, '{_ERASURE_ONLY}');
  RETURN NULL;
END $$""")
    head_kept = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _HEAD_KEPT)
    op.execute(f"""
CREATE FUNCTION tree_head_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  IF OLD.pushed_at IS NULL AND NEW.pushed_at IS NOT NULL AND {head_kept} THEN
    RETURN NEW;
  END IF;
  PERFORM log_refuse(TG_TABLE_NAME, TG_OP, 'only pushed_at may be set, once');
  RETURN NULL;
END $$""")
    op.execute(f"""
CREATE FUNCTION log_retention_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
  IF NEW.id = OLD.id AND NEW.erase_before >= OLD.erase_before
     AND NEW.erase_before <= now() - interval '6 years' THEN
    RETURN NEW;
  END IF;
  PERFORM log_refuse(TG_TABLE_NAME, TG_OP,
    'the erasure date only moves forward and stays at least six years back');
  RETURN NULL;
END $$""")
    triggers = [
        ("log_entry_guard_row", "BEFORE INSERT OR UPDATE ON log_entry FOR EACH ROW",
         "log_entry_guard()"),
        ("log_entry_no_delete", "BEFORE DELETE ON log_entry FOR EACH ROW",
         "log_refuse_always('the log is append-only')"),
        ("log_entry_no_truncate", "BEFORE TRUNCATE ON log_entry FOR EACH STATEMENT",
         "log_refuse_always('the log is append-only')"),
        ("tree_head_guard_row", "BEFORE UPDATE ON tree_head FOR EACH ROW", "tree_head_guard()"),
        ("tree_head_no_delete", "BEFORE DELETE ON tree_head FOR EACH ROW",
         "log_refuse_always('signed heads are kept')"),
        ("tree_head_no_truncate", "BEFORE TRUNCATE ON tree_head FOR EACH STATEMENT",
         "log_refuse_always('signed heads are kept')"),
        ("log_retention_guard_row", "BEFORE UPDATE ON log_retention FOR EACH ROW",
         "log_retention_guard()"),
        ("log_retention_no_insert_delete",
         "BEFORE INSERT OR DELETE ON log_retention FOR EACH ROW",
         "log_refuse_always('it has one row')"),
        ("log_retention_no_truncate", "BEFORE TRUNCATE ON log_retention FOR EACH STATEMENT",
         "log_refuse_always('it has one row')"),
    ]
    for name, when, function in triggers:
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {function}")


def upgrade() -> None:
    op.add_column(
        "tree_head", sa.Column("compact_range", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
    )
    op.create_table(
        "log_retention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("erase_before", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # hub.db.UTCDateTime's storage format on SQLite
        op.execute("INSERT INTO log_retention (id, erase_before) VALUES (1, '1970-01-01 00:00:00.000000')")
        _sqlite_upgrade()
    elif bind.dialect.name == "postgresql":
        op.execute("INSERT INTO log_retention (id, erase_before) VALUES (1, '1970-01-01T00:00:00Z')")
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar()
        _postgres_upgrade(str(schema))
    else:
        raise NotImplementedError(f"no append-only triggers for {bind.dialect.name}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in (
            "log_entry_append_only_insert", "log_entry_append_only_update",
            "log_entry_append_only_delete", "tree_head_append_only_update",
            "tree_head_append_only_delete", "log_retention_guard_insert",
            "log_retention_guard_delete", "log_retention_guard_update",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table in ("log_entry", "tree_head", "log_retention"):
            for name in bind.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = %s::regclass",
                (table,),
            ).scalars():
                op.execute(f'DROP TRIGGER "{name}" ON {table}')
        for function in (
            "log_entry_guard()", "tree_head_guard()", "log_retention_guard()",
            "log_refuse_always()", "log_refuse(text, text, text)",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        op.execute("DROP SEQUENCE IF EXISTS log_refused_change_seq")
    op.drop_table("log_retention")
    with op.batch_alter_table("tree_head", schema=None) as batch_op:
        batch_op.drop_column("compact_range")
