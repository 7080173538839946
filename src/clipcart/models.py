"""Imports every domain's tables so metadata (Alembic, tests) sees them all."""


def load_all_models() -> None:
    """Register every table on `Base.metadata`."""
    import clipcart.accounts.models
    import clipcart.affiliate.models
    import clipcart.catalog.import_models
    import clipcart.catalog.models
    import clipcart.commerce.models
    import clipcart.commerce.promotion_models
    import clipcart.core.idempotency
    import clipcart.ledger.models
    import clipcart.media.models
    import clipcart.messaging.models
    import clipcart.notifications.models
    import clipcart.payments.models
    import clipcart.payments.sandbox.models
    import clipcart.recs.models
    import clipcart.shops.models
    import clipcart.social.models  # noqa: F401
