"""The e2e tests' scenario language: a running system driven in the business's words.

`given_…` sets state up through the public API (the gateway), the simulator (DataHub) or the
CLI, as a supplier does; `when_…` is the one thing that happens (DataHub sends a message, the
market clock moves, a settlement run is made, an invoice cycle closes); `then_…` reads the
outcome back through the gateway and answers values to assert on. Steps that wait (DataHub's
messages take a moment to arrive) wait inside, so a test reads as given / when / then.

A `Scenario` is a `System` (e2e_system.py), so infrastructure tests that need ports, the home
or the log use it as before; the fixtures of conftest.py and of the modules that start a system
of their own build one with :func:`started`.
"""

from __future__ import annotations

import asyncio
import csv
import importlib
import io
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from e2e_system import System, running, wattline
from wattline_platform.business_days import business_days_ahead
from wattline_simulator.domain.seeding import SeededPoint, customer_id_for, seeded_points

from wattline.registry import SERVICES

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
AREAS = ("DK1", "DK2")
# A validated RSM-012 (hourly, one day) that DataHub sends; steps copy it with their figures.
CIM = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "fixtures" / "cim"
RSM012 = CIM / "rsm012-validated-measure-data-pt1h-2025-01-15.json"

T = TypeVar("T")


async def eventually(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 120
) -> T:
    """Await *fetch* until *done* of its value, or *timeout* seconds; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.5)


def _zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def rsm012(
    gsrn: str,
    day: date,
    kwh: Decimal | float,
    *,
    registered: str,
    created: str | None = None,
    quality: str | None = None,
) -> bytes:
    """DataHub's validated hourly metering data (RSM-012) of *gsrn* for the Danish local *day*,
    *kwh* in every hour, registered at *registered* (a later registration is a new version)."""
    doc = json.loads(RSM012.read_text())
    root = doc["NotifyValidatedMeasureData_MarketDocument"]
    root["mRID"] = str(uuid.uuid4())
    root["createdDateTime"] = created or registered
    [series] = root["Series"]
    series["mRID"] = str(uuid.uuid4())
    series["marketEvaluationPoint.mRID"]["value"] = gsrn
    series["originalTransactionIDReference_Series.mRID"] = f"MDR-TX-{uuid.uuid4().hex[:12]}"
    series["registration_DateAndOrTime.dateTime"] = registered
    start = datetime(day.year, day.month, day.day, tzinfo=COPENHAGEN)
    after = day + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=COPENHAGEN)
    series["Period"]["timeInterval"] = {"start": {"value": _zulu(start)},
                                        "end": {"value": _zulu(end)}}  # fmt: skip
    hours = int((end - start).total_seconds() // 3600)
    template = series["Period"]["Point"][0]
    series["Period"]["Point"] = [
        {**template, "position": {"value": k + 1}, "quantity": float(kwh)} for k in range(hours)
    ]
    if quality is not None:
        for point in series["Period"]["Point"]:
            point["quality"] = {"value": quality}
    return json.dumps(doc).encode()


@dataclass
class Scenario(System):
    """A running system and the steps that drive it (see the module's docstring)."""

    responses: list[str] = field(default_factory=list)  # every gateway answer seen by call()
    taken: set[str] = field(default_factory=set)  # metering points a test has signed up
    # One gateway and one simulator client per event loop (building one per call costs CPU).
    _clients: dict[int, tuple[httpx.AsyncClient, httpx.AsyncClient]] = field(
        default_factory=dict, repr=False
    )

    # --- reaching it ---------------------------------------------------------------------

    def api(self, timeout: float = 120) -> httpx.AsyncClient:
        """The gateway with the dev admin key."""
        return httpx.AsyncClient(
            base_url=self.url, headers={"X-API-Key": self.key}, timeout=timeout
        )

    def web(self) -> httpx.AsyncClient:
        """The gateway with no key (a customer's browser, the portal)."""
        return httpx.AsyncClient(base_url=self.url, timeout=60)

    def sim(self) -> httpx.AsyncClient:
        """The simulator's control routes (DataHub's side of the market)."""
        return httpx.AsyncClient(
            base_url=self.simulator_url, timeout=600, auth=self.identity_auth()
        )

    def _shared(self) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        loop = id(asyncio.get_running_loop())
        if loop not in self._clients:
            self._clients[loop] = (self.api(), self.sim())
        return self._clients[loop]

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One gateway call with the admin key; its body is kept in `responses`."""
        response = await self._shared()[0].request(method, url, **kwargs)
        self.responses.append(response.text)
        return response

    async def get(self, url: str, **kwargs: Any) -> Any:
        """A gateway GET that must answer 200: its JSON."""
        response = await self.call("GET", url, **kwargs)
        assert response.status_code == 200, (url, response.text)
        return response.json()

    async def simulator(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One call of the simulator's control routes."""
        return await self._shared()[1].request(method, url, **kwargs)

    async def cli(self, *args: str, cwd: Path, timeout: float = 300) -> Any:
        """`wattline ARGS` as a user runs it against this system (only its home says which)."""
        return await asyncio.to_thread(wattline, *args, home=self.home, cwd=cwd, timeout=timeout)

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """What a service stored, read as the superuser (for what no API shows)."""
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    # --- given: the market ---------------------------------------------------------------

    async def given_a_market(self, **seed: Any) -> httpx.Response:
        """DataHub's market of metering points (the simulator seeded: metering_points, seed,
        ours_share, …); nothing is imported into our portfolio. The simulator's answer."""
        return await self.simulator("POST", "/sim/seed", json=seed)

    async def given_the_go_live_import(
        self, *, metering_points: int, seed: int, ours_share: str, customers: int, cwd: Path
    ) -> Any:
        """A market whose *ours_share* is ours at go-live: `wattline sim seed` seeds the
        simulator and imports those points into the portfolio. The command's output."""
        seeded = await self.cli("sim", "seed", "--metering-points", str(metering_points),
                                "--seed", str(seed), "--ours-share", ours_share,
                                "--customers", str(customers), cwd=cwd)  # fmt: skip
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        return seeded

    async def given_our_imported_points(self) -> list[dict[str, str]]:
        """The go-live import's rows (the simulator's export of the points that are ours)."""
        response = await self.simulator("GET", "/sim/portfolio-import.csv")
        return list(csv.DictReader(io.StringIO(response.text)))

    async def given_settlement_knows(self, gsrns: list[str]) -> None:
        """Settlement has every one of *gsrns*' master data (from the portfolio's events)."""
        for gsrn in gsrns:
            known = await eventually(
                lambda g=gsrn: self.call("GET", f"/api/settlement/metering-points/{g}"),
                lambda r: r.status_code == 200,
            )
            assert known.status_code == 200, known.text

    async def given_customers_by_point(self) -> dict[str, str]:
        """GSRN -> the id of the customer supplied there (back office's view)."""
        owners = {}
        items = (await self.get("/api/customers", params={"page_size": 100}))["items"]
        for item in items:
            detail = await self.get(f"/api/customers/{item['customer_id']}")
            for period in detail["supply_periods"]:
                owners[period["gsrn"]] = item["customer_id"]
        return owners

    async def when_a_metering_point_is_registered(
        self, gsrn: str, headers: dict[str, str] | None = None, **master_data: str
    ) -> httpx.Response:
        """Back office registers *gsrn* with *master_data* in the portfolio (no signup)."""
        body = {"gsrn": gsrn, **master_data}
        return await self.call(
            "POST", "/api/portfolio/metering-points", json=body, headers=headers or {}
        )

    async def then_settlement_sees(self, gsrn: str) -> httpx.Response:
        """Settlement's view of *gsrn* once it has one (404 until the event arrives)."""
        for _ in range(100):
            seen = await self.call("GET", f"/api/settlement/metering-points/{gsrn}")
            if seen.status_code == 200:
                break
            assert seen.status_code == 404
            await asyncio.sleep(0.1)
        return seen

    # --- given: a customer of ours -------------------------------------------------------

    @staticmethod
    def free_points(seed: int, points: int, supplier_gln: str) -> list[SeededPoint]:
        """The seeded market's consumption points another supplier holds alone at an address
        (a signup there names one metering point)."""
        market = list(seeded_points(seed, points, supplier_gln=supplier_gln))
        shared = {p.dar_id for p in market if sum(q.dar_id == p.dar_id for q in market) > 1}
        return [p for p in market if p.metering_point_type == "E17" and p.dar_id not in shared]

    def given_a_free_point(
        self, seed: int, points: int, supplier_gln: str, *, last: bool = False
    ) -> SeededPoint:
        """A free point (:meth:`free_points`) no test on this system has used yet: the
        first (or, *last*, the last) of them."""
        free = self.free_points(seed, points, supplier_gln)
        point = next(p for p in (free[::-1] if last else free) if p.gsrn not in self.taken)
        self.taken.add(point.gsrn)
        return point

    @staticmethod
    def cpr(point: SeededPoint) -> str:
        """The CPR/CVR number of the customer DataHub has at *point*."""
        return customer_id_for(point.dar_id, point.profile == "business")[1]

    async def product_id(self, name: str | None = None) -> str:
        """A product's id by name (None: the first product offered)."""
        products = (await self.call("GET", "/api/products")).json()
        return str(next(p for p in products if name in (None, p["name"]))["product_id"])

    async def when_a_customer_signs_up(
        self,
        point: SeededPoint,
        *,
        product: str | None = None,
        headers: dict[str, str] | None = None,
        **changes: Any,
    ) -> httpx.Response:
        """The customer at *point* signs up (a switch 15 business days ahead unless
        *changes* say otherwise) through the gateway's signup API."""
        body = {
            "dar_id": str(point.dar_id),
            "customer_name": "Anders Jensen",
            "cpr_cvr": self.cpr(point),
            "contact_type": "business" if point.profile == "business" else "private",
            "email": "anders@example.dk",
            "product_id": await self.product_id(product),
            "type": "switch",
            "effective_date": business_days_ahead(await self.today(), 15).isoformat(),
            "billing_street": "Nørrebrogade",
            "billing_house_number": "42",
            "billing_postal_code": "2200",
            "billing_city": "København N",
            **changes,
        }
        return await self.call("POST", "/api/signup", json=body, headers=headers or {})

    async def given_an_active_metering_point(
        self, point: SeededPoint, *, product: str | None = None
    ) -> dict[str, Any]:
        """*point* is ours: the customer signed up, DataHub (the simulator) confirmed the
        switch (BRS-001, RSM-001) and the market clock reached its effective date (RSM-022).
        The signup as the API answered it."""
        response = await self.when_a_customer_signs_up(point, product=product)
        assert response.status_code == 201, response.text
        signup: dict[str, Any] = response.json()
        await self.then_process_becomes(signup["signup_id"], "effectuation_pending")
        await self.when_the_clock_moves_to_day(date.fromisoformat(signup["effective_date"]))
        await self.then_process_becomes(signup["signup_id"], "completed")
        return signup

    async def when_another_supplier_takes_over(
        self, gsrn: str, effective_start: datetime
    ) -> httpx.Response:
        """Another supplier switches *gsrn* from *effective_start* (DataHub tells us: RSM-004)."""
        body = {"gsrn": gsrn, "effective_start": effective_start.astimezone(UTC).isoformat()}
        return await self.simulator("POST", "/sim/processes/switch", json=body)

    async def when_the_customer_moves_out(self, gsrn: str, day: date) -> httpx.Response:
        """Back office starts a move-out of *gsrn* on *day* (BRS-010)."""
        body = {"kind": "move_out", "gsrn": gsrn, "effective_date": day.isoformat()}
        return await self.call("POST", "/api/processes", json=body)

    # --- when: the market clock ----------------------------------------------------------

    async def today(self) -> date:
        """The market's date (the simulator's clock, Danish time)."""
        now = (await self.simulator("GET", "/sim/clock")).json()["now"]
        return datetime.fromisoformat(now).astimezone(COPENHAGEN).date()

    async def when_the_clock_moves_to(self, moment: datetime | str) -> None:
        """The simulated market clock moves to *moment* (DataHub sends what falls due)."""
        to = moment if isinstance(moment, str) else moment.astimezone(UTC).isoformat()
        response = await self.simulator("POST", "/sim/clock", json={"to": to})
        assert response.status_code == 200, response.text

    async def when_the_clock_moves_to_day(self, day: date) -> None:
        """The market clock moves to 01:00 Danish time on *day* (DataHub effectuates)."""
        await self.when_the_clock_moves_to(datetime(day.year, day.month, day.day, 1,
                                                    tzinfo=COPENHAGEN))  # fmt: skip

    async def when_a_day_passes(self) -> None:
        response = await self.simulator("POST", "/sim/clock", json={"advance_days": 1})
        assert response.status_code == 200, response.text

    async def when_an_operator_moves_the_clock(
        self, to: str, *, cwd: Path, wait: bool = True, timeout: float = 900
    ) -> None:
        """`wattline sim clock --to` (with --wait: until DataHub's queues are drained)."""
        args = ["sim", "clock", "--to", to] + (["--wait"] if wait else [])
        moved = await self.cli(*args, cwd=cwd, timeout=timeout)
        assert moved.returncode == 0, moved.stderr

    async def then_datahub_has_sent_everything(
        self, timeout: float = 240, *, but: str = ""
    ) -> None:
        """DataHub's queues are empty (but the category *but*, if given)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queued = (await self.simulator("GET", "/sim/queues")).json()
            if not {c for c in queued if c != but}:
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"queues not drained: {queued}")

    # --- when: DataHub sends -------------------------------------------------------------

    async def when_datahub_sends(self, category: str, document: bytes) -> str:
        """DataHub (the simulator) queues *document* in *category* for the datahub service
        to peek; the message id."""
        queued = await self.simulator("POST", f"/sim/messages/{category}", content=document)
        assert queued.status_code == 201, queued.text
        return str(queued.json()["message_id"])

    async def when_datahub_sends_hourly_data(
        self, gsrn: str, days: list[date], kwh: Decimal, **registration: str
    ) -> None:
        """DataHub sends one RSM-012 per day of *days*, *kwh* in every hour of each
        (*registration*: `registered` and `created`, see :func:`rsm012`)."""
        for day in days:
            await self.when_datahub_sends("MeasureData", rsm012(gsrn, day, kwh, **registration))

    async def when_a_fault_is_injected(self, **fault: Any) -> None:
        injected = await self.simulator("POST", "/sim/faults", json=fault)
        assert injected.status_code == 201, injected.text

    async def when_the_faults_clear(self) -> None:
        """DataHub works again: every injected fault is withdrawn."""
        await self.simulator("DELETE", "/sim/faults")

    # --- when: settlement and invoicing --------------------------------------------------

    async def when_spot_prices_are_imported(self, start: str, end: str) -> None:
        """Both price areas' spot prices from *start* to *end* (Energi Data Service: the
        simulator locally)."""
        for area in AREAS:
            spot = await self.call("POST", "/api/settlement/spot-prices/import",
                                   json={"price_area": area, "from": start, "to": end})  # fmt: skip
            assert spot.status_code == 200, spot.text

    async def when_settlement_runs(self, period: str, timeout: float = 300) -> dict[str, Any]:
        """A settlement run of *period* through the API, waited for; while DataHub's month is
        still arriving a run is blocked (metering data missing), so a new one is started
        (it settles only what is still unsettled) until one completes. The last run."""
        deadline = time.monotonic() + timeout
        while True:
            started = await self.call("POST", "/api/settlement/runs", json={"period": period})
            assert started.status_code == 202, started.text
            url = f"/api/settlement/runs/{started.json()['run_id']}"
            run: dict[str, Any] = await eventually(
                lambda url=url: self.get(url),
                lambda r: r["status"] in ("completed", "blocked", "failed"),
                120,
            )
            if run["status"] == "completed" or time.monotonic() > deadline:
                return run
            await asyncio.sleep(2)

    async def when_an_operator_runs_settlement(
        self, period: str, *, cwd: Path, until_completed: bool = True, tries: int = 10
    ) -> Any:
        """`wattline settlement run --period`, again while it fails (the month's last days
        may still be on their way), or (*until_completed*) until it prints completed."""
        for _ in range(tries):
            run = await self.cli("settlement", "run", "--period", period, cwd=cwd)
            if run.returncode == 0 and (
                not until_completed or "completed" in run.stdout.splitlines()[-1]
            ):
                break
            await asyncio.sleep(3 if until_completed else 2)
        assert run.returncode == 0, run.stdout + run.stderr
        return run

    async def when_the_invoice_cycle_closes(self, cycle: str) -> dict[str, Any]:
        closed = await self.call("POST", f"/api/invoices/cycles/{cycle}/close")
        assert closed.status_code == 200, closed.text
        found: dict[str, Any] = closed.json()
        return found

    # --- then ----------------------------------------------------------------------------

    async def then_settlements_of(self, gsrn: str, *periods: str) -> list[dict[str, Any]]:
        """*gsrn*'s settlements (of *periods*, when given)."""
        history = await self.get(f"/api/settlement/metering-points/{gsrn}/settlements")
        found = history["settlements"]
        return [s for s in found if not periods or s["billing_period"] in periods]

    async def then_invoices_of_cycle(self, cycle: str) -> list[dict[str, Any]]:
        """Every invoice of *cycle*, in detail (lines and all)."""
        items = (await self.get("/api/invoices", params={"cycle": cycle}))["items"]
        return [await self.get(f"/api/invoices/{doc['invoice_id']}") for doc in items]

    async def then_signup(self, signup_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.get(f"/api/signups/{signup_id}")
        return found

    async def then_signup_status(self, signup_id: str) -> dict[str, Any]:
        """What the sales channel sees of a signup (`/api/signup/{id}/status`)."""
        found: dict[str, Any] = (await self.call("GET", f"/api/signup/{signup_id}/status")).json()
        return found

    async def then_process_becomes(
        self, signup_id: str, *statuses: str, timeout: float = 60
    ) -> None:
        """The signup's BRS process reaches one of *statuses* (DataHub answering)."""
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = (await self.then_signup(signup_id))["process"]["status"]
            if status in statuses:
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"{signup_id} is {status}, not {statuses}")

    async def then_process_status_becomes(
        self, process_id: str, status: str, timeout: float = 60
    ) -> None:
        """A back-office process (`/api/processes/{id}`) reaches *status*."""
        deadline = time.monotonic() + timeout
        found = None
        while time.monotonic() < deadline:
            found = (await self.call("GET", f"/api/processes/{process_id}")).json()["status"]
            if found == status:
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"process {process_id} is {found}, not {status}")

    async def then_customer_of(self, signup_id: str) -> dict[str, Any]:
        customer_id = (await self.then_signup(signup_id))["customer"]["id"]
        found: dict[str, Any] = (await self.call("GET", f"/api/customers/{customer_id}")).json()
        return found

    async def then_supply_period_ends(
        self, signup_id: str, gsrn: str, end: str, timeout: float = 60
    ) -> None:
        deadline = time.monotonic() + timeout
        periods: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            customer = await self.then_customer_of(signup_id)
            periods = [p for p in customer["supply_periods"] if p["gsrn"] == gsrn]
            if periods and periods[-1]["end_date"] == end:
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"supply periods of {gsrn}: {periods}")

    async def then_datahub_processes(self, gsrn: str) -> list[dict[str, Any]]:
        """The BRS processes DataHub (the simulator) holds for *gsrn*."""
        processes = (await self.simulator("GET", "/sim/processes")).json()
        return [p for p in processes if p["gsrn"] == gsrn]

    async def then_consumption(self, gsrn: str, start: str, end: str) -> dict[str, Any]:
        """Settlement's metered consumption of *gsrn* (latest versions), one point from
        *start* to *end* (local dates, end exclusive)."""
        found: dict[str, Any] = await self.get(
            f"/api/metering-points/{gsrn}/consumption",
            params={"from": start, "to": end, "resolution": "P1M"},
        )
        return found

    # --- the whole stored state ----------------------------------------------------------

    async def stored_state(self) -> dict[str, tuple[int, str]]:
        """Every service table's rows and an MD5 of their contents (`schema.table` ->
        (rows, md5)). The outbox by its event ids alone (publishing stamps its rows); the
        relay's broker epoch is left out (a new broker is a new epoch), and so is the
        simulator's log of every request DataHub served (each poll of an empty queue too)."""
        schemas = [entry.schema for entry in SERVICES]
        tables = await self.sql(
            """SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relname AS table
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p')
                 AND NOT c.relispartition AND c.relname <> 'relay_state'
                 AND format('%I.%I', n.nspname, c.relname) <> 'simulator.served'""",
            schemas,
        )
        state: dict[str, tuple[int, str]] = {}
        for row in tables:
            rows = "t.event_id::text" if row["table"] == "outbox" else "t::text"
            [found] = await self.sql(
                f"SELECT count(*) AS n, md5(coalesce(string_agg({rows}, '|' ORDER BY {rows}),"
                f" '')) AS digest FROM {row['name']} t"
            )
            state[row["name"]] = (found["n"], found["digest"])
        return state

    async def unpublished_events(self) -> int:
        """Outbox events of every service not yet on the broker."""
        total = 0
        for entry in SERVICES:
            [found] = await self.sql(
                "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'outbox'",
                entry.schema,
            )
            if found["n"]:
                [row] = await self.sql(
                    f"SELECT count(*) AS n FROM {entry.schema}.outbox WHERE published_at IS NULL"
                )
                total += row["n"]
        return total

    async def when_the_system_is_quiet(self, timeout: float = 180) -> dict[str, tuple[int, str]]:
        """Wait until every event is published and nothing stored changes for 3 seconds (every
        consumer has applied what it was sent); the stored state then."""
        deadline = time.monotonic() + timeout
        before = await self.stored_state()
        while True:
            await asyncio.sleep(3)
            now = await self.stored_state()
            if now == before and await self.unpublished_events() == 0:
                return now
            changing = sorted(t for t in now if now[t] != before.get(t))
            assert time.monotonic() < deadline, f"still changing: {changing}"
            before = now


def generated_client(system: System, into: Path) -> tuple[ModuleType, Any, list[str]]:
    """A Python client generated (openapi-python-client) from the gateway's merged OpenAPI
    document as the running *system* serves it, into *into*: its package (`wattline_client`),
    a client with the admin key, and what the generator warned of."""
    from openapi_python_client import generate
    from openapi_python_client.config import Config, ConfigFile, MetaType

    document = into / "openapi.json"
    document.write_bytes(httpx.get(f"{system.url}/schema/openapi.json", timeout=30).content)
    config = Config.from_sources(
        ConfigFile(post_hooks=[], package_name_override="wattline_client"),
        MetaType.NONE,
        document,
        "utf-8",
        overwrite=True,
        output_path=into / "wattline_client",
    )
    warnings = [f"{e.header} {e.detail or ''}".strip() for e in generate(config=config)]
    sys.path.insert(0, str(into))
    try:
        for name in [m for m in sys.modules if m.split(".")[0] == "wattline_client"]:
            del sys.modules[name]  # another system's client, generated earlier
        package = importlib.import_module("wattline_client")
    finally:
        sys.path.remove(str(into))
    client = package.Client(
        base_url=system.url,
        headers={"X-API-Key": system.key},
        timeout=httpx.Timeout(60),
        raise_on_unexpected_status=True,
    )
    return package, client, warnings


def started(home: Path, settings: dict[str, str] | None = None) -> Iterator[Scenario]:
    """A scenario on a system of its own in *home*, for a fixture to yield from."""
    for system in running(home, settings, Scenario):
        assert isinstance(system, Scenario)
        yield system
