"""Spot prices: Energi Data Service's datasets (HTTP and files) and settlement's price table.

EDS answers ``GET {base}/dataset/{Elspotprices|DayAheadPrices}?start=&end=&filter=`` with
``{"total": n, ..., "records": [...]}``; prices are DKK per MWh, stored here as DKK per kWh
(÷ 1000, exact: ``Decimal.scaleb(-3)``), at the dataset's resolution.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from wattline_platform.business_days import danish_today
from wattline_platform.inputs import FIRST_DATE, LAST_DATE

from wattline_settlement.adapters import runs as runs_store
from wattline_settlement.domain import charge_rules
from wattline_settlement.domain.engine import format_instant
from wattline_settlement.domain.model import Period, Resolution, Series

__all__ = [
    "DATASETS",
    "EdsClient",
    "EdsError",
    "InvalidSpotFile",
    "SpotPrice",
    "StoreResult",
    "datasets_for",
    "list_spot",
    "parse_file",
    "parse_records",
    "spot_series",
    "store_spot",
]


@dataclass(frozen=True)
class Dataset:
    name: str
    time_field: str
    price_field: str
    resolution: Resolution


ELSPOTPRICES = Dataset("Elspotprices", "HourUTC", "SpotPriceDKK", "PT1H")
DAYAHEADPRICES = Dataset("DayAheadPrices", "TimeUTC", "DayAheadPriceDKK", "PT15M")
DATASETS = {d.name: d for d in (ELSPOTPRICES, DAYAHEADPRICES)}
# Where the datasets meet: local midnight starting 2025-10-01.
CUTOVER_UTC = charge_rules.local_midnight(charge_rules.QUARTER_HOUR_SPOT_FROM)


class EdsError(Exception):
    """Energi Data Service (or the simulator) could not be read."""


class InvalidSpotFile(ValueError):
    """A spot price file that is not EDS's JSON, or contradicts itself."""


@dataclass(frozen=True)
class SpotPrice:
    price_area: str
    start_utc: datetime
    resolution: Resolution
    dkk_per_kwh: Decimal


def datasets_for(
    start_utc: datetime, end_utc: datetime
) -> list[tuple[Dataset, datetime, datetime]]:
    """The dataset to ask for each part of ``[start_utc, end_utc)``, split at the cutover."""
    parts = []
    if start_utc < min(end_utc, CUTOVER_UTC):
        parts.append((ELSPOTPRICES, start_utc, min(end_utc, CUTOVER_UTC)))
    if max(start_utc, CUTOVER_UTC) < end_utc:
        parts.append((DAYAHEADPRICES, max(start_utc, CUTOVER_UTC), end_utc))
    return parts


def _eds_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


class EdsClient:
    """Reads EDS's day-ahead datasets (``base_url``: EDS's API root or the simulator)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 30.0,
        page_size: int = 10_000,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self._owns = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout_s))

    async def __aenter__(self) -> EdsClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns:
            await self._client.aclose()

    async def records(
        self, dataset: Dataset, price_area: str, start_utc: datetime, end_utc: datetime
    ) -> list[dict[str, Any]]:
        """Every record of *price_area* in ``[start_utc, end_utc)``, paging through ``total``.

        An answer claiming more records than the range holds (one per area and interval) is
        an EdsError: paging after its ``total`` would not end.
        """
        found: list[dict[str, Any]] = []
        most = max((end_utc - start_utc) // charge_rules.step_of(dataset.resolution), 0) + 1
        while True:
            params: dict[str, str | int] = {
                "start": _eds_time(start_utc),
                "end": _eds_time(end_utc),
                "timezone": "utc",
                "filter": json.dumps({"PriceArea": [price_area]}),
                "sort": f"{dataset.time_field} ASC",
                "offset": len(found),
                "limit": self.page_size,
            }
            url = f"{self.base_url}/dataset/{dataset.name}"
            try:
                response = await self._client.get(url, params=params)
            except httpx.HTTPError as exc:
                raise EdsError(f"{url}: {type(exc).__name__}: {exc}") from exc
            if response.status_code != 200:
                raise EdsError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
            try:
                body = json.loads(response.content, parse_float=Decimal)
                page = body["records"]
                if not isinstance(page, list):
                    raise TypeError("records is not a list")
                total = int(body.get("total", len(found) + len(page)))
                found.extend(page)
            except (ValueError, KeyError, TypeError, ArithmeticError, RecursionError) as exc:
                raise EdsError(f"{url}: not an EDS dataset answer: {exc}") from exc
            if len(found) > most:
                raise EdsError(f"{url}: more records than {start_utc}..{end_utc} holds")
            if not page or len(found) >= total:
                return found


def _instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidSpotFile(f"time {value!r} is not a string")
    text = value.strip().removesuffix("Z")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidSpotFile(f"time {value!r} is not an ISO date-time") from None
    # Also keeps the conversions below away from datetime's ends (year 1 at +14:00 overflows).
    if not FIRST_DATE.year <= parsed.year <= LAST_DATE.year:
        raise InvalidSpotFile(f"time {value!r} is not between {FIRST_DATE} and {LAST_DATE}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


MAX_DKK_PER_MWH = Decimal(100_000)


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidSpotFile(f"price {value!r} is not a number")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise InvalidSpotFile(f"price {value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidSpotFile(f"price {value!r} is not a number")
    if abs(number) > MAX_DKK_PER_MWH:  # EDS publishes DKK/MWh; the market caps far below
        raise InvalidSpotFile(f"price {value!r} DKK/MWh is beyond any day-ahead price")
    return number


@dataclass
class Parsed:
    prices: list[SpotPrice] = field(default_factory=list)
    without_price: int = 0  # records whose price is null: not published (yet)
    outside: int = 0  # records of the other dataset's days (the market was not at this step)


def parse_records(records: Iterable[Mapping[str, Any]]) -> Parsed:
    """EDS records (either dataset) as DKK/kWh prices; raises :class:`InvalidSpotFile`."""
    parsed = Parsed()
    for record in records:
        if not isinstance(record, Mapping):
            raise InvalidSpotFile(f"record {record!r} is not an object")
        dataset = next((d for d in DATASETS.values() if d.time_field in record), None)
        if dataset is None:
            raise InvalidSpotFile(f"record without HourUTC or TimeUTC: {dict(record)}")
        start = _instant(record[dataset.time_field])
        area = record.get("PriceArea")
        if area not in ("DK1", "DK2"):
            continue  # EDS also publishes neighbouring areas (SE3, DE, ...)
        step = charge_rules.step_of(dataset.resolution)
        if (start - CUTOVER_UTC) % step:
            raise InvalidSpotFile(f"{dataset.name} record at {start} is not aligned to {step}")
        if charge_rules.spot_resolution(danish_today(start)) != dataset.resolution:
            parsed.outside += 1
            continue
        price = _decimal(record.get(dataset.price_field))
        if price is None:
            parsed.without_price += 1
            continue
        parsed.prices.append(SpotPrice(area, start, dataset.resolution, price.scaleb(-3)))
    return parsed


def parse_file(body: bytes) -> Parsed:
    """An EDS answer saved to a file (``{"records": [...]}``, or just the list of records)."""
    try:
        document = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise InvalidSpotFile(f"not JSON: {exc}") from None
    except RecursionError:
        raise InvalidSpotFile("not JSON EDS answers: nested far too deep") from None
    records = document.get("records") if isinstance(document, dict) else document
    if not isinstance(records, list):
        raise InvalidSpotFile('expected {"records": [...]} as Energi Data Service answers')
    return parse_records(records)


@dataclass
class StoreResult:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: StoreResult) -> None:
        self.received += other.received
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


async def store_spot(
    conn: asyncpg.Connection, prices: Sequence[SpotPrice], source: str
) -> StoreResult:
    """Upsert *prices*; a changed price is updated and its change recorded. Run it in a
    transaction (the rows read are locked until the upsert)."""
    result = StoreResult(received=len(prices))
    by_area: dict[str, dict[datetime, SpotPrice]] = {}
    for price in prices:
        held = by_area.setdefault(price.price_area, {}).get(price.start_utc)
        if held is not None and held.dkk_per_kwh != price.dkk_per_kwh:
            raise InvalidSpotFile(
                f"{price.price_area} {format_instant(price.start_utc)} has two prices: "
                f"{held.dkk_per_kwh} and {price.dkk_per_kwh} DKK/kWh"
            )
        by_area[price.price_area][price.start_utc] = price
    for area, wanted in sorted(by_area.items()):
        rows = await conn.fetch(
            """SELECT start_utc, dkk_per_kwh FROM spot_prices
               WHERE price_area = $1 AND start_utc = ANY($2::timestamptz[])
               ORDER BY start_utc FOR UPDATE""",
            area,
            list(wanted),
        )
        old = {r["start_utc"]: r["dkk_per_kwh"] for r in rows}
        changed = [p for t, p in wanted.items() if t in old and old[t] != p.dkk_per_kwh]
        new = [p for t, p in wanted.items() if t not in old]
        result.inserted += len(new)
        result.updated += len(changed)
        result.unchanged += len(wanted) - len(new) - len(changed)
        todo = sorted(new + changed, key=lambda p: p.start_utc)
        if todo:
            await conn.execute(
                """INSERT INTO spot_prices (price_area, start_utc, resolution, dkk_per_kwh, source)
                   SELECT $1, t.start_utc, t.resolution, t.price, $5
                   FROM unnest($2::timestamptz[], $3::text[], $4::numeric[])
                        AS t(start_utc, resolution, price)
                   ON CONFLICT (price_area, start_utc) DO UPDATE
                   SET resolution = EXCLUDED.resolution, dkk_per_kwh = EXCLUDED.dkk_per_kwh,
                       source = EXCLUDED.source, updated_at = now()""",
                area,
                [p.start_utc for p in todo],
                [p.resolution for p in todo],
                [p.dkk_per_kwh for p in todo],
                source,
            )
        if changed:
            await conn.execute(
                """INSERT INTO spot_price_changes
                       (price_area, start_utc, old_dkk_per_kwh, new_dkk_per_kwh, source)
                   SELECT $1, t.start_utc, t.old, t.new, $5
                   FROM unnest($2::timestamptz[], $3::numeric[], $4::numeric[])
                        AS t(start_utc, old, new)""",
                area,
                [p.start_utc for p in changed],
                [old[p.start_utc] for p in changed],
                [p.dkk_per_kwh for p in changed],
                source,
            )
            # A price corrected in a settled period: recheck that area's metering points
            # settled on those days.
            days = sorted(danish_today(p.start_utc) for p in changed)
            await runs_store.queue_settled(
                conn,
                "spot_prices_changed",
                days[0],
                days[-1] + timedelta(days=1),
                price_area=area,
            )
    return result


async def read_spot(
    conn: asyncpg.Connection, price_area: str, start_utc: datetime, end_utc: datetime
) -> dict[datetime, Decimal]:
    """Stored prices of ``[start_utc, end_utc)`` by interval start (UTC)."""
    rows = await conn.fetch(
        """SELECT start_utc, dkk_per_kwh FROM spot_prices
           WHERE price_area = $1 AND start_utc >= $2 AND start_utc < $3""",
        price_area,
        start_utc,
        end_utc,
    )
    return {r["start_utc"].astimezone(UTC): r["dkk_per_kwh"] for r in rows}


async def list_spot(
    conn: asyncpg.Connection, price_area: str, start_utc: datetime, end_utc: datetime
) -> list[dict[str, Any]]:
    """Stored prices of ``[start_utc, end_utc)`` in time order, for the API."""
    rows = await conn.fetch(
        """SELECT start_utc, resolution, dkk_per_kwh, source, updated_at FROM spot_prices
           WHERE price_area = $1 AND start_utc >= $2 AND start_utc < $3 ORDER BY start_utc""",
        price_area,
        start_utc,
        end_utc,
    )
    return [
        {
            "start": format_instant(r["start_utc"]),
            "resolution": r["resolution"],
            "dkk_per_kwh": str(r["dkk_per_kwh"]),
            "source": r["source"],
        }
        for r in rows
    ]


async def spot_series(conn: asyncpg.Connection, price_area: str, period: Period) -> Series:
    """The spot prices of *period* (local dates, end exclusive) for the engine.

    At the stored resolution; a period spanning 2025-09-30/10-01 comes back as ``PT15M`` with
    each hour's price on its four quarters. Raises :class:`MissingPrices` when any interval
    has no price (never settles at 0).
    """
    start = charge_rules.local_midnight(period.start)
    end = charge_rules.local_midnight(period.end)
    prices = await read_spot(conn, price_area, start, end)
    return charge_rules.build_spot_series(price_area, period, prices)
