"""Sending one email over SMTP with the standard library (called off the event loop)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from clipcart.notifications.config import NotificationSettings


class EmailFailed(Exception):
    """The SMTP server could not be reached or refused the message."""


def build_message(
    *, settings: NotificationSettings, to: str, subject: str, text: str
) -> EmailMessage:
    """A plain-text email from the configured sender."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="clipcart.localhost")
    message.set_content(text)
    return message


def send_message(message: EmailMessage, *, settings: NotificationSettings) -> None:
    """Deliver `message` through the configured SMTP server (raises EmailFailed)."""
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise EmailFailed(f"{type(error).__name__}: {error}") from error
