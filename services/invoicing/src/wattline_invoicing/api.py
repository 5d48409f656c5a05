"""The invoicing HTTP API: thin controllers, typed models in and out, domain errors mapped to
problem+json types in one table (``_PROBLEMS``)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from wattline_platform.business_days import danish_today
from wattline_platform.inputs import Cursor, PageSize
from wattline_platform.openapi_problems import problems
from wattline_platform.problem import Problem, uuid_or_404
from wattline_platform.uploads import file_body, read_bounded, require_media_type

from wattline_invoicing import delivery_api
from wattline_invoicing.adapters.bank_csv import StatementRefused
from wattline_invoicing.adapters.betalingsservice import BsFormatError, BsRequestError
from wattline_invoicing.domain.cycles import InvalidCycle, parse
from wattline_invoicing.handlers import (
    Invoicing,
    betalingsservice,
    bills,
    dunning,
    issuing,
    journal,
    payment_imports,
    payments,
    prepayments,
    queries,
    refunds,
)
from wattline_invoicing.handlers.cursors import InvalidCursor
from wattline_invoicing.handlers.journal import InvalidRange
from wattline_invoicing.handlers.payments import PaymentNotUnmatched, UnknownPayment
from wattline_invoicing.handlers.prepayments import PrepaymentBilled
from wattline_invoicing.handlers.queries import NotFound
from wattline_invoicing.handlers.refunds import RefundTooLarge
from wattline_invoicing.models import (
    AllocateIn,
    BillingAccountOut,
    ClaimOut,
    CreditBalanceOut,
    CycleClosed,
    DisputeIn,
    DisputeOut,
    ErpPage,
    InvoiceDetail,
    InvoicePage,
    MandatesOut,
    PaymentImportOut,
    PaymentOut,
    PostingOut,
    PrepaymentIn,
    PrepaymentOut,
    ReferenceRateIn,
    ReferenceRateOut,
    RefundIn,
    RefundOut,
    SuspensePage,
)

# Domain error -> (status, problem type, title).
_PROBLEMS: dict[type[Exception], tuple[int, str, str]] = {
    InvalidCycle: (400, "invalid-cycle", "A cycle is YYYY-MM (monthly) or YYYY-Qn (quarterly)"),
    InvalidCursor: (400, "invalid-cursor", "Not a cursor this API handed out"),
    PrepaymentBilled: (409, "prepayment-billed", "The prepayment is billed already"),
    RefundTooLarge: (409, "refund-too-large", "More than the payer's credit balance"),
    InvalidRange: (400, "invalid-range", "A range of at most a year, its end after its start"),
    PaymentNotUnmatched: (409, "payment-not-unmatched", "The payment is matched already"),
}


@asynccontextmanager
async def _problems(not_found: str | None = None) -> AsyncIterator[None]:
    try:
        yield
    except (NotFound, UnknownPayment) as exc:
        raise Problem(404, f"{not_found}-not-found", f"No such {not_found}", str(exc)) from None
    except BsFormatError as exc:
        raise Problem(
            400, "invalid-betalingsservice-file", "Not a Betalingsservice delivery", str(exc)
        ) from None
    except BsRequestError as exc:
        raise Problem(
            422, "betalingsservice-request-refused", "Cannot write the 0601", str(exc)
        ) from None
    except StatementRefused as exc:
        raise Problem(
            400, "invalid-statement", "Not a bank statement to book", str(exc), reasons=exc.reasons
        ) from None
    except tuple(_PROBLEMS) as exc:
        status, kind, title = _PROBLEMS[type(exc)]
        raise Problem(status, kind, title, str(exc)) from None


def _account(value: str) -> str:
    """A billing account id from a path: bounded, never a NUL (unknown: 404)."""
    if "\x00" in value or len(value) > 100:
        raise Problem(404, "billing-account-not-found", "No such billing account", value[:100])
    return value


_BS_TYPES = ("text/plain", "application/octet-stream")
_STATEMENT_TYPES = ("text/csv", "application/xml", "text/xml")
# Bounded, and no NUL (PostgreSQL text cannot hold one: it would be a 500, not a 400).
Text = Annotated[str | None, Parameter(max_length=100, pattern=r"^[^\x00]*$")]


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
            after: FromQuery[Cursor] = None,
            limit: FromQuery[PageSize] = 100,
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

        @get(
            "/{invoice_id:str}",
            summary="An invoice or credit note with its lines; {id}.pdf the bill as PDF, "
            "{id}.html as HTML (Danish)",
        )
        async def detail(self, invoice_id: FromPath[str]) -> InvoiceDetail | Response[Any]:
            async with _problems("invoice"):
                if invoice_id.endswith(".pdf"):
                    data = await bills.pdf(inv, uuid_or_404(invoice_id[:-4], "invoice"))
                    return Response(
                        data,
                        media_type="application/pdf",
                        headers={"content-disposition": f'inline; filename="{invoice_id}"'},
                    )
                if invoice_id.endswith(".html"):
                    page = await bills.html(inv, uuid_or_404(invoice_id[:-5], "invoice"))
                    return Response(page, media_type="text/html; charset=utf-8")
                return await queries.invoice_detail(inv, uuid_or_404(invoice_id, "invoice"))

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

        @post(
            "/{invoice_id:str}/dispute",
            status_code=200,
            summary="Register a dispute: a dunning stop",
        )
        async def dispute(self, invoice_id: FromPath[str], data: JSONBody[DisputeIn]) -> DisputeOut:
            async with _problems("invoice"):
                return await dunning.dispute(inv, uuid_or_404(invoice_id, "invoice"), data.reason)

        @delete(
            "/{invoice_id:str}/dispute",
            status_code=200,
            summary="Resolve a dispute: dunning goes on",
        )
        async def resolve(self, invoice_id: FromPath[str]) -> DisputeOut:
            async with _problems("invoice"):
                return await dunning.dispute(inv, uuid_or_404(invoice_id, "invoice"), None)

    class DunningController(Controller):
        path = "/api/dunning"
        tags = ["dunning"]

        @put(
            "/reference-rates/{valid_from:date}",
            summary="Nationalbanken's lending rate from a day (renteloven § 5)",
        )
        async def reference_rate(
            self, valid_from: FromPath[date], data: JSONBody[ReferenceRateIn]
        ) -> ReferenceRateOut:
            await dunning.set_reference_rate(inv, valid_from, data.rate)
            return ReferenceRateOut(valid_from=valid_from, rate=data.rate)

        @get("/collection", summary="Claims handed to debt collection (JSON)")
        async def collection(self, since: FromQuery[date | None] = None) -> list[ClaimOut]:
            return await dunning.collection_claims(inv, since)

        @get(
            "/collection.csv",
            summary="Claims handed to debt collection, the export file",
            media_type="text/csv",
        )
        async def collection_csv(self, since: FromQuery[date | None] = None) -> Response[str]:
            claims = await dunning.collection_claims(inv, since)
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            fields = list(ClaimOut.model_fields)
            writer.writerow(fields)
            for claim in claims:
                writer.writerow([getattr(claim, f) for f in fields])
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    class AccountController(Controller):
        path = "/api/billing-accounts"
        tags = ["invoicing"]

        @get("/{account_id:str}", summary="A payer's account: balance and ledger")
        async def account(self, account_id: FromPath[str]) -> BillingAccountOut:
            async with _problems("billing-account"):
                return await queries.billing_account(inv, _account(account_id))

        @put(
            "/{account_id:str}/prepayments/{cycle:str}",
            summary="Set an aconto payer's prepayment of a cycle before it is billed",
        )
        async def set_prepayment(
            self, account_id: FromPath[str], cycle: FromPath[str], data: JSONBody[PrepaymentIn]
        ) -> PrepaymentOut:
            async with _problems("billing-account"):
                return await prepayments.set_prepayment(
                    inv, _account(account_id), cycle, data.amount
                )

        @post(
            "/{account_id:str}/refunds",
            status_code=200,
            summary="Book a refund of the payer's credit balance (once per reference)",
        )
        async def refund(self, account_id: FromPath[str], data: JSONBody[RefundIn]) -> RefundOut:
            async with _problems("billing-account"):
                return await refunds.book_refund(
                    inv, _account(account_id), data.amount, data.reference, data.paid_on
                )

    class ErpController(Controller):
        path = "/api/erp"
        tags = ["erp"]

        @get(
            "/invoices",
            summary="Issued documents as their events carried them, in issue order (?since=)",
        )
        async def feed(
            self, since: FromQuery[Cursor] = None, limit: FromQuery[PageSize] = 100
        ) -> ErpPage:
            async with _problems():
                return await queries.erp_feed(inv, since, limit)

        @get(
            "/journal", summary="The posting journal of documents and payments booked on [from, to)"
        )
        async def journal_lines(
            self,
            from_: Annotated[date, QueryParameter(name="from")],
            to: FromQuery[date],
        ) -> list[PostingOut]:
            async with _problems():
                return await journal.postings(inv, from_, to)

    class PaymentController(Controller):
        path = "/api/payments"
        tags = ["payments"]

        @post(
            "/bank-statements",
            status_code=200,
            operation_class=file_body(*_STATEMENT_TYPES),
            summary="Book a bank statement (CSV as the README says, or camt.052/053/054 XML); "
            "each entry once",
        )
        async def bank_statement(self, request: Request[Any, Any, Any]) -> PaymentImportOut:
            content_type = request.headers.get("content-type")
            require_media_type(content_type, _STATEMENT_TYPES)
            body = await read_bounded(request, inv.settings.payment_file_max_bytes)
            xml = "xml" in (content_type or "").lower()
            async with _problems():
                return await payment_imports.import_bank_statement(inv, body, xml=xml)

        @post(
            "/betalingsservice/0602",
            status_code=200,
            operation_class=file_body(*_BS_TYPES),
            summary="Book a Betalingsservice 0602 delivery (payment results); each result once",
        )
        async def bs_0602(self, request: Request[Any, Any, Any]) -> PaymentImportOut:
            require_media_type(request.headers.get("content-type"), _BS_TYPES, utf8=False)
            body = await read_bounded(request, inv.settings.payment_file_max_bytes)
            async with _problems():
                return await betalingsservice.import_0602(inv, body)

        @post(
            "/betalingsservice/0603",
            status_code=200,
            operation_class=file_body(*_BS_TYPES),
            summary="Record a Betalingsservice 0603 delivery (mandate changes)",
        )
        async def bs_0603(self, request: Request[Any, Any, Any]) -> MandatesOut:
            require_media_type(request.headers.get("content-type"), _BS_TYPES, utf8=False)
            body = await read_bounded(request, inv.settings.payment_file_max_bytes)
            async with _problems():
                return await betalingsservice.import_0603(inv, body)

        @get(
            "/betalingsservice/0601",
            summary="A 0601 delivery collecting the open invoices due by ?due_until= of payers "
            "with a mandate",
            media_type="text/plain",
            responses=problems(422),
        )
        async def bs_0601(self, due_until: FromQuery[date]) -> Response[bytes]:
            today = danish_today(await inv.service.clock.now())
            async with _problems():
                data = await betalingsservice.write_0601(inv, due_until, today)
            return Response(
                data,
                media_type="text/plain; charset=iso-8859-1",
                headers={"content-disposition": f'attachment; filename="0601-{today}.txt"'},
            )

        @get("/refunds", summary="Credit balances to pay back (the refund export), largest first")
        async def refunds_due(self) -> list[CreditBalanceOut]:
            return await refunds.credit_balances(inv)

        @get("/suspense", summary="Payments no rule matched, oldest first (keyset: ?after=)")
        async def suspense(
            self, after: FromQuery[Cursor] = None, limit: FromQuery[PageSize] = 100
        ) -> SuspensePage:
            async with _problems():
                return await payment_imports.suspense(inv, after, limit)

        @get("/{payment_id:str}", summary="A payment and what it pays")
        async def payment(self, payment_id: FromPath[str]) -> PaymentOut:
            async with _problems("payment"):
                return await payment_imports.payment(inv, uuid_or_404(payment_id, "payment"))

        @post(
            "/{payment_id:str}/allocate",
            status_code=200,
            summary="Back office names the payer (and invoice) of a payment on the suspense list",
        )
        async def allocate(
            self, payment_id: FromPath[str], data: JSONBody[AllocateIn]
        ) -> PaymentOut:
            key = uuid_or_404(payment_id, "payment")
            invoice_id = (
                None if data.invoice_id is None else uuid_or_404(data.invoice_id, "invoice")
            )
            async with _problems("payment"):
                await payments.allocate(inv, key, data.account_id, invoice_id)
                return await payment_imports.payment(inv, key)

    handlers: list[Callable[..., Any] | type[Controller]] = [
        InvoiceController,
        AccountController,
        ErpController,
        PaymentController,
        DunningController,
        *delivery_api.routes(inv),
    ]
    return handlers
