"""The `wattline` command line."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

import asyncpg
import httpx
import typer
from wattline_platform.config import PlatformSettings
from wattline_platform.logging import configure_logging
from wattline_platform.outbox import schedule_replay
from wattline_platform.topics import ensure_topics, load_topics

from wattline.registry import SERVICES, by_name

app = typer.Typer(
    help="Wattline: settlement and DataHub integration for Danish suppliers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
apikey_app = typer.Typer(help="Manage API keys of the public gateway.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
datahub_app = typer.Typer(help="Look at DataHub documents as Wattline does.", no_args_is_help=True)
app.add_typer(datahub_app, name="datahub")
sim_app = typer.Typer(help="Drive the DataHub simulator.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")
settlement_app = typer.Typer(help="Settlement runs.", no_args_is_help=True)
app.add_typer(settlement_app, name="settlement")

Home = Annotated[Path, typer.Option(envvar="WATTLINE_HOME", help="where local state lives")]


def _platform() -> PlatformSettings:
    return PlatformSettings()


@app.callback()
def main() -> None:
    configure_logging("cli", os.environ.get("LOG_LEVEL", "WARNING"), "console")


@app.command()
def up(
    home: Home = Path(".wattline"),
    base_port: Annotated[
        int, typer.Option(envvar="WATTLINE_BASE_PORT", help="gateway port; services use base+101..")
    ] = 8000,
    pg_port: Annotated[int, typer.Option(envvar="WATTLINE_PG_PORT")] = 54329,
    kafka_port: Annotated[int, typer.Option(envvar="WATTLINE_KAFKA_PORT")] = 19092,
    fast_db: Annotated[bool, typer.Option(help="fsync off: for tests only")] = False,
    quiet: Annotated[bool, typer.Option(help="hide service log lines")] = False,
) -> None:
    """Start the whole system.

    PostgreSQL and the broker are embedded unless DATABASE_URL / KAFKA_BOOTSTRAP are set.
    """
    from wattline.supervisor import Supervisor

    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(
        home,
        base_port=base_port,
        pg_port=pg_port,
        kafka_port=kafka_port,
        fast_db=fast_db,
        quiet_services=quiet,
        database_url=os.environ.get("DATABASE_URL"),
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP"),
    )
    raise typer.Exit(asyncio.run(supervisor.run()))


@app.command()
def migrate() -> None:
    """Apply every service's migrations to DATABASE_URL (idempotent)."""
    from wattline.stack import migrate_all

    applied = asyncio.run(migrate_all(_platform().database_url, as_service_roles=False))
    for service, names in applied.items():
        typer.echo(f"{service}: {len(names)} applied" + (f" ({', '.join(names)})" if names else ""))


@app.command()
def topics() -> None:
    """Create the topics of deploy/topics.yaml (and their .dlq twins) on KAFKA_BOOTSTRAP."""
    specs = load_topics()
    epoch = asyncio.run(ensure_topics(_platform().kafka_bootstrap, specs))
    typer.echo(f"{len(specs)} topics present; broker epoch {epoch}")


@app.command()
def replay(
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", help="service(s) whose outbox to replay; default all"),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(help="events that occurred at or after (ISO 8601, UTC if no offset)"),
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="events that occurred before")] = None,
    from_event: Annotated[
        uuid.UUID | None, typer.Option(help="this event and every later one")
    ] = None,
) -> None:
    """Re-publish a range of outbox events; consumers skip what they already applied."""
    if since is None and from_event is None:
        raise typer.BadParameter(
            "give --since and/or --from-event (a whole-outbox replay needs --since 1970-01-01)"
        )
    names = service or [e.name for e in SERVICES]

    async def run() -> None:
        conn = await asyncpg.connect(_platform().database_url)
        try:
            for name in names:
                schema = by_name(name).spec().db_schema
                if schema is None or not await conn.fetchval(
                    "SELECT to_regclass($1) IS NOT NULL", f"{schema}.outbox"
                ):
                    continue
                try:
                    count = await schedule_replay(
                        conn, schema, since=_utc(since), until=_utc(until), from_event=from_event
                    )
                except LookupError:
                    if service:
                        raise
                    continue
                typer.echo(f"{name}: {count} events scheduled for re-publication")
        finally:
            await conn.close()

    asyncio.run(run())


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command()
def status(
    gateway: Annotated[str, typer.Option(envvar="WATTLINE_GATEWAY_URL")] = "http://127.0.0.1:8000",
) -> None:
    """Readiness of every service and the outbox backlog of each schema."""

    async def run() -> int:
        ok = True
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(f"{gateway}/health/ready")
            body = response.json()
            for name, check in sorted(body.get("checks", {}).items()):
                typer.echo(f"{name:<15} {'ok ' if check['ok'] else 'NOT'} {check['detail']}")
            ok = response.status_code == 200
        except httpx.HTTPError as exc:
            typer.echo(f"gateway {gateway} unreachable: {exc}")
            ok = False
        try:
            conn = await asyncpg.connect(_platform().database_url, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            typer.echo(f"database unreachable: {exc}")
            return 1
        try:
            for entry in SERVICES:
                schema = entry.spec().db_schema
                if schema and await conn.fetchval(
                    "SELECT to_regclass($1) IS NOT NULL", f"{schema}.outbox"
                ):
                    row = await conn.fetchrow(
                        f"""SELECT count(*) FILTER (WHERE published_at IS NULL) AS pending,
                                   count(*) AS total FROM {schema}.outbox"""
                    )
                    assert row is not None
                    typer.echo(f"outbox {schema:<15} {row['pending']} pending of {row['total']}")
        finally:
            await conn.close()
        return 0 if ok else 1

    raise typer.Exit(asyncio.run(run()))


async def _gateway_conn() -> asyncpg.Connection:
    conn: asyncpg.Connection = await asyncpg.connect(
        _platform().database_url, server_settings={"search_path": "gateway"}
    )
    return conn


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="who uses it, e.g. erp")],
    scopes: Annotated[str, typer.Option(help="comma-separated: admin or <service>:read|write")],
    rate_limit: Annotated[int, typer.Option(help="requests per minute")] = 600,
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from wattline_gateway.domain.api_keys import InvalidScope
    from wattline_gateway.handlers import create_api_key

    async def run() -> str:
        conn = await _gateway_conn()
        try:
            return await create_api_key(
                conn, name, [s.strip() for s in scopes.split(",") if s.strip()], rate_limit
            )
        finally:
            await conn.close()

    try:
        typer.echo(asyncio.run(run()))
    except InvalidScope as exc:
        raise typer.BadParameter(str(exc)) from exc
    except asyncpg.UniqueViolationError as exc:
        raise typer.BadParameter(f"a key named {name!r} exists") from exc


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Option()]) -> None:
    """Revoke a key by name (takes effect within 30 s at every gateway)."""
    from wattline_gateway.handlers import revoke_api_key

    async def run() -> bool:
        conn = await _gateway_conn()
        try:
            return await revoke_api_key(conn, name)
        finally:
            await conn.close()

    if not asyncio.run(run()):
        typer.echo(f"no active key named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")


@apikey_app.command("list")
def apikey_list() -> None:
    """List keys (names, scopes, limits; never the secrets)."""
    from wattline_gateway.adapters.api_keys import list_keys

    async def run() -> None:
        conn = await _gateway_conn()
        try:
            for row in await list_keys(conn):
                state = "revoked" if row["revoked_at"] else "active"
                typer.echo(
                    f"{row['name']:<20} {state:<8} {','.join(row['scopes']):<30} "
                    f"{row['rate_limit_per_minute']}/min"
                )
        finally:
            await conn.close()

    asyncio.run(run())


@datahub_app.command("parse")
def datahub_parse(
    file: Annotated[Path, typer.Argument(help="a CIM JSON document, e.g. a message from DataHub")],
) -> None:
    """Show what the datahub service makes of a document.

    RSM-012: one JSON line per metering point and Danish local day. Anything else: the events
    it would publish, one JSON line each. An invalid document exits with code 2 and a reason.
    """
    import json as _json

    from wattline_cim import (
        CimError,
        MeasureDataDocument,
        local_day_json,
        local_days,
        parse_document,
    )
    from wattline_datahub.domain.inbound import interpret

    try:
        doc = parse_document(file.read_bytes())
        if isinstance(doc, MeasureDataDocument):
            lines = [local_day_json(day) for s in doc.series for day in local_days(s)]
        else:
            lines = [
                _json.dumps(
                    {
                        "type": event.TYPE,
                        "version": event.VERSION,
                        "key": key,
                        "payload": event.model_dump(mode="json"),
                    }
                )
                for event, key in interpret(doc, doc.message_id)
            ]
    except (CimError, OSError) as exc:
        typer.echo(f"{file}: {exc}".splitlines()[0], err=True)
        raise typer.Exit(2) from exc
    for line in lines:
        typer.echo(line)


@sim_app.command("seed")
def sim_seed(
    metering_points: Annotated[int, typer.Option(help="how many metering points DataHub knows")],
    seed: Annotated[int, typer.Option(help="same seed, same market")] = 1,
) -> None:
    """Give the simulator a market of metering points we supply (bulk, in seconds)."""
    from wattline_simulator.seed import seed as seed_market

    async def run() -> int:
        conn = await asyncpg.connect(
            _platform().database_url, server_settings={"search_path": "simulator"}
        )
        try:
            return await seed_market(conn, metering_points, seed=seed)
        finally:
            await conn.close()

    added = asyncio.run(run())
    typer.echo(f"{added} metering points added ({metering_points} requested, seed {seed})")


@app.command()
def settle(
    scenario: Annotated[Path, typer.Argument(help="a settlement scenario JSON file")],
) -> None:
    """Settle one scenario and print the result JSON.

    Bad input (unreadable file, invalid JSON, a broken rule) prints nothing on stdout, one
    line on stderr, and exits with code 2.
    """
    import json as _json

    from wattline_settlement.domain.engine import settle as settle_scenario
    from wattline_settlement.domain.scenario import (
        BadScenario,
        result_to_json,
        scenario_from_json,
    )

    try:
        result = settle_scenario(scenario_from_json(scenario.read_bytes()))
    except OSError as exc:
        typer.echo(f"{scenario}: cannot read: {exc.strerror or exc}".splitlines()[0], err=True)
        raise typer.Exit(2) from exc
    except BadScenario as exc:
        typer.echo(f"{scenario}: {exc}".splitlines()[0], err=True)
        raise typer.Exit(2) from exc
    typer.echo(_json.dumps(result_to_json(result), indent=2))


@settlement_app.command("run")
def settlement_run(
    period: Annotated[str, typer.Option(help="billing period YYYY-MM (Danish local month)")],
    grid_area: Annotated[str | None, typer.Option(help="only this grid area")] = None,
) -> None:
    """Settle a billing period now (the same job the service runs), with progress."""
    from wattline.settlement_run import run

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        typer.echo(f"--period {period!r} is not YYYY-MM", err=True)
        raise typer.Exit(2)
    raise typer.Exit(asyncio.run(run(_platform().database_url, period, grid_area)))
