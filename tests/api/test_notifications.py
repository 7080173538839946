"""In-app notifications through the API, and emails received by an in-process SMTP server.

The `smtp_server` fixture is shared by the commerce lifecycle tests."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.notifications import service
from clipcart.notifications.config import get_notification_settings
from clipcart.notifications.email import EmailFailed
from clipcart.notifications.models import Notification
from clipcart.notifications.tasks import send_email_job
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_social_likes import PersonMaker, person

__all__ = ["person"]  # fixtures used here


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received."""

    port: int
    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    def to(self, address: str) -> list[Message]:
        """The messages delivered to `address`."""
        return [message for rcpts, message in self.messages if address in rcpts]


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.messages.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.original_content))
        )
        return "250 Message accepted for delivery"


def configure_smtp(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    """Point ClipCart's email settings at 127.0.0.1:`port`."""
    monkeypatch.setenv("CLIPCART_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CLIPCART_SMTP_PORT", str(port))
    monkeypatch.setenv("CLIPCART_SMTP_TIMEOUT_SECONDS", "5")
    get_notification_settings.cache_clear()


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """An aiosmtpd server on a free loopback port, with ClipCart configured to use it."""
    inbox = Inbox(port=free_port())
    controller = Controller(_Handler(inbox), hostname="127.0.0.1", port=inbox.port)
    controller.start()
    configure_smtp(monkeypatch, inbox.port)
    try:
        yield inbox
    finally:
        controller.stop()
        get_notification_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_notification_settings.cache_clear()
    yield
    get_notification_settings.cache_clear()


async def _notify(user_id: uuid.UUID, title: str, *, email: bool = False) -> uuid.UUID:
    async with unit_of_work() as session:
        notification = await service.notify(
            user_id,
            kind="order_shipped",
            title=title,
            body="Carrier UPS, tracking 1Z999AA10123456784.",
            link="/orders/abc",
            email=email,
            session=session,
        )
        return notification.id


async def _stored(notification_id: uuid.UUID) -> Notification:
    async with get_sessionmaker()() as session:
        row = await session.scalar(select(Notification).where(Notification.id == notification_id))
        assert row is not None
        return row


async def test_list_count_and_mark_read(person: PersonMaker) -> None:
    jane = await person("jane")
    ids = [await _notify(jane.id, f"Update {n}") for n in range(3)]
    listed = await jane.client.get(f"{API}/notifications")
    assert listed.status_code == 200
    body = listed.json()
    assert [item["title"] for item in body["items"]] == ["Update 2", "Update 1", "Update 0"]
    assert body["unread"] == 3 and not any(item["read"] for item in body["items"])
    assert body["items"][0]["email_status"] == "none"

    read = await jane.client.post(f"{API}/notifications/{ids[0]}/read")
    assert read.status_code == 200 and read.json()["read"] is True
    again = await jane.client.post(f"{API}/notifications/{ids[0]}/read")
    assert again.json()["read_at"] == read.json()["read_at"]
    count = await jane.client.get(f"{API}/notifications/unread-count")
    assert count.json() == {"unread": 2}
    unread = await jane.client.get(f"{API}/notifications", params={"unread": "true"})
    assert {item["id"] for item in unread.json()["items"]} == {str(ids[1]), str(ids[2])}

    everything = await jane.client.post(f"{API}/notifications/read-all")
    assert everything.json() == {"marked": 2, "unread": 0}
    assert (await jane.client.get(f"{API}/notifications/unread-count")).json() == {"unread": 0}


async def test_pages_follow_the_cursor(person: PersonMaker) -> None:
    jane = await person("jane")
    for n in range(5):
        await _notify(jane.id, f"Update {n}")
    first = (await jane.client.get(f"{API}/notifications", params={"limit": 3})).json()
    second = (
        await jane.client.get(
            f"{API}/notifications", params={"limit": 3, "cursor": first["next_cursor"]}
        )
    ).json()
    titles = [item["title"] for item in first["items"] + second["items"]]
    assert titles == [f"Update {n}" for n in range(4, -1, -1)]
    assert second["next_cursor"] is None


async def test_someone_elses_notification_is_not_found(person: PersonMaker) -> None:
    jane, john = await person("jane"), await person("john")
    notification_id = await _notify(jane.id, "Yours")
    assert_problem(
        await john.client.post(f"{API}/notifications/{notification_id}/read"),
        404,
        "notification_not_found",
    )
    assert (await john.client.get(f"{API}/notifications")).json()["items"] == []
    assert (await _stored(notification_id)).read_at is None


async def test_notifications_need_a_login(client: Any) -> None:
    assert_problem(await client.get(f"{API}/notifications"), 401, "not_authenticated")


async def test_without_smtp_no_email_is_queued(person: PersonMaker) -> None:
    jane = await person("jane")
    notification_id = await _notify(jane.id, "Shipped", email=True)
    assert (await _stored(notification_id)).email_status == "none"


async def test_email_is_sent_after_commit_to_the_smtp_server(
    person: PersonMaker, smtp_server: Inbox
) -> None:
    jane = await person("jane")
    notification_id = await _notify(jane.id, "Your order is on its way", email=True)
    [message] = smtp_server.to("jane@example.com")
    assert message["Subject"] == "Your order is on its way"
    assert message["From"] == "ClipCart <orders@clipcart.localhost>"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)  # a single-part message
    text = payload.decode()
    assert "1Z999AA10123456784" in text and "/orders/abc" in text
    assert (await _stored(notification_id)).email_status == "sent"
    # A duplicate job (a retry after a lost acknowledgement) sends nothing more.
    assert await service.deliver_email(notification_id) == "sent"
    assert len(smtp_server.to("jane@example.com")) == 1


async def test_a_rolled_back_notification_sends_nothing(
    person: PersonMaker, smtp_server: Inbox
) -> None:
    jane = await person("jane")
    with pytest.raises(RuntimeError):
        async with unit_of_work() as session:
            await service.notify(jane.id, kind="x", title="Never", email=True, session=session)
            raise RuntimeError("the request failed")
    assert smtp_server.messages == []


async def test_an_unreachable_server_is_retried_then_marked_failed(
    person: PersonMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    jane = await person("jane")
    configure_smtp(monkeypatch, free_port())
    notification_id = await _notify(jane.id, "Refund made", email=True)
    # The immediate job ran once as the last attempt: nobody listens, so it failed.
    assert (await _stored(notification_id)).email_status == "failed"

    async with unit_of_work() as session:
        row = await session.get(Notification, notification_id)
        assert row is not None
        row.email_status = "queued"
    with pytest.raises(EmailFailed):
        await service.deliver_email(notification_id, final_attempt=False)
    assert (await _stored(notification_id)).email_status == "queued"  # the job will retry
    assert await service.deliver_email(notification_id, final_attempt=True) == "failed"


async def test_the_email_job_raises_for_a_retry_and_records_the_last_failure(
    person: PersonMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    jane = await person("jane")
    configure_smtp(monkeypatch, free_port())  # nobody listens there
    async with unit_of_work() as session:
        row = Notification(user_id=jane.id, kind="x", title="Refund", email_status="queued")
        session.add(row)
        await session.flush()
        notification_id = row.id
    retries_left = SimpleNamespace(retries=2)  # what Huey passes a task with retries to go
    with pytest.raises(EmailFailed):
        await asyncio.to_thread(send_email_job.call_local, str(notification_id), task=retries_left)
    assert (await _stored(notification_id)).email_status == "queued"
    last = SimpleNamespace(retries=0)
    outcome = await asyncio.to_thread(send_email_job.call_local, str(notification_id), task=last)
    assert outcome == "failed"
    assert (await _stored(notification_id)).email_status == "failed"
