"""Send mail through the SMTP server named by ``SIPAS_SMTP_URL`` (plain, STARTTLS or implicit TLS)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

TIMEOUT_SECONDS = 30


class MailError(RuntimeError):
    """The SMTP server could not be reached or refused the message (the message says which, never a password)."""


def send_messages(url: str, messages: Sequence[EmailMessage]) -> None:
    """Deliver ``messages`` over one SMTP connection."""
    if not messages:
        return
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 587 if parts.scheme == "smtp+starttls" else 25)
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
            if secure
            else smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
        )
        with client:
            if parts.scheme == "smtp+starttls":
                client.starttls(context=context)
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            for message in messages:
                client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {host}:{port}: {type(exc).__name__}") from None
