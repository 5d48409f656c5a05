"""Settlement's store of DataHub's metered data (RSM-012), and its reads for the engine.

One row per metering point, Danish local day and received version in ``metering_data``
(``migrations/0007_metering_data_packed.sql``), partitioned by month: the GSRN as a bigint and
the values and qualities packed into one ``payload`` (:func:`pack`: Wh, kWh x 1000, exact, as
2-byte or 4-byte integers with a missing value marked; one quality per position, or one for the
day), the DataHub MessageId and receipt time once per message in ``metering_data_source``. A
correction is the next version of the day; nothing is overwritten.

Writes: :func:`store` loads a batch of days with one COPY into a session's temporary staging
table and one INSERT ... SELECT that numbers the versions. A day DataHub sent only in part (an
RSM-012 correction of some hours: the datahub service publishes the positions it did not receive
without value and without quality) is laid over the day's latest version first
(:func:`laid_over`): the hours it does not carry keep their values, they are not missing.

Reads: :func:`latest_days` (a few metering points), :func:`bulk_latest` (NumPy matrices for
many), :func:`changed_since` (what a settlement job must look at again) and
:func:`day_versions` (a day's history, for corrections).
"""

from __future__ import annotations

import itertools
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import asyncpg
import numpy as np
import numpy.typing as npt
from wattline_contracts.datahub import MeasureDataReceivedV1

from wattline_settlement.domain.metering import QUALITY_CODES, QUALITY_NAMES, DayData, positions
from wattline_settlement.domain.model import Resolution

INT4_MIN = -(2**31)
INT4_MAX = 2**31 - 1
# The payload's flags (byte 0; migrations/0007_metering_data_packed.sql describes the layout).
_GAP, _WIDE, _PER_POSITION, _PT15M = 1, 2, 4, 8
# Missing values in the payload: no stored value can be either (wh_of refuses INT4_MIN).
_NARROW_MISSING = 0xFFFF
_WIDE_MISSING = INT4_MIN
# A TransactionId kept as a uuid on the day's row (its text form is exactly this).
_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class InvalidMeasureDay(ValueError):
    """A received day that cannot be stored as it is (its event is dead-lettered)."""


# -- what is stored ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MeasureDay:
    """One received version of a metering point's local day, ready to store."""

    gsrn: str
    local_date: date
    resolution: Resolution
    wh: tuple[int | None, ...]
    qualities: tuple[int | None, ...]  # codes (A04 -> 4); None where no quality was given
    datahub_message_id: str
    transaction_id: str
    original_transaction_id: str | None
    event_id: uuid.UUID


def wh_of(kwh: Decimal | None) -> int | None:
    """kWh to integer Wh, exactly; InvalidMeasureDay for more than 3 decimals or out of range."""
    if kwh is None:
        return None
    wh = kwh.scaleb(3)
    if not wh.is_finite() or wh != wh.to_integral_value():
        raise InvalidMeasureDay(f"{kwh} kWh is not a whole number of Wh")
    value = int(wh)
    if not INT4_MIN < value <= INT4_MAX:
        raise InvalidMeasureDay(f"{kwh} kWh is out of range")
    return value


def measure_day(event: MeasureDataReceivedV1, event_id: uuid.UUID) -> MeasureDay:
    """The row *event* becomes; InvalidMeasureDay when its day does not add up.

    The day must have exactly the positions of its Danish local day (DST included), one
    quality per value, and quality codes DataHub uses (A02..A06, or none).
    """
    expected = positions(event.local_date, event.resolution)
    if len(event.quantities_kwh) != expected:
        raise InvalidMeasureDay(
            f"{event.gsrn} {event.local_date} {event.resolution}: "
            f"{len(event.quantities_kwh)} values, the day has {expected}"
        )
    if len(event.qualities) != expected:
        raise InvalidMeasureDay(
            f"{event.gsrn} {event.local_date}: {len(event.qualities)} qualities for "
            f"{expected} values"
        )
    try:
        qualities = tuple(None if q is None else QUALITY_CODES[q] for q in event.qualities)
    except KeyError as exc:
        raise InvalidMeasureDay(f"{event.gsrn} {event.local_date}: quality {exc}") from None
    return MeasureDay(
        gsrn=event.gsrn,
        local_date=event.local_date,
        resolution=event.resolution,
        wh=tuple(wh_of(q) for q in event.quantities_kwh),
        qualities=qualities,
        datahub_message_id=event.datahub_message_id,
        transaction_id=event.transaction_id,
        original_transaction_id=event.original_transaction_id,
        event_id=event_id,
    )


def pack(
    resolution: Resolution, wh: Sequence[int | None], qualities: Sequence[int | None]
) -> bytes:
    """A day's values and quality codes as the stored payload: a flags byte, the values
    (2-byte unsigned when all fit in 0..65534, else 4-byte signed; big-endian, a missing value
    marked) and the qualities (one byte for the day when they are all the same, else one per
    position). ``metering_pack`` in the migration packs the same bytes in SQL."""
    if len(qualities) != len(wh):
        raise InvalidMeasureDay(f"{len(qualities)} qualities for {len(wh)} values")
    wide = any(v is not None and not 0 <= v < _NARROW_MISSING for v in wh)
    per_position = any(q != qualities[0] for q in qualities)
    flags = (
        (_GAP if None in wh else 0)
        | (_WIDE if wide else 0)
        | (_PER_POSITION if per_position else 0)
        | (_PT15M if resolution == "PT15M" else 0)
    )
    missing = _WIDE_MISSING if wide else _NARROW_MISSING
    values = struct.pack(
        f">{len(wh)}{'i' if wide else 'H'}", *(missing if v is None else v for v in wh)
    )
    codes = bytes(0 if q is None else q for q in (qualities if per_position else qualities[:1]))
    return bytes((flags,)) + values + codes


def unpack(payload: bytes) -> tuple[Resolution, tuple[int | None, ...], tuple[int | None, ...]]:
    """The resolution, values and quality codes of a stored payload (:func:`pack`'s inverse)."""
    flags = payload[0]
    wide, per_position = flags & _WIDE, flags & _PER_POSITION
    width = 4 if wide else 2
    n = (len(payload) - (1 if per_position else 2)) // (width + (1 if per_position else 0))
    missing = _WIDE_MISSING if wide else _NARROW_MISSING
    raw = struct.unpack_from(f">{n}{'i' if wide else 'H'}", payload, 1)
    codes = payload[1 + n * width :]
    qualities = tuple(None if c == 0 else c for c in (codes if per_position else codes * n))
    resolution: Resolution = "PT15M" if flags & _PT15M else "PT1H"
    return resolution, tuple(None if v == missing else v for v in raw), qualities


def gsrn_key(gsrn: str) -> int:
    """The stored form of a GSRN (18 digits: a bigint)."""
    return int(gsrn)


def gsrn_text(key: int) -> str:
    return f"{key:018d}"


class Change(NamedTuple):
    """A stored version of a day, in the global order of ``id``."""

    id: int
    gsrn: str
    local_date: date
    version: int


_STAGING_COLUMNS = ("ord", "gsrn", "local_date", "source_id", "transaction_uuid", "payload")


async def lock_writers(tx: asyncpg.Connection, *, shared: bool = False) -> None:
    """Queue behind this schema's metering-data writers until *tx* ends (a transaction lock,
    not a lease). Writers take it (:func:`store`) so ids become visible in the order they are
    drawn ("changed since id X" misses nothing) and versions are numbered from what is
    committed; a settlement chunk takes it *shared* to read every day committed before it:
    chunks (of one run, by several workers) do not wait for each other, a writer waits for
    them and they for it. The key is the table's oid: one per schema."""
    kind = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await tx.execute(f"SELECT {kind}('metering_data'::regclass::oid::integer, 0)")


_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS metering_day_staging (
    ord              integer NOT NULL,
    gsrn             bigint  NOT NULL,
    local_date       date    NOT NULL,
    source_id        integer NOT NULL,
    transaction_uuid uuid,
    payload          bytea   NOT NULL
) ON COMMIT DELETE ROWS;
"""

_PARTITIONS = "SELECT metering_data_partition(m) FROM unnest($1::date[]) AS m"

_SOURCE = """
INSERT INTO metering_data_source (datahub_message_id, transaction_id, original_transaction_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
RETURNING id, datahub_message_id, transaction_id, original_transaction_id
"""

# Moves the staged rows (emptying the staging table for a next batch in this transaction) and
# numbers each day's versions on from the highest stored one, in batch order. The dead rows
# the DELETE leaves go at commit (ON COMMIT DELETE ROWS truncates): nothing vacuums a temporary
# table, and a pooled session lives long.
_INSERT = """
WITH staged AS (
    DELETE FROM pg_temp.metering_day_staging RETURNING *
), numbered AS (
    SELECT s.*, row_number() OVER (PARTITION BY s.gsrn, s.local_date ORDER BY s.ord) AS n
    FROM staged s
)
INSERT INTO metering_data (gsrn, local_date, version, source_id, transaction_uuid, payload)
SELECT n.gsrn, n.local_date,
       n.n + coalesce((SELECT max(m.version) FROM metering_data m
                       WHERE m.gsrn = n.gsrn AND m.local_date = n.local_date), 0),
       n.source_id, n.transaction_uuid, n.payload
FROM numbered n
ORDER BY n.ord
RETURNING id, gsrn, local_date, version
"""


def _in_part(day: MeasureDay) -> bool:
    """Whether *day* lacks positions it was not sent (no value and no quality: a position
    DataHub sent without a value has quality A02)."""
    return None in day.wh and any(
        w is None and q is None for w, q in zip(day.wh, day.qualities, strict=True)
    )


def laid_over(stored: MeasureDay | None, piece: MeasureDay) -> MeasureDay:
    """*piece* laid over the *stored* version of its day: each position *piece* was not sent
    keeps the stored value and quality, the others are *piece*'s. A day stored at another
    resolution (or none) is not merged: *piece* as it is."""
    if stored is None or stored.resolution != piece.resolution or len(stored.wh) != len(piece.wh):
        return piece
    sent = [not (w is None and q is None) for w, q in zip(piece.wh, piece.qualities, strict=True)]
    return replace(
        piece,
        wh=tuple(p if new else s for s, p, new in zip(stored.wh, piece.wh, sent, strict=True)),
        qualities=tuple(
            p if new else s
            for s, p, new in zip(stored.qualities, piece.qualities, sent, strict=True)
        ),
    )


_LATEST_OF = """
SELECT DISTINCT ON (m.gsrn, m.local_date) m.gsrn, m.local_date, m.payload
FROM metering_data m
JOIN unnest($1::int8[], $2::date[]) AS k(gsrn, local_date)
  ON m.gsrn = k.gsrn AND m.local_date = k.local_date
ORDER BY m.gsrn, m.local_date, m.version DESC
"""


async def _complete_partial(
    conn: asyncpg.Connection, days: Sequence[MeasureDay]
) -> list[MeasureDay]:
    """*days* with each one sent in part laid over its day's latest version (stored, or
    earlier in *days*). Reads under the writers' lock: the latest version is the one the new
    version follows."""
    keys = {(d.gsrn, d.local_date) for d in days if _in_part(d)}
    if not keys:
        return list(days)
    rows = await conn.fetch(_LATEST_OF, [gsrn_key(k[0]) for k in keys], [k[1] for k in keys])
    latest: dict[tuple[str, date], MeasureDay] = {}
    for r in rows:
        resolution, wh, qualities = unpack(r["payload"])
        latest[(gsrn_text(r["gsrn"]), r["local_date"])] = MeasureDay(
            gsrn=gsrn_text(r["gsrn"]),
            local_date=r["local_date"],
            resolution=resolution,
            wh=wh,
            qualities=qualities,
            datahub_message_id="",
            transaction_id="",
            original_transaction_id=None,
            event_id=uuid.UUID(int=0),
        )
    out = []
    for day in days:
        key = (day.gsrn, day.local_date)
        if key in keys:
            day = laid_over(latest.get(key), day) if _in_part(day) else day
            latest[key] = day
        out.append(day)
    return out


async def store(conn: asyncpg.Connection, days: Sequence[MeasureDay]) -> list[Change]:
    """Store *days* (in arrival order) as new versions; return what was stored, in order.

    Must run inside a transaction. Two days for the same metering point and date get
    consecutive versions in the order given. Month partitions are created as needed. A day
    sent in part is stored laid over the day's latest version (:func:`laid_over`).
    """
    if not days:
        return []
    await lock_writers(conn)
    await conn.execute(_STAGE)
    days = await _complete_partial(conn, days)
    months = sorted({d.local_date.replace(day=1) for d in days})
    await conn.execute(_PARTITIONS, months)
    sources = await _sources_of(conn, days)
    await conn.copy_records_to_table(
        "metering_day_staging",
        schema_name="pg_temp",
        columns=_STAGING_COLUMNS,
        records=[
            (
                i,
                gsrn_key(d.gsrn),
                d.local_date,
                sources[_source_key(d)],
                uuid.UUID(d.transaction_id) if _canonical(d.transaction_id) else None,
                pack(d.resolution, d.wh, d.qualities),
            )
            for i, d in enumerate(days)
        ],
    )
    rows = await conn.fetch(_INSERT)
    return [Change(r["id"], gsrn_text(r["gsrn"]), r["local_date"], r["version"]) for r in rows]


def _canonical(transaction_id: str) -> bool:
    return _CANONICAL_UUID.match(transaction_id) is not None


def _source_key(day: MeasureDay) -> tuple[str, str | None, str | None]:
    """What a day shares with the other days of its DataHub message: the MessageId, and the
    rare TransactionId that is not a canonical UUID or the transaction a correction corrects."""
    own = None if _canonical(day.transaction_id) else day.transaction_id
    return day.datahub_message_id, own, day.original_transaction_id


async def _sources_of(
    conn: asyncpg.Connection, days: Sequence[MeasureDay]
) -> dict[tuple[str, str | None, str | None], int]:
    keys = list(dict.fromkeys(_source_key(d) for d in days))
    rows = await conn.fetch(_SOURCE, *(list(column) for column in zip(*keys, strict=True)))
    return {
        (r["datahub_message_id"], r["transaction_id"], r["original_transaction_id"]): r["id"]
        for r in rows
    }


# -- reads -------------------------------------------------------------------------------------
_DAYS = """
SELECT {distinct} d.id, d.gsrn, d.local_date, d.version, d.payload, s.received_at,
       s.datahub_message_id, coalesce(d.transaction_uuid::text, s.transaction_id) AS transaction_id,
       s.original_transaction_id
FROM metering_data d JOIN metering_data_source s ON s.id = d.source_id
WHERE {where}
ORDER BY {order}
"""


def _day(row: asyncpg.Record) -> DayData:
    resolution, wh, qualities = unpack(row["payload"])
    return DayData(
        gsrn=gsrn_text(row["gsrn"]),
        local_date=row["local_date"],
        resolution=resolution,
        wh=wh,
        qualities=tuple(None if q is None else QUALITY_NAMES[q] for q in qualities),
        version=row["version"],
        id=row["id"],
        received_at=row["received_at"],
        datahub_message_id=row["datahub_message_id"],
        transaction_id=row["transaction_id"],
        original_transaction_id=row["original_transaction_id"],
    )


async def latest_days(
    conn: asyncpg.Connection, gsrns: Sequence[str], start: date, end: date
) -> dict[str, dict[date, DayData]]:
    """The latest version of each stored day of *gsrns* in the local dates ``[start, end)``.

    Metering points and days without data are absent. For thousands of metering points use
    :func:`bulk_latest`.
    """
    rows = await conn.fetch(
        _DAYS.format(
            distinct="DISTINCT ON (d.gsrn, d.local_date)",
            where="d.gsrn = ANY($1::int8[]) AND d.local_date >= $2 AND d.local_date < $3",
            order="d.gsrn, d.local_date, d.version DESC",
        ),
        [gsrn_key(g) for g in gsrns],
        start,
        end,
    )
    result: dict[str, dict[date, DayData]] = {}
    for row in rows:
        day = _day(row)
        result.setdefault(day.gsrn, {})[day.local_date] = day
    return result


async def day_versions(conn: asyncpg.Connection, gsrn: str, local_date: date) -> list[DayData]:
    """Every version of one day, oldest first: a correction's before and after."""
    rows = await conn.fetch(
        _DAYS.format(distinct="", where="d.gsrn = $1 AND d.local_date = $2", order="d.version"),
        gsrn_key(gsrn),
        local_date,
    )
    return [_day(r) for r in rows]


async def changed_since(
    conn: asyncpg.Connection, after_id: int, limit: int = 10_000
) -> list[Change]:
    """Versions stored after *after_id*, in id order, at most *limit*.

    A job keeps the last id it saw and asks again from there; ids become visible in order, so
    nothing is skipped (see :func:`store`).
    """
    rows = await conn.fetch(
        """SELECT id, gsrn, local_date, version FROM metering_data
           WHERE id > $1 ORDER BY id LIMIT $2""",
        after_id,
        limit,
    )
    return [Change(r["id"], gsrn_text(r["gsrn"]), r["local_date"], r["version"]) for r in rows]


class Span(NamedTuple):
    """A metering point's local dates ``[start, end)``, and the newest row already accounted
    for (0: none), whose DataHub messages are asked for."""

    gsrn: str
    start: date
    end: date
    after_id: int = 0


_SOURCES = """
SELECT s.ord, array_agg(DISTINCT src.datahub_message_id ORDER BY src.datahub_message_id) AS ids
FROM unnest($1::int8[], $2::date[], $3::date[], $4::int8[]) WITH ORDINALITY
     AS s(gsrn, first_day, end_day, after_id, ord)
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (m.local_date) m.id, m.source_id FROM metering_data m
    WHERE m.gsrn = s.gsrn AND m.local_date >= s.first_day AND m.local_date < s.end_day
    ORDER BY m.local_date, m.version DESC) d
JOIN metering_data_source src ON src.id = d.source_id
WHERE d.id > s.after_id
GROUP BY s.ord
"""


async def sources(conn: asyncpg.Connection, spans: Sequence[Span]) -> list[list[str]]:
    """For each span, the DataHub MessageIds its days' latest versions came from (those newer
    than its ``after_id``), sorted: what a settlement or correction names in its log line so
    that one DataHub message is followed to what it was settled in. One statement."""
    if not spans:
        return []
    rows = await conn.fetch(
        _SOURCES,
        [gsrn_key(s.gsrn) for s in spans],
        [s.start for s in spans],
        [s.end for s in spans],
        [s.after_id for s in spans],
    )
    found = {r["ord"]: list(r["ids"]) for r in rows}
    return [found.get(i, []) for i in range(1, len(spans) + 1)]


async def last_resolution(conn: asyncpg.Connection, gsrn: str) -> Resolution | None:
    """The resolution of the metering point's latest stored day; None when it has no data."""
    value = await conn.fetchval(
        """SELECT get_byte(payload, 0) FROM metering_data WHERE gsrn = $1
           ORDER BY local_date DESC, version DESC LIMIT 1""",
        gsrn_key(gsrn),
    )
    if value is None:
        return None
    return "PT15M" if value & _PT15M else "PT1H"


# -- bulk reads --------------------------------------------------------------------------------
@dataclass(frozen=True)
class BulkSeries:
    """The latest values of many metering points over local dates ``[start, end)`` at one
    resolution, as matrices.

    Row ``i`` is ``gsrns[i]`` (``index`` maps back). Column ``j`` is the interval starting at
    ``local_midnight(start) + j * resolution``: the period's intervals in UTC order, DST
    days with 23/25 hours (92/100 quarters); local day ``start + k`` is columns
    ``day_columns[k]:day_columns[k + 1]``.
    """

    resolution: Resolution
    start: date
    end: date
    gsrns: tuple[str, ...]
    index: dict[str, int]
    day_columns: npt.NDArray[np.int64]  # (days + 1,)
    wh: npt.NDArray[np.int64]  # (metering points, intervals); 0 where missing
    missing: npt.NDArray[np.bool_]  # True: a missing value, or a day not stored at this resolution
    days_present: npt.NDArray[np.bool_]  # (metering points, days): a day stored at this resolution
    max_id: npt.NDArray[np.int64]  # (metering points,): highest id read, for changed_since


# Each metering point's latest days as one blob of their values (the payload without its flags
# byte and qualities) and each day's share of it in bytes: 2 per position, or 4 where a day
# holds a value beyond 0..65534.
_BULK = """
SELECT lpad(gsrn::text, 18, '0') AS gsrn, pt15m,
       array_agg(local_date - $2::date ORDER BY local_date) AS days,
       array_agg(size ORDER BY local_date) AS sizes,
       string_agg(substring(payload FROM 2 FOR size), ''::bytea ORDER BY local_date) AS blob,
       max(id) AS max_id
FROM (SELECT DISTINCT ON (gsrn, local_date) gsrn, local_date, payload, id,
             get_byte(payload, 0) & 8 = 8 AS pt15m,
             metering_positions(payload)
               * CASE WHEN get_byte(payload, 0) & 2 = 2 THEN 4 ELSE 2 END AS size
      FROM metering_data
      WHERE gsrn = ANY($1::int8[]) AND local_date >= $2 AND local_date < $3
      ORDER BY gsrn, local_date, version DESC) AS latest
GROUP BY gsrn, pt15m
"""


async def bulk_latest(
    conn: asyncpg.Connection,
    gsrns: Sequence[str],
    start: date,
    end: date,
    *,
    chunk_size: int = 10_000,
) -> dict[Resolution, BulkSeries]:
    """The latest version of every stored day of *gsrns* in ``[start, end)``, one matrix per
    resolution found (a metering point moving from PT1H to PT15M mid-period is in both, each
    day in one of them). Rows are in the order of *gsrns*; metering points without data in the
    period are in neither.

    Postgres sends each metering point's values as one binary blob and NumPy unpacks them all
    at once: no Python work per value or per day. Asked in chunks of *chunk_size* metering
    points (one query each). About 9 bytes per interval and metering point (80,000 points x a
    31-day month of PT1H: ~540 MB, twice that while the chunks are joined): a settlement run
    may rather call this per chunk and settle each before reading the next.
    """
    wanted = list(dict.fromkeys(gsrns))
    order = {g: i for i, g in enumerate(wanted)}
    parts: dict[Resolution, list[BulkSeries]] = {}
    for first in range(0, len(wanted), chunk_size):
        keys = [gsrn_key(g) for g in wanted[first : first + chunk_size]]
        rows = await conn.fetch(_BULK, keys, start, end)
        groups: dict[Resolution, list[asyncpg.Record]] = {}
        for row in rows:
            groups.setdefault("PT15M" if row["pt15m"] else "PT1H", []).append(row)
        for resolution, group in groups.items():
            group.sort(key=lambda r: order[r["gsrn"]])
            parts.setdefault(resolution, []).append(_assemble(resolution, start, end, group))
    return {resolution: _join(series) for resolution, series in parts.items()}


def _join(parts: list[BulkSeries]) -> BulkSeries:
    if len(parts) == 1:
        return parts[0]
    gsrns = tuple(itertools.chain.from_iterable(p.gsrns for p in parts))
    return BulkSeries(
        resolution=parts[0].resolution,
        start=parts[0].start,
        end=parts[0].end,
        gsrns=gsrns,
        index={g: i for i, g in enumerate(gsrns)},
        day_columns=parts[0].day_columns,
        wh=np.concatenate([p.wh for p in parts]),
        missing=np.concatenate([p.missing for p in parts]),
        days_present=np.concatenate([p.days_present for p in parts]),
        max_id=np.concatenate([p.max_id for p in parts]),
    )


def _assemble(
    resolution: Resolution, start: date, end: date, group: list[asyncpg.Record]
) -> BulkSeries:
    n_days = (end - start).days
    per_day = np.array(
        [positions(start + timedelta(days=k), resolution) for k in range(n_days)], dtype=np.int64
    )
    day_columns = np.zeros(n_days + 1, dtype=np.int64)
    np.cumsum(per_day, out=day_columns[1:])
    width = int(day_columns[-1])
    n = len(group)

    day_lists = [r["days"] for r in group]
    days_per_row = np.fromiter((len(d) for d in day_lists), dtype=np.int64, count=n)
    days = np.fromiter(
        itertools.chain.from_iterable(day_lists), dtype=np.int64, count=int(days_per_row.sum())
    )
    row_of_day = np.repeat(np.arange(n, dtype=np.int64), days_per_row)
    counts = per_day[days]
    total = int(counts.sum())
    values, present = _values(b"".join(r["blob"] for r in group), group, counts, total)
    within_day = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    flat = np.repeat(row_of_day * width + day_columns[days], counts) + within_day

    wh = np.zeros(n * width, dtype=np.int64)
    missing = np.ones(n * width, dtype=np.bool_)
    wh[flat] = np.where(present, values, 0)
    missing[flat] = ~present
    days_present = np.zeros((n, n_days), dtype=np.bool_)
    days_present[row_of_day, days] = True
    gsrns = tuple(r["gsrn"] for r in group)
    return BulkSeries(
        resolution=resolution,
        start=start,
        end=end,
        gsrns=gsrns,
        index={g: i for i, g in enumerate(gsrns)},
        day_columns=day_columns,
        wh=wh.reshape(n, width),
        missing=missing.reshape(n, width),
        days_present=days_present,
        max_id=np.fromiter((r["max_id"] for r in group), dtype=np.int64, count=n),
    )


def _values(
    blob: bytes, group: list[asyncpg.Record], counts: npt.NDArray[np.int64], total: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The *total* values of a bulk read's blob in order, and which are present. All 2-byte
    (the usual month) is one view of the bytes; days with 4-byte values are gathered."""
    if len(blob) == 2 * total:
        narrow = np.frombuffer(blob, dtype=">u2")
        return narrow.astype(np.int64), narrow != _NARROW_MISSING
    sizes = np.fromiter(
        itertools.chain.from_iterable(r["sizes"] for r in group), dtype=np.int64, count=len(counts)
    )
    if int(sizes.sum()) != len(blob) or np.any((sizes != 2 * counts) & (sizes != 4 * counts)):
        raise RuntimeError(f"bulk read: {len(blob)} bytes for {total} intervals")
    raw = np.frombuffer(blob, dtype=np.uint8).astype(np.int64)
    width = np.repeat(sizes // counts, counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    at = np.repeat(np.cumsum(sizes) - sizes, counts) + within * width
    values = (raw[at] << 8) | raw[at + 1]
    wide = width == 4
    unsigned = (values[wide] << 16) | (raw[at[wide] + 2] << 8) | raw[at[wide] + 3]
    values[wide] = np.where(unsigned >= 2**31, unsigned - 2**32, unsigned)
    present = np.where(wide, values != _WIDE_MISSING, values != _NARROW_MISSING)
    return values, present


async def rows_since(tx: asyncpg.Connection, since: int, limit: int) -> list[asyncpg.Record]:
    """The next *limit* stored days (``id``, ``gsrn``, ``local_date``) after row *since*, in
    order: one statement, one snapshot, so a watermark can move exactly past them."""
    rows: list[asyncpg.Record] = await tx.fetch(
        """SELECT id, lpad(gsrn::text, 18, '0') AS gsrn, local_date FROM metering_data
           WHERE id > $1 ORDER BY id LIMIT $2""",
        since,
        limit,
    )
    return rows
