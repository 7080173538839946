"""The catalogue import job: the uploaded file, its progress and the report of rejected rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core.db import Base, IdMixin, TimestampMixin

IMPORT_STATUSES: tuple[str, ...] = ("queued", "running", "finished", "failed")
_STATUS_LIST = ", ".join(f"'{status}'" for status in IMPORT_STATUSES)


class ImportJob(IdMixin, TimestampMixin, Base):
    """One Shopify CSV import into one shop; the page polls it for progress."""

    __tablename__ = "catalog_import_jobs"

    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(10), default="queued")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    # [{"row": 7, "column": "Variant Price", "message": "The price cannot be negative."}]
    rejected_rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    # The upload waits here for the worker and is cleared once the job ends.
    csv_data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    zip_data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status_known"),
        CheckConstraint("processed_rows >= 0 AND total_rows >= 0", name="counts_not_negative"),
        Index("ix_catalog_import_jobs_shop_created", "shop_id", "created_at"),
    )
