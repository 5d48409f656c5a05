"""A bank statement as CSV: the documented columns a supplier exports from its net bank.

UTF-8 (a byte-order mark is allowed), comma or semicolon separated (the first line decides),
a header row with these columns (any order, case-insensitive):

| column | required | what |
|---|---|---|
| ``entry_id`` | yes | the bank's id of the entry (the same entry imported twice is booked once) |
| ``booking_date`` | yes | ``YYYY-MM-DD`` or ``DD-MM-YYYY`` / ``DD.MM.YYYY`` |
| ``amount`` | yes | kroner: ``1234.56``, ``1234,56`` or ``1.234,56``; < 0 (money out) is skipped |
| ``reference`` | yes | the payer's text: the +71 payment id or our invoice number if given |
| ``counterparty`` | no | the payer's name as the bank shows it (kept out of our records) |

The whole file is checked before anything is booked: one bad row refuses the file, naming
its line and column, never its value.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

REQUIRED = ("entry_id", "booking_date", "amount", "reference")
OPTIONAL = ("counterparty",)
# Danish (1.234,56 / 1234,56) or plain (1234.56); at most a billion kroner. A dot followed by
# three digits and no comma ("1.234") is the thousands of a Danish amount, never 1.234 kr.
_AMOUNT = re.compile(r"^-?(\d{1,10}|\d{1,3}(\.\d{3}){1,3})(,\d{1,2})?$|^-?\d{1,10}(\.\d{1,2})?$")
_GROUPED = re.compile(r"^-?\d{1,3}(\.\d{3}){1,3}$")


class StatementRefused(ValueError):
    """The file is not a statement we can book: the reasons name lines and columns."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons[:20]))
        self.reasons = reasons


@dataclass(frozen=True)
class Entry:
    line: int
    entry_id: str
    booking_date: date
    amount: Decimal
    reference: str


def _date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    raise ValueError("not a date")


def _amount(text: str) -> Decimal:
    value = text.replace(" ", "")
    if not _AMOUNT.match(value):
        raise ValueError("not an amount")
    if "," in value or _GROUPED.match(value):
        value = value.replace(".", "").replace(",", ".")
    try:
        return Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError("not an amount") from None


def read(body: bytes, max_rows: int = 200_000) -> list[Entry]:
    """The entries of a statement (money in and out); StatementRefused when it is not one."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementRefused(["the file is not UTF-8"]) from None
    if "\x00" in text:
        raise StatementRefused(["the file holds a NUL character"])
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
        if missing or unknown or len(set(header)) != len(header):
            raise StatementRefused(
                [f"missing columns {missing}"] * bool(missing)
                + [f"unknown columns {unknown}"] * bool(unknown)
                + ["a column repeats"] * (len(set(header)) != len(header))
            )
        entries: list[Entry] = []
        reasons: list[str] = []
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            line = reader.line_num
            if len(entries) >= max_rows:
                raise StatementRefused([f"more than {max_rows} rows"])
            if len(fields) != len(header):
                reasons.append(f"line {line}: {len(fields)} fields, the header has {len(header)}")
                continue
            row = {h: f.strip() for h, f in zip(header, fields, strict=True)}
            bad = []
            try:
                booked = _date(row["booking_date"])
            except ValueError:
                bad.append("booking_date")
            try:
                amount = _amount(row["amount"])
            except ValueError:
                bad.append("amount")
            if not row["entry_id"] or len(row["entry_id"]) > 100:
                bad.append("entry_id")
            if len(row["reference"]) > 500:
                bad.append("reference")
            if bad:
                reasons.append(f"line {line}: {', '.join(bad)} not valid")
                continue
            entries.append(Entry(line, row["entry_id"], booked, amount, row["reference"]))
    except csv.Error as exc:
        raise StatementRefused([f"line {reader.line_num}: not valid CSV ({exc})"]) from None
    if reasons:
        raise StatementRefused(reasons)
    if not entries:
        raise StatementRefused(["no entries"])
    return entries
