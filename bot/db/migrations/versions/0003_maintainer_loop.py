"""Inbox of missed questions, training flags on escalations, model versions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text_key", sa.String(300), nullable=False, unique=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("suggested_intent", sa.String(64)),
        sa.Column("confidence", sa.Float()),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(16)),
        sa.Column("decided_intent", sa.String(64)),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime()),
        sa.Column("merged_at", sa.DateTime()),
    )
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(
            sa.Column(
                "flagged_for_training", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("file", sa.String(500), nullable=False, unique=True),
        sa.Column("data_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metrics", sa.JSON()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("promoted_at", sa.DateTime()),
        sa.Column("promoted_by", sa.String(64)),
        sa.Column("forced_reason", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("model_versions")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("flagged_for_training")
    op.drop_table("inbox_items")
