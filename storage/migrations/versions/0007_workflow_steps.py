"""requests proposed by a Workflow Builder step, and what completes the step when the request ends

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_steps",
        sa.Column("request_id", sa.String(length=24), nullable=False),
        sa.Column("execution_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("inputs_json", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.String(length=32), nullable=True),
        sa.Column("message_channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
        sa.UniqueConstraint("execution_id"),
    )
    op.create_index(op.f("ix_workflow_steps_state"), "workflow_steps", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_workflow_steps_state"), table_name="workflow_steps")
    op.drop_table("workflow_steps")
