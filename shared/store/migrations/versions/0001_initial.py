"""The first schema: requests, contents, feedback, model events, meta.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("model", sa.String(128)),
        sa.Column("engine", sa.String(64)),
        sa.Column("template", sa.String(64)),
        sa.Column("preset", sa.String(64)),
        sa.Column("queue_ms", sa.Float),
        sa.Column("run_ms", sa.Float),
        sa.Column("tokens_in", sa.Integer),
        sa.Column("tokens_out", sa.Integer),
        sa.Column("audio_s", sa.Float),
        sa.Column("rows", sa.Integer),
        sa.Column("images", sa.Integer),
        sa.Column("pixels", sa.BigInteger),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_id", sa.String(16)),
        sa.Column("lang", sa.String(8)),
        sa.Column("session", sa.String(32)),
    )
    op.create_index("ix_requests_ts", "requests", ["ts"])
    op.create_index("ix_requests_product_ts", "requests", ["product", "ts"])
    op.create_index("ix_requests_session", "requests", ["session"])
    op.create_table(
        "contents",
        sa.Column("request_id", sa.String(32), primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("inputs", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Column("session", sa.String(32)),
    )
    op.create_index("ix_contents_ts", "contents", ["ts"])
    op.create_index("ix_contents_session", "contents", ["session"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("request_id", sa.String(32)),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64)),
        sa.Column("model", sa.String(128)),
        sa.Column("template", sa.String(64)),
        sa.Column("preset", sa.String(64)),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("value", sa.String(200)),
        sa.Column("item", sa.String(200)),
        sa.Column("predicted", sa.String(200)),
        sa.Column("score", sa.Float),
        sa.Column("wer", sa.Float),
        sa.Column("words", sa.Integer),
        sa.Column("language", sa.String(8)),
        sa.Column("text", sa.Text),
        sa.Column("session", sa.String(32)),
        sa.Column("lang", sa.String(8)),
    )
    op.create_index("ix_feedback_ts", "feedback", ["ts"])
    op.create_index("ix_feedback_product_ts", "feedback", ["product", "ts"])
    op.create_index("ix_feedback_request", "feedback", ["request_id"])
    op.create_index("ix_feedback_session", "feedback", ["session"])
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("seconds", sa.Float),
        sa.Column("mb", sa.Float),
    )
    op.create_index("ix_model_events_ts", "model_events", ["ts"])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    for table in ("meta", "model_events", "feedback", "contents", "requests"):
        op.drop_table(table)
