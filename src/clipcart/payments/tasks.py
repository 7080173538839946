"""Payments jobs: settle intents whose provider answer was lost."""

from __future__ import annotations

from huey import crontab

import clipcart.payments.sandbox.tasks  # noqa: F401  (registers the sandbox's delivery jobs)
from clipcart.core.jobs import huey, run_async
from clipcart.payments.webhooks import reconcile_processing_intents


async def reconcile() -> int:
    """Settle `processing` intents from the provider; how many were settled."""
    return await reconcile_processing_intents()


reconcile_processing_job = huey.periodic_task(
    crontab(minute="*"), name="payments.reconcile_processing"
)(run_async(reconcile))
