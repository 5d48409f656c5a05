"""Betalingsservice (Nets direct debit) deliveries, bytes in and bytes out.

We send a **0601** delivery (payment requests) and receive **0602** (payment results) and
**0603** (mandate changes). This module turns those files into frozen values and back, with no
I/O, so the transport (Nets' file channel) and the booking (``domain.payments``) stay apart.

Layout
------
A delivery is Latin-1 text in records of 128 characters, one per line (CRLF; LF is accepted,
and so are trimmed trailing blanks, which Nets' 0601 guide even asks senders to remove). The
record type is ``BS`` + 3 digits at offset 0:

======  ==============================================================================
BS002   delivery start: data supplier (CVR) 5:8, system code 13:3, delivery type 16:4,
        delivery id 20:10, creation date 49:6 ``DDMMYY``
BS012   section start: creditor PBS number 5:8, section 13:4, debtor group (0602/0603 20:5,
        0601 22:5), ...
BS022   name and address lines (0601; 0602 section 0215 for ``+73`` slips)
BS042   the payload; a 4-digit transaction code at 13:4 says what it is
BS052   text lines (0601 advice, 0602 payer's free text)
BS092   section end: number of BS042 31:11, amount 42:15, number of BS052 57:11, BS022 83:11
BS992   delivery end: sections 20:11, then the same four controls as BS092
======  ==============================================================================

Offsets are 0-based ``offset:length``. A debtor is (debtor group, kundenummer = our customer
number, 15 digits zero-padded, aftalenummer = the mandate, 9 digits). Amounts are unsigned
øre, 13 digits, with a sign code: 0 no amount, 1 collection (the debtor pays), 2 payout. Dates
are ``DDMMYY`` (two-digit years below 70 are 20xx), in 0601 payments ``DDMMYYYY``.

Sources and status
------------------
The offsets come from ``shared/reference/payments.md`` §1 **[P]** (two public
implementations) and were checked against PBS's own guides in the public repository
mseebach/PBS-parser (``doc/``): "Guidelines for Data Suppliers, Delivery 0602" (22 April 2009),
"... Delivery 0603" (22 April 2010) and "Vejledning for dataleverandører, leverance 0601"
(5 February 2010). Every offset used here agrees with those editions, but they are old:
**[A]** check everything against Nets' current *Teknisk vejledning* before production.
The 0603 layout (``read_0603``) was specified to us only as assumed **[A]**: the BS042 base
layout with a DDMMYY date at 49:6; the 2010 guide agrees and adds the end date at 55:6.

What a reader checks
--------------------
Every line: printable Latin-1 (a UTF-8 file is refused by name), at most 128 characters, a
known record type. The frame: BS002 first, sections BS012 … BS092, BS992 last, nothing after
it. Every numeric field is digits, every date a real date. Inside a section the BS042 records
carry the section's PBS number and debtor group and a transaction code the section allows.
Controls: each BS092 repeats the section's PBS number, section and debtor group and its
counts of BS042, BS052 and BS022 records and its amount equal the records'; BS992 repeats
BS002's data supplier, system code and delivery type, and its section count, record counts and
amount (the sum of the BS092 amounts) agree. Fillers are not checked. Errors are
``BsFormatError(line_number, reason)``; a reason names the record and field and never repeats
a field's content, except short codes (record type, transaction code, sign code, section).

Where the guides and the fixtures differ
----------------------------------------
* The amount in a 0602 section 0211's BS092/BS992 is, per the 2009 guide's prose, the sum of
  the amounts *paid* (116-128). The guide's own example and our fixture
  (``bs-0602-payment-results.txt``: 303198 øre = all four requested amounts, of which only
  135503 were paid) both sum the amounts *requested* (56:13). We follow the fixture. For
  section 0215 no trustworthy example exists: the amount may be either sum **[A]**.
* The guide has ``000`` at 17:3 of BS012 in 0602; the fixture has blanks. Fillers are not read.
* The 0601 guide asks for trailing blanks to be trimmed; the fixture pads every line to 128
  and we write it that way **[A]**: ask Nets which one their channel wants.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, cast

LINE_LENGTH = 128
MAX_OERE = 10**13 - 1  # 13 digits: 99,999,999,999.99 kr
MAX_TOTAL_OERE = 10**15 - 1  # the 15-digit controls of BS092/BS992
MAX_ADVICE_LINES = 5000  # BS052 record numbers 00001-05000 per payment (0601 guide 6.1.5)

ResultCode = Literal["0236", "0237", "0238", "0239"]
FiCardCode = Literal["0297", "0299"]
MandateCode = Literal["0230", "0231", "0232", "0233", "0234"]
MandateEvent = Literal[
    "active", "registered", "cancelled_by_bank", "cancelled_by_creditor", "cancelled_by_bs"
]

_KNOWN_RECORDS = frozenset({"002", "012", "022", "042", "052", "062", "092", "992"})
_NOT_PRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ASCII = re.compile(r"^[\x20-\x7e]*$")
_LATIN1 = re.compile(r"^[\x20-\x7e\xa0-\xff]*$")
_MANDATE_EVENTS: dict[str, MandateEvent] = {
    "0230": "active",
    "0231": "registered",
    "0232": "cancelled_by_bank",
    "0233": "cancelled_by_creditor",
    "0234": "cancelled_by_bs",
}
_FI_AGREEMENT = "999999999"  # the aftalenummer of every Elektronisk indbetalingskort agreement


class BsFormatError(ValueError):
    """A delivery we cannot read. *reason* names the record and field, never its content, so
    the message can go to a log or a back-office screen without leaking a customer's data."""

    def __init__(self, line_number: int, reason: str) -> None:
        super().__init__(f"line {line_number}: {reason}")
        self.line_number = line_number
        self.reason = reason


class BsRequestError(ValueError):
    """A payment request we refuse to write: Nets would reject the delivery, or worse, collect
    a different amount than we invoiced."""


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentResult:
    """One BS042 of a 0602 section 0211: what became of an automatic payment we requested.

    0236 completed, 0237 rejected by the debtor's bank, 0238 cancelled before the due date,
    0239 charged back after completion (find the payment it reverses by customer number,
    reference and due date). Amounts are kroner, negative for a payout (sign code 2).
    """

    transaction_code: ResultCode
    creditor_pbs: str
    debtor_group: str
    customer_number: str  # 15 digits as Nets wrote them
    mandate_number: str
    due_date: date
    amount_requested: Decimal
    reference: str
    paid_date: date | None
    booked_date: date | None
    amount_paid: Decimal
    line_number: int

    @property
    def customer_number_int(self) -> int:
        """Our customer number without the zero padding."""
        return int(self.customer_number)


@dataclass(frozen=True)
class FiCardPayment:
    """One BS042 of a 0602 section 0215: a payment made with an FI card (indbetalingskort),
    0297 completed or 0299 charged back. The card carries no mandate; the payer is named by
    the payment id on the card (``+71``/``+75``) or, for ``+73``, by the address and text lines
    that come with it."""

    transaction_code: FiCardCode
    creditor_pbs: str
    debtor_group: str
    customer_number: str  # 15 characters, "" when blank (card type 73)
    card_type: str  # "71", "73", "75", ...
    fee: Decimal  # the bank's fee for a damaged card, deducted from our account
    payment_date: date
    amount: Decimal
    reference: str  # the first 9 characters of the 0601 reference, if any
    archive_reference: str
    paid_date: date | None
    booked_date: date | None
    amount_paid: Decimal
    line_number: int
    payer_address: tuple[str, ...] = ()  # BS022 0290 lines, +73 only
    payer_text: tuple[str, ...] = ()  # BS052 0295 lines, +73/+75

    @property
    def payment_id(self) -> str | None:
        """The payment id printed on the card, or None (``+73`` cards have none).

        A ``+71`` id is the 15 digits as given. A ``+75`` id has 16 digits but the field has
        15: Nets' 0602 guide (4.4) allows only ids of at most 15 significant digits there,
        right-aligned, so the 16-digit id is the field with a leading zero.
        """
        if self.card_type == "73" or not self.customer_number:
            return None
        if self.card_type == "75":
            return self.customer_number.zfill(16)
        return self.customer_number


@dataclass(frozen=True)
class Delivery0602:
    """A 0602 delivery: the results of our automatic payments and the FI-card payments."""

    data_supplier: str
    system_code: str
    delivery_id: int  # Nets' serial number of the delivery
    created: date
    results: tuple[PaymentResult, ...]
    fi_card_payments: tuple[FiCardPayment, ...]


@dataclass(frozen=True)
class MandateChange:
    """One BS042 of a 0603 delivery: a mandate (betalingsaftale) as Betalingsservice sees it.

    Section 0210 lists every active mandate (0230), 0212 the ones registered (0231) or
    cancelled by the bank, the creditor or Betalingsservice (0232/0233/0234) since the last
    0603, and 0219 the active Elektronisk indbetalingskort agreements (0230, mandate
    999999999). *effective_date* is when the mandate takes or took effect; *end_date* when it
    ends (a cancellation may be dated up to 180 days ahead), None if no end is notified.
    """

    transaction_code: MandateCode
    section: str
    creditor_pbs: str
    debtor_group: str
    customer_number: str
    mandate_number: str
    effective_date: date
    end_date: date | None
    line_number: int

    @property
    def customer_number_int(self) -> int:
        """Our customer number without the zero padding."""
        return int(self.customer_number)

    @property
    def event(self) -> MandateEvent:
        """What the transaction code means, for code that should not know the codes."""
        return _MANDATE_EVENTS[self.transaction_code]

    @property
    def is_cancellation(self) -> bool:
        """Cancelled by the bank, by us or by Betalingsservice: stop collecting by BS."""
        return self.transaction_code in ("0232", "0233", "0234")

    @property
    def is_fi_card_agreement(self) -> bool:
        """An agreement to receive FI cards in net banking, not a direct-debit mandate."""
        return self.mandate_number == _FI_AGREEMENT


@dataclass(frozen=True)
class PaymentRequest:
    """One payment we ask Betalingsservice to collect: a BS042 0280 and its advice lines
    (BS052 0241, at most 60 characters each, printed on the debtor's payment overview)."""

    customer_number: int
    mandate_number: str
    due_date: date
    amount: Decimal  # kroner, >= 0, whole øre
    reference: str  # <= 30 ASCII characters; comes back in 0602 (9 characters for FI cards)
    advice: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery0601:
    """A 0601 delivery as ``write_0601`` writes it: one section 0112."""

    data_supplier: str
    system_code: str
    delivery_id: int
    created: date | None
    creditor_pbs: str
    debtor_group: str
    creditor_ident: str
    bank_registration: str
    bank_account: str
    main_text: str
    requests: tuple[PaymentRequest, ...]


# --- lines and fields -------------------------------------------------------------------------


class _Rec:
    """One record, padded to 128 characters, with typed field readers that fail naming the
    line, the record and the field."""

    __slots__ = ("line", "text")

    def __init__(self, line: int, text: str) -> None:
        self.line = line
        self.text = text.ljust(LINE_LENGTH)

    @property
    def kind(self) -> str:
        return self.text[2:5]

    def error(self, reason: str) -> BsFormatError:
        return BsFormatError(self.line, f"BS{self.kind} {reason}")

    def fail(self, name: str, offset: int, length: int, problem: str) -> BsFormatError:
        return self.error(f"{name} (offset {offset}, length {length}): {problem}")

    def raw(self, offset: int, length: int) -> str:
        return self.text[offset : offset + length]

    def digits(self, name: str, offset: int, length: int) -> str:
        value = self.raw(offset, length)
        if not (value.isascii() and value.isdigit()):
            raise self.fail(name, offset, length, f"not {length} digits")
        return value

    def number(self, name: str, offset: int, length: int) -> int:
        return int(self.digits(name, offset, length))

    def code(self, name: str, offset: int, length: int, allowed: Collection[str]) -> str:
        """A short code field; its value is echoed in the error, codes are not personal."""
        value = self.raw(offset, length)
        if value not in allowed:
            expected = ", ".join(sorted(allowed))
            raise self.fail(name, offset, length, f"is {value!r}, expected {expected}")
        return value

    def alnum(self, offset: int, length: int) -> str:
        return self.raw(offset, length).rstrip()

    def opt_date6(self, name: str, offset: int) -> date | None:
        value = self.digits(name, offset, 6)
        if value == "000000":
            return None
        year = int(value[4:6])
        try:
            return date(2000 + year if year < 70 else 1900 + year, int(value[2:4]), int(value[:2]))
        except ValueError:
            raise self.fail(name, offset, 6, "not a date DDMMYY") from None

    def date6(self, name: str, offset: int) -> date:
        found = self.opt_date6(name, offset)
        if found is None:
            raise self.fail(name, offset, 6, "no date (000000)")
        return found

    def opt_date8(self, name: str, offset: int) -> date | None:
        value = self.digits(name, offset, 8)
        if value == "00000000":
            return None
        try:
            return date(int(value[4:8]), int(value[2:4]), int(value[:2]))
        except ValueError:
            raise self.fail(name, offset, 8, "not a date DDMMYYYY") from None

    def date8(self, name: str, offset: int) -> date:
        found = self.opt_date8(name, offset)
        if found is None:
            raise self.fail(name, offset, 8, "no date (00000000)")
        return found


def _records(data: bytes) -> list[_Rec]:
    """The lines of *data* as records; refuses what is not a Betalingsservice text file."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("a delivery is bytes")
    if any(byte >= 0x80 for byte in data):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Latin-1 Danish text is practically never valid UTF-8 (æ is E6, which UTF-8 must
            # follow with two bytes 80-BF, not a letter), so a file that decodes as UTF-8 and
            # has non-ASCII in it was written as UTF-8: its names would come out garbled.
            first = next(i for i, part in enumerate(text.split("\n"), 1) if not part.isascii())
            raise BsFormatError(
                first, "the file is UTF-8 encoded; Betalingsservice files are Latin-1"
            )
    parts = bytes(data).decode("latin-1").split("\n")
    if parts and parts[-1] == "":
        parts.pop()  # the final line break
    if not parts:
        raise BsFormatError(1, "the file is empty: a delivery starts with BS002")
    records: list[_Rec] = []
    for number, part in enumerate(parts, 1):
        line = part[:-1] if part.endswith("\r") else part
        bad = _NOT_PRINTABLE.search(line)
        if bad is not None:
            raise BsFormatError(
                number,
                f"byte 0x{ord(bad.group()):02X} at offset {bad.start()} is not printable Latin-1",
            )
        if not line:
            raise BsFormatError(number, "an empty line")
        if len(line) > LINE_LENGTH:
            raise BsFormatError(
                number, f"the line has {len(line)} characters, a record has {LINE_LENGTH}"
            )
        if line[:2] != "BS" or line[2:5] not in _KNOWN_RECORDS:
            raise BsFormatError(number, "not a Betalingsservice record (BS002 … BS992)")
        records.append(_Rec(number, line))
    return records


# --- frame and controls -----------------------------------------------------------------------


@dataclass
class _Section:
    start: _Rec
    body: list[_Rec]
    end: _Rec


@dataclass
class _Frame:
    head: _Rec
    sections: list[_Section]
    tail: _Rec


def _frame(records: list[_Rec], delivery_type: str) -> _Frame:
    """BS002, then sections BS012 … BS092, then BS992 and nothing else: a file cut short or
    two files run together is refused before any record is believed."""
    head = records[0]
    if head.kind != "002":
        raise BsFormatError(head.line, "a delivery starts with BS002")
    head.code("delivery type", 16, 4, (delivery_type,))
    sections: list[_Section] = []
    start: _Rec | None = None
    body: list[_Rec] = []
    tail: _Rec | None = None
    for rec in records[1:]:
        if tail is not None:
            raise rec.error("after the delivery end (BS992)")
        if rec.kind == "002":
            raise rec.error("a second delivery start: one delivery per file")
        if rec.kind == "012":
            if start is not None:
                raise rec.error(f"a section start while the section of line {start.line} is open")
            start, body = rec, []
        elif rec.kind == "092":
            if start is None:
                raise rec.error("a section end without a section start (BS012)")
            sections.append(_Section(start, body, rec))
            start = None
        elif rec.kind == "992":
            if start is not None:
                raise rec.error(f"the delivery ends while the section of line {start.line} is open")
            tail = rec
        elif start is None:
            raise rec.error("outside a section (BS012 … BS092)")
        else:
            body.append(rec)
    if tail is None:
        raise BsFormatError(records[-1].line, "the file ends without a delivery end (BS992)")
    return _Frame(head, sections, tail)


def _count(section: _Section, kind: str) -> int:
    return sum(1 for rec in section.body if rec.kind == kind)


def _check_section_end(
    section: _Section, *, group_offset: int, totals: Collection[int], summed: str
) -> int:
    """BS092 against its section; returns the section's amount as BS092 states it."""
    start, end = section.start, section.end
    for name, offset, length in (
        ("PBS number", 5, 8),
        ("section number", 13, 4),
        ("debtor group", group_offset, 5),
    ):
        if end.raw(offset, length) != start.raw(offset, length):
            raise end.fail(
                name, offset, length, f"differs from the section start (line {start.line})"
            )
    for name, offset, kinds in (
        ("number of BS042 records", 31, ("042",)),
        ("number of BS052 records", 57, ("052", "062")),
        ("number of BS022 records", 83, ("022",)),
    ):
        stated = end.number(name, offset, 11)
        actual = sum(_count(section, kind) for kind in kinds)
        if stated != actual:
            raise end.fail(name, offset, 11, f"says {stated}, the section has {actual}")
    amount = end.number("amount", 42, 15)
    if amount not in totals:
        expected = " or ".join(str(total) for total in sorted(set(totals)))
        raise end.fail("amount", 42, 15, f"says {amount} øre, the {summed} add up to {expected}")
    return amount


def _check_delivery_end(frame: _Frame, section_amounts: Sequence[int]) -> None:
    head, tail = frame.head, frame.tail
    for name, offset, length in (
        ("data supplier", 5, 8),
        ("system code", 13, 3),
        ("delivery type", 16, 4),
    ):
        if tail.raw(offset, length) != head.raw(offset, length):
            raise tail.fail(
                name, offset, length, f"differs from the delivery start (line {head.line})"
            )
    sections = frame.sections
    for name, offset, length, actual in (
        ("number of sections", 20, 11, len(sections)),
        ("number of BS042 records", 31, 11, sum(_count(s, "042") for s in sections)),
        ("amount", 42, 15, sum(section_amounts)),
        (
            "number of BS052 records",
            57,
            11,
            sum(_count(s, "052") + _count(s, "062") for s in sections),
        ),
        ("number of BS022 records", 83, 11, sum(_count(s, "022") for s in sections)),
    ):
        stated = tail.number(name, offset, length)
        if stated != actual:
            raise tail.fail(name, offset, length, f"says {stated}, the delivery has {actual}")


def _kroner(oere: int) -> Decimal:
    return (Decimal(oere) / 100).quantize(Decimal("0.01"))


def _section_head(section: _Section, group_offset: int) -> tuple[str, str]:
    """The section's PBS number and debtor group, which every record in it must repeat."""
    return (
        section.start.digits("PBS number", 5, 8),
        section.start.digits("debtor group", group_offset, 5),
    )


def _same_debtor_group(rec: _Rec, pbs: str, group: str, group_offset: int, start: _Rec) -> None:
    if rec.digits("PBS number", 5, 8) != pbs:
        raise rec.fail("PBS number", 5, 8, f"differs from the section start (line {start.line})")
    if rec.digits("debtor group", group_offset, 5) != group:
        raise rec.fail(
            "debtor group", group_offset, 5, f"differs from the section start (line {start.line})"
        )


# --- 0602 -------------------------------------------------------------------------------------


def read_0602(data: bytes) -> Delivery0602:
    """Parse a 0602 delivery (payment results): sections 0211 (automatic payments) and 0215
    (FI-card payments). Raises ``BsFormatError`` for the first line that is wrong."""
    frame = _frame(_records(data), "0602")
    head = frame.head
    results: list[PaymentResult] = []
    fi_payments: list[FiCardPayment] = []
    amounts: list[int] = []
    for section in frame.sections:
        start = section.start
        kind = start.code("section number", 13, 4, ("0211", "0215"))
        start.date6("creation date", 49)
        if kind == "0211":
            found = [_payment_result(rec, section) for rec in section.body]
            results.extend(found)
            requested = sum(abs(_oere(r.amount_requested)) for r in found)
            amounts.append(
                _check_section_end(
                    section, group_offset=20, totals=(requested,), summed="amounts requested"
                )
            )
        else:
            cards = _fi_section(section)
            fi_payments.extend(cards)
            on_card = sum(_oere(c.amount) for c in cards)
            paid = sum(_oere(c.amount_paid) for c in cards)
            amounts.append(
                _check_section_end(
                    section, group_offset=20, totals=(on_card, paid), summed="card or paid amounts"
                )
            )
    _check_delivery_end(frame, amounts)
    return Delivery0602(
        data_supplier=head.digits("data supplier", 5, 8),
        system_code=head.alnum(13, 3),
        delivery_id=head.number("delivery id", 20, 10),
        created=head.date6("creation date", 49),
        results=tuple(results),
        fi_card_payments=tuple(fi_payments),
    )


def _oere(kroner: Decimal) -> int:
    return int(kroner * 100)


def _signed_amounts(
    rec: _Rec, sign_offset: int, amount: tuple[str, int], paid: tuple[str, int], signs: str
) -> tuple[Decimal, Decimal]:
    """The amount and the amount paid in kroner, negative for a payout (sign code 2)."""
    sign = rec.code("sign code", sign_offset, 1, tuple(signs))
    requested = rec.number(amount[0], amount[1], 13)
    paid_oere = rec.number(paid[0], paid[1], 13)
    if sign == "0" and requested != 0:
        raise rec.fail(amount[0], amount[1], 13, "not zero with sign code 0 (no amount)")
    factor = -1 if sign == "2" else 1
    return _kroner(factor * requested), _kroner(factor * paid_oere)


def _payment_result(rec: _Rec, section: _Section) -> PaymentResult:
    if rec.kind != "042":
        raise rec.error("in section 0211, which holds only BS042 records")
    pbs, group = _section_head(section, 20)
    _same_debtor_group(rec, pbs, group, 20, section.start)
    code = rec.code("transaction code", 13, 4, ("0236", "0237", "0238", "0239"))
    requested, paid = _signed_amounts(
        rec, 55, ("amount requested", 56), ("amount paid", 115), "012"
    )
    return PaymentResult(
        transaction_code=cast(ResultCode, code),
        creditor_pbs=pbs,
        debtor_group=group,
        customer_number=rec.digits("customer number", 25, 15),
        mandate_number=rec.digits("mandate number", 40, 9),
        due_date=rec.date6("due date", 49),
        amount_requested=requested,
        reference=rec.raw(69, 30).strip(),
        paid_date=rec.opt_date6("paid date", 103),
        booked_date=rec.opt_date6("booked date", 109),
        amount_paid=paid,
        line_number=rec.line,
    )


def _fi_section(section: _Section) -> list[FiCardPayment]:
    """Section 0215: BS042 0297/0299 payments, and for ``+73``/``+75`` cards the payer's
    address (BS022 0290) and free text (BS052 0295), tied to their payment by the archive
    reference that all three records carry (the guide does not say whether those lines come
    before or after their payment)."""
    pbs, group = _section_head(section, 20)
    payments: list[FiCardPayment] = []
    address: dict[str, list[tuple[int, str]]] = {}
    text: dict[str, list[tuple[int, str]]] = {}
    first_line: dict[str, _Rec] = {}
    for rec in section.body:
        _same_debtor_group(rec, pbs, group, 20, section.start)
        if rec.kind == "042":
            payments.append(_fi_payment(rec, pbs, group))
            continue
        if rec.kind not in ("022", "052"):
            raise rec.error("in section 0215, which holds BS022, BS042 and BS052 records")
        rec.code("transaction code", 13, 4, ("0290",) if rec.kind == "022" else ("0295",))
        position = rec.number("record number", 17, 3)
        archive = rec.raw(46, 22).strip()
        if not archive:
            raise rec.fail("archive reference", 46, 22, "blank: no payment to attach it to")
        lines = address if rec.kind == "022" else text
        lines.setdefault(archive, []).append((position, rec.raw(68, 35).rstrip()))
        first_line.setdefault(archive, rec)
    known = {payment.archive_reference for payment in payments}
    for archive, rec in first_line.items():
        if archive not in known:
            raise rec.fail("archive reference", 46, 22, "no payment in the section has it")
    return [
        replace(
            payment,
            payer_address=tuple(t for _, t in sorted(address.get(payment.archive_reference, []))),
            payer_text=tuple(t for _, t in sorted(text.get(payment.archive_reference, []))),
        )
        for payment in payments
    ]


def _fi_payment(rec: _Rec, pbs: str, group: str) -> FiCardPayment:
    code = rec.code("transaction code", 13, 4, ("0297", "0299"))
    customer = rec.raw(29, 15)
    if customer.strip() and not (customer.isascii() and customer.isdigit()):
        raise rec.fail("customer number", 29, 15, "not 15 digits or blank")
    fee_code = rec.code("fee code", 46, 1, ("0", "1"))
    fee = rec.number("fee", 47, 5)
    amount, paid = _signed_amounts(rec, 58, ("amount", 59), ("amount paid", 115), "01")
    return FiCardPayment(
        transaction_code=cast(FiCardCode, code),
        creditor_pbs=pbs,
        debtor_group=group,
        customer_number=customer.strip(),
        card_type=rec.digits("card type", 44, 2),
        fee=_kroner(fee if fee_code == "1" else 0),
        payment_date=rec.date6("payment date", 52),
        amount=amount,
        reference=rec.raw(72, 9).strip(),
        archive_reference=rec.raw(81, 22).strip(),
        paid_date=rec.opt_date6("paid date", 103),
        booked_date=rec.opt_date6("booked date", 109),
        amount_paid=paid,
        line_number=rec.line,
    )


# --- 0603 -------------------------------------------------------------------------------------

_MANDATE_SECTIONS: dict[str, tuple[str, ...]] = {
    "0210": ("0230",),
    "0212": ("0231", "0232", "0233", "0234"),
    "0219": ("0230",),
}


def read_0603(data: bytes) -> list[MandateChange]:
    """Parse a 0603 delivery (mandate information) into its BS042 records, in file order.

    **[A]** The layout is assumed: the BS042 base layout (PBS number 5:8, transaction code
    13:4, debtor group 20:5, customer number 25:15, mandate number 40:9) and the date the
    mandate takes effect, ``DDMMYY`` at 49:6. PBS's 2010 guide agrees and adds the end date at
    55:6 (``000000``: none), read here as well; check both against Nets' current specification.
    """
    frame = _frame(_records(data), "0603")
    changes: list[MandateChange] = []
    for section in frame.sections:
        kind = section.start.code("section number", 13, 4, tuple(_MANDATE_SECTIONS))
        section.start.date6("creation date", 49)
        pbs, group = _section_head(section, 20)
        for rec in section.body:
            if rec.kind != "042":
                raise rec.error(f"in section {kind}, which holds only BS042 records")
            _same_debtor_group(rec, pbs, group, 20, section.start)
            code = rec.code("transaction code", 13, 4, _MANDATE_SECTIONS[kind])
            mandate = rec.digits("mandate number", 40, 9)
            if kind == "0219" and mandate != _FI_AGREEMENT:
                raise rec.fail("mandate number", 40, 9, f"not {_FI_AGREEMENT} in section 0219")
            changes.append(
                MandateChange(
                    transaction_code=cast(MandateCode, code),
                    section=kind,
                    creditor_pbs=pbs,
                    debtor_group=group,
                    customer_number=rec.digits("customer number", 25, 15),
                    mandate_number=mandate,
                    effective_date=rec.date6("effective date", 49),
                    end_date=rec.opt_date6("end date", 55),
                    line_number=rec.line,
                )
            )
        _check_section_end(section, group_offset=20, totals=(0,), summed="mandate records")
    _check_delivery_end(frame, [0] * len(frame.sections))
    return changes


# --- 0601 -------------------------------------------------------------------------------------


def write_0601(
    requests: Sequence[PaymentRequest],
    *,
    data_supplier: str,
    creditor_pbs: str,
    debtor_group: str,
    delivery_id: int,
    created: date,
    bank_registration: str,
    bank_account: str,
    creditor_ident: str = "",
    main_text: str = "",
    system_code: str = "BS1",
) -> bytes:
    """A 0601 delivery asking Betalingsservice to collect *requests*: BS002, one section 0112
    (BS012, per request a BS042 0280 and its BS052 0241 advice lines, BS092), BS992. Lines are
    128 characters and CRLF, Latin-1.

    *bank_registration* and *bank_account* are the account the section's payments are settled
    to (the guide requires them; they must be registered with Betalingsservice).
    *creditor_ident* is our own name for the debtor group (15 characters, returned in 0602's
    BS012), *main_text* the second line of the debtor's payment overview (60 characters).
    *system_code* is agreed with Nets; ``BS1`` is the guide's standard [A].

    Refuses (``BsRequestError``) what Nets would reject or misread: amounts that are not whole
    øre, negative (payouts are not supported) or over 13 digits; references over 30 characters,
    not ASCII, or with leading or trailing blanks (the file cannot keep them); advice lines
    over 60 characters or not Latin-1; two requests for one customer on one due date (one
    payment per customer per date, guide 4.1); a due date before *created*.
    """
    if not requests:
        raise BsRequestError("a delivery needs at least one payment request")
    supplier = _digits(data_supplier, 8, "data supplier", exact=True)
    pbs = _digits(creditor_pbs, 8, "creditor PBS number", exact=True)
    group = _digits(debtor_group, 5, "debtor group")
    registration = _digits(bank_registration, 4, "bank registration number", exact=True)
    account = _digits(bank_account, 10, "bank account number")
    if not (isinstance(delivery_id, int) and 0 <= delivery_id < 10**10):
        raise BsRequestError("delivery id is 0 to 9999999999")
    if not re.fullmatch(r"[A-Z0-9]{3}", system_code):
        raise BsRequestError("system code is 3 capital letters or digits")
    if not _ASCII.match(creditor_ident) or len(creditor_ident) > 15:
        raise BsRequestError("creditor ident is at most 15 ASCII characters")
    if not _LATIN1.match(main_text) or len(main_text) > 60:
        raise BsRequestError("main text is at most 60 printable Latin-1 characters")
    _require_date(created, "created")

    lines = [
        f"BS002{supplier}{system_code}0601{delivery_id:010d}{'':19}{created:%d%m%y}",
        f"BS012{pbs}0112{'':5}{group}{creditor_ident:<15}{'':4}{created:%d%m%Y}"
        f"{registration}{account}{main_text:<60}",
    ]
    total = 0
    advice_count = 0
    seen: set[tuple[int, date]] = set()
    for index, request in enumerate(requests, 1):
        oere, customer, mandate = _checked(request, index, created, seen)
        total += oere
        sign = "1" if oere else "0"
        lines.append(
            f"BS042{pbs}0280{'':0>5}{group}{customer}{mandate}{request.due_date:%d%m%Y}"
            f"{sign}{oere:013d}{request.reference:<30}00"
        )
        for position, text in enumerate(request.advice, 1):
            lines.append(f"BS052{pbs}0241{position:05d}{group}{customer}{mandate} {text:<60}")
        advice_count += len(request.advice)
    if total > MAX_TOTAL_OERE:
        raise BsRequestError("the delivery's total is over 15 digits of øre")
    controls = f"{len(requests):011d}{total:015d}{advice_count:011d}"
    lines.append(f"BS092{pbs}0112{'':0>5}{group}{'':4}{controls}{'':15}{0:011d}")
    lines.append(f"BS992{supplier}{system_code}0601{1:011d}{controls}{'':0>15}{0:011d}{'':0>34}")
    out = []
    for line in lines:
        padded = line.ljust(LINE_LENGTH)
        assert len(padded) == LINE_LENGTH, "a field was not checked for its width"
        out.append(padded)
    return ("\r\n".join(out) + "\r\n").encode("latin-1")


def _digits(value: str, width: int, name: str, *, exact: bool = False) -> str:
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise BsRequestError(f"{name} is not digits")
    if len(value) > width or (exact and len(value) != width):
        raise BsRequestError(f"{name} has {'exactly' if exact else 'at most'} {width} digits")
    return value.zfill(width)


def _require_date(value: object, name: str) -> None:
    # A datetime is a date too, but a payment date has no time (and no time zone) to lose.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise BsRequestError(f"{name} is a date")


def _checked(
    request: PaymentRequest, index: int, created: date, seen: set[tuple[int, date]]
) -> tuple[int, str, str]:
    """The request's amount in øre and its customer and mandate fields, or a refusal naming
    the request by position (and our customer number, which is not personal data)."""
    customer = request.customer_number
    if isinstance(customer, bool) or not isinstance(customer, int) or not 0 < customer < 10**15:
        raise BsRequestError(f"request {index}: customer number is 1 to 15 digits")
    where = f"request {index} (customer {customer})"

    def refuse(reason: str) -> BsRequestError:
        return BsRequestError(f"{where}: {reason}")

    amount = request.amount
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise refuse("amount is a finite Decimal (kroner)")
    oere_exact = amount * 100
    if oere_exact != oere_exact.to_integral_value():
        raise refuse("amount has a fraction of an øre")
    oere = int(oere_exact)
    if oere < 0:
        raise refuse("amount is negative; payouts are not supported")
    if oere > MAX_OERE:
        raise refuse("amount is over 13 digits of øre")
    try:
        mandate = _digits(request.mandate_number, 9, "mandate number")
    except BsRequestError as error:
        raise refuse(str(error)) from None
    _require_date(request.due_date, "due date")
    if request.due_date < created:
        raise refuse("due date is before the delivery is created")
    if (customer, request.due_date) in seen:
        raise refuse("a second payment for this customer on this due date")
    seen.add((customer, request.due_date))
    reference = request.reference
    if not isinstance(reference, str) or not _ASCII.match(reference):
        raise refuse("reference is not printable ASCII")
    if len(reference) > 30:
        raise refuse("reference is over 30 characters")
    if reference != reference.strip():
        raise refuse("reference has leading or trailing blanks")
    if len(request.advice) > MAX_ADVICE_LINES:
        raise refuse(f"more than {MAX_ADVICE_LINES} advice lines")
    for position, text in enumerate(request.advice, 1):
        if not isinstance(text, str) or not _LATIN1.match(text):
            raise refuse(f"advice line {position} is not printable Latin-1")
        if len(text) > 60:
            raise refuse(f"advice line {position} is over 60 characters")
    return oere, f"{customer:015d}", mandate


def read_0601(data: bytes) -> Delivery0601:
    """Parse a 0601 delivery of the shape ``write_0601`` writes (one section 0112 of BS042
    0280 and BS052 0241), so a delivery can be checked before it is sent and archived ones
    can be read back. Name and address records (BS022), card texts (BS062) and payouts are
    refused: we never write them."""
    frame = _frame(_records(data), "0601")
    head = frame.head
    if len(frame.sections) != 1:
        line = frame.sections[1].start.line if frame.sections else frame.tail.line
        raise BsFormatError(line, "one section 0112 expected")
    section = frame.sections[0]
    start = section.start
    start.code("section number", 13, 4, ("0112",))
    start.opt_date8("creation date", 46)
    pbs, group = _section_head(section, 22)
    requests: list[PaymentRequest] = []
    payment: _Rec | None = None
    advice: list[str] = []
    total = 0

    def close() -> None:
        if payment is not None:
            requests.append(_request(payment, tuple(advice)))

    for rec in section.body:
        _same_debtor_group(rec, pbs, group, 22, start)
        if rec.kind == "042":
            close()
            rec.code("transaction code", 13, 4, ("0280",))
            rec.code("record number", 17, 5, ("00000",))
            payment, advice = rec, []
            total += rec.number("amount", 60, 13)
        elif rec.kind == "052":
            rec.code("transaction code", 13, 4, ("0241",))
            if payment is None:
                raise rec.error("an advice line before any payment (BS042)")
            if rec.raw(27, 24) != payment.raw(27, 24):
                raise rec.fail(
                    "customer and mandate number",
                    27,
                    24,
                    f"not the payment's (line {payment.line})",
                )
            if rec.number("record number", 17, 5) != len(advice) + 1:
                raise rec.fail("record number", 17, 5, f"not {len(advice) + 1}")
            advice.append(rec.raw(52, 60).rstrip())
        else:
            raise rec.error("not supported in a 0601 we read (BS042 0280 and BS052 0241 only)")
    close()
    amount = _check_section_end(section, group_offset=22, totals=(total,), summed="amounts")
    _check_delivery_end(frame, [amount])
    return Delivery0601(
        data_supplier=head.digits("data supplier", 5, 8),
        system_code=head.alnum(13, 3),
        delivery_id=head.number("delivery id", 20, 10),
        created=head.opt_date6("creation date", 49),
        creditor_pbs=pbs,
        debtor_group=group,
        creditor_ident=start.alnum(27, 15),
        bank_registration=start.digits("bank registration number", 54, 4),
        bank_account=start.digits("bank account number", 58, 10),
        main_text=start.alnum(68, 60),
        requests=tuple(requests),
    )


def _request(rec: _Rec, advice: tuple[str, ...]) -> PaymentRequest:
    sign = rec.code("sign code", 59, 1, ("0", "1"))
    oere = rec.number("amount", 60, 13)
    if sign == "0" and oere != 0:
        raise rec.fail("amount", 60, 13, "not zero with sign code 0 (no amount)")
    return PaymentRequest(
        customer_number=rec.number("customer number", 27, 15),
        mandate_number=rec.digits("mandate number", 42, 9),
        due_date=rec.date8("due date", 51),
        amount=_kroner(oere),
        reference=rec.raw(73, 30).strip(),
        advice=advice,
    )


def write_0602(
    results: Sequence[PaymentResult],
    *,
    data_supplier: str,
    creditor_pbs: str,
    debtor_group: str,
    delivery_id: int,
    created: date,
    system_code: str = "BS1",
) -> bytes:
    """A 0602 delivery as Nets writes one (section 0211 only): what a test or a simulator
    playing Nets answers to our 0601. :func:`read_0602` reads it back to *results*. The
    controls sum the amounts requested, as the fixture does (doubt 1 in the module notes)."""
    pbs = _digits(creditor_pbs, 8, "creditor PBS number", exact=True)
    group = _digits(debtor_group, 5, "debtor group", exact=True)
    supplier = _digits(data_supplier, 8, "data supplier number", exact=True)
    lines = [
        f"BS002{supplier}{system_code}0602{delivery_id:010d}{'':19}{created:%d%m%y}",
        f"BS012{pbs}0211{'':3}{group}{'':24}{created:%d%m%y}",
    ]
    total = 0
    for result in results:
        requested = int(abs(result.amount_requested) * 100)
        paid = int(abs(result.amount_paid) * 100)
        sign = "0" if not requested else ("2" if result.amount_requested < 0 else "1")
        total += requested
        paid_on = "000000" if result.paid_date is None else f"{result.paid_date:%d%m%y}"
        booked_on = "000000" if result.booked_date is None else f"{result.booked_date:%d%m%y}"
        lines.append(
            f"BS042{pbs}{result.transaction_code}000{group}"
            f"{_digits(result.customer_number, 15, 'customer number')}"
            f"{_digits(result.mandate_number, 9, 'mandate number')}{result.due_date:%d%m%y}"
            f"{sign}{requested:013d}{result.reference:<30.30}{'':4}{paid_on}{booked_on}"
            f"{paid:013d}"
        )
    count = len(results)
    lines.append(f"BS092{pbs}0211000{group}{'':6}{count:011d}{total:015d}{0:011d}{'':15}{0:011d}")
    lines.append(
        f"BS992{supplier}{system_code}0602{1:011d}{count:011d}{total:015d}"
        f"{0:011d}{0:015d}{0:011d}{'':0>34}"
    )
    return ("\r\n".join(line.ljust(LINE_LENGTH) for line in lines) + "\r\n").encode("latin-1")
