"""The invoicing rules without I/O: payment ids, cycles, due dates, totals, VAT per line,
aconto, and corrections that always sum to what the corrected data settles to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wattline_invoicing.domain import aconto, fik, invoice, numbering, terms
from wattline_invoicing.domain.cycles import InvalidCycle, cycle_of, parse
from wattline_invoicing.domain.invoice import Billable, InconsistentBillable, SettledLine

D = Decimal


def test_fi_payment_ids_check_as_the_reference_says() -> None:
    assert fik.is_valid("026840149965328")  # payments.md's vector
    assert fik.payment_id("1") == "000000000000018"
    assert fik.payment_id("00100234000117") == "001002340001176"
    assert fik.code_line("001002340001176", "81234567") == "+71<001002340001176+81234567<"
    assert not fik.is_valid("001002340001177") and not fik.is_valid("12345")
    # A payload whose digit sum is a multiple of 10 checks with 0 (not 10, the CPAN bug).
    assert fik.payment_id("00000000000019") == "000000000000190"
    assert fik.for_invoice(1, 2026, 1) == fik.payment_id("12600000000001")
    with pytest.raises(fik.InvalidPaymentId):
        fik.code_line("001002340001177", "81234567")
    with pytest.raises(ValueError, match="creditor"):
        fik.code_line("001002340001176", "71234567")


def test_cycles_name_their_months() -> None:
    q1 = parse("2025-Q1")
    assert (q1.start, q1.end, q1.months) == (
        date(2025, 1, 1),
        date(2025, 4, 1),
        ("2025-01", "2025-02", "2025-03"),
    )
    assert (
        cycle_of("2025-02", "quarterly") == q1
        and cycle_of("2025-12", "quarterly").name == "2025-Q4"
    )
    assert cycle_of("2025-12", "quarterly").next().name == "2026-Q1"
    assert parse("2025-12").next() == parse("2026-01") and parse("2025-12").months == ("2025-12",)
    for bad in ("2025-Q5", "2025-13", "25-01", "2025-1"):
        with pytest.raises(InvalidCycle):
            parse(bad)


def test_due_dates_move_to_the_next_danish_business_day() -> None:
    assert terms.due_date(date(2025, 4, 7), 14) == date(2025, 4, 22)  # Monday 21 April: Easter
    assert terms.due_date(date(2025, 12, 10), 14) == date(2025, 12, 29)  # 24th: Christmas Eve
    assert terms.due_date(date(2025, 3, 3), 12) == date(2025, 3, 17)  # Saturday 15th -> Monday


def test_numbers_per_series() -> None:
    assert numbering.series_for("invoice", True).number(2026, 1) == "2026-00001"
    assert numbering.series_for("credit_note", True).number(2026, 12) == "K2026-00012"
    assert numbering.series_for("credit_note", False).number(2026, 123456) == "2026-123456"


def _billable(result: dict[str, object], source_id: str, **extra: object) -> Billable:
    lines = tuple(
        SettledLine(
            code=ln["code"],  # type: ignore[index]
            quantity_kwh=None if ln["quantity_kwh"] is None else D(ln["quantity_kwh"]),  # type: ignore[index]
            days=ln["days"],  # type: ignore[index]
            unit_price=None,
            amount=D(ln["amount"]),  # type: ignore[index]
        )
        for ln in result["lines"]  # type: ignore[attr-defined]
    )
    period = result["period"]
    return Billable(
        source_id=source_id,
        kind=extra.pop("kind", "settlement"),  # type: ignore[arg-type]
        gsrn="571313180400000028",
        billing_period=period["start"][:7],  # type: ignore[index]
        period_start=date.fromisoformat(period["start"]),  # type: ignore[index]
        period_end=date.fromisoformat(period["end"]),  # type: ignore[index]
        consumption_kwh=D(result["consumption_kwh"]),  # type: ignore[arg-type]
        lines=lines,
        subtotal=D(result["subtotal"]),  # type: ignore[arg-type]
        vat=D(result["vat"]),  # type: ignore[arg-type]
        total=D(result["total"]),  # type: ignore[arg-type]
        vat_rate=D("0.25"),
        **extra,  # type: ignore[arg-type]
    )


def test_an_invoice_is_the_sum_of_what_it_bills_and_the_aconto_golden_cases_hold(
    golden: Any,
) -> None:
    gm03 = golden("GM03")
    draft = invoice.invoice(
        [_billable(gm03, "s1")], aconto_paid=D("700.00"), next_prepayment=D("800.00")
    )
    assert (draft.totals.subtotal, draft.totals.vat, draft.totals.total) == (
        D("623.35"),
        D("155.84"),
        D("779.19"),
    )
    assert (draft.difference, draft.amount_due) == (
        D(gm03["aconto"]["difference"]),
        D(gm03["aconto"]["amount_due"]),
    )
    assert sum(line.vat for line in draft.lines) == D("155.84")
    assert [ln.revenue for ln in draft.lines] == [
        "supplier", "supplier", "grid", "energinet", "energinet", "elafgift", "grid", "supplier"
    ]  # fmt: skip
    assert invoice.pass_through(draft.lines) == {
        "supplier": D("425.51"), "grid": D("152.42"), "energinet": D("42.15"), "elafgift": D("3.27")
    }  # fmt: skip
    gm04 = golden("GM04")
    final = invoice.invoice([_billable(gm04, "s2")], aconto_paid=D("300.00"))
    assert (final.difference, final.amount_due) == (D("102.16"), D("102.16"))
    back = invoice.invoice([_billable(gm04, "s3")], aconto_paid=D("500.00"))
    assert back.amount_due == D("-97.84")  # paid too much: money back


def test_figures_that_do_not_add_up_are_refused(golden: Any) -> None:
    gm01 = golden("GM01")
    with pytest.raises(InconsistentBillable, match="subtotal"):
        invoice.invoice([_billable({**gm01, "subtotal": "623.36", "total": "779.20"}, "x")])
    with pytest.raises(InconsistentBillable, match="total"):
        invoice.invoice([_billable({**gm01, "total": "779.20"}, "x")])
    with pytest.raises(invoice.NothingToBill):
        invoice.invoice([])


amounts = st.decimals(min_value=D("-500"), max_value=D("500"), places=2)


@settings(max_examples=200, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=9), st.sampled_from([D("0.25"), D("0.1")]))
def test_line_vat_always_sums_to_the_settlements_vat(
    line_amounts: list[Decimal], rate: Decimal
) -> None:
    lines = [SettledLine("spot_energy", None, None, None, a) for a in line_amounts]
    vat = (sum(line_amounts, D(0)) * rate).quantize(D("0.01"))
    shares = invoice.allocate_vat(lines, vat, rate)
    assert sum(shares, D(0)) == vat
    assert all(
        abs(s - a * rate) <= D("0.01") * len(lines)
        for s, a in zip(shares, line_amounts, strict=True)
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(amounts, min_size=3, max_size=3), min_size=1, max_size=5))
def test_an_invoice_and_its_corrections_sum_to_the_corrected_settlement(
    versions: list[list[Decimal]],
) -> None:
    """Settlement sends the original and each correction as the delta to the data before; the
    invoice plus every correcting document then equals what the newest data settles to."""
    codes = ("spot_energy", "grid_tariff", "supplier_subscription")

    def settled(
        values: list[Decimal], source: str, kind: str, base: list[Decimal] | None
    ) -> Billable:
        deltas = values if base is None else [v - b for v, b in zip(values, base, strict=True)]
        vat_now = (sum(values, D(0)) * D("0.25")).quantize(D("0.01"))
        vat_before = D(0) if base is None else (sum(base, D(0)) * D("0.25")).quantize(D("0.01"))
        subtotal = sum(deltas, D(0))
        vat = vat_now - vat_before
        lines = tuple(
            SettledLine(c, None, None, None, d) for c, d in zip(codes, deltas, strict=True)
        )
        return Billable(
            source, kind, "571313180400000028", "2025-01", date(2025, 1, 1), date(2025, 2, 1),  # type: ignore[arg-type]
            D("1.000"), lines, subtotal, vat, subtotal + vat, D("0.25"),
            None if kind == "settlement" else "s0",
        )  # fmt: skip

    original = invoice.invoice([settled(versions[0], "s0", "settlement", None)])
    documents = [original]
    for n, values in enumerate(versions[1:], start=1):
        fix = settled(values, f"c{n}", "correction", versions[n - 1])
        documents.append(invoice.correcting_document([fix], "inv-1"))
        assert documents[-1].kind == ("credit_note" if fix.total < 0 else "invoice")
    newest = invoice.invoice([settled(versions[-1], "s9", "settlement", None)])
    assert sum((d.totals.total for d in documents), D(0)) == newest.totals.total
    assert sum((d.totals.vat for d in documents), D(0)) == newest.totals.vat
    for code in codes:
        billed = sum(ln.amount for d in documents for ln in d.lines if ln.code == code)
        assert billed == next(ln.amount for ln in newest.lines if ln.code == code)


def test_the_aconto_estimate_follows_the_reference_model(golden: Any) -> None:
    basis = aconto.PriceBasis(dkk_per_kwh=D("1.30"), subscriptions_per_month=D("88.00"))
    # (1200 kWh x 1.30 + 88 x 3) x 1.25 = (1560 + 264) x 1.25 = 2280.00
    assert aconto.estimate(D(1200), basis, D("0.25")) == D("2280.00")
    assert aconto.estimate(D(1200), basis, D("0.25"), share=D(45) / D(90)) == D("1140.00")
    assert aconto.estimate(D(100), basis, D("0.25"), months=1) == D("272.50")
    gm01 = _billable(golden("GM01"), "s1")
    from_january = aconto.basis_from([gm01], months=1)
    assert from_january is not None
    assert from_january.subscriptions_per_month == D("88.00")
    assert (from_january.dkk_per_kwh * D("409.200")).quantize(D("0.01")) == D("535.35")
    assert aconto.basis_from([], months=1) is None


def test_an_invoice_with_a_fee_sums_to_the_ore_and_passes_it_to_the_grid_company(
    golden: Any,
) -> None:
    """Settlement's worked case (services/settlement/tests/test_fees.py): GM01 and a grid
    company's 60.00 DKK fee (D02) on 15 January: subtotal 683.35, VAT 170.84, total 854.19."""
    gm01 = golden("GM01")
    fee = {"code": "grid_fee", "quantity_kwh": None, "days": None, "amount": "60.00"}
    settled = {
        **gm01,
        "lines": [*gm01["lines"], fee],
        "subtotal": "683.35",
        "vat": "170.84",
        "total": "854.19",
    }
    draft = invoice.invoice([_billable(settled, "s1")])
    assert (draft.totals.subtotal, draft.totals.vat, draft.totals.total) == (
        D("683.35"),
        D("170.84"),
        D("854.19"),
    )
    assert sum(line.amount for line in draft.lines) == D("683.35")
    assert sum(line.vat for line in draft.lines) == D("170.84")
    fee_line = draft.lines[-1]
    assert (fee_line.code, fee_line.revenue, fee_line.amount, fee_line.vat) == (
        "grid_fee", "grid", D("60.00"), D("15.00")
    )  # fmt: skip
    # The grid company's money: tariff 103.42 + subscription 49.00 + fee 60.00.
    assert invoice.pass_through(draft.lines) == {
        "supplier": D("425.51"), "grid": D("212.42"), "energinet": D("42.15"), "elafgift": D("3.27")
    }  # fmt: skip
    assert invoice.REVENUE["energinet_fee"] == "energinet"
    # A one-off fee is not a price the next prepayment estimates.
    basis = aconto.basis_from([_billable(settled, "s1")], months=1)
    assert basis == aconto.basis_from([_billable(gm01, "s0")], months=1)
