"""The keyed REST API: keys (hashes only), per-minute and per-month counters, charges and usage rows.

Revision ID: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("expires", sa.Float),
        sa.Column("revoked", sa.Float),
    )
    op.create_table(
        "api_rate",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("minute", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "api_monthly",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("unit", sa.String(32), primary_key=True),
        sa.Column("used", sa.Float, nullable=False),
    )
    op.create_table(
        "api_charges",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("units", sa.Text),
    )
    op.create_index("ix_api_charges_ts", "api_charges", ["ts"])
    op.create_table(
        "usage",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("key_id", sa.String(32)),
        sa.Column("key_prefix", sa.String(16)),
        sa.Column("plan", sa.String(64)),
        sa.Column("product", sa.String(32)),
        sa.Column("action", sa.String(64)),
        sa.Column("model", sa.String(128)),
        sa.Column("units", sa.Text),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("ms", sa.Float),
    )
    op.create_index("ix_usage_ts", "usage", ["ts"])
    op.create_index("ix_usage_key_ts", "usage", ["key_id", "ts"])


def downgrade() -> None:
    for table in ("usage", "api_charges", "api_monthly", "api_rate", "api_keys"):
        op.drop_table(table)
