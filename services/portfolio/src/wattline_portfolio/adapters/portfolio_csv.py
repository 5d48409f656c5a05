"""The portfolio import file: UTF-8 CSV, a header row, comma separated (RFC 4180 quoting).

Reads the bytes into rows of column -> text (stripped), with their line numbers; refuses a
file that is not one (``CsvRefused``). What the columns mean is checked in
``domain/portfolio_import.py``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass


class CsvRefused(Exception):
    """The whole file is refused: *kind* is the problem type, *status* its HTTP status."""

    def __init__(self, status: int, kind: str, title: str, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail, self.extra = (
            status,
            kind,
            title,
            detail,
            extra,
        )


@dataclass(frozen=True)
class CsvRow:
    """One data row: its line in the file (the header is line 1) and its values by column, or
    why the row could not be read as one."""

    line: int
    values: dict[str, str]
    problem: str | None = None


def read(
    body: bytes, *, required: Iterable[str], optional: Iterable[str], max_rows: int
) -> list[CsvRow]:
    """The data rows of *body*. Refused: not UTF-8, empty, a header without a required column
    or with an unknown or repeated one, more than *max_rows* rows, or broken CSV quoting."""
    try:
        text = body.decode("utf-8-sig")  # a byte-order mark (Excel's UTF-8) is not data
    except UnicodeDecodeError as exc:
        raise CsvRefused(
            415,
            "csv-not-utf8",
            "The file is not UTF-8",
            f"byte {exc.start} is not UTF-8; export the file as UTF-8 CSV",
        ) from None
    if not text.strip():
        raise CsvRefused(400, "empty-csv", "The file is empty", "a header row and rows expected")
    if "\x00" in text:  # no value may hold it, and Postgres text cannot store it
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CsvRefused(
            400, "invalid-csv", "The file is not valid CSV", f"line {line}: a NUL character"
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
        _check_header(header, tuple(required), tuple(optional))
        rows: list[CsvRow] = []
        for fields in reader:
            if not fields or not any(f.strip() for f in fields):
                continue  # a blank line
            if len(rows) >= max_rows:
                raise CsvRefused(
                    413,
                    "import-too-large",
                    "Too many rows",
                    f"more than {max_rows} rows; split the file",
                    max_rows=max_rows,
                )
            line = reader.line_num
            if len(fields) != len(header):
                problem = f"{len(fields)} fields, the header has {len(header)}"
                rows.append(CsvRow(line, {}, problem))
                continue
            rows.append(CsvRow(line, {h: f.strip() for h, f in zip(header, fields, strict=True)}))
    except csv.Error as exc:
        raise CsvRefused(
            400, "invalid-csv", "The file is not valid CSV", f"line {reader.line_num}: {exc}"
        ) from None
    return rows


def _check_header(header: list[str], required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    known = set(required) | set(optional)
    missing = [c for c in required if c not in header]
    if missing:
        hint = (
            " (the file must be comma separated)" if len(header) == 1 and ";" in header[0] else ""
        )
        raise CsvRefused(
            400,
            "csv-missing-columns",
            "Required columns are missing",
            f"missing {', '.join(missing)}{hint}",
            missing=missing,
        )
    unknown = [c for c in header if c not in known]
    if unknown:
        raise CsvRefused(
            400,
            "csv-unknown-columns",
            "Unknown columns",
            f"unknown {', '.join(unknown)}; the columns are {', '.join((*required, *optional))}",
            unknown=unknown,
        )
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise CsvRefused(
            400, "csv-repeated-columns", "Repeated columns", f"repeated {', '.join(repeated)}"
        )
