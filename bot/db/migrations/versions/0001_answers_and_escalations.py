"""Answers and escalations.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("answer_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("quotes", sa.JSON(), nullable=False),
        sa.Column("section", sa.String(200), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("guide_sha256", sa.String(64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("answer_id", "version", name="uq_answer_version"),
    )
    op.create_index("ix_answers_intent", "answers", ["intent"])
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedup_key", sa.String(100), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("trigger_intent", sa.String(64)),
        sa.Column("matched_rule", sa.String(200)),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.UniqueConstraint("dedup_key", name="uq_escalation_dedup_key"),
    )
    op.create_index("ix_escalations_conversation_id", "escalations", ["conversation_id"])
    op.create_index("ix_escalations_queue", "escalations", ["status", "priority", "created_at"])


def downgrade() -> None:
    op.drop_table("escalations")
    op.drop_table("answers")
