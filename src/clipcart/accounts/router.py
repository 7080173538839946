"""Placeholder: replaced by the accounts work."""

from clipcart.core.routing import make_router

router = make_router(prefix="/api/v1", tags=["accounts"])
