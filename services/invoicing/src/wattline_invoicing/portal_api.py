"""The customer portal's invoicing routes, ``GET /api/invoicing/portal/...``: a customer's
portal token (``FOR_CUSTOMERS``) reads its own invoices, credit notes, their PDFs, payments and
balance, by the documents' numbers (never an internal id). A number that is not the
customer's is 404, as one that does not exist."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Response, get
from litestar.params import FromPath, FromQuery
from wattline_platform.identity import FOR_CUSTOMERS, Identity, IdentityDep
from wattline_platform.inputs import Cursor, PageSize
from wattline_platform.problem import Problem

from wattline_invoicing.handlers import Invoicing, portal
from wattline_invoicing.handlers.cursors import InvalidCursor
from wattline_invoicing.handlers.queries import NotFound
from wattline_invoicing.models import PortalDocumentDetail, PortalDocumentPage, PortalPayments

PREFIX = "/api/invoicing/portal"
# A document number as invoicing writes them (2026-00001, K2026-00001): anything else is no
# document of anyone's.
_NUMBER = re.compile(r"^[A-Z]{0,4}[0-9]{4}-[0-9]{1,9}$")


def _customer(identity: Identity) -> str:
    if identity.customer is None:  # FOR_CUSTOMERS lets only portal tokens in
        raise Problem(403, "portal-only", "Only for a customer's portal token")
    return identity.customer


def _number(value: str) -> str:
    if not _NUMBER.match(value):
        raise Problem(404, "invoice-not-found", "No such invoice", value[:40])
    return value


@asynccontextmanager
async def _problems(what: str) -> AsyncIterator[None]:
    try:
        yield
    except NotFound as exc:
        raise Problem(404, f"{what}-not-found", f"No such {what}", str(exc)) from None
    except InvalidCursor as exc:
        raise Problem(400, "invalid-cursor", "Not a cursor this API handed out", str(exc)) from None


def routes(inv: Invoicing) -> list[Any]:
    """The portal's invoicing route handlers bound to *inv*."""

    @get(
        f"{PREFIX}/invoices",
        summary="Portal: my invoices and credit notes",
        description=(
            "For a customer's portal token: the documents of the customer's own billing "
            "account in issue order, with totals, due date, status and what is still unpaid "
            "(keyset: ?after=)."
        ),
        tags=["portal"],
        opt=FOR_CUSTOMERS,
    )
    async def my_invoices(
        identity: IdentityDep, after: FromQuery[Cursor] = None, limit: FromQuery[PageSize] = 100
    ) -> PortalDocumentPage:
        async with _problems("invoice"):
            return await portal.documents(inv, _customer(identity), after, limit)

    @get(
        f"{PREFIX}/invoices/{{number:str}}",
        summary="Portal: one of my invoices or credit notes with its lines",
        description="By its number. Another customer's number is 404.",
        tags=["portal"],
        opt=FOR_CUSTOMERS,
    )
    async def my_invoice(number: FromPath[str], identity: IdentityDep) -> PortalDocumentDetail:
        customer = _customer(identity)
        async with _problems("invoice"):
            return await portal.document(inv, customer, _number(number))

    @get(
        f"{PREFIX}/invoices/{{number:str}}/pdf",
        summary="Portal: the bill of one of my documents as PDF (Danish)",
        description="The same PDF back office sees. Another customer's number is 404.",
        tags=["portal"],
        opt=FOR_CUSTOMERS,
        media_type="application/pdf",
    )
    async def my_invoice_pdf(number: FromPath[str], identity: IdentityDep) -> Response[bytes]:
        customer = _customer(identity)
        async with _problems("invoice"):
            data = await portal.pdf(inv, customer, _number(number))
        return Response(
            data,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="{number}.pdf"'},
        )

    @get(
        f"{PREFIX}/payments",
        summary="Portal: my payments and my balance",
        description=(
            "For a customer's portal token: payments booked to the customer's own billing "
            "account, newest first, with the invoices each paid; the balance is what the "
            "customer owes (< 0: what we owe them). A customer never billed is 404."
        ),
        tags=["portal"],
        opt=FOR_CUSTOMERS,
    )
    async def my_payments(identity: IdentityDep) -> PortalPayments:
        customer = _customer(identity)
        async with _problems("billing-account"):
            return await portal.payments(inv, customer)

    return [my_invoices, my_invoice, my_invoice_pdf, my_payments]
