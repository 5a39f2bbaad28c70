"""Staff accounts, escalation workflow, notes and the append-only audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The database itself refuses changes to the audit log, not only the application.
_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("last_login_at", sa.DateTime()),
    )
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("claimed_by_id", sa.Integer()))
        batch.add_column(sa.Column("claimed_at", sa.DateTime()))
        batch.add_column(sa.Column("resolved_by_id", sa.Integer()))
        batch.add_column(sa.Column("resolved_at", sa.DateTime()))
        batch.add_column(sa.Column("outcome", sa.String(32)))
        batch.create_foreign_key(
            "fk_escalations_claimed_by", "staff_users", ["claimed_by_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_escalations_resolved_by", "staff_users", ["resolved_by_id"], ["id"]
        )
    op.create_table(
        "escalation_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalations.id"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_escalation_notes_escalation_id", "escalation_notes", ["escalation_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_users.id")),
        sa.Column("username", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalations.id")),
        sa.Column("detail", sa.JSON()),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_escalation_id", "audit_log", ["escalation_id"])
    for statement in _APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("escalation_notes")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_constraint("fk_escalations_claimed_by", type_="foreignkey")
        batch.drop_constraint("fk_escalations_resolved_by", type_="foreignkey")
        for column in ("claimed_by_id", "claimed_at", "resolved_by_id", "resolved_at", "outcome"):
            batch.drop_column(column)
    op.drop_table("staff_users")
