"""Bills: the printed view of a document (``domain.bill.BillView``) assembled from what is
stored, rendered to PDF once (the render job, or the first request) and kept, so the bill a
payer received is the bill we show again."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from wattline_invoicing.adapters import accounts, bill_render, bills, invoices
from wattline_invoicing.adapters.invoices import Issued
from wattline_invoicing.domain import fik
from wattline_invoicing.domain.bill import BillLine, BillView, MeteringPointSection, Supplier
from wattline_invoicing.domain.cycles import parse
from wattline_invoicing.domain.invoice import ZERO, InvoiceLine
from wattline_invoicing.handlers import Invoicing
from wattline_invoicing.handlers.queries import NotFound

LABELS = {
    "spot_energy": "Elpris (spotpris)",
    "supplier_margin": "Tillæg til spotpris",
    "fixed_price_energy": "Elpris (fastpris)",
    "grid_tariff": "Nettarif",
    "system_tariff": "Systemtarif (Energinet)",
    "transmission_tariff": "Transmissionstarif (Energinet)",
    "electricity_tax": "Elafgift",
    "grid_subscription": "Netabonnement",
    "supplier_subscription": "Abonnement",
    "grid_fee": "Gebyr (netselskab)",
    "energinet_fee": "Gebyr (Energinet)",
    "solar_export_credit": "Salg af solcellestrøm (spotpris)",
}
MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


def cycle_label(name: str) -> str:
    """``2025-Q2`` -> ``2. kvartal 2025``; ``2025-02`` -> ``februar 2025``."""
    cycle = parse(name)
    if cycle.frequency == "quarterly":
        return f"{(cycle.start.month - 1) // 3 + 1}. kvartal {cycle.start.year}"
    return f"{MONTHS[cycle.start.month - 1]} {cycle.start.year}"


def _section_lines(lines: list[InvoiceLine]) -> tuple[BillLine, ...]:
    """One line per price element over the whole period (months and corrections summed; the
    unit price is then the period's average, 6 decimals, informative)."""
    by_code: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        by_code[line.code].append(line)
    result = []
    for code in sorted(by_code, key=lambda c: list(LABELS).index(c) if c in LABELS else 99):
        group = by_code[code]
        amount = sum((ln.amount for ln in group), ZERO)
        quantities = [ln.quantity_kwh for ln in group if ln.quantity_kwh is not None]
        days = [ln.days for ln in group if ln.days is not None]
        quantity = sum(quantities, Decimal("0.000")) if quantities else None
        day_count = sum(days) if days else None
        base = quantity if quantity else (Decimal(day_count) if day_count else None)
        unit = (
            (amount / base).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP) if base else None
        )
        result.append(BillLine(LABELS.get(code, code), quantity, day_count, unit, amount))
    return tuple(result)


async def bill_view(inv: Invoicing, invoice_id: uuid.UUID) -> BillView:
    """Everything the bill of *invoice_id* prints."""
    async with inv.service.database.connection() as conn:
        doc = await invoices.get(conn, invoice_id)
        if doc is None:
            raise NotFound(str(invoice_id))
        account = await accounts.get(conn, doc.account_id)
        assert account is not None  # a foreign key
        lines = await invoices.lines(conn, invoice_id)
        corrects = (
            None
            if doc.corrects_invoice_id is None
            else await invoices.number_of(conn, doc.corrects_invoice_id)
        )
        facts = await bills.facts(conn, invoice_id, account.account_number)
    payer = inv.parties.open(account.party_sealed)
    by_gsrn: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        by_gsrn[line.gsrn].append(line)
    sections = []
    for gsrn, own in sorted(by_gsrn.items()):
        subtotal = sum((ln.amount for ln in own), ZERO)
        vat = sum((ln.vat for ln in own), ZERO)
        sections.append(
            MeteringPointSection(
                gsrn=gsrn,
                address_lines=() if payer is None else payer.address_lines,
                period_start=min(ln.period_start for ln in own),
                period_end=max(ln.period_end for ln in own),
                kwh=facts.kwh.get(gsrn, Decimal("0.000")),
                kwh_basis="målt",
                kwh_same_period_last_year=facts.kwh_last_year.get(gsrn),
                lines=_section_lines(own),
                subtotal=subtotal,
                vat=vat,
                total=subtotal + vat,
            )
        )
    s = inv.settings.supplier
    following = facts.next_cycle
    return BillView(
        supplier=Supplier(s.name, tuple(s.address_lines), s.cvr, s.phone, s.email, s.website),
        payer_name=f"Kunde {account.account_number}" if payer is None else payer.name,
        payer_address_lines=() if payer is None else payer.address_lines,
        account_number=account.account_number,
        kind=doc.kind,
        number=doc.number,
        corrects_number=corrects,
        issue_date=doc.issue_date,
        due_date=doc.due_date,
        period_start=doc.period_start,
        period_end=doc.period_end,
        product_names=facts.products,
        total=doc.total,
        vat=doc.vat,
        aconto_paid=doc.aconto_paid,
        difference=doc.difference,
        next_prepayment=doc.next_prepayment,
        next_prepayment_period=None if following is None else cycle_label(following),
        other_items=(),
        amount_due=doc.amount_due,
        payment_method="Betalingsservice"
        if facts.mandate
        else "FI-kort (+71) eller bankoverførsel",
        fi_code_line=_code_line(inv, doc),
        sections=tuple(sections),
    )


def _code_line(inv: Invoicing, doc: Issued) -> str | None:
    if doc.fi_payment_id is None:
        return None
    return fik.code_line(doc.fi_payment_id, inv.settings.fi_creditor_number)


async def pdf(inv: Invoicing, invoice_id: uuid.UUID) -> bytes:
    """The document's PDF: the kept one, else rendered now (in a thread) and kept."""
    async with inv.service.database.connection() as conn:
        kept = await bills.pdf_of(conn, invoice_id)
    if kept is not None:
        return kept
    view = await bill_view(inv, invoice_id)
    data = await asyncio.to_thread(bill_render.render_pdf, view)
    if not inv.parties.available:
        return data  # without the payer's name and address: not the bill to keep
    async with inv.service.database.transaction() as tx:
        return await bills.keep_pdf(tx, invoice_id, data)


async def html(inv: Invoicing, invoice_id: uuid.UUID) -> str:
    return bill_render.render_html(await bill_view(inv, invoice_id))


async def render_pending(inv: Invoicing, limit: int = 200) -> int:
    """Render the PDFs of documents that have none yet (the render job); returns how many."""
    if not inv.parties.available:
        return 0
    async with inv.service.database.connection() as conn:
        pending = await bills.without_pdf(conn, limit)
    for invoice_id in pending:
        await pdf(inv, invoice_id)
    return len(pending)
