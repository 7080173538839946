"""shops and catalogue: shops, staff, products, variants, images, inventory

Revision ID: 5b0c3a1d7e21
Revises: aaed2277811a
Create Date: 2026-11-24 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "5b0c3a1d7e21"
down_revision: str | None = "aaed2277811a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("handle", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("logo_key", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("return_policy", sa.Text(), nullable=False),
        sa.Column("shipping_flat_rate", sa.BigInteger(), nullable=False),
        sa.Column("free_shipping_threshold", sa.BigInteger(), nullable=True),
        sa.Column("processing_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "free_shipping_threshold IS NULL OR free_shipping_threshold >= 0",
            name=op.f("ck_shops_free_shipping_threshold_not_negative"),
        ),
        sa.CheckConstraint("handle = lower(handle)", name=op.f("ck_shops_handle_lower_case")),
        sa.CheckConstraint(
            "processing_days BETWEEN 0 AND 60", name=op.f("ck_shops_processing_days_range")
        ),
        sa.CheckConstraint(
            "shipping_flat_rate >= 0", name=op.f("ck_shops_shipping_flat_rate_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
        sa.UniqueConstraint("handle", name=op.f("uq_shops_handle")),
    )
    op.create_table(
        "catalog_products",
        sa.Column("shop_id", sa.Uuid(), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("vendor", sa.String(length=255), nullable=False),
        sa.Column("product_type", sa.String(length=255), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')",
            name=op.f("ck_catalog_products_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_catalog_products_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_products")),
        sa.UniqueConstraint("shop_id", "handle", name=op.f("uq_catalog_products_shop_id_handle")),
    )
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_products_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index(
            "ix_catalog_products_status_created", ["status", "created_at", "id"], unique=False
        )

    op.create_table(
        "shop_staff",
        sa.Column("shop_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("added_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'manager', 'fulfilment')", name=op.f("ck_shop_staff_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_shop_staff_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_shop_staff_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", "user_id", name=op.f("pk_shop_staff")),
    )
    with op.batch_alter_table("shop_staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_staff_user_id"), ["user_id"], unique=False)

    op.create_table(
        "catalog_product_images",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("alt", sa.String(length=255), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_product_images_product_id_catalog_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_product_images")),
        sa.UniqueConstraint("key", name=op.f("uq_catalog_product_images_key")),
    )
    with op.batch_alter_table("catalog_product_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_product_images_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "catalog_variants",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("shop_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("option_values", sa.JSON(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("compare_at_price", sa.BigInteger(), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "compare_at_price IS NULL OR compare_at_price >= 0",
            name=op.f("ck_catalog_variants_compare_at_not_negative"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_catalog_variants_price_not_negative")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_catalog_variants_stock_not_negative")),
        sa.CheckConstraint(
            "weight_grams >= 0", name=op.f("ck_catalog_variants_weight_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_variants_product_id_catalog_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_catalog_variants_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_variants")),
        sa.UniqueConstraint("shop_id", "sku", name=op.f("uq_catalog_variants_shop_id_sku")),
    )
    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_variants_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "catalog_stock_movements",
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("shop_id", sa.Uuid(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("quantity_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('initial', 'import', 'sale', 'return', 'correction', 'reservation', "
            "'release', 'damaged', 'restock')",
            name=op.f("ck_catalog_stock_movements_reason_known"),
        ),
        sa.CheckConstraint(
            "quantity_after >= 0",
            name=op.f("ck_catalog_stock_movements_quantity_after_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_catalog_stock_movements_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_catalog_stock_movements_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["catalog_variants.id"],
            name=op.f("fk_catalog_stock_movements_variant_id_catalog_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_stock_movements")),
    )
    with op.batch_alter_table("catalog_stock_movements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_stock_movements_shop_id"), ["shop_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_catalog_stock_movements_variant_id"), ["variant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("catalog_stock_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_stock_movements_variant_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_stock_movements_shop_id"))

    op.drop_table("catalog_stock_movements")
    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_variants_product_id"))

    op.drop_table("catalog_variants")
    with op.batch_alter_table("catalog_product_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_product_images_product_id"))

    op.drop_table("catalog_product_images")
    with op.batch_alter_table("shop_staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_staff_user_id"))

    op.drop_table("shop_staff")
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_products_status_created")
        batch_op.drop_index(batch_op.f("ix_catalog_products_category_id"))

    op.drop_table("catalog_products")
    op.drop_table("shops")
