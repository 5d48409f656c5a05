"""A service's runtime: database, broker, consumers, outbox relay and its Litestar app.

``bootstrap.py`` of each service builds a :class:`Service` (the composition root) and
``__main__`` calls :meth:`Service.run`. Everything long-running is started in the app's
lifespan and stopped gracefully on SIGTERM/SIGINT (uvicorn's signal handling).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import uvicorn
from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server
from wattline_contracts import Envelope, Event

from wattline_platform import identity, inbox, metrics, migrations, outbox, retention
from wattline_platform.broker import KafkaPublisher, make_broker, start_broker
from wattline_platform.clock import Clock, RemoteClock, make_clock
from wattline_platform.config import PlatformSettings, ServiceSettings
from wattline_platform.consumer import EventConsumer
from wattline_platform.db import Database
from wattline_platform.inputs import BoundedRequest, refuse_nul_middleware
from wattline_platform.logging import (
    CORRELATION_HEADER,
    configure_logging,
    correlation_id_var,
    get_logger,
    new_correlation_id,
)
from wattline_platform.openapi_problems import ProblemDocumentingJsonPlugin
from wattline_platform.problem import EXCEPTION_HANDLERS, send_exception
from wattline_platform.topics import load_topics, longest_retention, read_epoch

log = get_logger(__name__)

ReadyCheck = Callable[[], Awaitable[tuple[bool, str]]]

# The settings class of one service: its bootstrap builds ``Service[ItsSettings]``, so its code
# reads ``service.settings.<its field>`` typed, with the one default the class declares.
SettingsT = TypeVar("SettingsT", bound=ServiceSettings)

# Exit code of a service that saw the broker lose its state: the supervisor restarts it at once.
EXIT_BROKER_RESET = 75


@dataclass
class ServiceSpec:
    """What a service is: its name, its schema and where its migrations live."""

    name: str
    migrations_dir: Path | None
    schema: str | None = None
    messaging: bool = True  # publishes/consumes events: gets outbox, inbox and a broker

    @property
    def db_schema(self) -> str | None:
        if self.migrations_dir is None:
            return None
        return self.schema or self.name

    def migrations(self) -> list[migrations.Migration]:
        """The ordered migration set of this service."""
        if self.migrations_dir is None:
            return []
        own = migrations.load(self.migrations_dir, "service")
        if not self.messaging:
            return own
        return migrations.load(migrations.PLATFORM_SQL, "platform") + own


@dataclass
class Service(Generic[SettingsT]):
    """The running parts of one service process, configured by its own *settings* class."""

    spec: ServiceSpec
    settings: SettingsT
    platform: PlatformSettings = field(default_factory=PlatformSettings)
    route_handlers: list[Any] = field(default_factory=list)
    ready_checks: dict[str, ReadyCheck] = field(default_factory=dict)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Litestar's OpenAPI of the service's own routes at /schema; off where the service serves
    # its own document there (the gateway: the merged one of all services).
    openapi_schema: bool = True
    # Which requests (method, path) must carry the gateway's signed identity (401 without):
    # every /api/* one; the gateway itself checks API keys instead (identity.no_paths).
    identity_required: Callable[[str, str], bool] = identity.api_paths
    # Where /metrics is served: None on the app's own port; a port (0: any free one) serves it
    # there instead, apart from the app (the gateway: its public port shows no metrics).
    metrics_port: int | None = None

    def __post_init__(self) -> None:
        self.uses_broker = self.spec.messaging
        schema = self.spec.db_schema
        self.db: Database | None = (
            Database(
                self.settings.database_url or self.platform.database_url,
                schema,
                min_size=self.settings.db_pool_min,
                max_size=self.settings.db_pool_max,
            )
            if schema
            else None
        )
        self.broker = make_broker(self.platform, client_id=f"wattline-{self.spec.name}")
        self.consumer: EventConsumer | None = (
            EventConsumer(
                self.spec.name,
                self.db,
                self.broker,
                batch_size=self.settings.consumer_batch_size,
                max_retries=self.settings.consumer_max_retries,
            )
            if self.db and self.uses_broker
            else None
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._relay: outbox.OutboxRelay | None = None
        self._inbox_pruner: retention.Pruner | None = None
        if self.consumer is not None and self.settings.inbox_retention_days > 0:
            # Checked before anything starts: a too short retention would let a redelivered
            # event be applied twice.
            inbox.check_retention(
                timedelta(days=self.settings.inbox_retention_days),
                broker_retention=longest_retention(load_topics()),
                replay_window=timedelta(days=self.settings.outbox_retention_days),
            )
        self._broker_started = False
        self._epoch: str | None = None
        self._clock: Clock | None = None
        # (host, port) /metrics is served on apart from the app, once started; None: on the app.
        self.metrics_address: tuple[str, int] | None = None

    # -- used by handlers -------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        """Business time: the system clock, or the one ``CLOCK_URL`` points at.

        Built on first use, so a test that assigns its own clock never creates the default.
        """
        if self._clock is None:
            self._clock = make_clock(self.platform.clock_url)
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._clock = clock

    @property
    def database(self) -> Database:
        assert self.db is not None, f"{self.spec.name} has no database"
        return self.db

    async def emit(self, tx: asyncpg.Connection, event: Event, *, key: str) -> Envelope:
        """Append *event* to this service's outbox inside transaction *tx*."""
        return await outbox.append(
            tx, event, key=key, producer=self.spec.name, schema=self.database.schema
        )

    async def emit_many(self, tx: asyncpg.Connection, events: Sequence[tuple[Event, str]]) -> None:
        """Append several ``(event, key)`` pairs to the outbox in one statement."""
        await outbox.append_envelopes(
            tx,
            [outbox.envelope_for(event, key, self.spec.name) for event, key in events],
            schema=self.database.schema,
        )

    async def emit_payloads(
        self, tx: asyncpg.Connection, event_type: type[Event], payloads: Sequence[tuple[str, str]]
    ) -> None:
        """Append many ``(key, payload JSON)`` events of one type (see
        :func:`outbox.append_payloads`: the caller vouches for the payloads)."""
        await outbox.append_payloads(
            tx, event_type, payloads, producer=self.spec.name, schema=self.database.schema
        )

    # -- lifecycle ----------------------------------------------------------------------
    @asynccontextmanager
    async def lifespan(self, _: Litestar) -> AsyncIterator[None]:
        metrics_server = None
        if self.metrics_port is not None:  # first: a port in use stops the start, leaks nothing
            # prometheus_client's own server, in a thread: Prometheus scrapes any path of it.
            metrics_server, _thread = start_http_server(self.metrics_port, addr=self.settings.host)
            self.metrics_address = (self.settings.host, metrics_server.server_port)
        if self.db is not None:
            await self.db.open()
        if self.uses_broker:
            self._tasks.append(asyncio.create_task(self._start_broker()))
            if self.db is not None:
                self._relay = outbox.OutboxRelay(
                    self.db.pool,
                    self.db.schema,
                    KafkaPublisher(self.broker, self.platform.kafka_bootstrap),
                    batch_size=self.settings.relay_batch_size,
                    poll_interval_s=self.settings.relay_poll_interval_s,
                    retention=timedelta(days=self.settings.outbox_retention_days),
                )
                self._tasks.append(asyncio.create_task(self._relay.run()))
                if self.consumer is not None and self.settings.inbox_retention_days > 0:
                    self._inbox_pruner = inbox.pruner(
                        self.db.pool,
                        self.db.schema,
                        timedelta(days=self.settings.inbox_retention_days),
                        batch_size=self.settings.inbox_prune_batch_size,
                        interval_s=self.settings.inbox_prune_interval_s,
                    )
                    self._tasks.append(asyncio.create_task(self._inbox_pruner.run()))
            self._tasks.append(asyncio.create_task(self._watch_epoch()))
        for job in self.background:
            self._tasks.append(asyncio.create_task(job()))
        log.info("service_started", port=self.settings.port, metrics=self.metrics_address)
        try:
            yield
        finally:
            log.info("service_stopping")
            if self._relay is not None:
                self._relay.stop()
            if self._inbox_pruner is not None:
                self._inbox_pruner.stop()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self.uses_broker:
                with contextlib.suppress(Exception):
                    await self.broker.stop()
            for hook in self.shutdown_hooks:
                await hook()
            if isinstance(self._clock, RemoteClock):
                await self._clock.aclose()
            if self.db is not None:
                await self.db.close()
            if metrics_server is not None:
                await asyncio.to_thread(metrics_server.shutdown)
                metrics_server.server_close()

    async def _start_broker(self) -> None:
        delay = 0.5
        while True:
            try:
                if self._epoch is None:
                    self._epoch = await read_epoch(self.platform.kafka_bootstrap)
                    if self._epoch is None:
                        raise RuntimeError("broker has no epoch marker yet: topics not created")
                    if self.consumer is not None:
                        self.consumer.attach(group_suffix=self._epoch[:12])
                # A failed start is stopped before the retry: no ghost member in the group.
                await start_broker(self.broker)
                self._broker_started = True
                log.info("broker_started", topics=self.consumer.topics if self.consumer else [])
                return
            except Exception as exc:
                log.warning("broker_start_failed", error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _watch_epoch(self) -> None:
        """Exit when the broker lost its state (an embedded broker restarted).

        A clean restart is the simplest correct recovery: consumers rejoin from scratch and
        the relay, seeing the new epoch, re-publishes the outbox.
        """
        while True:
            try:
                epoch = await read_epoch(self.platform.kafka_bootstrap)
                if epoch is not None and self._epoch is not None and epoch != self._epoch:
                    log.warning("broker_reset_detected", old=self._epoch, new=epoch)
                    os._exit(EXIT_BROKER_RESET)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("epoch_check_failed", error=repr(exc))
            await asyncio.sleep(self.settings.epoch_check_interval_s)

    # -- health -------------------------------------------------------------------------
    async def readiness(self) -> dict[str, Any]:
        """Each check's outcome; ready only when all pass."""
        checks: dict[str, dict[str, Any]] = {}
        if self.db is not None:
            checks["database"] = await _check(self._check_db)
            checks["migrations"] = await _check(self._check_migrations)
        if self.uses_broker:
            checks["broker"] = await _check(self._check_broker)
        for name, fn in self.ready_checks.items():
            checks[name] = await _check(fn)
        return {
            "service": self.spec.name,
            "status": "ready" if all(c["ok"] for c in checks.values()) else "not-ready",
            "checks": checks,
        }

    async def _check_db(self) -> tuple[bool, str]:
        async with self.database.connection() as conn:
            await conn.fetchval("SELECT 1")
        return True, "ok"

    async def _check_migrations(self) -> tuple[bool, str]:
        async with self.database.connection() as conn:
            todo = await migrations.pending(conn, self.database.schema, self.spec.migrations())
        return (not todo, "up to date" if not todo else f"pending: {', '.join(todo)}")

    async def _check_broker(self) -> tuple[bool, str]:
        if not self._broker_started:
            return False, "connecting"
        ok = await self.broker.ping(timeout=3.0)
        return ok, "ok" if ok else "unreachable"

    # -- HTTP -----------------------------------------------------------------------------
    def app(self) -> Litestar:
        """The Litestar app: the service's routes plus health and metrics."""
        service = self

        @get("/health/live", include_in_schema=False)
        async def live() -> dict[str, str]:
            return {"service": service.spec.name, "status": "alive"}

        @get("/health/ready", include_in_schema=False)
        async def ready() -> Response[dict[str, Any]]:
            body = await service.readiness()
            return Response(body, status_code=200 if body["status"] == "ready" else 503)

        @get("/metrics", include_in_schema=False, media_type=MediaType.TEXT)
        async def prometheus() -> Response[bytes]:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        trust = identity.IdentityCheck(self.platform.identity_key, self.identity_required)
        return Litestar(
            route_handlers=[
                live,
                ready,
                *([prometheus] if self.metrics_port is None else []),
                *self.route_handlers,
            ],
            lifespan=[self.lifespan],
            guards=[trust.guard],
            # Controllers receive the running service (database, outbox) as ``service`` and
            # who the gateway says is calling as ``identity``.
            dependencies={
                "service": Provide(lambda: service, sync_to_thread=False),
                "identity": Provide(trust.provide, sync_to_thread=False),
            },
            exception_handlers={
                **EXCEPTION_HANDLERS,
                # A path or method no route has is refused like any other without identity.
                **{
                    unmatched: trust.unmatched(EXCEPTION_HANDLERS[HTTPException])
                    for unmatched in (NotFoundException, MethodNotAllowedException)
                },
            },
            middleware=[observability_middleware, refuse_nul_middleware],
            request_class=BoundedRequest,  # every JSON body through one bounded decoder
            openapi_config=OpenAPIConfig(
                title=f"Wattline {self.spec.name}",
                version="0.1.0",
                path="/schema",
                # /schema/openapi.json with the problem+json errors every route answers
                render_plugins=[ProblemDocumentingJsonPlugin(self.identity_required)],
            )
            if self.openapi_schema
            else None,
            cors_config=CORSConfig(allow_origins=[]),
            debug=False,
            logging_config=None,
        )

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT."""
        configure_logging(self.spec.name, self.platform.log_level, self.platform.log_format)
        config = uvicorn.Config(
            self.app(),
            host=self.settings.host,
            port=self.settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=20,
        )
        uvicorn.Server(config).run()


async def _check(fn: ReadyCheck) -> dict[str, Any]:
    try:
        ok, detail = await asyncio.wait_for(fn(), timeout=5.0)
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return {"ok": ok, "detail": detail}


_CORRELATION_ID = re.compile(rb"[!-~]{1,128}")


def _correlation_id(incoming: bytes | None) -> str:
    """The caller's X-Correlation-ID (its first 128 characters) if it is printable ASCII, else
    a new one: it goes back in a header, into every log line and on to other services'
    headers, so an undecodable or non-ASCII one would fail there (it was a 500)."""
    found = _CORRELATION_ID.fullmatch(incoming[:128]) if incoming else None
    return found[0].decode("ascii") if found else new_correlation_id()


def observability_middleware(app: ASGIApp) -> ASGIApp:
    """Correlation id in and out (``X-Correlation-ID``) and HTTP metrics by route template."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        incoming = headers.get(CORRELATION_HEADER.lower().encode())
        cid = _correlation_id(incoming)
        token = correlation_id_var.set(cid)
        status = 500
        status_sent = False
        started = time.perf_counter()

        async def send_wrapper(message: Any) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status = message["status"]
                status_sent = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (CORRELATION_HEADER.lower().encode(), cid.encode()),
                ]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        except Exception as exc:
            # Raised in a middleware, outside the route's own exception handling: answered
            # here the same way (problem+json, the correlation id still known), unless the
            # response had started.
            if status_sent:
                raise
            await send_exception(scope, receive, send_wrapper, exc)
        finally:
            correlation_id_var.reset(token)
            route = _route_template(scope)
            method = scope.get("method", "")
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)

    return middleware


def _route_template(scope: Scope) -> str:
    # The full template (a controller's handlers only know their own relative path).
    template = scope.get("path_template")
    if isinstance(template, str) and template:
        return template
    handler = scope.get("route_handler")
    paths: Sequence[str] | None = getattr(handler, "paths", None)
    if paths:
        return sorted(paths)[0]
    return "unmatched"


# Type of the ``service`` parameter of a route handler: the running service (a service that
# reads its own settings there names ``NamedDependency[Service[ItsSettings]]``).
ServiceDep = NamedDependency[Service[Any]]

__all__ = ["EXIT_BROKER_RESET", "Request", "Service", "ServiceDep", "ServiceSpec", "SettingsT"]
