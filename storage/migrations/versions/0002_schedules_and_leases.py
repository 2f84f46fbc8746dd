"""schedules, reminders and execution leases

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=True))
        batch_op.add_column(sa.Column("lease_expires", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("interruptions", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("requester_tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        for column in ("requester_tz", "interruptions", "lease_expires", "lease_owner", "remind_at", "started_at",
                       "run_at"):
            batch_op.drop_column(column)
