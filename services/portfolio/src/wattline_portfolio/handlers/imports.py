"""Portfolio import: the go-live migration from an old CIS (customer information system).

``POST /api/portfolio/imports`` with the CSV as the body (``Content-Type: text/csv``) imports
the metering points **we already supply** (DataHub has us as their supplier, so no BRS request
is sent) with their customers, payers, supply periods and contracts; ``GET
/api/portfolio/imports/{import_id}`` shows the report again, and ``GET /api/portfolio/imports``
lists the imports newest first (``?limit=``, ``?after=<import_id>``). The counts of a running
import grow a chunk of rows at a time, so one cut off by a client's timeout still shows what
it did (``finished_at`` empty until it is done).

    curl --data-binary @portfolio.csv -H 'content-type: text/csv' \\
         -H 'authorization: Bearer <key>' http://localhost:8000/api/portfolio/imports

Each row is imported entirely (customer, payer, metering point, supply period, contract and
their events, in one transaction) or not at all, and the rows that are fine are imported even
when others are refused. An imported row publishes exactly what a signup publishes when DataHub
activates it (``portfolio.metering_point.registered``, ``portfolio.supply_period.changed``
``started``, ``portfolio.contract.changed``, ``portfolio.customer.activated`` with ``signup_id``
``import:<external_id>``), so settlement and invoicing know it like any other. Importing the
same file again imports nothing new: ``external_id`` is a database key, and those rows are
reported as already imported. Personal data is sealed and blind-indexed as a signup's is; the
report and the log hold line numbers, external ids and column names, never a CPR/CVR or a name.

## The file

UTF-8 (a byte-order mark is allowed), comma separated, RFC 4180 quoting (``"Vej 1, 2. th"``),
a header row with these column names (any order, case-insensitive), at most 100,000 rows and
50 MB (``WATTLINE_PORTFOLIO_IMPORT_MAX_ROWS``, ``WATTLINE_PORTFOLIO_IMPORT_MAX_BYTES``). An
unknown column is refused (a misspelt optional column would otherwise be ignored silently).

The columns, which are required and what each holds: README.md, *Portfolio import* (a test
keeps that table equal to ``wattline_contracts.portfolio_import``).

Any payer column makes the row have a separate payer; an empty value is "not given".

## The answer

``201`` with the report (also when rows were refused):
``{import_id, received_at, rows, imported, already_imported, rejected, errors: [{line,
external_id, reasons: [...]}]}``. A row is refused when a value breaks a rule above, its
``external_id`` repeats an earlier line, we supply its metering point already on or after
``supply_start`` (through a signup or another row), or the metering point has an open process
(a signup under way). The whole file is refused as problem+json: ``415`` ``unsupported-media-
type`` (not ``text/csv``) or ``csv-not-utf8``; ``400`` ``empty-csv``, ``csv-missing-columns``,
``csv-unknown-columns``, ``csv-repeated-columns``, ``invalid-csv``; ``413`` ``import-too-large``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from wattline_contracts.portfolio_import import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from wattline_platform.logging import get_logger

from wattline_portfolio.adapters import imports as import_store
from wattline_portfolio.adapters import portfolio_csv, store
from wattline_portfolio.adapters import products as product_store
from wattline_portfolio.domain.portfolio_import import (
    Catalogue,
    Defaults,
    ImportRow,
    RowRejected,
    is_external_id,
    parse_row,
)
from wattline_portfolio.handlers import Portfolio, supply
from wattline_portfolio.handlers.metering_points import store_metering_point
from wattline_portfolio.handlers.parties import save_party
from wattline_portfolio.models import ImportPage, ImportReport, ImportRowError, ImportSummary

log = get_logger(__name__)
# Rows per transaction, each row in its own savepoint: a refused row rolls back alone, and a
# crash loses at most a chunk, which a re-run imports.
CHUNK_ROWS = 200


class _Refused(Exception):
    """A row refused inside its transaction (its savepoint is rolled back)."""


async def import_portfolio(p: Portfolio, body: bytes) -> ImportReport:
    """Import the CSV *body* (see the module docstring) and store its report. Raises
    ``adapters.portfolio_csv.CsvRefused`` when the file as a whole is refused."""
    received_at = datetime.now(UTC)
    rows = portfolio_csv.read(
        body,
        required=REQUIRED_COLUMNS,
        optional=OPTIONAL_COLUMNS,
        max_rows=p.settings.import_max_rows,
    )
    async with p.service.database.connection() as conn:
        catalogue = Catalogue(await product_store.all_products(conn))
    defaults = Defaults(p.settings.billing_frequency, p.settings.payment_model)

    rejected: list[RowRejected] = []
    accepted: list[ImportRow] = []
    first_line: dict[str, int] = {}
    for row in rows:
        if row.problem is not None:  # its fields are not where the header says: no external_id
            rejected.append(RowRejected(row.line, None, (row.problem,)))
            continue
        parsed = parse_row(row.line, row.values, catalogue, defaults)
        key = parsed.external_id
        if key is not None and key in first_line:
            reason = f"external_id repeats line {first_line[key]}"
            reasons = (*parsed.reasons, reason) if isinstance(parsed, RowRejected) else (reason,)
            parsed = RowRejected(row.line, key, reasons)
        elif key is not None:
            first_line[key] = row.line
        if isinstance(parsed, RowRejected):
            rejected.append(parsed)
        else:
            accepted.append(parsed)

    import_id = uuid.uuid4()
    async with p.service.database.transaction() as tx:
        await import_store.insert_import(tx, import_id, received_at, len(rows), _errors(rejected))
    for start in range(0, len(accepted), CHUNK_ROWS):
        await _import_chunk(p, import_id, accepted[start : start + CHUNK_ROWS])
    async with p.service.database.transaction() as tx:
        await import_store.finish_import(tx, import_id, datetime.now(UTC))
    report = await import_report(p, import_id)
    assert report is not None
    log.info(
        "portfolio_imported",
        import_id=str(import_id),
        rows=report.rows,
        imported=report.imported,
        already_imported=report.already_imported,
        rejected=report.rejected,
    )
    return report


def _errors(rejected: list[RowRejected]) -> list[dict[str, Any]]:
    return [
        # The report repeats an external id only when it is one: a malformed value may be
        # anything (a CPR number in the wrong column, a NUL), and the report is stored.
        ImportRowError(
            line=r.line,
            external_id=r.external_id if is_external_id(r.external_id) else None,
            reasons=list(r.reasons),
        ).model_dump()
        for r in rejected
    ]


async def _import_chunk(p: Portfolio, import_id: uuid.UUID, rows: list[ImportRow]) -> None:
    """Import *rows* in one transaction, each in a savepoint, and count them in the report in
    the same transaction."""
    imported = already = 0
    refused: list[RowRejected] = []
    async with p.service.database.transaction() as tx:
        # In GSRN order: two imports of overlapping files then take the per-GSRN locks in the
        # same order and wait for each other instead of deadlocking.
        for row in sorted(rows, key=lambda r: r.metering_point.gsrn):
            try:
                async with tx.transaction():
                    if await _import_row(p, tx, import_id, row):
                        imported += 1
                    else:
                        already += 1
            except _Refused as exc:
                refused.append(RowRejected(row.line, row.external_id, (str(exc),)))
            except (asyncpg.PostgresError, ValueError) as exc:
                # Never the exception's text: it may quote the row's values.
                log.error(
                    "import_row_failed",
                    import_id=str(import_id),
                    line=row.line,
                    gsrn=row.metering_point.gsrn,
                    error=type(exc).__name__,
                    constraint=getattr(exc, "constraint_name", None),
                )
                reason = "could not be stored (an internal error, logged with the line)"
                refused.append(RowRejected(row.line, row.external_id, (reason,)))
        await import_store.add_progress(
            tx, import_id, imported=imported, already_imported=already, errors=_errors(refused)
        )


async def _import_row(
    p: Portfolio, tx: asyncpg.Connection, import_id: uuid.UUID, row: ImportRow
) -> bool:
    """One row in *tx*: True when imported now, False when an import already took it."""
    gsrn = row.metering_point.gsrn
    await store.lock_gsrn(tx, gsrn)
    if not await import_store.claim_row(tx, row.external_id, import_id, row.line, gsrn):
        return False
    process = await store.open_process(tx, gsrn)
    if process is not None:
        signup = f", signup {process['signup_id']}" if process["signup_id"] else ""
        raise _Refused(f"metering point {gsrn} has an open process ({process['kind']}{signup})")
    period = await store.supplying_period(tx, gsrn, row.supply_start)
    if period is not None:
        other = await import_store.row_of_period(tx, period["supply_period_id"])
        source = (
            f"import row {other}"
            if other
            else f"signup {period['signup_id']}"
            if period["signup_id"]
            else "an earlier supply"
        )
        until = f" until {period['end_date'].isoformat()}" if period["end_date"] else ""
        raise _Refused(
            f"metering point {gsrn} is already supplied by us from "
            f"{period['start_date'].isoformat()}{until} ({source})"
        )
    customer_id = await save_party(p, tx, "customer", row.customer, overwrite=True)
    payer_id = await save_party(p, tx, "payer", row.payer, overwrite=True) if row.payer else None
    await store_metering_point(p.service, tx, row.metering_point)
    period_id, contract_id = await supply.start_supply(
        p,
        tx,
        supply.NewSupply(
            gsrn=gsrn,
            customer_id=customer_id,
            payer_id=payer_id,
            product_id=row.product.product_id,
            product_version=row.version.version,
            start=row.supply_start,
            billing_frequency=row.billing_frequency,
            payment_model=row.payment_model,
            reference=f"import:{row.external_id}",
        ),
        None,
    )
    await import_store.complete_row(
        tx,
        row.external_id,
        supply_period_id=period_id,
        contract_id=contract_id,
        customer_id=customer_id,
        payer_id=payer_id,
        payer_external_id=row.payer_external_id,
        dar_id=row.dar_id,
    )
    return True


async def list_imports(p: Portfolio, *, limit: int, after: uuid.UUID | None) -> ImportPage:
    """Imports, newest first (a page of at most *limit*, after the import *after*)."""
    async with p.service.database.connection() as conn:
        rows = await import_store.list_imports(conn, limit=limit, after=after)
    items = [
        ImportSummary(
            import_id=r["import_id"],
            received_at=r["received_at"],
            finished_at=r["finished_at"],
            rows=r["row_count"],
            imported=r["imported"],
            already_imported=r["already_imported"],
            rejected=r["rejected"],
        )
        for r in rows
    ]
    return ImportPage(items=items, next_after=items[-1].import_id if len(items) == limit else None)


async def import_report(p: Portfolio, import_id: uuid.UUID) -> ImportReport | None:
    """The stored report of an import (None: no such import)."""
    async with p.service.database.connection() as conn:
        row = await import_store.get_import(conn, import_id)
    if row is None:
        return None
    return ImportReport(
        import_id=row["import_id"],
        received_at=row["received_at"],
        finished_at=row["finished_at"],
        rows=row["row_count"],
        imported=row["imported"],
        already_imported=row["already_imported"],
        rejected=row["rejected"],
        errors=[ImportRowError.model_validate(e) for e in row["errors"]],
    )
