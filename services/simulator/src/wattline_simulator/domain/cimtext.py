"""RSM-012 CIM JSON written directly as text, for the daily bulk of measure data.

Building 80,000 series through the pydantic models costs minutes; this writes the very bytes
``wattline_cim.dumps(build_document(MeasureDataDocument(...)))`` would (the tests compare
them), from integer watt-hours, in a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from wattline_simulator.domain.market import DATAHUB_GLN, kwh_text

ACTIVE_ENERGY = "8716867000030"
_MAX_POSITIONS = 100  # a 25-hour day at PT15M


def fmt_seconds(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_minutes(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@lru_cache(maxsize=1)
def _position_prefixes() -> tuple[str, ...]:
    return tuple(f'{{"position":{{"value":{p}}},"quantity":' for p in range(1, _MAX_POSITIONS + 1))


@lru_cache(maxsize=1)
def _kwh_texts() -> tuple[str, ...]:
    """``kwh_text`` of 0..199,999 Wh, looked up instead of formatted 2.5 M times a day."""
    return tuple(kwh_text(wh) for wh in range(200_000))


_A04 = ',"quality":{"value":"A04"}}'
_A03 = ',"quality":{"value":"A03"}}'


def points_text(values: Sequence[int], estimated: tuple[int, int] | None = None) -> str:
    """The ``Point`` array body: A04 everywhere except A03 at the ``estimated`` positions."""
    prefixes = _position_prefixes()
    texts = _kwh_texts()
    limit = len(texts)
    parts = [
        prefixes[i] + (texts[v] if 0 <= v < limit else kwh_text(v)) + _A04
        for i, v in enumerate(values)
    ]
    if estimated is not None:
        for i in range(estimated[0], estimated[1]):
            parts[i] = parts[i][: -len(_A04)] + _A03
    return ",".join(parts)


@dataclass(frozen=True)
class SeriesHead:
    """What an RSM-012 series says besides its points."""

    transaction_id: str
    gsrn: str
    metering_point_type: str
    resolution: str
    start: datetime
    end: datetime
    registered_at: datetime
    original_transaction_id: str | None = None


def series_text(head: SeriesHead, points: str) -> str:
    original = (
        f'"originalTransactionIDReference_Series.mRID":{json.dumps(head.original_transaction_id)},'
        if head.original_transaction_id is not None
        else ""
    )
    return (
        f'{{"mRID":{json.dumps(head.transaction_id)},'
        f'"marketEvaluationPoint.mRID":{{"codingScheme":"A10","value":"{head.gsrn}"}},'
        f'"marketEvaluationPoint.type":{{"value":"{head.metering_point_type}"}},'
        f"{original}"
        f'"product":"{ACTIVE_ENERGY}","quantity_Measure_Unit.name":{{"value":"KWH"}},'
        f'"registration_DateAndOrTime.dateTime":"{fmt_seconds(head.registered_at)}",'
        f'"Period":{{"resolution":"{head.resolution}","timeInterval":{{'
        f'"start":{{"value":"{fmt_minutes(head.start)}"}},'
        f'"end":{{"value":"{fmt_minutes(head.end)}"}}}},'
        f'"Point":[{points}]}}}}'
    )


def measure_document(
    message_id: str, receiver_gln: str, created: datetime, series: Sequence[str]
) -> bytes:
    """An RSM-012 NotifyValidatedMeasureData (E66) from DataHub (DGL) to a supplier (DDQ)."""
    return (
        '{"NotifyValidatedMeasureData_MarketDocument":{'
        f'"mRID":{json.dumps(message_id)},"businessSector.type":{{"value":"23"}},'
        f'"createdDateTime":"{fmt_seconds(created)}","process.processType":{{"value":"E23"}},'
        f'"receiver_MarketParticipant.mRID":{{"codingScheme":"A10","value":"{receiver_gln}"}},'
        '"receiver_MarketParticipant.marketRole.type":{"value":"DDQ"},'
        f'"sender_MarketParticipant.mRID":{{"codingScheme":"A10","value":"{DATAHUB_GLN}"}},'
        '"sender_MarketParticipant.marketRole.type":{"value":"DGL"},'
        '"type":{"value":"E66"},'
        f'"Series":[{",".join(series)}]}}}}'
    ).encode()
