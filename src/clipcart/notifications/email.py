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


def _tls_context(settings: NotificationSettings) -> ssl.SSLContext:
    """Certificates and host names checked, against the system's CAs or the configured ones."""
    return ssl.create_default_context(
        cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    )


def _connect(settings: NotificationSettings) -> smtplib.SMTP:
    if settings.smtp_implicit_tls:
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=settings.smtp_timeout_seconds,
            context=_tls_context(settings),
        )
    return smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    )


def send_message(message: EmailMessage, *, settings: NotificationSettings) -> None:
    """Deliver `message` through the configured SMTP server (raises EmailFailed)."""
    try:
        with _connect(settings) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=_tls_context(settings))
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise EmailFailed(f"{type(error).__name__}: {error}") from error
