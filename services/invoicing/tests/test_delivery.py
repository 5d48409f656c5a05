"""Given an issued invoice, then it is e-mailed to its payer through a real SMTP server (an
aiosmtpd server started here): the payer's address opened from the sealed party, the
invoice number in the subject, the kept PDF attached; retried with backoff while the server
is down or refuses, sent once however many replicas try at once, and recorded without an
address for a payer who has none."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from structlog.testing import capture_logs
from wattline_contracts.portfolio import Party
from wattline_invoicing import delivery_api
from wattline_invoicing.adapters import accounts
from wattline_invoicing.adapters.parties import Parties
from wattline_invoicing.bootstrap import email_channel
from wattline_invoicing.domain.delivery import MAX_ATTEMPTS, retry_after
from wattline_invoicing.handlers import delivery
from wattline_invoicing.jobs import billing
from wattline_invoicing.settings import InvoicingSettings
from wattline_platform.pii import PiiCipher
from wattline_platform.problem import EXCEPTION_HANDLERS
from wattline_platform.testing import free_port, identity_auth, serve_app

GSRN = "571313180400000028"
PAYER_ADDRESS = "soren@example.dk"


@dataclass
class Inbox:
    """An aiosmtpd handler: keeps what it accepts; answers RCPT with *refusal* when set."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refusal: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refusal:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class MailServer:
    """An SMTP server on a port of its own, stopped and started again by the test."""

    inbox: Inbox
    port: int
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(Inbox(), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class MailingRig:
    """The invoicing rig with its bills e-mailed through the test's mail server, as bootstrap
    wires it, and the delivery API served on its own (``api`` mounts it in the service)."""

    rig: Any
    deliveries: httpx.AsyncClient

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rig, name)


@pytest.fixture
async def mailing_rig(rig: Any, mail_server: MailServer) -> AsyncIterator[MailingRig]:
    rig.inv.email = email_channel(
        InvoicingSettings(
            smtp_url=mail_server.url, smtp_from="Wattline Energi A/S <faktura@wattline.example>"
        )
    )
    app = Litestar(
        route_handlers=delivery_api.routes(rig.inv),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(title="deliveries", version="0", path="/schema"),
    )
    async with (
        serve_app(app) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
    ):
        yield MailingRig(rig, client)


async def _issue_one(rig: Any, golden: Any) -> str:
    customer = await rig.customer(GSRN, start=date(2025, 1, 1), frequency="monthly")
    await rig.settle(GSRN, customer, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 1
    [doc] = (await rig.client.get("/api/invoices")).json()["items"]
    return str(doc["invoice_id"])


def _now() -> datetime:
    # Delivery runs on the wall clock (the database's now() schedules a new document).
    return datetime.now(UTC) + timedelta(seconds=1)


async def _email_delivery(rig: Any, invoice_id: str) -> dict[str, Any]:
    row = await rig.inv.service.database.fetchrow(
        "SELECT * FROM delivery WHERE invoice_id = $1 AND channel = 'email'",
        uuid.UUID(invoice_id),
    )
    assert row is not None
    return dict(row)


async def test_an_issued_invoice_is_emailed_to_its_payer_with_its_pdf(
    mailing_rig: MailingRig, mail_server: MailServer, golden: Any
) -> None:
    rig = mailing_rig
    invoice_id = await _issue_one(rig, golden)
    # Issued with its delivery, in the same transaction.
    listed = (await rig.deliveries.get(f"/api/invoices/{invoice_id}/deliveries")).json()
    assert listed["number"] == "2025-00001"
    [pending] = listed["deliveries"]
    assert pending["channel"] == "email" and pending["status"] == "pending"

    now = _now()
    assert await delivery.deliver_due(rig.inv, now) == 1

    [(recipients, message)] = mail_server.inbox.messages
    assert recipients == [PAYER_ADDRESS]
    assert message["To"].addresses[0].addr_spec == PAYER_ADDRESS
    assert message["To"].addresses[0].display_name == "Søren Ærø Østergård"
    assert message["From"].addresses[0].addr_spec == "faktura@wattline.example"
    assert message["From"].addresses[0].display_name == "Wattline Energi A/S"
    assert message["Subject"] == "Faktura 2025-00001 fra Wattline Energi A/S"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith("Kære Søren Ærø Østergård")
    assert "Beløb til betaling: 779,19 kr." in text and "Betalingsmåde:" in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "faktura-2025-00001.pdf"
    pdf = await rig.client.get(f"/api/invoices/{invoice_id}.pdf")
    assert attachment.get_content() == pdf.content  # the kept bill, byte for byte

    [sent] = (await rig.deliveries.get(f"/api/invoices/{invoice_id}/deliveries")).json()[
        "deliveries"
    ]
    assert sent["status"] == "sent" and sent["attempts"] == 0 and sent["next_attempt_at"] is None
    assert sent["message_id"] == message["Message-ID"]
    assert await delivery.deliver_due(rig.inv, now + timedelta(days=1)) == 0  # sent once

    schema = (await rig.deliveries.get("/schema/openapi.json")).json()["components"]["schemas"]
    assert {"DeliveriesOut", "DeliveryOut"} <= set(schema)


async def test_a_refusing_server_is_retried_with_backoff_until_it_takes_the_bill(
    mailing_rig: MailingRig, mail_server: MailServer, golden: Any
) -> None:
    rig = mailing_rig
    invoice_id = await _issue_one(rig, golden)
    now = _now()

    mail_server.stop()  # down: connection refused
    assert await delivery.deliver_due(rig.inv, now) == 1
    down = await _email_delivery(rig, invoice_id)
    assert down["status"] == "pending" and down["attempts"] == 1
    assert down["next_attempt_at"] == now + timedelta(minutes=1)
    assert down["last_error"].startswith("ConnectionRefusedError")

    mail_server.start()
    mail_server.inbox.refusal = "451 4.3.0 Try again later"  # up, but not taking mail yet
    assert await delivery.deliver_due(rig.inv, now + timedelta(seconds=59)) == 0  # not yet
    later = now + timedelta(minutes=1)
    assert await delivery.deliver_due(rig.inv, later) == 1
    refused = await _email_delivery(rig, invoice_id)
    assert refused["attempts"] == 2 and refused["next_attempt_at"] == later + timedelta(minutes=5)
    assert refused["last_error"] == "recipient refused: 451 4.3.0 Try again later"

    mail_server.inbox.refusal = None
    assert await delivery.deliver_due(rig.inv, later + timedelta(minutes=5)) == 1
    [(recipients, message)] = mail_server.inbox.messages
    assert recipients == [PAYER_ADDRESS] and "2025-00001" in message["Subject"]
    sent = await _email_delivery(rig, invoice_id)
    assert sent["status"] == "sent" and sent["last_error"] is None
    assert sent["sent_at"] == later + timedelta(minutes=5)


async def test_after_the_last_retry_it_has_failed_and_a_resend_sends_it(
    mailing_rig: MailingRig, mail_server: MailServer, golden: Any
) -> None:
    rig = mailing_rig
    invoice_id = await _issue_one(rig, golden)
    mail_server.stop()
    now = _now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await delivery.deliver_due(rig.inv, now) == 1, attempt
        wait = retry_after(attempt)
        now += wait or timedelta(0)
    failed = await _email_delivery(rig, invoice_id)
    assert failed["status"] == "failed" and failed["attempts"] == MAX_ATTEMPTS
    assert await delivery.deliver_due(rig.inv, now + timedelta(days=30)) == 0
    [shown] = (await rig.deliveries.get(f"/api/invoices/{invoice_id}/deliveries")).json()[
        "deliveries"
    ]
    assert shown["status"] == "failed" and shown["last_error"].startswith("ConnectionRefused")

    mail_server.start()
    answer = await rig.deliveries.post(f"/api/invoices/{invoice_id}/deliveries/email/resend")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending" and answer.json()["attempts"] == 0
    assert await delivery.deliver_due(rig.inv, _now()) == 1
    assert len(mail_server.inbox.messages) == 1
    assert (await _email_delivery(rig, invoice_id))["status"] == "sent"

    missing = "00000000-0000-0000-0000-000000000000"
    for response in (
        await rig.deliveries.get(f"/api/invoices/{missing}/deliveries"),
        await rig.deliveries.post(f"/api/invoices/{missing}/deliveries/email/resend"),
        await rig.deliveries.get("/api/invoices/not-a-uuid/deliveries"),
    ):
        assert response.status_code == 404
        assert response.json()["type"].endswith("/invoice-not-found")


async def test_an_unknown_mailbox_fails_at_once_and_the_error_names_nobody(
    mailing_rig: MailingRig, mail_server: MailServer, golden: Any
) -> None:
    rig = mailing_rig
    invoice_id = await _issue_one(rig, golden)
    mail_server.inbox.refusal = (
        f"550 5.1.1 <{PAYER_ADDRESS}>: Recipient address rejected: Søren is unknown here"
    )
    with capture_logs() as logs:
        assert await delivery.deliver_due(rig.inv, _now()) == 1
    assert [e["event"] for e in logs] == ["bill_delivery_failed"]
    assert PAYER_ADDRESS not in repr(logs) and "Søren" not in repr(logs)
    failed = await _email_delivery(rig, invoice_id)
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["last_error"] == (
        "recipient refused: 550 5.1.1 <<address>>: Recipient address rejected: <name> is "
        "unknown here"
    )


async def test_a_payer_without_an_email_address_is_recorded_and_not_retried(
    mailing_rig: MailingRig, mail_server: MailServer, golden: Any
) -> None:
    rig = mailing_rig
    cipher = PiiCipher(PiiCipher.new_key())
    rig.inv.parties = Parties(cipher)
    customer = await rig.customer(GSRN, start=date(2025, 1, 1), frequency="monthly")
    person = {
        "name": "Ida Holm",
        "cpr_cvr": "0202801234",
        "contact_type": "private",
        "address": {"street": "Vestergade", "house_number": "3", "postal_code": "5000",
                    "city": "Odense C"},
        "email": None,
        "phone": None,
    }  # fmt: skip
    paper = Party(
        party_id=customer,
        contact_type="private",
        cpr_cvr_masked="020280-****",
        sealed=cipher.seal(json.dumps(person)),
    )
    async with rig.inv.service.database.transaction() as tx:
        await accounts.upsert_account(tx, paper)  # the portfolio's newest word on the payer
    await rig.settle(GSRN, customer, golden("GM01"))
    rig.clock.set_today(date(2025, 2, 7))
    assert await billing.run_once(rig.inv) == 1
    [doc] = (await rig.client.get("/api/invoices")).json()["items"]

    now = _now()
    assert await delivery.deliver_due(rig.inv, now) == 1
    assert mail_server.inbox.messages == []
    [shown] = (await rig.deliveries.get(f"/api/invoices/{doc['invoice_id']}/deliveries")).json()[
        "deliveries"
    ]
    assert shown["status"] == "no_address" and shown["attempts"] == 0
    assert shown["last_error"] is None and shown["next_attempt_at"] is None
    assert await delivery.deliver_due(rig.inv, now + timedelta(days=2)) == 0


async def test_two_replicas_at_once_send_the_bill_once(
    mailing_rig: MailingRig, mail_server: MailServer, golden: Any
) -> None:
    rig = mailing_rig
    await _issue_one(rig, golden)
    now = _now()
    settled = await asyncio.gather(*(delivery.deliver_due(rig.inv, now) for _ in range(4)))
    assert sorted(settled) == [0, 0, 0, 1]
    assert len(mail_server.inbox.messages) == 1
    # ... and later rounds find nothing to send again.
    assert await delivery.deliver_due(rig.inv, now + timedelta(hours=1)) == 0
    assert len(mail_server.inbox.messages) == 1


async def test_without_a_mail_server_deliveries_wait_pending(rig: Any, golden: Any) -> None:
    assert rig.inv.email is None  # smtp_url unset
    invoice_id = await _issue_one(rig, golden)
    assert await delivery.deliver_due(rig.inv, _now()) == 0
    assert (await _email_delivery(rig, invoice_id))["status"] == "pending"


def test_the_backoff_grows_then_gives_up() -> None:
    waits = [retry_after(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
        None,
    ]
    with pytest.raises(ValueError):
        retry_after(0)


def test_settings_refuse_a_password_in_clear_and_a_bad_subject() -> None:
    with pytest.raises(ValueError, match="unencrypted"):
        InvoicingSettings(smtp_url="smtp://mail.example.dk:587", smtp_username="wattline")
    InvoicingSettings(
        smtp_url="smtp://mail.example.dk:587", smtp_username="wattline", smtp_starttls=True
    )
    InvoicingSettings(smtp_url="smtp://127.0.0.1:8107", smtp_username="local")  # this machine
    with pytest.raises(ValueError, match="smtp"):
        InvoicingSettings(smtp_url="http://mail.example.dk")
    with pytest.raises(ValueError, match="filled in"):
        InvoicingSettings(email_subject="Faktura {invoice_number}")
    channel = email_channel(InvoicingSettings(smtp_url="smtps://mail.example.dk"))
    assert channel is not None
    assert (channel.host, channel.port, channel.tls) == ("mail.example.dk", 465, "tls")
    assert channel.sender_name == "Wattline Energi A/S"  # the supplier's, when smtp_from has none


class _BrokenChannel:
    """A channel with a bug of ours (not a mail server's refusal), quoting the bill."""

    async def send(self, bill: Any) -> str:
        raise RuntimeError(f"cannot send to {bill.recipient_address} ({bill.recipient_name})")


async def test_a_bug_of_ours_is_retried_and_logged_without_the_payer(rig: Any, golden: Any) -> None:
    rig.inv.email = _BrokenChannel()
    invoice_id = await _issue_one(rig, golden)
    now = _now()
    with capture_logs() as logs:
        assert await delivery.deliver_due(rig.inv, now) == 1
    assert [e["event"] for e in logs] == ["bill_delivery_error", "bill_delivery_failed"]
    assert PAYER_ADDRESS not in repr(logs) and "Søren" not in repr(logs)
    row = await _email_delivery(rig, invoice_id)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"] == "internal error: RuntimeError"
    assert row["next_attempt_at"] == now + timedelta(minutes=1)
