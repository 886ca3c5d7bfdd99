"""A generic `measures` column (JSON) on requests and feedback: a product declares new usage or
feedback measures without a schema change.

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("measures", sa.Text))
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("measures", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("measures")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("measures")
