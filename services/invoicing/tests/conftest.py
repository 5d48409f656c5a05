"""The invoicing service over real HTTP on a real Postgres schema. The portfolio's and
settlement's side arrive as their events (``Rig.deliver``), exactly as the consumer hands
them to the handlers; tests-e2e runs the same flow through the whole system."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from wattline_contracts.envelope import Envelope, Event
from wattline_contracts.portfolio import ContractChangedV1, CustomerActivatedV1, Party
from wattline_contracts.settlement import (
    SettlementCompletedV1,
    SettlementCorrectionV1,
    SettlementLineV1,
)
from wattline_invoicing.adapters.betalingsservice import PaymentResult, write_0602
from wattline_invoicing.bootstrap import SPEC, wire
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.settings import InvoicingSettings
from wattline_platform.pii import PiiCipher
from wattline_platform.testing import SchemaFactory, identity_auth, serve_app

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
GOLDEN = (
    Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "settlement" / "golden"
)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.value = now

    async def now(self) -> datetime:
        return self.value

    def set_today(self, day: date) -> None:
        self.value = datetime.combine(day, time(10), tzinfo=COPENHAGEN).astimezone(UTC)


def _golden(name: str) -> dict[str, Any]:
    expected: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text())["expected"]
    return expected


Golden = Callable[[str], dict[str, Any]]


@pytest.fixture
def golden() -> Golden:
    """A golden case's expected settlement result by name (``GM03``)."""
    return _golden


CIPHER = PiiCipher(PiiCipher.new_key())


def party(party_id: str, name: str = "Søren Ærø Østergård") -> Party:
    """A party sealed as the portfolio seals one (vault.seal_person)."""
    person = {
        "name": name,
        "cpr_cvr": "0101901234",
        "contact_type": "private",
        "address": {"street": "Åboulevarden", "house_number": "12", "floor": "3", "door": "tv",
                    "postal_code": "8000", "city": "Aarhus C"},
        "email": "soren@example.dk",
        "phone": None,
    }  # fmt: skip
    return Party(
        party_id=party_id,
        contact_type="private",
        cpr_cvr_masked="010190-****",
        sealed=CIPHER.seal(json.dumps(person, sort_keys=True)),
    )


def settlement_event(
    gsrn: str,
    customer_id: str,
    result: dict[str, Any],
    *,
    period: tuple[str, str] | None = None,
    settlement_id: str | None = None,
) -> SettlementCompletedV1:
    """A settlement.completed carrying a settlement result (a golden case's ``expected``)."""
    start, end = period or (result["period"]["start"], result["period"]["end"])
    return SettlementCompletedV1(
        settlement_id=settlement_id or str(uuid.uuid4()),
        run_id=str(uuid.uuid4()),
        gsrn=gsrn,
        customer_id=customer_id,
        supply_period_id=str(uuid.uuid4()),
        billing_period=start[:7],
        period_start=date.fromisoformat(start),
        period_end=date.fromisoformat(end),
        grid_area="344",
        price_area="DK1",
        resolution="PT1H",
        products=[],
        consumption_kwh=Decimal(result["consumption_kwh"]),
        lines=[SettlementLineV1(**line) for line in result["lines"]],
        subtotal=Decimal(result["subtotal"]),
        vat_rate=Decimal("0.25"),
        vat=Decimal(result["vat"]),
        total=Decimal(result["total"]),
    )


def negated(result: dict[str, Any]) -> dict[str, Any]:
    """A settlement result with every figure negated (GM06's credit notes -> the originals)."""

    def neg(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, int):
            return -value
        text = str(value)
        return text[1:] if text.startswith("-") else f"-{text}"

    return {
        **result,
        "consumption_kwh": neg(result["consumption_kwh"]),
        "lines": [
            {
                **ln,
                "quantity_kwh": neg(ln["quantity_kwh"]),
                "days": neg(ln["days"]),
                "amount": neg(ln["amount"]),
            }
            for ln in result["lines"]
        ],
        "subtotal": neg(result["subtotal"]),
        "vat": neg(result["vat"]),
        "total": neg(result["total"]),
    }


@dataclass
class Rig:
    inv: Invoicing
    client: httpx.AsyncClient
    clock: FixedClock

    async def deliver(self, event: Event) -> None:
        consumer = self.inv.service.consumer
        assert consumer is not None
        _, handler = consumer.routes[(event.TYPE, event.VERSION)]
        envelope = Envelope.wrap(event, key="k", producer="test", correlation_id="test")
        async with self.inv.service.database.transaction() as tx:
            await handler(tx, event, envelope)

    async def customer(
        self,
        gsrn: str,
        *,
        start: date,
        end: date | None = None,
        frequency: str = "quarterly",
        model: str = "arrears",
        payer: str | None = None,
    ) -> str:
        """A customer of ours on *gsrn* from *start*: activation and contract. Returns the
        customer id."""
        customer_id = str(uuid.uuid4())
        contract_id = str(uuid.uuid4())
        await self.deliver(
            CustomerActivatedV1(
                customer=party(customer_id),
                payer=None if payer is None else party(payer),
                signup_id=f"SGN-{gsrn[-5:]}",
                gsrn=gsrn,
                effective_date=start,
                contract_id=contract_id,
                supply_period_id=str(uuid.uuid4()),
            )
        )
        await self.deliver(
            ContractChangedV1(
                contract_id=contract_id,
                gsrn=gsrn,
                customer_id=customer_id,
                payer_id=payer,
                product_id="spot-basic",
                product_version=1,
                start_date=start,
                end_date=end,
                billing_frequency=frequency,  # type: ignore[arg-type]
                payment_model=model,  # type: ignore[arg-type]
            )
        )
        return customer_id

    async def settle(
        self,
        gsrn: str,
        customer_id: str,
        result: dict[str, Any],
        *,
        period: tuple[str, str] | None = None,
    ) -> str:
        """Settlement completed *result* for the customer; returns the settlement id."""
        event = settlement_event(gsrn, customer_id, result, period=period)
        await self.deliver(event)
        return event.settlement_id

    async def correct(
        self,
        settlement_id: str,
        gsrn: str,
        customer_id: str,
        delta: dict[str, Any],
        reason: str = "metering_data_corrected",
    ) -> str:
        """Settlement corrected *settlement_id* by *delta* (a correction result)."""
        event = SettlementCorrectionV1(
            correction_id=str(uuid.uuid4()),
            settlement_id=settlement_id,
            gsrn=gsrn,
            customer_id=customer_id,
            billing_period=delta["period"]["start"][:7],
            period_start=date.fromisoformat(delta["period"]["start"]),
            period_end=date.fromisoformat(delta["period"]["end"]),
            reason=reason,  # type: ignore[arg-type]
            consumption_kwh=Decimal(delta["consumption_kwh"]),
            lines=[SettlementLineV1(**line) for line in delta["lines"]],
            subtotal=Decimal(delta["subtotal"]),
            vat=Decimal(delta["vat"]),
            total=Decimal(delta["total"]),
        )
        await self.deliver(event)
        return event.correction_id

    negated = staticmethod(negated)

    async def events(self, topic: str) -> list[dict[str, Any]]:
        rows = await self.inv.service.database.fetch(
            "SELECT envelope FROM outbox WHERE topic = $1 ORDER BY id", topic
        )
        return [json.loads(r["envelope"])["payload"] for r in rows]


@pytest.fixture
async def rig(make_schema_db: SchemaFactory, postgres_dsn: str) -> AsyncIterator[Rig]:
    inv = wire(InvoicingSettings(database_url=postgres_dsn, jobs=False), CIPHER)
    service = inv.service
    service.db = await make_schema_db(SPEC.migrations_dir)
    service.uses_broker = False  # the outbox is what the tests read
    clock = FixedClock(datetime(2025, 1, 1, 9, tzinfo=UTC))
    service.clock = clock
    async with (
        serve_app(service.app()) as url,
        httpx.AsyncClient(base_url=url, auth=identity_auth()) as client,
    ):
        yield Rig(inv, client, clock)


class BsFiles:
    """Betalingsservice deliveries built field by field from the layout (payments.md §1), as
    Nets would send them to us: 128-character Latin-1 lines, CRLF."""

    PBS = "04567890"
    SUPPLIER = "12345678"
    GROUP = "00001"

    @staticmethod
    def rec(*fields: str) -> str:
        text = "".join(fields)
        assert len(text) <= 128, len(text)
        return text.ljust(128)

    def delivery(self, kind: str, sections: list[tuple[str, list[str]]], amount: int = 0) -> bytes:
        lines = [self.rec("BS002", self.SUPPLIER, "BS1", kind, "0000000417", " " * 19, "030225")]
        count = 0
        for section, records in sections:
            n = sum(r.startswith("BS042") for r in records)
            count += n
            lines += [
                self.rec("BS012", self.PBS, section, "   ", self.GROUP, " " * 24, "030225"),
                *records,
                self.rec("BS092", self.PBS, section, "000", self.GROUP, " " * 6, f"{n:011d}",
                         f"{amount:015d}", "0" * 11, " " * 15, "0" * 11),
            ]  # fmt: skip
        lines.append(
            self.rec("BS992", self.SUPPLIER, "BS1", kind, f"{len(sections):011d}", f"{count:011d}",
                     f"{amount:015d}", "0" * 11, "0" * 15, "0" * 11, "0" * 34)
        )  # fmt: skip
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")

    def results_0602(self, results: list[tuple[str, int, str, str, date]]) -> bytes:
        """(code, customer number, kroner, reference, due date) per result; 0236 (and the
        0239 that reverses one) paid in full on the due date, the others with nothing."""
        return write_0602(
            [
                PaymentResult(
                    transaction_code=code,  # type: ignore[arg-type]
                    creditor_pbs=self.PBS,
                    debtor_group=self.GROUP,
                    customer_number=f"{customer:015d}",
                    mandate_number="000123456",
                    due_date=due,
                    amount_requested=Decimal(kroner),
                    reference=reference,
                    paid_date=due if code in ("0236", "0239") else None,
                    booked_date=due if code in ("0236", "0239") else None,
                    amount_paid=Decimal(kroner) if code in ("0236", "0239") else Decimal(0),
                    line_number=0,
                )
                for code, customer, kroner, reference, due in results
            ],
            data_supplier=self.SUPPLIER,
            creditor_pbs=self.PBS,
            debtor_group=self.GROUP,
            delivery_id=417,
            created=date(2025, 2, 3),
        )

    def mandates_0603(self, customers: list[int], code: str = "0231") -> bytes:
        records = [
            self.rec("BS042", self.PBS, code, "000", self.GROUP, f"{c:015d}", f"{c:09d}",
                     "010225", "000000")
            for c in customers
        ]  # fmt: skip
        # 0230 (the full list of active ones) goes in section 0210, changes in 0212.
        return self.delivery("0603", [("0210" if code == "0230" else "0212", records)])


@pytest.fixture
def bs_files() -> BsFiles:
    return BsFiles()
