"""Registering metering points: rules (unit) and state + outbox in one transaction (integration)."""

from __future__ import annotations

import json

import pytest
from wattline_platform.logging import correlation_id_var
from wattline_platform.pii import PiiCipher
from wattline_platform.testing import SchemaFactory
from wattline_portfolio.bootstrap import SPEC, PortfolioSettings, build
from wattline_portfolio.domain.metering_point import InvalidMeteringPoint, MeteringPoint
from wattline_portfolio.handlers import metering_points

GSRN = "571313100000000003"


def test_master_data_rules() -> None:
    MeteringPoint(GSRN, "344", "DK1")
    with pytest.raises(InvalidMeteringPoint, match="not a GSRN"):
        MeteringPoint("571313100000000004", "344", "DK1")
    with pytest.raises(InvalidMeteringPoint, match="grid area"):
        MeteringPoint(GSRN, "34", "DK1")
    with pytest.raises(InvalidMeteringPoint, match="settlement method"):
        MeteringPoint(GSRN, "344", "DK1", "E17", None)
    MeteringPoint(GSRN, "344", "DK1", "E18", None)  # production needs none


async def test_registering_writes_state_and_event_together_and_only_on_change(
    make_schema_db: SchemaFactory, postgres_dsn: str
) -> None:
    service = build(PortfolioSettings(database_url=postgres_dsn), PiiCipher(PiiCipher.new_key()))
    service.db = await make_schema_db(SPEC.migrations_dir)
    token = correlation_id_var.set("signup-42")
    try:
        assert await metering_points.register_metering_point(
            service, MeteringPoint(GSRN, "344", "DK1")
        )
        assert not await metering_points.register_metering_point(
            service, MeteringPoint(GSRN, "344", "DK1")
        )
        assert await metering_points.register_metering_point(
            service, MeteringPoint(GSRN, "344", "DK2")
        )
    finally:
        correlation_id_var.reset(token)

    rows = await service.database.fetch("SELECT topic, key, envelope FROM outbox ORDER BY id")
    assert [(r["topic"], r["key"]) for r in rows] == [
        ("portfolio.metering_point.registered", GSRN),
        ("portfolio.metering_point.registered", GSRN),
    ]
    last = json.loads(rows[-1]["envelope"])
    assert last["payload"]["price_area"] == "DK2"
    assert last["correlation_id"] == "signup-42"
    assert last["producer"] == "portfolio" and last["version"] == 1
    stored = await service.database.fetchrow(
        "SELECT price_area FROM metering_points WHERE gsrn = $1", GSRN
    )
    assert stored is not None and stored["price_area"] == "DK2"


async def test_a_failed_transaction_leaves_neither_state_nor_event(
    make_schema_db: SchemaFactory, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = build(PortfolioSettings(database_url=postgres_dsn), PiiCipher(PiiCipher.new_key()))
    service.db = await make_schema_db(SPEC.migrations_dir)

    async def broken_emit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("outbox write failed")

    monkeypatch.setattr(service, "emit", broken_emit)
    with pytest.raises(RuntimeError):
        await metering_points.register_metering_point(service, MeteringPoint(GSRN, "344", "DK1"))
    assert await service.database.fetch("SELECT 1 FROM metering_points") == []
