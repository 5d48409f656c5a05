"""Sending one e-mail over SMTP: plain, STARTTLS or implicit TLS, with an optional login.

Shared by the services that mail customers (invoicing's bills, notifications' messages).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage


def deliver(
    message: EmailMessage,
    *,
    host: str,
    port: int,
    tls: str,
    username: str | None,
    password: str | None,
    timeout_s: float,
) -> None:
    """Hand *message* to the server at *host*:*port* (*tls*: ``tls``, ``starttls`` or none)."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if tls == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout_s, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout_s)
    with client:
        if tls == "starttls":
            client.starttls(context=context)
        if username:
            client.login(username, password or "")
        client.send_message(message)
