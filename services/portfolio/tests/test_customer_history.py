"""The customer history (issue 18 part 2) on real PostgreSQL: a signup, its activation and an
invoice in order, with who did each and its correlation id; an invoice event delivered twice is
one entry; no CPR, name or e-mail in the history; keyset pages."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import asyncpg
import pytest
from wattline_contracts.envelope import Envelope
from wattline_contracts.invoicing import InvoiceIssuedV1, PassThroughV1, PaymentReceivedV1
from wattline_platform.logging import correlation_id_var

if TYPE_CHECKING:
    from conftest import Rig


def _invoice(account_id: str) -> InvoiceIssuedV1:
    return InvoiceIssuedV1(
        invoice_id=str(uuid.uuid4()),
        number="2025-00017",
        account_id=account_id,
        account_number=100017,
        cycle="2025-Q2",
        period_start=date(2025, 3, 24),
        period_end=date(2025, 7, 1),
        issue_date=date(2025, 7, 3),
        due_date=date(2025, 7, 17),
        fi_payment_id=None,
        lines=[],
        subtotal=Decimal("1000.00"),
        vat=Decimal("250.00"),
        total=Decimal("1250.00"),
        aconto_paid=Decimal("0.00"),
        difference=Decimal("1250.00"),
        next_prepayment=Decimal("0.00"),
        net_amount_due=Decimal("1250.00"),
        pass_through=PassThroughV1(
            supplier=Decimal("300.00"),
            grid=Decimal("400.00"),
            energinet=Decimal("50.00"),
            elafgift=Decimal("250.00"),
        ),
        billed=[],
    )


async def _deliver(
    rig: Rig, event: InvoiceIssuedV1 | PaymentReceivedV1, envelope: Envelope
) -> None:
    assert rig.service.consumer is not None
    _, handler = rig.service.consumer.routes[(event.TYPE, event.VERSION)]
    async with rig.service.database.transaction() as tx:
        await handler(tx, event, envelope)


async def test_history_lists_signup_activation_and_invoice_in_order(rig: Rig) -> None:
    point = rig.single(0)
    signed = await rig.client.post(
        "/api/signup",
        json=rig.signup_body(point),
        headers={"X-Correlation-ID": "signup-from-the-website-1"},
    )
    assert signed.status_code == 201, signed.text
    signup_id = signed.json()["signup_id"]
    process = await rig.process_of(signup_id)
    await rig.raise_and_send()
    await rig.answer(process["request_id"], point.gsrn)
    # The platform's consumer runs a handler under its event's correlation id (consumer.py).
    token = correlation_id_var.set("rsm-022-message-1")
    try:
        await rig.master_data(point, process["effective_date"])
    finally:
        correlation_id_var.reset(token)
    assert await rig.status(signup_id) == "active"
    customer_id = str(
        await rig.service.database.fetchval(
            "SELECT customer_id FROM signup WHERE signup_id = $1", signup_id
        )
    )

    invoice = _invoice(customer_id)
    envelope = Envelope.wrap(
        invoice, key=customer_id, producer="invoicing", correlation_id="run-q2"
    )
    await _deliver(rig, invoice, envelope)
    await _deliver(rig, invoice, envelope)  # redelivered: still one entry
    payment = PaymentReceivedV1(
        payment_id=str(uuid.uuid4()),
        source="bank",
        received_on=date(2025, 7, 15),
        amount=Decimal("1250.00"),
        reference="2025-00017",
        account_id=customer_id,
        account_number=100017,
        rule="invoice_number",
        allocations=[{"invoice_id": invoice.invoice_id, "number": "2025-00017",
                      "amount": Decimal("1250.00")}],
        unallocated=Decimal("0.00"),
    )  # fmt: skip
    await _deliver(
        rig,
        payment,
        Envelope.wrap(payment, key=customer_id, producer="invoicing", correlation_id="bank-1"),
    )

    response = await rig.client.get(f"/api/customers/{customer_id}/history")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["kind"], i["performed_by"], i["correlation_id"]) for i in items] == [
        ("signup_registered", "test", "signup-from-the-website-1"),
        ("supply_activated", "system", "rsm-022-message-1"),
        ("invoice_issued", "system", "run-q2"),
        ("payment_received", "system", "bank-1"),
    ]
    assert items[0]["reference"] == signup_id
    assert items[0]["description_en"] == (
        f"Signup {signup_id} (change of supplier) of {point.gsrn} from 2025-03-24, price version 1"
    )
    assert (
        items[2]["description_da"]
        == "Faktura 2025-00017 udstedt: 1.250,00 kr, forfalder 2025-07-17"
    )
    assert items[3]["description_en"] == (
        "Payment of 2025-00017 received 2025-07-15: 1.250,00 kr (bank)"
    )
    text = response.text
    for personal in (rig.cpr_of(point), "Anders", "Jensen", "anders@example.dk", "Nørrebrogade"):
        assert personal not in text

    # Keyset pages: two, then the rest.
    first = (await rig.client.get(f"/api/customers/{customer_id}/history?limit=2")).json()
    assert [i["kind"] for i in first["items"]] == ["signup_registered", "supply_activated"]
    rest = await rig.client.get(
        f"/api/customers/{customer_id}/history", params={"after": first["next_cursor"]}
    )
    assert [i["kind"] for i in rest.json()["items"]] == ["invoice_issued", "payment_received"]
    assert rest.json()["next_cursor"] is None

    # The history is append-only.
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await rig.service.database.execute("DELETE FROM customer_history")


async def test_history_of_no_customer_and_a_bad_cursor(rig: Rig) -> None:
    unknown = await rig.client.get(f"/api/customers/{uuid.uuid4()}/history")
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("customer-not-found")
    point = rig.single(0)
    await rig.client.post("/api/signup", json=rig.signup_body(point))
    customer_id = await rig.service.database.fetchval("SELECT party_id FROM party LIMIT 1")
    bad = await rig.client.get(f"/api/customers/{customer_id}/history", params={"after": "x1"})
    assert bad.status_code == 400 and bad.json()["type"].endswith("invalid-cursor")


async def test_a_rejected_and_a_cancelled_signup_are_in_the_history(rig: Rig) -> None:
    point = rig.single(0)
    signed = await rig.client.post("/api/signup", json=rig.signup_body(point))
    assert signed.status_code == 201, signed.text
    rejected_id = signed.json()["signup_id"]
    process = await rig.process_of(rejected_id)
    await rig.raise_and_send()
    await rig.answer(
        process["request_id"],
        point.gsrn,
        accepted=False,
        reasons=("D17: CPR/CVR does not match the customer of the metering point",),
    )
    # The same customer signs up elsewhere and cancels before it is sent.
    other = await rig.client.post(
        "/api/signup", json=rig.signup_body(rig.single(1), cpr_cvr=rig.cpr_of(point))
    )
    assert other.status_code == 201, other.text
    cancelled_id = other.json()["signup_id"]
    cancelled = await rig.client.post(f"/api/signup/{cancelled_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text

    customer_id = await rig.service.database.fetchval(
        "SELECT customer_id FROM signup WHERE signup_id = $1", rejected_id
    )
    items = (await rig.client.get(f"/api/customers/{customer_id}/history")).json()["items"]
    assert [(i["kind"], i["reference"], i["performed_by"]) for i in items] == [
        ("signup_registered", rejected_id, "test"),
        ("signup_rejected", rejected_id, "system"),
        ("signup_registered", cancelled_id, "test"),
        ("signup_cancelled", cancelled_id, "test"),
    ]
    assert items[1]["description_en"] == (
        f"Signup {rejected_id} rejected by DataHub: "
        "D17: CPR/CVR does not match the customer of the metering point"
    )
