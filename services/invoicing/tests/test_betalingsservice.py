"""Betalingsservice files against the shared fixtures (real bytes) and against deliveries built
here field by field from the guide's offsets, so the reader is not checked by itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from wattline_invoicing.adapters.betalingsservice import (
    BsFormatError,
    BsRequestError,
    Delivery0601,
    FiCardPayment,
    MandateChange,
    PaymentRequest,
    PaymentResult,
    read_0601,
    read_0602,
    read_0603,
    write_0601,
)

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "fixtures"
RESULTS_0602 = (FIXTURES / "payments" / "bs-0602-payment-results.txt").read_bytes()
REQUESTS_0601 = (FIXTURES / "payments" / "bs-0601-payment-requests.txt").read_bytes()

PBS = "04567890"
SUPPLIER = "12345678"

# The requests of bs-0601-payment-requests.txt, read off the file by eye.
FIXTURE_REQUESTS = (
    PaymentRequest(
        customer_number=100234,
        mandate_number="000123456",
        due_date=date(2025, 2, 3),
        amount=Decimal("842.13"),
        reference="INV2025000117",
        advice=(
            "Elregning jan 2025, maalepunkt 571313100000012345",
            "Forbrug 412,350 kWh. Beloeb inkl. moms: 842,13 kr.",
        ),
    ),
    PaymentRequest(
        customer_number=100871,
        mandate_number="000123789",
        due_date=date(2025, 2, 3),
        amount=Decimal("512.90"),
        reference="INV2025000118",
        advice=("Elregning jan 2025, maalepunkt 571313100000067890",),
    ),
)
FIXTURE_HEADER = {
    "data_supplier": SUPPLIER,
    "creditor_pbs": PBS,
    "debtor_group": "00001",
    "delivery_id": 31,
    "created": date(2025, 1, 20),
    "bank_registration": "1234",
    "bank_account": "0001234567",
    "creditor_ident": "WATTLINE-BS",
    "main_text": "Wattline El A/S - elregning januar 2025",
}


def rec(*fields: str) -> str:
    """A record from its fields in order, padded to 128 as the fixtures are."""
    text = "".join(fields)
    assert len(text) <= 128, len(text)
    return text.ljust(128)


def delivery(*records: str, newline: str = "\r\n") -> bytes:
    return (newline.join(records) + newline).encode("latin-1")


def fixture_lines() -> list[str]:
    return RESULTS_0602.decode("latin-1").split("\r\n")[:-1]


def with_field(line: str, offset: int, value: str) -> str:
    return line[:offset] + value + line[offset + len(value) :]


def refused(data: bytes, reader: object = read_0602) -> BsFormatError:
    with pytest.raises(BsFormatError) as caught:
        reader(data)  # type: ignore[operator]
    return caught.value


# --- 0602 -------------------------------------------------------------------------------------


def result(
    code: str, customer: int, mandate: str, amount: str, ref: str, line: int, *, paid: bool
) -> PaymentResult:
    return PaymentResult(
        transaction_code=code,  # type: ignore[arg-type]
        creditor_pbs=PBS,
        debtor_group="00001",
        customer_number=f"{customer:015d}",
        mandate_number=mandate,
        due_date=date(2025, 2, 3),
        amount_requested=Decimal(amount),
        reference=ref,
        paid_date=date(2025, 2, 3) if paid else None,
        booked_date=date(2025, 2, 3) if paid else None,
        amount_paid=Decimal(amount) if paid else Decimal("0.00"),
        line_number=line,
    )


EXPECTED_RESULTS = (
    result("0236", 100234, "000123456", "842.13", "INV2025000117", 3, paid=True),
    result("0236", 100871, "000123789", "512.90", "INV2025000118", 4, paid=True),
    result("0237", 101502, "000124001", "1277.45", "INV2025000119", 5, paid=False),
    result("0238", 101777, "000124350", "399.50", "INV2025000120", 6, paid=False),
)


def test_the_0602_fixture_reads_as_payments_md_describes_it() -> None:
    got = read_0602(RESULTS_0602)

    assert (got.data_supplier, got.system_code, got.delivery_id) == (SUPPLIER, "BS1", 417)
    assert got.created == date(2025, 2, 3)
    assert got.results == EXPECTED_RESULTS
    assert got.fi_card_payments == ()
    paid = got.results[0]
    assert (paid.customer_number_int, paid.transaction_code) == (100234, "0236")
    assert (paid.amount_paid, paid.paid_date) == (Decimal("842.13"), date(2025, 2, 3))
    assert paid.reference == "INV2025000117"
    rejected = got.results[2]
    assert (rejected.customer_number_int, rejected.transaction_code) == (101502, "0237")
    assert rejected.amount_requested == Decimal("1277.45")
    assert (rejected.amount_paid, rejected.paid_date, rejected.booked_date) == (
        Decimal("0.00"),
        None,
        None,
    )


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda lines: "\n".join(lines) + "\n", id="LF"),
        pytest.param(lambda lines: "\r\n".join(line.rstrip() for line in lines), id="trimmed"),
        pytest.param(lambda lines: "\r\n".join(lines), id="no-final-newline"),
        pytest.param(lambda lines: "\n".join(line.rstrip() for line in lines), id="LF-trimmed"),
    ],
)
def test_line_ends_and_trailing_blanks_do_not_matter(variant) -> None:  # type: ignore[no-untyped-def]
    data = variant(fixture_lines()).encode("latin-1")
    assert data != RESULTS_0602
    assert read_0602(data) == read_0602(RESULTS_0602)


def test_a_payout_is_negative_and_latin1_text_is_kept() -> None:
    reference = "KREDITNOTA Æ til faktura 00118"  # all 30 characters of the field
    assert len(reference) == 30
    lines = fixture_lines()
    lines[3] = with_field(with_field(lines[3], 55, "2"), 69, reference)
    # Totals are unsigned, so the controls still hold.
    got = read_0602(delivery(*lines)).results[1]
    assert (got.amount_requested, got.amount_paid) == (Decimal("-512.90"), Decimal("-512.90"))
    assert got.reference == reference


def fi_section() -> list[str]:
    """Section 0215 with a +71, a +75 and a charged-back +73 payment (address lines before
    the payment, the payer's text after it)."""
    head = ("BS042", PBS)
    group = "00001"

    def card(code: str, customer: str, kind: str, fee: str, amount: int, ref: str, ark: str) -> str:
        paid = "070225070225" if code == "0297" else "100225100225"
        return rec(
            *head,
            code,
            "000",
            group,
            "0000",
            customer.rjust(15),
            kind,
            fee[0],
            fee[1:],
            "050225",
            "1",
            f"{amount:013d}",
            ref.ljust(9),
            ark.ljust(22),
            paid,
            f"{amount:013d}",
        )

    def extra(kind: str, code: str, number: int, ark: str, text: str) -> str:
        return rec(
            "BS" + kind, PBS, code, f"{number:03d}", group, "0000", " " * 15, "73", ark, text
        )

    ark3 = "ARK0000000000000000003"
    return [
        rec("BS012", PBS, "0215", "000", group, " " * 24, "070225"),
        card("0297", "001002340001176", "71", "000000", 84213, "INV202500", "ARK1"),
        card("0297", "004040400000669", "75", "100500", 10000, "", "ARK2"),
        extra("022", "0290", 2, ark3, "Hovedgaden 1, 8000 Aarhus C"),
        extra("022", "0290", 1, ark3, "Jens Jensen"),
        card("0299", "", "73", "000000", 25000, "", ark3),
        extra("052", "0295", 1, ark3, "Faktura 2025-00042"),
        rec(
            "BS092",
            PBS,
            "0215",
            "000",
            group,
            " " * 6,
            f"{3:011d}",
            f"{84213 + 10000 + 25000:015d}",
            f"{1:011d}",
            " " * 15,
            f"{2:011d}",
        ),
    ]


def with_fi_section(section: list[str]) -> bytes:
    lines = fixture_lines()
    total = 303198 + int(section[-1][42:57])
    end = rec(
        "BS992",
        SUPPLIER,
        "BS1",
        "0602",
        f"{2:011d}",
        f"{4 + 3:011d}",
        f"{total:015d}",
        f"{1:011d}",
        "0" * 15,
        f"{2:011d}",
        "0" * 34,
    )
    return delivery(*lines[:-1], *section, end)


def test_fi_card_payments_with_their_payment_ids() -> None:
    got = read_0602(with_fi_section(fi_section()))

    assert got.results == EXPECTED_RESULTS
    seventy_one, seventy_five, seventy_three = got.fi_card_payments
    assert seventy_one == FiCardPayment(
        transaction_code="0297",
        creditor_pbs=PBS,
        debtor_group="00001",
        customer_number="001002340001176",
        card_type="71",
        fee=Decimal("0.00"),
        payment_date=date(2025, 2, 5),
        amount=Decimal("842.13"),
        reference="INV202500",
        archive_reference="ARK1",
        paid_date=date(2025, 2, 7),
        booked_date=date(2025, 2, 7),
        amount_paid=Decimal("842.13"),
        line_number=9,
    )
    assert seventy_one.payment_id == "001002340001176"
    assert (seventy_five.card_type, seventy_five.fee) == ("75", Decimal("5.00"))
    assert seventy_five.payment_id == "0004040400000669"  # 16 digits, from 15 in the field
    assert seventy_three.transaction_code == "0299"
    assert (seventy_three.customer_number, seventy_three.payment_id) == ("", None)
    assert seventy_three.payer_address == ("Jens Jensen", "Hovedgaden 1, 8000 Aarhus C")
    assert seventy_three.payer_text == ("Faktura 2025-00042",)
    assert (seventy_three.paid_date, seventy_three.amount_paid) == (
        date(2025, 2, 10),
        Decimal("250.00"),
    )
    assert (seventy_one.payer_address, seventy_one.payer_text) == ((), ())


def test_fi_section_amount_may_sum_either_card_or_paid_amounts_but_not_anything() -> None:
    section = fi_section()
    section[5] = with_field(section[5], 115, f"{0:013d}")  # the chargeback paid nothing back
    assert len(read_0602(with_fi_section(section)).fi_card_payments) == 3  # card amounts

    section[-1] = with_field(section[-1], 42, f"{84213 + 10000:015d}")
    assert len(read_0602(with_fi_section(section)).fi_card_payments) == 3  # paid amounts

    section[-1] = with_field(section[-1], 42, f"{1:015d}")
    error = refused(with_fi_section(section))
    assert (error.line_number, error.reason) == (
        15,
        "BS092 amount (offset 42, length 15): says 1 øre, the card or paid amounts add up to "
        "94213 or 119213",
    )


def test_a_payer_text_for_no_payment_is_refused() -> None:
    section = fi_section()
    section[6] = with_field(section[6], 46, "ARK9".ljust(22))
    error = refused(with_fi_section(section))
    assert (error.line_number, error.reason) == (
        14,
        "BS052 archive reference (offset 46, length 22): no payment in the section has it",
    )


# --- bad 0602 input ---------------------------------------------------------------------------


def test_a_line_of_the_wrong_length() -> None:
    lines = fixture_lines()
    lines[2] += "0"
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (3, "the line has 129 characters, a record has 128")
    assert str(error) == "line 3: the line has 129 characters, a record has 128"


def test_a_bad_date() -> None:
    lines = fixture_lines()
    lines[2] = with_field(lines[2], 49, "300225")  # 30 February
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        3,
        "BS042 due date (offset 49, length 6): not a date DDMMYY",
    )


def test_a_bad_paid_date() -> None:
    lines = fixture_lines()
    lines[3] = with_field(lines[3], 103, "031325")
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        4,
        "BS042 paid date (offset 103, length 6): not a date DDMMYY",
    )


def test_a_non_digit_amount() -> None:
    lines = fixture_lines()
    lines[4] = with_field(lines[4], 56, "00000001277A5")
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        5,
        "BS042 amount requested (offset 56, length 13): not 13 digits",
    )


def test_the_reason_names_the_field_never_its_content() -> None:
    lines = fixture_lines()
    lines[2] = with_field(lines[2], 25, "0101709X1234567")  # a CPR where a customer number was
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        3,
        "BS042 customer number (offset 25, length 15): not 15 digits",
    )
    assert "0101709" not in str(error)


def test_a_missing_bs992() -> None:
    error = refused(delivery(*fixture_lines()[:-1]))
    assert (error.line_number, error.reason) == (7, "the file ends without a delivery end (BS992)")


def test_a_missing_bs002() -> None:
    error = refused(delivery(*fixture_lines()[1:]))
    assert (error.line_number, error.reason) == (1, "a delivery starts with BS002")


def test_a_bs092_total_that_does_not_match() -> None:
    lines = fixture_lines()
    lines[6] = with_field(lines[6], 42, "000000000303199")
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        7,
        "BS092 amount (offset 42, length 15): says 303199 øre, the amounts requested add up to "
        "303198",
    )


def test_a_bs092_count_that_does_not_match() -> None:
    lines = fixture_lines()
    del lines[5]
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        6,
        "BS092 number of BS042 records (offset 31, length 11): says 4, the section has 3",
    )


def test_a_bs992_that_does_not_match() -> None:
    lines = fixture_lines()
    lines[7] = with_field(lines[7], 31, "00000000005")
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        8,
        "BS992 number of BS042 records (offset 31, length 11): says 5, the delivery has 4",
    )
    lines = fixture_lines()
    lines[7] = with_field(lines[7], 5, "87654321")
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        8,
        "BS992 data supplier (offset 5, length 8): differs from the delivery start (line 1)",
    )


def test_a_record_of_another_debtor_group() -> None:
    lines = fixture_lines()
    lines[3] = with_field(lines[3], 20, "00002")
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (
        4,
        "BS042 debtor group (offset 20, length 5): differs from the section start (line 2)",
    )


@pytest.mark.parametrize(
    ("edit", "line", "reason"),
    [
        (
            lambda ls: ls.__setitem__(2, with_field(ls[2], 13, "0297")),
            3,
            "BS042 transaction code (offset 13, length 4): is '0297', expected 0236, 0237, "
            "0238, 0239",
        ),
        (
            lambda ls: ls.__setitem__(2, with_field(ls[2], 55, "3")),
            3,
            "BS042 sign code (offset 55, length 1): is '3', expected 0, 1, 2",
        ),
        (
            lambda ls: ls.__setitem__(2, with_field(ls[2], 55, "0")),
            3,
            "BS042 amount requested (offset 56, length 13): not zero with sign code 0 (no amount)",
        ),
        (
            lambda ls: ls.__setitem__(1, with_field(ls[1], 13, "0212")),
            2,
            "BS012 section number (offset 13, length 4): is '0212', expected 0211, 0215",
        ),
        (lambda ls: ls.insert(7, ls[6]), 8, "BS092 a section end without a section start (BS012)"),
        (lambda ls: ls.append(ls[2]), 9, "BS042 after the delivery end (BS992)"),
        (lambda ls: ls.insert(1, ls[2]), 2, "BS042 outside a section (BS012 … BS092)"),
        (
            lambda ls: ls.insert(3, ls[1]),
            4,
            "BS012 a section start while the section of line 2 is open",
        ),
        (lambda ls: ls.insert(3, ""), 4, "an empty line"),
        (
            lambda ls: ls.insert(3, "HELLO WORLD"),
            4,
            "not a Betalingsservice record (BS002 … BS992)",
        ),
        (
            lambda ls: ls.__setitem__(1, with_field(ls[1], 30, "\x00")),
            2,
            "byte 0x00 at offset 30 is not printable Latin-1",
        ),
        (
            lambda ls: ls.__setitem__(0, with_field(ls[0], 16, "0601")),
            1,
            "BS002 delivery type (offset 16, length 4): is '0601', expected 0602",
        ),
    ],
)
def test_structure_and_codes_are_checked(edit, line, reason) -> None:  # type: ignore[no-untyped-def]
    lines = fixture_lines()
    edit(lines)
    error = refused(delivery(*lines))
    assert (error.line_number, error.reason) == (line, reason)


def test_a_utf8_file_is_refused_by_name() -> None:
    lines = fixture_lines()
    lines[4] = with_field(lines[4], 69, "INVÆ")
    data = "\r\n".join(lines).encode("utf-8")
    error = refused(data)
    assert (error.line_number, error.reason) == (
        5,
        "the file is UTF-8 encoded; Betalingsservice files are Latin-1",
    )


def test_an_empty_file() -> None:
    error = refused(b"")
    assert (error.line_number, error.reason) == (
        1,
        "the file is empty: a delivery starts with BS002",
    )


# --- 0603 -------------------------------------------------------------------------------------


def mandate(code: str, customer: int, number: str, effective: str, end: str) -> str:
    return rec("BS042", PBS, code, "000", "00001", f"{customer:015d}", number, effective, end)


def mandate_section(section: str, *records: str) -> list[str]:
    return [
        rec("BS012", PBS, section, "   ", "00001", " " * 24, "030225"),
        *records,
        rec(
            "BS092",
            PBS,
            section,
            "000",
            "00001",
            " " * 6,
            f"{len(records):011d}",
            "0" * 15,
            "0" * 11,
            " " * 15,
            "0" * 11,
        ),
    ]


def mandate_delivery(*sections: list[str]) -> bytes:
    records = [line for section in sections for line in section]
    count = sum(1 for line in records if line.startswith("BS042"))
    return delivery(
        rec("BS002", SUPPLIER, "BS1", "0603", "0000000009", " " * 19, "030225"),
        *records,
        rec(
            "BS992",
            SUPPLIER,
            "BS1",
            "0603",
            f"{len(sections):011d}",
            f"{count:011d}",
            "0" * 15,
            "0" * 11,
            "0" * 15,
            "0" * 11,
            "0" * 34,
        ),
    )


def test_0603_mandate_changes() -> None:
    data = mandate_delivery(
        mandate_section(
            "0212",
            mandate("0231", 100234, "000123456", "010325", "000000"),
            mandate("0232", 101502, "000124001", "010799", "280225"),
            mandate("0233", 101777, "000124350", "150624", "310325"),
            mandate("0234", 100871, "000123789", "011022", "030225"),
        ),
        mandate_section("0210", mandate("0230", 100234, "000123456", "010325", "000000")),
        mandate_section("0219", mandate("0230", 100999, "999999999", "200125", "000000")),
    )

    got = read_0603(data)

    assert got[0] == MandateChange(
        transaction_code="0231",
        section="0212",
        creditor_pbs=PBS,
        debtor_group="00001",
        customer_number="000000000100234",
        mandate_number="000123456",
        effective_date=date(2025, 3, 1),
        end_date=None,
        line_number=3,
    )
    assert [(c.transaction_code, c.event, c.customer_number_int) for c in got] == [
        ("0231", "registered", 100234),
        ("0232", "cancelled_by_bank", 101502),
        ("0233", "cancelled_by_creditor", 101777),
        ("0234", "cancelled_by_bs", 100871),
        ("0230", "active", 100234),
        ("0230", "active", 100999),
    ]
    assert [c.is_cancellation for c in got] == [False, True, True, True, False, False]
    assert [c.is_fi_card_agreement for c in got] == [False] * 5 + [True]
    assert (got[1].effective_date, got[1].end_date) == (date(1999, 7, 1), date(2025, 2, 28))
    assert [c.section for c in got] == ["0212"] * 4 + ["0210", "0219"]
    assert [c.line_number for c in got] == [3, 4, 5, 6, 9, 12]


def test_0603_codes_belong_to_their_section() -> None:
    error = refused(
        mandate_delivery(mandate_section("0210", mandate("0231", 1, "000000001", "010325", "0"))),
        read_0603,
    )
    assert (error.line_number, error.reason) == (
        3,
        "BS042 transaction code (offset 13, length 4): is '0231', expected 0230",
    )
    error = refused(
        mandate_delivery(mandate_section("0219", mandate("0230", 1, "000000001", "010325", "0"))),
        read_0603,
    )
    assert (error.line_number, error.reason) == (
        3,
        "BS042 mandate number (offset 40, length 9): not 999999999 in section 0219",
    )
    error = refused(
        mandate_delivery(mandate_section("0212", mandate("0233", 1, "000000001", "280225", "XX"))),
        read_0603,
    )
    assert (error.line_number, error.reason) == (
        3,
        "BS042 end date (offset 55, length 6): not 6 digits",
    )


# --- 0601 -------------------------------------------------------------------------------------


def test_write_0601_reproduces_the_fixture_byte_for_byte() -> None:
    written = write_0601(FIXTURE_REQUESTS, **FIXTURE_HEADER)  # type: ignore[arg-type]
    assert written == REQUESTS_0601
    assert all(len(line) == 128 for line in written.split(b"\r\n")[:-1])


def test_read_0601_reads_the_fixture() -> None:
    assert read_0601(REQUESTS_0601) == Delivery0601(
        data_supplier=SUPPLIER,
        system_code="BS1",
        delivery_id=31,
        created=date(2025, 1, 20),
        creditor_pbs=PBS,
        debtor_group="00001",
        creditor_ident="WATTLINE-BS",
        bank_registration="1234",
        bank_account="0001234567",
        main_text="Wattline El A/S - elregning januar 2025",
        requests=FIXTURE_REQUESTS,
    )


def test_0601_round_trip() -> None:
    requests = (
        PaymentRequest(7, "1", date(2025, 3, 3), Decimal("0"), "", ("Kun advisering",)),
        PaymentRequest(
            123456789012345,
            "987654321",
            date(2025, 3, 31),
            Decimal("99999999999.99"),
            "X" * 30,
            tuple(f"Linje {n}: Beløb for måleren på Ærø" for n in range(1, 13)),
        ),
        PaymentRequest(8, "000000002", date(2025, 3, 3), Decimal("0.01"), "INV-1"),
    )
    written = write_0601(
        requests,
        data_supplier=SUPPLIER,
        creditor_pbs=PBS,
        debtor_group="42",
        delivery_id=9999999999,
        created=date(2025, 2, 20),
        bank_registration="9999",
        bank_account="42",
    )
    back = read_0601(written)

    assert back.requests == (
        replace(requests[0], mandate_number="000000001", amount=Decimal("0.00")),
        requests[1],
        requests[2],
    )
    assert (back.debtor_group, back.delivery_id, back.bank_account) == (
        "00042",
        9999999999,
        "0000000042",
    )
    assert (back.creditor_ident, back.main_text, back.created) == ("", "", date(2025, 2, 20))
    lines = written.decode("latin-1").split("\r\n")
    assert lines[-1] == ""
    assert lines[2][59:73] == "00000000000000"  # no amount: sign code 0
    assert lines[-3][31:68] == f"{3:011d}{9999999999999 + 1:015d}{13:011d}"
    assert lines[-2][20:68] == f"{1:011d}{3:011d}{9999999999999 + 1:015d}{13:011d}"
    assert "Beløb for måleren på Ærø".encode("latin-1") in written


def request(**changes: object) -> PaymentRequest:
    return replace(FIXTURE_REQUESTS[0], **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (request(amount=Decimal("842.135")), "amount has a fraction of an øre"),
        (request(amount=Decimal("-842.13")), "amount is negative; payouts are not supported"),
        (request(amount=Decimal("100000000000.00")), "amount is over 13 digits of øre"),
        (request(amount=842.13), "amount is a finite Decimal (kroner)"),
        (request(amount=Decimal("NaN")), "amount is a finite Decimal (kroner)"),
        (request(reference="INV2025000117-" + "X" * 17), "reference is over 30 characters"),
        (request(reference="FAKTURA-Ø-117"), "reference is not printable ASCII"),
        (request(reference=" INV1"), "reference has leading or trailing blanks"),
        (request(advice=("x" * 61,)), "advice line 1 is over 60 characters"),
        (request(advice=("ok", "tab\there")), "advice line 2 is not printable Latin-1"),
        (request(advice=("€ 842",)), "advice line 1 is not printable Latin-1"),
        (request(mandate_number="12345678A"), "mandate number is not digits"),
        (request(mandate_number="1234567890"), "mandate number has at most 9 digits"),
        (request(due_date=date(2025, 1, 19)), "due date is before the delivery is created"),
    ],
)
def test_write_0601_refuses_what_nets_would_misread(bad: PaymentRequest, message: str) -> None:
    with pytest.raises(BsRequestError) as caught:
        write_0601([bad], **FIXTURE_HEADER)  # type: ignore[arg-type]
    assert str(caught.value) == f"request 1 (customer 100234): {message}"


def test_write_0601_refuses_bad_headers_and_doubles() -> None:
    def message(requests: list[PaymentRequest], **changes: object) -> str:
        with pytest.raises(BsRequestError) as caught:
            write_0601(requests, **{**FIXTURE_HEADER, **changes})  # type: ignore[arg-type]
        return str(caught.value)

    assert message([]) == "a delivery needs at least one payment request"
    assert message([FIXTURE_REQUESTS[0], FIXTURE_REQUESTS[0]]) == (
        "request 2 (customer 100234): a second payment for this customer on this due date"
    )
    assert message([request(customer_number=0)]) == ("request 1: customer number is 1 to 15 digits")
    assert message(list(FIXTURE_REQUESTS), creditor_pbs="4567890") == (
        "creditor PBS number has exactly 8 digits"
    )
    assert message(list(FIXTURE_REQUESTS), main_text="x" * 61) == (
        "main text is at most 60 printable Latin-1 characters"
    )
    assert message(list(FIXTURE_REQUESTS), delivery_id=10**10) == "delivery id is 0 to 9999999999"


def test_read_0601_checks_advice_lines_belong_to_their_payment() -> None:
    lines = REQUESTS_0601.decode("latin-1").split("\r\n")[:-1]
    lines[4] = with_field(lines[4], 17, "00003")
    error = refused(delivery(*lines), read_0601)
    assert (error.line_number, error.reason) == (
        5,
        "BS052 record number (offset 17, length 5): not 2",
    )
    lines = REQUESTS_0601.decode("latin-1").split("\r\n")[:-1]
    lines[6] = with_field(lines[6], 27, f"{100234:015d}")
    error = refused(delivery(*lines), read_0601)
    assert (error.line_number, error.reason) == (
        7,
        "BS052 customer and mandate number (offset 27, length 24): not the payment's (line 6)",
    )


def test_write_0602_reads_back_as_written_and_matches_the_fixture() -> None:
    from wattline_invoicing.adapters.betalingsservice import write_0602

    written = write_0602(
        list(EXPECTED_RESULTS), data_supplier=SUPPLIER, creditor_pbs=PBS, debtor_group="00001",
        delivery_id=417, created=date(2025, 2, 3),
    )  # fmt: skip
    back = read_0602(written)
    assert [replace(r, line_number=0) for r in back.results] == [
        replace(r, line_number=0) for r in EXPECTED_RESULTS
    ]
    assert written == RESULTS_0602  # what Nets wrote, byte for byte
