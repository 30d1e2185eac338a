"""plan: goals' domain and steps; services and the bridge-funding ledger

Issue 14, items 4 and 6. `plan_goal` gains its life area (`domain`: substance use is treatment
data, hub.disclosure.origin) and when it last changed; `plan_step` holds a goal's steps with
status and date; `service_record` holds services given or bought with their funding source,
and for a LEAD bridge the public waiting list, the client's place and the day their turn came.
Item 7: `client_document` holds a document attached to a client or a consent (PDF, PNG or JPEG
by its bytes), sealed at rest, of its own disclosure category. Item 8: `person_merge` records
which record of a person was merged into which (a tombstone), and who asked and confirmed.

Revision ID: 0008plan
Revises: 0008oidc
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hub.crypto
import hub.db

revision: str = "0008plan"
down_revision: str | None = "0008oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned", "done", "set_aside", name="stepstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_step_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_step_person_id"), ["person_id"], unique=False)

    op.create_table(
        "service_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "motel_stay",
                "rent_assistance",
                "transport",
                "phone",
                "id_documents",
                "food",
                "storage",
                "legal_help",
                "medical_visit",
                "mental_health_counseling",
                "substance_use_treatment",
                "detox",
                "medication_for_opioid_use",
                "other",
                name="servicekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("provided_on", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("cost_cents", sa.Integer(), nullable=False),
        sa.Column(
            "funding_source",
            sa.Enum(
                "lead",
                "medicaid",
                "other_public",
                "other",
                name="fundingsource",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("waitlist", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("waitlist_place", sa.Integer(), nullable=True),
        sa.Column("turn_came_on", sa.Date(), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_record_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_record_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_record_provided_on"), ["provided_on"], unique=False
        )

    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "domain",
                sa.Enum(
                    "housing",
                    "health",
                    "income",
                    "legal",
                    "relationships",
                    "substance_use",
                    name="plandomain",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "client_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "signed_release",
                "id_document",
                "other",
                name="documentkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "identity",
                "demographics",
                "contact",
                "referral",
                "legal",
                "engagement",
                "plan",
                "housing",
                "health",
                "treatment",
                name="category",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("content", hub.crypto.EncryptedText(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["consent_id"], ["consent.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("client_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_document_consent_id"), ["consent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_client_document_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merged_person_id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "merged", "refused", name="mergestatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["merged_person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["survivor_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("person_merge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_merge_merged_person_id"), ["merged_person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_person_merge_survivor_id"), ["survivor_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("person_merge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_merge_survivor_id"))
        batch_op.drop_index(batch_op.f("ix_person_merge_merged_person_id"))

    op.drop_table("person_merge")
    with op.batch_alter_table("client_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_document_person_id"))
        batch_op.drop_index(batch_op.f("ix_client_document_consent_id"))

    op.drop_table("client_document")
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("domain")

    with op.batch_alter_table("service_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_record_provided_on"))
        batch_op.drop_index(batch_op.f("ix_service_record_person_id"))
        batch_op.drop_index(batch_op.f("ix_service_record_goal_id"))

    op.drop_table("service_record")
    with op.batch_alter_table("plan_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_step_person_id"))
        batch_op.drop_index(batch_op.f("ix_plan_step_goal_id"))

    op.drop_table("plan_step")
