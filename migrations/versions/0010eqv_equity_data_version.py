"""equity: a version of the data the equity figures count, drawn anew by triggers in every
transaction that writes it

Issue 16's dashboard at 100 times the demo (bench/bench_equity.py). `equity_data_version` is
one row; a trigger on every table the figures read (and on the columns of `person`, `user` and
`agency` they read) gives it a new random number in the writing transaction, so the version a
reader sees never precedes the data it reads, and hub.equity.kept can show figures computed
once per version without ever showing stale ones. Triggers rather than the services: every
writer is caught, a bulk build, a merge and a hand-run SQL statement included.

Random rather than a counter: a database rebuilt or restored at the same URL never repeats a
version with other data behind it. On PostgreSQL the trigger is deferred to the commit (the
row's lock is held only while the transaction commits, after every other lock it takes, so no
new deadlock) and draws once per transaction (`changed_in`).

Revision ID: 0010eqv
Revises: 0010wg
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010eqv"
down_revision: str | None = "0010wg"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table hub.equity.figures and hub.equity.outcomes count, with the columns they read
# where other columns change often (a contact updates person.last_contact_on; a sign-in, user).
WATCHED: dict[str, tuple[str, ...]] = {
    "referral": (),
    "person": ("race_ethnicity", "gender", "program_status", "status_changed_at"),
    "charging_matter": (),
    "charging_decision": (),
    "jail_booking": (),
    "jail_booking_import": (),
    "eligible_arrest_count": (),
    "eligible_arrest_import": (),
    "agency": ("name",),
    "user": ("display_name",),
}


def _events(columns: tuple[str, ...]) -> list[str]:
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    return ["INSERT", update, "DELETE"]


def upgrade() -> None:
    op.create_table(
        "equity_data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_in", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    first = secrets.randbits(62)
    op.execute(f"INSERT INTO equity_data_version (id, version) VALUES (1, {first})")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION equity_data_changed() RETURNS trigger AS $$
            BEGIN
                UPDATE equity_data_version
                SET version = floor(random() * 4611686018427387903)::bigint,
                    changed_in = txid_current()
                WHERE changed_in IS DISTINCT FROM txid_current();
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table, columns in WATCHED.items():
            for n, event in enumerate(_events(columns)):
                op.execute(
                    f'CREATE CONSTRAINT TRIGGER equity_changed_{table}_{n} AFTER {event} ON "{table}"'
                    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                    " EXECUTE FUNCTION equity_data_changed()"
                )
        return
    for table, columns in WATCHED.items():
        for n, event in enumerate(_events(columns)):
            op.execute(
                f'CREATE TRIGGER equity_changed_{table}_{n} AFTER {event} ON "{table}" BEGIN'
                " UPDATE equity_data_version SET version = random(); END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, columns in WATCHED.items():
        for n, _ in enumerate(_events(columns)):
            on = f' ON "{table}"' if postgresql else ""
            op.execute(f"DROP TRIGGER IF EXISTS equity_changed_{table}_{n}{on}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS equity_data_changed()")
    op.drop_table("equity_data_version")
