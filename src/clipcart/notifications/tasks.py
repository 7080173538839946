"""Notification jobs: send an email for a notification, retried when the server fails."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from clipcart.core.jobs import huey, run_async
from clipcart.notifications.config import get_notification_settings
from clipcart.notifications.service import deliver_email

EMAIL_RETRIES = 3


@huey.task(
    name="notifications.send_email",
    retries=EMAIL_RETRIES,
    retry_delay=get_notification_settings().email_retry_delay_seconds,
    context=True,
)
def send_email_job(notification_id: str, task: Any = None) -> str:
    """Job: email one notification; raising makes Huey try again (3 times), the last failure
    is recorded as failed."""
    final_attempt = task is None or not getattr(task, "retries", 0)
    result: str = run_async(deliver_email)(uuid.UUID(notification_id), final_attempt=final_attempt)
    return result


async def enqueue_email(notification_id: uuid.UUID) -> None:
    """Queue the email; with immediate jobs (tests) send it now, off the event loop."""
    if huey.immediate:
        await asyncio.to_thread(send_email_job.call_local, str(notification_id))
    else:
        send_email_job(str(notification_id))
