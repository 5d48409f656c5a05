"""The notifications service over real HTTP on a real Postgres schema, sending to a real SMTP
server (aiosmtpd on a free loopback port). Events arrive as the consumer hands them to the
handlers (``Rig.deliver``); ``Rig.send`` runs one step of the sender job."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.portfolio import CustomerActivatedV1, Party
from wattline_notifications.adapters.senders import SmsLog
from wattline_notifications.bootstrap import SPEC, email_sender, wire
from wattline_notifications.handlers import Notifications
from wattline_notifications.handlers.deliveries import deliver_due
from wattline_notifications.settings import NotificationsSettings
from wattline_platform.embedded import free_port
from wattline_platform.pii import PiiCipher
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app

CUSTOMER_ID = "5f0c8a4e-2b1d-4c3e-9a7f-0d6b1e2c3a4f"
PERSON = {
    "name": "Jens Hansen",
    "cpr_cvr": "0101901234",
    "contact_type": "private",
    "address": {"street": "Nørregade", "number": "7", "postcode": "8000", "city": "Aarhus C"},
    "email": "jens.hansen@example.dk",
    "phone": "+4512345678",
}


class Catcher:
    """Keeps every message; refuses the first *refuse* DATA commands with a 451."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Mailbox for jens.hansen@example.dk busy, try later"
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Catcher, int]]:
    catcher = Catcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield catcher, port
    finally:
        controller.stop()


@dataclass
class FixedClock:
    at: datetime = field(default_factory=lambda: datetime(2027, 1, 2, 9, 0, tzinfo=UTC))

    async def now(self) -> datetime:
        return self.at


@dataclass
class Rig:
    n: Notifications
    client: httpx.AsyncClient
    mail: Catcher
    clock: FixedClock
    cipher: PiiCipher

    async def deliver(self, event: Event, envelope: Envelope | None = None) -> Envelope:
        consumer = self.n.service.consumer
        assert consumer is not None
        _, handler = consumer.routes[(event.TYPE, event.VERSION)]
        envelope = envelope or Envelope.wrap(event, key="k", producer="test", correlation_id="test")
        async with self.n.service.database.transaction() as tx:
            await handler(tx, event, envelope)
        return envelope

    async def activated(self, person: dict[str, Any] | None = None) -> None:
        """The portfolio's activation of CUSTOMER_ID, with *person* sealed as its contact."""
        sealed = self.cipher.seal(json.dumps(person or PERSON, sort_keys=True))
        await self.deliver(
            CustomerActivatedV1(
                customer=Party(
                    party_id=CUSTOMER_ID,
                    contact_type="private",
                    cpr_cvr_masked="010190****",
                    sealed=sealed,
                ),
                signup_id=str(uuid.uuid4()),
                gsrn="571313180400000017",
                effective_date=datetime(2026, 12, 1).date(),
                contract_id=str(uuid.uuid4()),
                supply_period_id=str(uuid.uuid4()),
            )
        )

    async def send(self) -> int:
        return await deliver_due(self.n)

    async def later(self, seconds: float) -> None:
        self.clock.at += timedelta(seconds=seconds)

    async def deliveries(self, kind: str | None = None) -> list[dict[str, Any]]:
        response = await self.client.get("/api/notifications", params={"customer_id": CUSTOMER_ID})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return [i for i in items if kind is None or i["kind"] == kind]


@pytest.fixture
async def rig(
    make_schema_db: SchemaFactory, postgres_dsn: str, smtp: tuple[Catcher, int]
) -> AsyncIterator[Rig]:
    catcher, port = smtp
    cipher = PiiCipher(PiiCipher.new_key())
    settings = NotificationsSettings(
        database_url=postgres_dsn,
        jobs=False,
        smtp_url=f"smtp://127.0.0.1:{port}",
        retry_first_s=60,
        max_attempts=3,
    )
    n = wire(settings, cipher)
    service = n.service
    service.db = await make_schema_db(SPEC.migrations_dir)
    service.uses_broker = False
    n.sms = SmsLog(service.db, cipher)
    n.email = email_sender(settings)
    clock = FixedClock()
    service.clock = clock
    async with (
        serve_app(service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
    ):
        yield Rig(n, client, catcher, clock, cipher)
