"""One description of a running system: where `wattline up` put everything.

`wattline up` writes ``<home>/system.json`` once the stack is up (ports, URLs, the admin
database URL, the broker, the API key file) and removes it when it stops. Every other command
reads it, so `wattline status|sim|settlement|apikey|replay|migrate|portfolio` act on the
system started from that home — never on whatever happens to listen on a default port, which
on a shared host may be somebody else's Wattline.

Real deployments have no such file: there the plain environment variables (``DATABASE_URL``,
``KAFKA_BOOTSTRAP``, ``WATTLINE_GATEWAY_URL``, ``WATTLINE_API_KEY``) say where things are, and
they override the file value by value.

This module is imported by every CLI call, so it imports nothing heavy.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

FILE_NAME = "system.json"
# The key of the gateway's signed identity that `wattline up` made (mode 600), for commands
# that call a service's protected routes directly (the simulator's control routes).
IDENTITY_KEY_FILE = "identity.key"
DEFAULT_HOME = Path(".wattline")


class NoSystem(Exception):
    """No running system is described where we looked; the message says what to do."""


@dataclass(frozen=True)
class SystemDescription:
    """What `wattline up` started and where (written as ``system.json``)."""

    pid: int
    started_at: str
    gateway_url: str
    database_url: str  # admin DSN (the embedded server's superuser, or DATABASE_URL)
    kafka_bootstrap: str
    api_key_file: str
    services: dict[str, str] = field(default_factory=dict)  # name -> base URL
    embedded_postgres: bool = True
    embedded_kafka: bool = True
    mail_url: str | None = None  # the local mail server (smtp://127.0.0.1:<port>)
    mail_dir: str | None = None  # ... and the Maildir it writes every message to
    metrics_url: str | None = None  # the gateway's /metrics (not on its public port)
    # The back office's first user, made on first start: {"username": ..., "password": ...}
    # (the file is mode 600; the password is kept in <home>/backoffice-password across runs).
    backoffice: dict[str, str] | None = None

    def write(self, home: Path) -> Path:
        """Write atomically (mode 600: it names the admin database URL)."""
        path = home / FILE_NAME
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # O_CREAT's mode applies only to a file it creates
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(self), out, indent=2)
            out.write("\n")
        tmp.replace(path)
        return path


def home_from_env() -> Path:
    """``WATTLINE_HOME`` or ``.wattline`` in the current directory."""
    return Path(os.environ.get("WATTLINE_HOME") or DEFAULT_HOME)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: it exists
        return True
    return True


def load(home: Path) -> SystemDescription:
    """The system running from *home*; :class:`NoSystem` when none is."""
    path = home / FILE_NAME
    try:
        data = json.loads(path.read_text())
        description = SystemDescription(**data)
    except FileNotFoundError:
        raise NoSystem(
            f"no Wattline is running from {home.resolve()} (no {FILE_NAME}): start one with "
            "`make run` (or `wattline up --home …`), point --home/WATTLINE_HOME at the home "
            "of a running one, or set DATABASE_URL/KAFKA_BOOTSTRAP/WATTLINE_GATEWAY_URL for a "
            "deployment"
        ) from None
    except (OSError, ValueError, TypeError) as exc:
        raise NoSystem(f"{path} is unreadable ({exc}); restart `wattline up`") from None
    if path.stat().st_uid != os.getuid():
        # It names a key file the CLI reads and a gateway it sends that key to.
        raise NoSystem(f"{path} belongs to another user; not acting on it")
    if not _alive(description.pid):
        raise NoSystem(
            f"the Wattline recorded in {path} is not running (pid {description.pid} is gone); "
            "start it again with `make run`"
        )
    return description


def remove(home: Path, pid: int) -> None:
    """Remove the description if it is still ours (a newer `up` may have replaced it)."""
    path = home / FILE_NAME
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


@dataclass
class Target:
    """Where a CLI command acts: environment variables first, then the running system."""

    home: Path
    _system: SystemDescription | None = None

    def system(self) -> SystemDescription:
        if self._system is None:
            self._system = load(self.home)
        return self._system

    def _env_or(self, name: str, attribute: str) -> str:
        value = os.environ.get(name)
        if value:
            return value
        result: str = getattr(self.system(), attribute)
        return result

    @property
    def database_url(self) -> str:
        return self._env_or("DATABASE_URL", "database_url")

    @property
    def kafka_bootstrap(self) -> str:
        return self._env_or("KAFKA_BOOTSTRAP", "kafka_bootstrap")

    @property
    def gateway_url(self) -> str:
        return self._env_or("WATTLINE_GATEWAY_URL", "gateway_url").rstrip("/")

    @property
    def api_key(self) -> str:
        """``WATTLINE_API_KEY``, or the running system's development key."""
        value = os.environ.get("WATTLINE_API_KEY")
        if value:
            return value
        path = Path(self.system().api_key_file)
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise NoSystem(f"cannot read the API key file {path}: {exc.strerror}") from None

    @property
    def identity_key(self) -> str:
        """``IDENTITY_KEY``, or the key the running system's services verify identities with."""
        value = os.environ.get("IDENTITY_KEY")
        if value:
            return value
        self.system()  # only the key of a system that runs from this home, and is ours
        path = self.home / IDENTITY_KEY_FILE
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise NoSystem(f"cannot read the identity key file {path}: {exc.strerror}") from None
