"""messaging: conversations and messages

Revision ID: f7a2c4e9b105
Revises: e5c1a9d4f203
Create Date: 2026-11-25 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "f7a2c4e9b105"
down_revision: str | None = "e5c1a9d4f203"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "messaging_conversations",
        sa.Column("pair_key", sa.String(length=90), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("other_user_id", sa.Uuid(), nullable=True),
        sa.Column("shop_id", sa.Uuid(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("a_read_seq", sa.Integer(), nullable=False),
        sa.Column("b_read_seq", sa.Integer(), nullable=False),
        sa.Column("last_message_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_preview", sa.String(length=200), nullable=False),
        sa.Column("last_sender_side", sa.String(length=1), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(other_user_id IS NULL) <> (shop_id IS NULL)",
            name=op.f("ck_messaging_conversations_person_or_shop"),
        ),
        sa.CheckConstraint(
            "a_read_seq >= 0 AND b_read_seq >= 0 AND a_read_seq <= last_seq "
            "AND b_read_seq <= last_seq",
            name=op.f("ck_messaging_conversations_read_marks"),
        ),
        sa.CheckConstraint(
            "other_user_id IS NULL OR other_user_id <> user_id",
            name=op.f("ck_messaging_conversations_not_self"),
        ),
        sa.ForeignKeyConstraint(
            ["other_user_id"],
            ["users.id"],
            name=op.f("fk_messaging_conversations_other_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_messaging_conversations_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_messaging_conversations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_conversations")),
        sa.UniqueConstraint("pair_key", name=op.f("uq_messaging_conversations_pair_key")),
    )
    with op.batch_alter_table("messaging_conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messaging_conversations_last_message_at", ["last_message_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_messaging_conversations_other_user_id"), ["other_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_messaging_conversations_shop_id"), ["shop_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_messaging_conversations_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "messaging_messages",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("sender_side", sa.String(length=1), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sender_side IN ('a', 'b')", name=op.f("ck_messaging_messages_side_known")
        ),
        sa.CheckConstraint("seq > 0", name=op.f("ck_messaging_messages_seq_positive")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["messaging_conversations.id"],
            name=op.f("fk_messaging_messages_conversation_id_messaging_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commerce_orders.id"],
            name=op.f("fk_messaging_messages_order_id_commerce_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_messaging_messages_product_id_catalog_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["users.id"],
            name=op.f("fk_messaging_messages_sender_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_messages")),
        sa.UniqueConstraint(
            "conversation_id", "seq", name=op.f("uq_messaging_messages_conversation_id_seq")
        ),
        sa.UniqueConstraint(
            "sender_id", "client_id", name=op.f("uq_messaging_messages_sender_id_client_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("messaging_messages")
    with op.batch_alter_table("messaging_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messaging_conversations_user_id"))
        batch_op.drop_index(batch_op.f("ix_messaging_conversations_shop_id"))
        batch_op.drop_index(batch_op.f("ix_messaging_conversations_other_user_id"))
        batch_op.drop_index("ix_messaging_conversations_last_message_at")

    op.drop_table("messaging_conversations")
