"""Order emails over TLS: implicit TLS (SMTPS) and STARTTLS against an in-process aiosmtpd server
with a certificate from a test CA, checked by the client (an untrusted certificate is refused)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from clipcart.notifications.config import NotificationSettings
from clipcart.notifications.email import EmailFailed, build_message, send_message
from tests.api.test_notifications import Inbox, _Handler, free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate file, key file) of a self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ClipCart test mail server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def _serve(inbox: Inbox, **options: Any) -> Iterator[Inbox]:
    controller = Controller(_Handler(inbox), hostname="127.0.0.1", port=inbox.port, **options)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtps_server(certificate: tuple[Path, Path]) -> Iterator[Inbox]:
    """A server that speaks TLS from the first byte."""
    yield from _serve(Inbox(port=free_port()), ssl_context=_server_context(certificate))


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[Inbox]:
    """A server that refuses mail until the client upgrades with STARTTLS."""
    yield from _serve(
        Inbox(port=free_port()),
        tls_context=_server_context(certificate),
        require_starttls=True,
    )


def _settings(port: int, **options: Any) -> NotificationSettings:
    return NotificationSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5, **options
    )


def _send(settings: NotificationSettings) -> None:
    message = build_message(settings=settings, to="jane@example.com", subject="Shipped", text="Hi")
    send_message(message, settings=settings)


def test_implicit_tls_delivers_to_a_server_whose_certificate_is_trusted(
    smtps_server: Inbox, certificate: tuple[Path, Path]
) -> None:
    _send(_settings(smtps_server.port, smtp_implicit_tls=True, smtp_ca_file=certificate[0]))
    [message] = smtps_server.to("jane@example.com")
    assert message["Subject"] == "Shipped"


def test_implicit_tls_refuses_a_certificate_it_does_not_trust(smtps_server: Inbox) -> None:
    with pytest.raises(EmailFailed, match="CERTIFICATE_VERIFY_FAILED"):
        _send(_settings(smtps_server.port, smtp_implicit_tls=True))
    assert smtps_server.messages == []


def test_starttls_upgrades_before_sending(
    starttls_server: Inbox, certificate: tuple[Path, Path]
) -> None:
    # Without the upgrade the server refuses the mail...
    with pytest.raises(EmailFailed):
        _send(_settings(starttls_server.port))
    # ...with it, and the test CA trusted, it is delivered.
    _send(_settings(starttls_server.port, smtp_starttls=True, smtp_ca_file=certificate[0]))
    assert len(starttls_server.to("jane@example.com")) == 1


def test_both_kinds_of_tls_at_once_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="not both"):
        _settings(465, smtp_starttls=True, smtp_implicit_tls=True)
