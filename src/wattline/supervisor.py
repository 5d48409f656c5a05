"""`wattline up`: start the embedded stack and every service, supervise, stop cleanly."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from wattline_platform.asyncutil import sleep_unless
from wattline_platform.embedded import (
    EmbeddedKafka,
    EmbeddedPostgres,
    child_preexec,
    service_role,
    wait_port,
)
from wattline_platform.service import EXIT_BROKER_RESET
from wattline_platform.topics import ensure_topics, load_topics

from wattline import system
from wattline.registry import GATEWAY_METRICS_OFFSET, MAIL, SERVICES, by_name
from wattline.stack import embedded_logins, migrate_all, provision

COLORS = ["36", "32", "33", "35", "34", "91", "96", "92", "93"]


BACKOFFICE_USER = "admin"
BACKOFFICE_PASSWORD_FILE = "backoffice-password"  # noqa: S105 (a file name)


def say(message: str) -> None:
    print(f"wattline     | {message}", flush=True)


@dataclass
class Child:
    """One supervised process and its restart policy."""

    name: str
    argv: list[str]
    env: dict[str, str]
    color: str
    uid: int | None = None
    gid: int | None = None
    stop_signal: int = signal.SIGTERM
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    pidfile: Path | None = None
    quiet: bool = False
    # Its last lines of output: said again when it exits, where its own lines are drowned
    # by the others' (or not shown at all, when quiet).
    last_lines: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    _pump_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.last_lines.clear()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=child_preexec(self.uid, self.gid),
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order
            limit=1 << 20,
        )
        self.started_at = time.monotonic()
        if self.pidfile:
            self.pidfile.write_text(str(self.proc.pid))
        self._pump_task = asyncio.create_task(self._pump(self.proc))

    async def _pump(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        prefix = (
            f"\x1b[{self.color}m{self.name:<12}|\x1b[0m "
            if sys.stdout.isatty()
            else f"{self.name:<12}| "
        )
        while line := await proc.stdout.readline():
            self.last_lines.append(line.decode(errors="replace").rstrip()[:500])
            if not self.quiet:
                sys.stdout.write(prefix + line.decode(errors="replace"))
                sys.stdout.flush()

    async def stop(self, timeout: float = 20.0) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        try:
            proc.send_signal(self.stop_signal)
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        except ProcessLookupError:
            pass


@dataclass
class Supervisor:
    """Runs the whole system; restarts what dies, with backoff."""

    home: Path
    base_port: int = 8000
    pg_port: int = 54329
    kafka_port: int = 19092
    fast_db: bool = False
    quiet_services: bool = False
    database_url: str | None = None
    kafka_bootstrap: str | None = None
    children: dict[str, Child] = field(default_factory=dict)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.base_port}"

    def service_port(self, name: str) -> int:
        return self.base_port + by_name(name).port_offset

    @property
    def metrics_url(self) -> str:
        """The gateway's /metrics: on a port of its own, never on the public one."""
        return f"http://127.0.0.1:{self.base_port + GATEWAY_METRICS_OFFSET}/metrics"

    @property
    def mail_port(self) -> int:
        return self.base_port + MAIL.port_offset

    @property
    def mail_url(self) -> str:
        return f"smtp://127.0.0.1:{self.mail_port}"

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        started = time.monotonic()
        (self.home / "run").mkdir(parents=True, exist_ok=True)
        # The home's lock, held while this system runs: two `up` started together from one
        # home cannot both pass the check below (system.json appears only once it is ready).
        with open(self.home / "run" / "lock", "w") as home_lock:  # noqa: ASYNC230 (a local file)
            try:
                fcntl.flock(home_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"a Wattline is already starting or running from {self.home}")
                return 1
            try:
                running = system.load(self.home)
            except system.NoSystem:
                pass
            else:
                say(f"a Wattline is already running from {self.home} (pid {running.pid})")
                return 1
            try:
                await self._start_stack()
                await self._start_mail()
                await self._start_services()
                await self._announce(started)
                await self._watch()
            finally:
                await self._shutdown()
        return 0

    # -- infrastructure ---------------------------------------------------------------
    async def _start_stack(self) -> None:
        env = dict(os.environ)
        self.pg: EmbeddedPostgres | None = None
        if self.database_url is None:
            self.pg = EmbeddedPostgres(self.home, self.pg_port)
            uid, gid = self.pg.prepare()
            self.children["postgres"] = Child(
                "postgres",
                self.pg.argv(self.fast_db),
                env,
                "90",
                uid,
                gid,
                stop_signal=signal.SIGINT,
                pidfile=self.home / "run" / "postgres.pid",
            )
            await self.children["postgres"].start()
            await self.pg.wait_ready()
            await self.pg.ensure_database()
            await provision(self.pg.admin_dsn, embedded_logins(self.pg))
            self.admin_dsn = self.pg.admin_dsn
            say(
                f"postgres ready on 127.0.0.1:{self.pg_port} (data in {self.pg.pgdata}, "
                f"passwords in {self.pg.secrets_dir})"
            )
        else:
            self.admin_dsn = self.database_url
        if self.kafka_bootstrap is None:
            kafka = EmbeddedKafka(self.kafka_port)
            self.bootstrap = kafka.bootstrap
            self.children["kafka"] = Child(
                "kafka",
                kafka.argv(),
                env,
                "90",
                pidfile=self.home / "run" / "kafka.pid",
                quiet=True,
            )
            await self.children["kafka"].start()
            await wait_port("127.0.0.1", self.kafka_port, 20)
        else:
            self.bootstrap = self.kafka_bootstrap
        epoch = await ensure_topics(self.bootstrap, load_topics())
        say(f"broker ready on {self.bootstrap} (epoch {epoch[:8]}), topics created")
        roles = {e.name: service_role(e.name) for e in SERVICES} if self.pg else {}
        applied = await migrate_all(self.admin_dsn, roles)
        count = sum(len(v) for v in applied.values())
        say(f"migrations applied: {count}" if count else "migrations up to date")

    async def _start_mail(self) -> None:
        """The mail server bills are e-mailed to: aiosmtpd keeping every message it receives
        as a file of the Maildir <home>/mail (`wattline mail list`), sending nothing on."""
        # The Maildir's own folders: mailbox.Maildir makes them only when it makes the whole.
        for folder in ("tmp", "new", "cur"):
            (self.mail_dir / folder).mkdir(parents=True, exist_ok=True)
        self.children["mail"] = Child(
            "mail",
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "--nosetuid",
                "--smtputf8",
                "--listen",
                f"127.0.0.1:{self.mail_port}",
                "--class",
                "aiosmtpd.handlers.Mailbox",
                str(self.mail_dir),
            ],
            dict(os.environ),
            "90",
            stop_signal=signal.SIGINT,  # aiosmtpd's clean stop
            pidfile=self.home / "run" / "mail.pid",
        )
        await self.children["mail"].start()
        await wait_port("127.0.0.1", self.mail_port, 20)
        say(f"mail server ready on {self.mail_url} (messages in {self.mail_dir})")

    def _pii_key(self) -> str:
        """The local PII key: PII_KEY, else made on first start and kept in <home>/pii.key
        (mode 600)."""
        from wattline_platform.pii import PiiCipher

        return os.environ.get("PII_KEY") or self._kept("pii.key", PiiCipher.new_key)

    def _identity_key(self) -> str:
        """The key the gateway signs identities with and every service verifies them with:
        IDENTITY_KEY, else made on first start and kept in <home>/identity.key (mode 600)."""
        from wattline_platform.identity import new_key

        return os.environ.get("IDENTITY_KEY") or self._kept(system.IDENTITY_KEY_FILE, new_key)

    def _kept(self, name: str, make: Callable[[], str]) -> str:
        from wattline_platform.embedded import read_or_create_secret

        return read_or_create_secret(self.home / name, make)[0]

    def _service_env(self, name: str) -> dict[str, str]:
        # Every outside address a service calls comes from the one registry: here it is
        # filled with this system's (locally the simulator plays DataHub, Energi Data
        # Service, the address register and the clock).
        from wattline_platform.endpoints import system_environment

        bases = {e.name: f"http://127.0.0.1:{self.service_port(e.name)}" for e in SERVICES}
        env = system_environment(name, bases, os.environ, {MAIL.name: self.mail_url})
        env.update(
            {
                "PII_KEY": self._pii_key(),
                "IDENTITY_KEY": self._identity_key(),
                "DATABASE_URL": self.admin_dsn,
                "KAFKA_BOOTSTRAP": self.bootstrap,
                "PYTHONUNBUFFERED": "1",
                f"WATTLINE_{name.upper()}_HOST": "127.0.0.1",
                f"WATTLINE_{name.upper()}_PORT": str(self.service_port(name)),
            }
        )
        metrics_offset = by_name(name).metrics_port_offset
        if metrics_offset is not None:
            env[f"WATTLINE_{name.upper()}_METRICS_PORT"] = str(self.base_port + metrics_offset)
        if self.pg is not None:
            # Its own role only: no service is given the superuser's password.
            env["DATABASE_URL"] = env[f"WATTLINE_{name.upper()}_DATABASE_URL"] = (
                self.pg.service_dsn(name)
            )
        return env

    async def _start_services(self) -> None:
        for i, entry in enumerate(SERVICES):
            child = Child(
                entry.name,
                [sys.executable, "-m", entry.module],
                self._service_env(entry.name),
                COLORS[i % len(COLORS)],
                pidfile=self.home / "run" / f"{entry.name}.pid",
                quiet=self.quiet_services,
            )
            self.children[entry.name] = child
            await child.start()

    async def _announce(self, started: float) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            body: dict[str, Any] = {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not self.stopping.is_set():
                try:
                    response = await client.get(f"{self.gateway_url}/health/ready")
                    body = response.json()
                    if response.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
        key_note = await self._dev_key()
        login = await self._backoffice_login()
        path = self._describe(login)
        checks: dict[str, Any] = body.get("checks", {})
        say("readiness:")
        for name, check in sorted(checks.items()):
            say(f"  {name:<15} {'ok ' if check.get('ok') else 'NOT'} {check.get('detail', '')}")
        state = "ready" if body.get("status") == "ready" else "NOT READY (see above)"
        say(f"Wattline is {state} in {time.monotonic() - started:.1f}s")
        say(f"gateway: {self.gateway_url}   API docs: {self.gateway_url}/docs")
        say(f"gateway metrics (Prometheus): {self.metrics_url}")
        say(key_note)
        say(
            f"Back office: {self.gateway_url}/backoffice/  "
            f"(user {login['username']}, password in {path})"
        )
        say("Ctrl-C stops everything")

    def _describe(self, backoffice: dict[str, str] | None = None) -> Path:
        """Record where everything is, for every other `wattline` command (wattline.system)."""
        return system.SystemDescription(
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            gateway_url=self.gateway_url,
            database_url=self.admin_dsn,
            kafka_bootstrap=self.bootstrap,
            api_key_file=str(self.home / "dev-api-key"),
            services={
                e.name: f"http://127.0.0.1:{self.service_port(e.name)}"
                for e in SERVICES
                if e.name != "gateway"
            },
            embedded_postgres=self.pg is not None,
            embedded_kafka=self.kafka_bootstrap is None,
            mail_url=self.mail_url,
            mail_dir=str(self.mail_dir),
            metrics_url=self.metrics_url,
            backoffice=backoffice,
        ).write(self.home)

    async def _dev_key(self) -> str:
        """Create an admin key for local use on first start; it lives in <home>/dev-api-key."""
        path = self.home / "dev-api-key"
        if not path.exists():
            from wattline_gateway.handlers import create_api_key

            conn = await asyncpg.connect(self.admin_dsn, server_settings={"search_path": "gateway"})
            try:
                secret = await create_api_key(
                    conn, f"dev-{os.urandom(3).hex()}", ["admin"], rate_limit_per_minute=100_000
                )
            finally:
                await conn.close()
            self._kept(path.name, lambda: secret)
        return f"dev API key (admin): {path}"

    async def _backoffice_login(self) -> dict[str, str]:
        """The back office's first user, admin (scope admin), made on first start with a
        random password kept in <home>/backoffice-password; a restart finds it there."""
        from wattline_gateway.domain.backoffice import new_password
        from wattline_gateway.handlers import create_backoffice_user

        password = self._kept(BACKOFFICE_PASSWORD_FILE, new_password)
        conn = await asyncpg.connect(self.admin_dsn, server_settings={"search_path": "gateway"})
        try:
            # None: made on an earlier start (with this password, unless changed since).
            await create_backoffice_user(conn, BACKOFFICE_USER, ["admin"], password=password)
        finally:
            await conn.close()
        return {"username": BACKOFFICE_USER, "password": password}

    # -- supervision ----------------------------------------------------------------------
    async def _watch(self) -> None:
        """Keep every child alive, each on its own, until stopping."""
        keepers = [asyncio.create_task(self._keep_alive(c)) for c in self.children.values()]
        try:
            await self.stopping.wait()
        finally:
            for keeper in keepers:
                keeper.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)

    async def _keep_alive(self, child: Child) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            assert child.proc is not None
            code = await child.proc.wait()
            if self.stopping.is_set():
                return
            uptime = time.monotonic() - child.started_at
            if child._pump_task is not None:  # its last lines may still be in the pipe
                await asyncio.wait({child._pump_task}, timeout=2)
            if code == EXIT_BROKER_RESET:
                delay = 0.0
                say(f"{child.name} saw the broker reset; restarting it")
            else:
                backoff = 0.5 if uptime > 60 else min(backoff * 2, 30.0)
                delay = backoff
                say(
                    f"{child.name} exited with code {code} after {uptime:.0f}s; "
                    f"restart in {delay:.0f}s; its last lines:"
                )
                for line in child.last_lines:
                    say(f"  {child.name}: {line}")
            while not self.stopping.is_set():
                await self._sleep(delay)
                if self.stopping.is_set():
                    return
                try:
                    await self._restart(child)
                    break
                except Exception as exc:  # keep trying; never take the rest down
                    delay = min(max(delay, 0.5) * 2, 30.0)
                    say(f"{child.name} restart failed ({exc!r}); next try in {delay:.0f}s")

    async def _restart(self, child: Child) -> None:
        child.restarts += 1
        await child.start()
        if child.name == "kafka":
            await wait_port("127.0.0.1", self.kafka_port, 20)
            epoch = await ensure_topics(self.bootstrap, load_topics())
            say(f"broker restarted empty: topics re-created, new epoch {epoch[:8]}")
        elif child.name == "postgres" and self.pg is not None:
            await self.pg.wait_ready()

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self.stopping, seconds)

    async def _shutdown(self) -> None:
        say("stopping")
        system.remove(self.home, os.getpid())
        services = [self.children[e.name] for e in reversed(SERVICES) if e.name in self.children]
        await asyncio.gather(*(c.stop() for c in services))
        for name in ("mail", "kafka", "postgres"):
            if name in self.children:
                await self.children[name].stop()
        for child in self.children.values():
            if child.pidfile and child.pidfile.exists():
                child.pidfile.unlink()
        say("stopped")
