"""Placeholder: replaced by the web work."""

from clipcart.core.routing import make_router

router = make_router(include_in_schema=False)
