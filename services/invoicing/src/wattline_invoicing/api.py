"""The invoicing HTTP API: thin controllers, typed models in and out, domain errors mapped to
problem+json types in one table (``_PROBLEMS``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from wattline_platform.business_days import danish_today
from wattline_platform.problem import Problem

from wattline_invoicing.domain.cycles import InvalidCycle, parse
from wattline_invoicing.handlers import Invoicing, issuing, prepayments, queries
from wattline_invoicing.handlers.prepayments import PrepaymentBilled
from wattline_invoicing.handlers.queries import InvalidCursor, NotFound
from wattline_invoicing.models import (
    BillingAccountOut,
    CycleClosed,
    ErpPage,
    InvoiceDetail,
    InvoicePage,
    PrepaymentIn,
    PrepaymentOut,
)

# Domain error -> (status, problem type, title).
_PROBLEMS: dict[type[Exception], tuple[int, str, str]] = {
    InvalidCycle: (400, "invalid-cycle", "A cycle is YYYY-MM (monthly) or YYYY-Qn (quarterly)"),
    InvalidCursor: (400, "invalid-cursor", "Not a cursor this API handed out"),
    PrepaymentBilled: (409, "prepayment-billed", "The prepayment is billed already"),
}


@asynccontextmanager
async def _problems(not_found: str | None = None) -> AsyncIterator[None]:
    try:
        yield
    except NotFound as exc:
        raise Problem(404, f"{not_found}-not-found", f"No such {not_found}", str(exc)) from None
    except tuple(_PROBLEMS) as exc:
        status, kind, title = _PROBLEMS[type(exc)]
        raise Problem(status, kind, title, str(exc)) from None


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Problem(404, f"{what}-not-found", f"No such {what}", value) from None


Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Text = Annotated[str | None, Parameter(max_length=100)]


def routes(inv: Invoicing) -> list[Any]:
    """The invoicing route handlers bound to *inv*."""

    class InvoiceController(Controller):
        path = "/api/invoices"
        tags = ["invoicing"]

        @get("/", summary="Invoices and credit notes, oldest first (keyset: ?after=)")
        async def list_invoices(
            self,
            account: FromQuery[Text] = None,
            customer: FromQuery[Text] = None,
            status: FromQuery[Literal["issued", "partly_paid", "paid", "credited"] | None] = None,
            cycle: FromQuery[Text] = None,
            after: FromQuery[Text] = None,
            limit: FromQuery[Limit] = 100,
        ) -> InvoicePage:
            async with _problems():
                if cycle is not None:
                    parse(cycle)
                return await queries.list_invoices(
                    inv,
                    account_id=account,
                    customer_id=customer,
                    status=status,
                    cycle=cycle,
                    after=after,
                    limit=limit,
                )

        @get("/{invoice_id:str}", summary="An invoice or credit note with its lines")
        async def detail(self, invoice_id: FromPath[str]) -> InvoiceDetail:
            async with _problems("invoice"):
                return await queries.invoice_detail(inv, _uuid(invoice_id, "invoice"))

        @post(
            "/cycles/{cycle:str}/close",
            status_code=200,
            summary="Issue a cycle's invoices now (the billing job does it on its own)",
        )
        async def close(self, cycle: FromPath[str]) -> CycleClosed:
            async with _problems():
                chosen = parse(cycle)
                today = danish_today(await inv.service.clock.now())
                if today < chosen.end:
                    raise Problem(
                        409,
                        "cycle-not-ended",
                        "The cycle has not ended",
                        f"{cycle} ends {chosen.end}",
                    )
                issued = await issuing.close_cycle(inv, chosen, today)
            return CycleClosed(cycle=chosen.name, issued=[d.number for d in issued])

    class AccountController(Controller):
        path = "/api/billing-accounts"
        tags = ["invoicing"]

        @get("/{account_id:str}", summary="A payer's account: balance and ledger")
        async def account(self, account_id: FromPath[str]) -> BillingAccountOut:
            async with _problems("billing-account"):
                return await queries.billing_account(inv, account_id[:100])

        @put(
            "/{account_id:str}/prepayments/{cycle:str}",
            summary="Set an aconto payer's prepayment of a cycle before it is billed",
        )
        async def set_prepayment(
            self, account_id: FromPath[str], cycle: FromPath[str], data: JSONBody[PrepaymentIn]
        ) -> PrepaymentOut:
            async with _problems("billing-account"):
                return await prepayments.set_prepayment(inv, account_id[:100], cycle, data.amount)

    class ErpController(Controller):
        path = "/api/erp"
        tags = ["erp"]

        @get(
            "/invoices",
            summary="Issued documents as their events carried them, in issue order (?since=)",
        )
        async def feed(
            self, since: FromQuery[Text] = None, limit: FromQuery[Limit] = 100
        ) -> ErpPage:
            async with _problems():
                return await queries.erp_feed(inv, since, limit)

    handlers: list[Callable[..., Any] | type[Controller]] = [
        InvoiceController,
        AccountController,
        ErpController,
    ]
    return handlers
