"""Given a customer activated by the portfolio, when invoicing's and the portfolio's events
arrive, then the mail catcher receives the Danish messages the customer chose, once each."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from wattline_contracts.invoicing import InvoiceIssuedV1, PassThroughV1, PaymentOverdueV1
from wattline_contracts.portfolio import CustomerOffboardedV1

# The customer and its contact details conftest.py's rig activates.
CUSTOMER_ID = "5f0c8a4e-2b1d-4c3e-9a7f-0d6b1e2c3a4f"
PHONE = "+4512345678"


def invoice(number: str = "2026-00042", due: date = date(2027, 1, 15)) -> InvoiceIssuedV1:
    return InvoiceIssuedV1(
        invoice_id=str(uuid.uuid4()),
        number=number,
        account_id=CUSTOMER_ID,
        account_number=100042,
        cycle="2026-12",
        period_start=date(2026, 12, 1),
        period_end=date(2027, 1, 1),
        issue_date=date(2027, 1, 2),
        due_date=due,
        fi_payment_id=None,
        lines=[],
        subtotal=Decimal("987.65"),
        vat=Decimal("246.91"),
        total=Decimal("1234.56"),
        aconto_paid=Decimal("0"),
        difference=Decimal("1234.56"),
        next_prepayment=Decimal("0"),
        net_amount_due=Decimal("1234.56"),
        pass_through=PassThroughV1(
            supplier=Decimal("400"),
            grid=Decimal("300"),
            energinet=Decimal("87.65"),
            elafgift=Decimal("200"),
        ),
        billed=[],
    )


async def test_an_issued_invoice_reaches_the_mail_catcher_in_danish(rig: Any) -> None:
    await rig.activated()
    await rig.deliver(invoice())
    assert await rig.send() == 2  # the activation's message and the invoice's

    mails = {m["Subject"]: m for m in rig.mail.messages}
    mail = mails["Din faktura 2026-00042 fra Wattline"]
    assert mail["To"] == "Jens Hansen <jens.hansen@example.dk>"
    assert mail.get_content().replace("\r\n", "\n") == (
        "Kære Jens Hansen\n\n"
        "Din faktura 2026-00042 på 1.234,56 kr. forfalder 15. januar 2027.\n\n"
        "Venlig hilsen\nWattline Kundeservice\n"
    )
    [sent] = await rig.deliveries("invoice_issued")
    assert (sent["status"], sent["channel"], sent["attempts"]) == ("sent", "email", 1)
    assert sent["provider_id"] == mail["Message-ID"]
    assert "Nu leverer Wattline din strøm" in mails


async def test_a_preference_of_none_sends_nothing_and_sms_goes_to_the_log(rig: Any) -> None:
    response = await rig.client.put(
        f"/api/notifications/contact-preferences/{CUSTOMER_ID}",
        json={"invoice_issued": "none", "payment_overdue": "sms", "supply_active": "none"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["invoice_issued"] == "none"
    assert response.json()["supply_ending"] == "email"  # a kind not set goes by e-mail
    await rig.activated()
    await rig.deliver(invoice())
    await rig.deliver(
        PaymentOverdueV1(
            invoice_id=str(uuid.uuid4()),
            number="2026-00042",
            account_id=CUSTOMER_ID,
            due_date=date(2027, 1, 15),
            outstanding=Decimal("1234.5"),
            overdue_on=date(2027, 1, 20),
        )
    )
    assert await rig.send() == 1
    assert rig.mail.messages == []
    [sms] = await rig.deliveries()
    assert (sms["kind"], sms["channel"], sms["status"]) == ("payment_overdue", "sms", "sent")
    assert sms["sms_text"] == (
        "Wattline: Faktura 2026-00042 forfaldt 15. januar 2027. Der mangler 1.234,50 kr.\n"
    )
    phone = await rig.n.service.database.fetchval("SELECT phone_sealed FROM sms_message")
    assert rig.cipher.open(phone) == PHONE  # kept, but only sealed


async def test_a_failing_mail_server_is_retried_with_backoff_and_recorded(rig: Any) -> None:
    await rig.client.put(
        f"/api/notifications/contact-preferences/{CUSTOMER_ID}", json={"supply_active": "none"}
    )
    await rig.activated()
    await rig.deliver(
        CustomerOffboardedV1(
            customer_id=CUSTOMER_ID,
            gsrn="571313180400000017",
            supply_period_id=str(uuid.uuid4()),
            end_date=date(2027, 2, 1),
            reason="move_out",
        )
    )
    rig.mail.refuse = 2
    assert await rig.send() == 1
    [first] = await rig.deliveries("supply_ending")
    assert (first["status"], first["attempts"]) == ("pending", 1)
    assert first["last_error"].startswith("refused: 451")
    assert "jens.hansen" not in first["last_error"]  # the server's answer, address cut out
    assert await rig.send() == 0  # not due before the backoff (60 s)
    await rig.later(61)
    assert await rig.send() == 1  # refused again: now it waits 120 s
    await rig.later(61)
    assert await rig.send() == 0
    await rig.later(60)
    assert await rig.send() == 1
    [sent] = await rig.deliveries("supply_ending")
    assert (sent["status"], sent["attempts"], sent["last_error"]) == ("sent", 3, None)
    [mail] = rig.mail.messages
    assert "til og med den 31. januar 2027." in mail.get_content()

    await rig.deliver(invoice())
    rig.mail.refuse = 3  # every attempt (max_attempts 3) refused: failed for good
    for wait in (0, 61, 121):
        await rig.later(wait)
        assert await rig.send() == 1
    [given_up] = await rig.deliveries("invoice_issued")
    assert (given_up["status"], given_up["attempts"]) == ("failed", 3)
    assert given_up["last_error"].startswith("refused: 451")
    assert len(rig.mail.messages) == 1


async def test_a_duplicate_event_sends_one_mail(rig: Any) -> None:
    await rig.activated()
    event = invoice()
    envelope = await rig.deliver(event)
    await rig.deliver(event, envelope)  # redelivered past the inbox: the same event_id
    await rig.send()
    assert [m["Subject"] for m in rig.mail.messages].count(
        "Din faktura 2026-00042 fra Wattline"
    ) == 1
    assert len(await rig.deliveries("invoice_issued")) == 1


async def test_bad_input_is_a_problem_not_a_500(rig: Any) -> None:
    bad = await rig.client.put(
        f"/api/notifications/contact-preferences/{CUSTOMER_ID}", json={"invoice_issued": "fax"}
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    cursor = await rig.client.get(
        "/api/notifications", params={"customer_id": CUSTOMER_ID, "after": "nonsense"}
    )
    assert (cursor.status_code, cursor.json()["type"].rsplit("/", 1)[-1]) == (
        400,
        "invalid-cursor",
    )
    no_customer = await rig.client.get("/api/notifications")
    assert no_customer.status_code == 400
