"""Settlement keeps portfolio master data, with one history row per applied event."""

from __future__ import annotations

from wattline_contracts import Envelope
from wattline_contracts.portfolio import MeteringPointRegisteredV1
from wattline_platform.testing import SchemaFactory
from wattline_settlement.adapters import metering_points
from wattline_settlement.bootstrap import SPEC
from wattline_settlement.handlers import master_data

GSRN = "571313100000000003"


def _envelope(event: MeteringPointRegisteredV1) -> Envelope:
    return Envelope.wrap(event, key=event.gsrn, producer="portfolio", correlation_id="c")


async def test_master_data_versions_accumulate(make_schema_db: SchemaFactory) -> None:
    db = await make_schema_db(SPEC.migrations_dir)
    first = MeteringPointRegisteredV1(gsrn=GSRN, grid_area="344", price_area="DK1")
    moved = MeteringPointRegisteredV1(
        gsrn=GSRN, grid_area="740", price_area="DK2", resolution="PT15M"
    )
    async with db.transaction() as tx:
        await master_data.on_metering_point_registered(tx, first, _envelope(first))
    async with db.transaction() as tx:
        await master_data.on_metering_point_registered(tx, moved, _envelope(moved))
    async with db.connection() as conn:
        mp = await metering_points.get(conn, GSRN)
        stats = await metering_points.stats(conn)
    assert mp is not None
    assert (mp["grid_area"], mp["price_area"], mp["resolution"]) == ("740", "DK2", "PT15M")
    assert mp["master_data_versions"] == 2
    assert stats == {"metering_points": 1, "master_data_versions": 2}
