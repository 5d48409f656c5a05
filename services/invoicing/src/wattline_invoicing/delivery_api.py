"""The API of bill delivery: how each document went to its payer, and sending one again.

    GET  /api/invoices/{invoice_id}/deliveries              status per channel
    POST /api/invoices/{invoice_id}/deliveries/email/resend  e-mail it again (202)

Thin, like ``api``: typed models in and out, domain errors as problem+json.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from litestar import Controller, get, post
from litestar.params import FromPath
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.problem import Problem, uuid_or_404

from wattline_invoicing.adapters.deliveries import Delivery
from wattline_invoicing.handlers import Invoicing, delivery
from wattline_invoicing.handlers.delivery import NothingToDeliver, SendInFlight
from wattline_invoicing.handlers.queries import NotFound


class DeliveryOut(BaseModel):
    """One channel's delivery of a document to its payer."""

    model_config = ConfigDict(frozen=True)

    channel: Literal["email", "digital_post"]
    status: Literal["pending", "sent", "failed", "no_address"] = Field(
        description="pending: waiting to be sent or retried; sent; failed: every retry "
        "failed (resend to try again); no_address: the payer has no address for the channel "
        "(paper or the portal)"
    )
    attempts: int = Field(description="failed attempts since it was issued or last resent")
    next_attempt_at: datetime | None = Field(
        description="pending: when it is tried (again); None otherwise"
    )
    last_error: str | None = Field(
        description="why the last attempt failed (never the address or the name)"
    )
    sent_at: datetime | None = Field(description="when it was last sent")
    message_id: str | None = Field(description="the sent message's id (e-mail: Message-ID)")

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            channel=d.channel,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            last_error=d.last_error,
            sent_at=d.sent_at,
            message_id=d.message_id,
        )


class DeliveriesOut(BaseModel):
    """A document's deliveries, one per channel; none for a document issued before bills
    were delivered (a resend creates its e-mail delivery)."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str
    deliveries: list[DeliveryOut]


def routes(inv: Invoicing) -> list[type[Controller]]:
    """The delivery route handlers bound to *inv*."""

    class DeliveryController(Controller):
        path = "/api/invoices/{invoice_id:str}/deliveries"
        tags = ["invoicing"]

        @get("/", summary="How the document went to its payer, per channel")
        async def deliveries(self, invoice_id: FromPath[str]) -> DeliveriesOut:
            key = uuid_or_404(invoice_id, "invoice")
            try:
                number, found = await delivery.deliveries_of(inv, key)
            except NotFound:
                raise Problem(404, "invoice-not-found", "No such invoice", invoice_id) from None
            return DeliveriesOut(
                invoice_id=str(key), number=number, deliveries=[DeliveryOut.of(d) for d in found]
            )

        @post(
            "/email/resend",
            status_code=202,
            summary="E-mail the document to its payer again, to the address the payer has now "
            "(also after failed or no_address); it goes out with the next delivery round",
        )
        async def resend_email(self, invoice_id: FromPath[str]) -> DeliveryOut:
            key = uuid_or_404(invoice_id, "invoice")
            try:
                found = await delivery.resend(inv, key, "email", await delivery.WALL_CLOCK.now())
            except NotFound:
                raise Problem(404, "invoice-not-found", "No such invoice", invoice_id) from None
            except NothingToDeliver as exc:
                raise Problem(
                    409, "channel-not-offered", "Bills do not go this way", str(exc)
                ) from None
            except SendInFlight as exc:
                raise Problem(409, "delivery-in-flight", "Being sent right now", str(exc)) from None
            return DeliveryOut.of(found)

    return [DeliveryController]
