"""How the patient wants to hear back, and whether a person is replying in the chat.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("contact_method", sa.String(16)))
        batch.add_column(sa.Column("contact_name", sa.String(80)))
        batch.add_column(sa.Column("contact_phone", sa.String(40)))
        batch.add_column(sa.Column("contact_email", sa.String(320)))
        batch.add_column(sa.Column("contact_consent_at", sa.DateTime()))
        batch.add_column(sa.Column("human_mode_since", sa.DateTime()))
        batch.add_column(sa.Column("patient_last_message_at", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        for column in (
            "patient_last_message_at",
            "human_mode_since",
            "contact_consent_at",
            "contact_email",
            "contact_phone",
            "contact_name",
            "contact_method",
        ):
            batch.drop_column(column)
