"""The `wattline` command line.

Every command but `up`, `settle` and `datahub parse` acts on a running system: the one
`wattline up` recorded in its home (wattline.system), or what the environment names.
Imports are made inside the commands, so `wattline --help` and `wattline status` start fast
(benchmarks/cli_startup.py measures them).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from wattline import system
from wattline.registry import SERVICES, by_name

if TYPE_CHECKING:
    import asyncpg
    import httpx

app = typer.Typer(
    help="Wattline: settlement and DataHub integration for Danish suppliers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
apikey_app = typer.Typer(help="Manage API keys of the public gateway.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
user_app = typer.Typer(help="Manage users of the back office (/backoffice).", no_args_is_help=True)
app.add_typer(user_app, name="user")
datahub_app = typer.Typer(help="Look at DataHub documents as Wattline does.", no_args_is_help=True)
app.add_typer(datahub_app, name="datahub")
sim_app = typer.Typer(help="Drive the DataHub simulator.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")
settlement_app = typer.Typer(help="Settlement runs.", no_args_is_help=True)
app.add_typer(settlement_app, name="settlement")
portfolio_app = typer.Typer(help="The supplier's portfolio.", no_args_is_help=True)
app.add_typer(portfolio_app, name="portfolio")
mail_app = typer.Typer(
    help="The e-mails `wattline up`'s mail server took (the bills invoicing sent), kept in "
    "<home>/mail.",
    no_args_is_help=True,
)
app.add_typer(mail_app, name="mail")

Home = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="WATTLINE_HOME",
        help="the home of the system to act on (where `wattline up` keeps its state)",
        show_default=".wattline",
    ),
]

_state: dict[str, Path] = {}


def _target() -> system.Target:
    return system.Target(_state.get("home") or system.DEFAULT_HOME)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _run(coro: Any) -> Any:
    """Run a command's coroutine; a missing system or an unreachable part is one clear line."""
    try:
        return asyncio.run(coro)
    except system.NoSystem as exc:
        _fail(str(exc))
    except OSError as exc:  # asyncpg's connection errors are OSErrors too
        _fail(f"cannot reach the system: {exc}")


@app.callback()
def main(home: Home = None) -> None:
    if home is not None:
        _state["home"] = home


# --- the system ------------------------------------------------------------------------


@app.command()
def up(
    home: Home = None,
    base_port: Annotated[
        int, typer.Option(envvar="WATTLINE_BASE_PORT", help="gateway port; services use base+101..")
    ] = 8000,
    pg_port: Annotated[int, typer.Option(envvar="WATTLINE_PG_PORT")] = 54329,
    kafka_port: Annotated[int, typer.Option(envvar="WATTLINE_KAFKA_PORT")] = 19092,
    fast_db: Annotated[bool, typer.Option(help="fsync off: for tests only")] = False,
    quiet: Annotated[bool, typer.Option(help="hide service log lines")] = False,
) -> None:
    """Start the whole system and record where it is (<home>/system.json).

    PostgreSQL and the broker are embedded unless DATABASE_URL / KAFKA_BOOTSTRAP are set.
    """
    from wattline_platform.logging import configure_logging

    from wattline.supervisor import Supervisor

    configure_logging("cli", os.environ.get("LOG_LEVEL", "WARNING"), "console")
    where = (home or _state.get("home") or system.DEFAULT_HOME).resolve()
    where.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(
        where,
        base_port=base_port,
        pg_port=pg_port,
        kafka_port=kafka_port,
        fast_db=fast_db,
        quiet_services=quiet,
        database_url=os.environ.get("DATABASE_URL"),
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP"),
    )
    raise typer.Exit(asyncio.run(supervisor.run()))


def service_logins(admin_dsn: str, environ: dict[str, str]) -> dict[str, tuple[str, str]]:
    """service -> (role, password) of each WATTLINE_<SERVICE>_DATABASE_URL in *environ* that
    logs in as another user than *admin_dsn*: the roles `wattline migrate` provisions."""
    from urllib.parse import unquote, urlsplit

    admin_user = urlsplit(admin_dsn).username
    logins: dict[str, tuple[str, str]] = {}
    for entry in SERVICES:
        variable = f"WATTLINE_{entry.name.upper()}_DATABASE_URL"
        url = urlsplit(environ.get(variable) or "")
        if not url.username or url.username == admin_user:
            continue
        if not url.password:
            _fail(f"{variable} names the role {url.username} but no password for it")
        logins[entry.name] = (unquote(url.username), unquote(url.password))
    return logins


@app.command()
def migrate() -> None:
    """Apply every service's migrations to the system's database (idempotent).

    A service given its own login in WATTLINE_<SERVICE>_DATABASE_URL (another user than
    DATABASE_URL's, as docker-compose.yml gives the migrate job) first gets that role, with
    that password, owning its schema; its migrations are then applied as that role.
    """
    from wattline_platform.embedded import service_role

    from wattline.stack import migrate_all, provision

    async def run() -> dict[str, list[str]]:
        target = _target()
        admin = target.database_url
        logins = service_logins(admin, dict(os.environ))
        if logins:
            await provision(admin, logins)
            roles = {name: role for name, (role, _) in logins.items()}
        elif not os.environ.get("DATABASE_URL") and target.system().embedded_postgres:
            # `wattline up`'s own server: its schemas belong to the services' roles.
            roles = {e.name: service_role(e.name) for e in SERVICES}
        else:
            roles = {}
        return await migrate_all(admin, roles)

    for service, names in _run(run()).items():
        typer.echo(f"{service}: {len(names)} applied" + (f" ({', '.join(names)})" if names else ""))


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="write it here (default: stdout)")
    ] = None,
) -> None:
    """Write the public OpenAPI document (every service's and the gateway's own /api routes,
    what the gateway serves at /schema/openapi.json) without a running system."""
    from wattline.openapi import public_document, render

    text = render(asyncio.run(public_document()))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
def topics() -> None:
    """Create the topics of deploy/topics.yaml (and their .dlq twins) on the system's broker."""
    from wattline_platform.topics import ensure_topics, load_topics

    try:
        specs = load_topics()
    except ValueError as exc:  # a bad WATTLINE_TOPICS_REPLICATION_FACTOR
        _fail(f"wattline topics: {exc}", 2)

    async def run() -> str:
        return await ensure_topics(_target().kafka_bootstrap, specs)

    typer.echo(f"{len(specs)} topics present; broker epoch {_run(run())}")


async def _connect(schema: str | None = None) -> asyncpg.Connection:
    import asyncpg

    settings = {"search_path": schema} if schema else None
    conn: asyncpg.Connection = await asyncpg.connect(
        _target().database_url, timeout=10, server_settings=settings
    )
    return conn


async def _has_outbox(conn: asyncpg.Connection, schema: str) -> bool:
    found: bool = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.outbox")
    return found


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
    from wattline_platform.outbox import schedule_replay

    if since is None and from_event is None:
        raise typer.BadParameter(
            "give --since and/or --from-event (a whole-outbox replay needs --since 1970-01-01)"
        )
    try:
        schemas = [by_name(n).schema for n in service] if service else None
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from exc

    async def run() -> None:
        conn = await _connect()
        try:
            for schema in schemas or [e.schema for e in SERVICES]:
                if not await _has_outbox(conn, schema):
                    continue
                try:
                    count = await schedule_replay(
                        conn, schema, since=_utc(since), until=_utc(until), from_event=from_event
                    )
                except LookupError:
                    if schemas:
                        raise
                    continue
                typer.echo(f"{schema}: {count} events scheduled for re-publication")
        finally:
            await conn.close()

    _run(run())


@app.command()
def backup(
    folder: Annotated[Path, typer.Argument(help="a new (or empty) folder for the backup")],
) -> None:
    """Back up every service's schema (one consistent snapshot) and the home's keys."""
    from wattline import backup as backups

    target = _target()

    async def run() -> backups.Made:
        home: Path | None = target.home
        try:
            system.load(target.home)
        except system.NoSystem:
            home = None  # a deployment (DATABASE_URL): its keys are in its secret store
        return await backups.backup(target.database_url, folder, home)

    try:
        made = _run(run())
    except backups.BackupError as exc:
        _fail(f"wattline backup: {exc}")
    typer.echo(
        f"backed up {made.rows} rows of {made.tables} tables into {made.folder} "
        f"(dump {made.size / 1e6:.1f} MB)"
    )
    if made.keys:
        typer.echo(
            f"{made.folder / backups.KEYS} holds {', '.join(made.keys)}: the PII key reads the "
            "personal data in the dump, so keep that folder apart from the dump"
        )


@app.command()
def restore(
    folder: Annotated[Path, typer.Argument(help="a folder `wattline backup` made")],
) -> None:
    """Restore a backup into a fresh home (or the empty database DATABASE_URL names)."""
    import fcntl

    from wattline_platform.embedded import serving

    from wattline import backup as backups

    home = _target().home
    url = os.environ.get("DATABASE_URL")

    async def into_home() -> int:
        backups.check_keys(folder, manifest, home)
        async with serving(home) as pg:
            tables = await backups.restore_database(folder, pg.admin_dsn, manifest)
        backups.restore_keys(folder, manifest, home)
        return tables

    try:
        manifest = backups.read_manifest(folder)
        if url:
            tables = _run(backups.restore_database(folder, url, manifest))
        else:
            (home / "run").mkdir(parents=True, exist_ok=True)
            with open(home / "run" / "lock", "w") as lock:  # the lock `wattline up` holds
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    _fail(f"wattline restore: a Wattline is running from {home}; stop it first")
                tables = _run(into_home())
    except backups.BackupError as exc:
        _fail(f"wattline restore: {exc}", 2)
    rows = sum(sum(t.values()) for t in manifest["schemas"].values())
    typer.echo(f"restored {rows} rows of {tables} tables (taken {manifest['created_at']})")
    if url:
        typer.echo("the services' PII_KEY must be the backup's keys/pii.key")
    else:
        typer.echo(
            f"start it with `wattline --home {home} up`: its fresh broker gets every outbox "
            "again, and each consumer skips the events it had applied"
        )


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command()
def status() -> None:
    """Readiness of every service and the outbox backlog of each schema."""
    import json as _json
    import urllib.error
    import urllib.request

    try:
        target = _target()
        gateway = target.gateway_url
        database_url = target.database_url
    except system.NoSystem as exc:
        _fail(str(exc))
    ok = True
    try:
        try:
            if not gateway.startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {gateway}")
            with urllib.request.urlopen(f"{gateway}/health/ready", timeout=10) as response:  # noqa: S310 - checked above
                body, code = _json.loads(response.read()), response.status
        except urllib.error.HTTPError as exc:  # 503: not ready, with the checks in the body
            body, code = _json.loads(exc.read()), exc.code
        for name, check in sorted(body.get("checks", {}).items()):
            typer.echo(f"{name:<15} {'ok ' if check['ok'] else 'NOT'} {check['detail']}")
        ok = code == 200
    except (OSError, ValueError) as exc:
        typer.echo(f"gateway {gateway} unreachable: {exc}")
        ok = False
    mail = _mail_server_check()
    if mail is not None:
        typer.echo(f"{'mail':<15} {'ok ' if mail[0] else 'NOT'} {mail[1]}")
        ok = ok and mail[0]
    metrics = _gateway_metrics_check()
    if metrics is not None:
        typer.echo(f"{'metrics':<15} {'ok ' if metrics[0] else 'NOT'} {metrics[1]}")
        ok = ok and metrics[0]

    async def run() -> None:
        import asyncpg

        conn = await asyncpg.connect(database_url, timeout=10)
        try:
            for entry in SERVICES:
                if await _has_outbox(conn, entry.schema):
                    row = await conn.fetchrow(
                        f"""SELECT count(*) FILTER (WHERE published_at IS NULL) AS pending,
                                   count(*) AS total FROM {entry.schema}.outbox"""
                    )
                    assert row is not None
                    typer.echo(
                        f"outbox {entry.schema:<15} {row['pending']} pending of {row['total']}"
                    )
        finally:
            await conn.close()

    _run(run())
    for line in _operations():
        typer.echo(line)
    raise typer.Exit(0 if ok else 1)


def _operations() -> list[str]:
    """Queue depths, lags, dead letters and open processes read from the running system's
    services' /metrics; none when no system started from this home says where they are."""
    from wattline import ops_status

    try:
        described = _target().system()
    except system.NoSystem:
        return []
    urls = {name: f"{base}/metrics" for name, base in described.services.items()}
    if described.metrics_url:
        urls["gateway"] = described.metrics_url
    return list(ops_status.summary({n: ops_status.scrape(u) for n, u in urls.items()}))


def _gateway_metrics_check() -> tuple[bool, str] | None:
    """Whether the gateway's /metrics (on its own port, not the public one) answers; None
    when no system started from this home says where it is (a deployment's Prometheus does)."""
    import urllib.request

    try:
        url = _target().system().metrics_url
    except system.NoSystem:
        return None
    if not url or not url.startswith("http://127.0.0.1:"):
        return None
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - checked above
            return response.status == 200, url
    except OSError as exc:
        return False, f"{url} unreachable: {exc!r}"


def _mail_server_check() -> tuple[bool, str] | None:
    """Whether the running system's mail server answers, and how many messages it kept;
    None when no system started from this home runs one (a deployment has its own)."""
    import smtplib
    from urllib.parse import urlsplit

    try:
        described = _target().system()
    except system.NoSystem:
        return None
    if not described.mail_url:
        return None
    url = urlsplit(described.mail_url)
    try:
        with smtplib.SMTP(url.hostname or "127.0.0.1", url.port or 25, timeout=5) as server:
            server.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return False, f"{described.mail_url} unreachable: {exc!r}"
    where = Path(described.mail_dir) if described.mail_dir else _mail_dir()
    count = sum(
        1 for sub in ("new", "cur") if (where / sub).is_dir() for _ in (where / sub).iterdir()
    )
    return True, f"{described.mail_url}, {count} messages in {where} (wattline mail list)"


# --- API keys ----------------------------------------------------------------------------


def split_scopes(text: str) -> list[str]:
    """``"signup:write products:read"`` or ``"a,b"``: scopes separated by commas or spaces."""
    return [s for s in re.split(r"[,\s]+", text) if s]


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="who uses it, e.g. erp")],
    scopes: Annotated[
        str,
        typer.Option(help="admin or <service>:read|write, separated by commas or spaces (quoted)"),
    ],
    rate_limit: Annotated[int, typer.Option(help="requests per minute")] = 600,
    channel: Annotated[
        str | None,
        typer.Option(
            help="bind the key to this sales channel: it sees (lists, reads, cancels) only the "
            "signups it made; without, a back-office key that sees all"
        ),
    ] = None,
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    import asyncpg
    from wattline_gateway.domain.api_keys import InvalidChannel, InvalidName, InvalidScope
    from wattline_gateway.handlers import create_api_key

    async def run() -> str:
        conn = await _connect("gateway")
        try:
            return await create_api_key(conn, name, split_scopes(scopes), rate_limit, channel)
        finally:
            await conn.close()

    try:
        typer.echo(_run(run()))
    except (InvalidScope, InvalidChannel, InvalidName) as exc:
        raise typer.BadParameter(str(exc)) from exc
    except asyncpg.UniqueViolationError as exc:
        raise typer.BadParameter(f"a key named {name!r} exists") from exc


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the username they log in with, e.g. karin")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="admin or <service>:read|write (as an API key's), repeatable; default admin",
        ),
    ] = None,
) -> None:
    """Create a back-office user; the generated password is printed once (only a hash of it
    is stored)."""
    from wattline_gateway.domain.api_keys import InvalidScope
    from wattline_gateway.domain.backoffice import InvalidUsername
    from wattline_gateway.handlers import create_backoffice_user

    async def run() -> str | None:
        conn = await _connect("gateway")
        try:
            return await create_backoffice_user(conn, name, list(scope or ["admin"]))
        finally:
            await conn.close()

    try:
        password = _run(run())
    except (InvalidScope, InvalidUsername) as exc:
        raise typer.BadParameter(str(exc)) from exc
    if password is None:
        raise typer.BadParameter(f"a user named {name!r} exists")
    typer.echo(password)


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Option()]) -> None:
    """Revoke a key by name (takes effect within 30 s at every gateway)."""
    from wattline_gateway.handlers import revoke_api_key

    async def run() -> bool:
        conn = await _connect("gateway")
        try:
            return await revoke_api_key(conn, name)
        finally:
            await conn.close()

    if not _run(run()):
        _fail(f"no active key named {name!r}")
    typer.echo(f"revoked {name}")


@apikey_app.command("list")
def apikey_list() -> None:
    """List keys (names, scopes, limits; never the secrets)."""
    from wattline_gateway.adapters.api_keys import list_keys

    async def run() -> None:
        conn = await _connect("gateway")
        try:
            for row in await list_keys(conn):
                state = "revoked" if row["revoked_at"] else "active"
                bound = f" channel {row['channel']}" if row["channel"] else ""
                typer.echo(
                    f"{row['name']:<20} {state:<8} {','.join(row['scopes']):<30} "
                    f"{row['rate_limit_per_minute']}/min{bound}"
                )
        finally:
            await conn.close()

    _run(run())


# --- mail: what the local mail server took (no running system needed) ---------------------


def _mail_dir() -> Path:
    """Where `wattline up` started from this home keeps every e-mail (a Maildir)."""
    return (_state.get("home") or system.DEFAULT_HOME) / "mail"


def _messages() -> list[tuple[float, Any]]:
    """(received at, message) of every e-mail kept, oldest first: message N is the Nth.

    A Maildir is one file per message in ``new/`` (not yet read by a mail client) or ``cur/``,
    its modification time the time it was received.
    """
    from email import message_from_bytes, policy

    where = _mail_dir()
    if not (where / "new").is_dir():
        _fail(f"no mail kept at {where}: `wattline up` (make run) starts the mail server there")
    files = [
        path for sub in ("new", "cur") if (where / sub).is_dir() for path in (where / sub).iterdir()
    ]
    found = sorted((path.stat().st_mtime, path.name, path) for path in files if path.is_file())
    return [
        (received, message_from_bytes(path.read_bytes(), policy=policy.default))
        for received, _, path in found
    ]


def _received(at: float) -> str:
    return datetime.fromtimestamp(at).astimezone().strftime("%Y-%m-%d %H:%M:%S")


@mail_app.command("list")
def mail_list(
    last: Annotated[int, typer.Option(min=1, help="show the newest N")] = 20,
) -> None:
    """The e-mails kept, numbered oldest first: when, to whom, the subject and attachments."""
    messages = _messages()
    if not messages:
        typer.echo(f"no e-mails yet in {_mail_dir()}")
        return
    first = max(len(messages) - last, 0)
    for number, (at, message) in enumerate(messages[first:], start=first + 1):
        files = ", ".join(str(part.get_filename()) for part in message.iter_attachments())
        typer.echo(
            f"{number:>5}  {_received(at)}  {message.get('To', '')!s:<40.40}  "
            f"{message.get('Subject', '')}" + (f"  [{files}]" if files else "")
        )
    if first:
        typer.echo(f"({first} older: --last {len(messages)} shows all)")


@mail_app.command("show")
def mail_show(
    number: Annotated[int, typer.Argument(min=1, help="its number in `wattline mail list`")],
    save: Annotated[
        Path | None, typer.Option(help="write its attachments (the bill's PDF) to this folder")
    ] = None,
) -> None:
    """One e-mail: its headers, its text and its attachments."""
    messages = _messages()
    if number > len(messages):
        _fail(f"there are {len(messages)} e-mails; no {number}")
    at, message = messages[number - 1]
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        typer.echo(f"{header + ':':<12}{message.get(header, '')}")
    typer.echo(f"{'Received:':<12}{_received(at)}")
    body = message.get_body(("plain",))
    typer.echo("")
    typer.echo(body.get_content().rstrip() if body is not None else "(no text part)")
    attachments = list(message.iter_attachments())
    if attachments:
        typer.echo("")
    for part in attachments:
        name = Path(str(part.get_filename() or "attachment")).name  # never a path of its own
        data = part.get_content()
        size = len(data) if isinstance(data, bytes | str) else 0
        line = f"attachment: {name} ({part.get_content_type()}, {size} bytes)"
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            target = save / name
            if isinstance(data, bytes):
                target.write_bytes(data)
            else:
                target.write_text(str(data))
            line += f" -> {target}"
        typer.echo(line)


# --- documents and scenarios (no running system needed) ------------------------------------


@datahub_app.command("parse")
def datahub_parse(
    file: Annotated[Path, typer.Argument(help="a CIM JSON document, e.g. a message from DataHub")],
) -> None:
    """Show what the datahub service makes of a document.

    RSM-012: one JSON line per metering point and Danish local day (a day a series covers in
    part with the rest null), and on stderr a line per series refused on its own. Anything
    else: the events it would publish, one JSON line each (every transaction of the
    document). An invalid document exits with code 2 and a reason.
    """
    import json as _json

    from wattline_cim import (
        CimError,
        MeasureDataDocument,
        local_day_json,
        local_days,
        parse_documents,
    )
    from wattline_datahub.domain.inbound import interpret

    refused: list[str] = []
    try:
        docs = parse_documents(file.read_bytes())
        lines = []
        for doc in docs:
            if isinstance(doc, MeasureDataDocument):
                refused += [f"series {r.index}: {r.reason}" for r in doc.refused]
                for s in doc.series:
                    try:
                        lines += [local_day_json(day) for day in local_days(s)]
                    except CimError as exc:
                        refused.append(f"series {s.transaction_id} ({s.gsrn}): {exc}")
                continue
            lines += [
                _json.dumps(
                    {
                        "type": event.TYPE,
                        "version": event.VERSION,
                        "key": key,
                        "payload": event.model_dump(mode="json"),
                    }
                )
                for event, key in interpret(doc, doc.message_id).events
            ]
    except (CimError, OSError) as exc:
        typer.echo(f"{file}: {exc}".splitlines()[0], err=True)
        raise typer.Exit(2) from exc
    for reason in refused:
        typer.echo(f"{file}: refused {reason}", err=True)
    if refused and not lines:  # as the service dead-letters a document of refused series
        raise typer.Exit(2)
    for line in lines:
        typer.echo(line)


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


# --- settlement --------------------------------------------------------------------------


@settlement_app.command("run")
def settlement_run(
    period: Annotated[str, typer.Option(help="billing period YYYY-MM (Danish local month)")],
    grid_area: Annotated[str | None, typer.Option(help="only this grid area")] = None,
) -> None:
    """Settle a billing period now (the same job the service runs), with progress."""
    from wattline import settlement_run as job

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        _fail(f"--period {period!r} is not YYYY-MM", 2)
    if grid_area is not None and not re.fullmatch(r"\d{3}", grid_area):
        _fail(f"--grid-area {grid_area!r} is not a 3-digit grid area", 2)

    async def run() -> int:
        return await job.run(_target().database_url, period, grid_area)

    raise typer.Exit(_run(run()))


# --- the HTTP side: the gateway and the simulator ------------------------------------------


def _simulator_url() -> str:
    value = os.environ.get("WATTLINE_SIMULATOR_URL")
    if value:
        return value.rstrip("/")
    url = _target().system().services.get("simulator")
    if not url:
        _fail("the running system has no simulator")
    return url


async def _call(method: str, url: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
    """A request to the simulator (signed with the system's identity key, as the gateway signs
    what it forwards: its control routes answer nothing else), or with an API *key*."""
    import httpx
    from wattline_platform.identity import Identity, SigningAuth

    headers = {"X-API-Key": key} if key else {}
    auth = None
    if not key:
        operator = Identity("wattline-cli", "wattline-cli", frozenset({"admin"}))
        auth = SigningAuth(operator, _target().identity_key)
    async with httpx.AsyncClient(timeout=300, auth=auth) as client:
        try:
            return await client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise OSError(f"{url}: {exc!r}") from exc


def _problem(response: httpx.Response) -> NoReturn:
    try:
        body = response.json()
        detail = body.get("detail") or body.get("title") or response.text
    except ValueError:
        detail = response.text
    _fail(f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}")


IMPORT_CHUNK_ROWS = 2_000  # a request well inside the gateway's read timeout


def csv_chunks(
    text: str, rows: int = IMPORT_CHUNK_ROWS
) -> tuple[list[tuple[int, str]], list[dict[str, Any]]]:
    """The file as (line offset, CSV with the header and at most *rows* records) pieces, and
    the rows refused before sending because their ``external_id`` repeats an earlier line.

    Pieces are cut between CSV records, never inside a quoted value that holds a line break,
    and keep the file's bytes; the offset turns a piece's line numbers back into the file's.
    An import is idempotent per row, so the pieces import exactly what one request would:
    what one request checks across the whole file (a repeated ``external_id`` is refused,
    the first line kept) is checked here, since no single piece sees the whole file. A file
    that is not valid CSV goes as one piece, for the server to say where it breaks.
    """
    import csv
    import io

    physical = io.StringIO(text, newline="").readlines()  # splits on \n, \r\n and \r only
    consumed: list[int] = []

    def feed() -> Any:
        for number, line in enumerate(physical, start=1):
            consumed.append(number)
            yield line

    reader = csv.reader(feed(), strict=True)
    records: list[tuple[int, int, list[str]]] = []  # (first line, last line, fields)
    try:
        header = next(reader, None)
        header_end = reader.line_num
        previous = header_end
        for fields in reader:
            records.append((previous + 1, reader.line_num, fields))
            previous = reader.line_num
    except csv.Error:
        return [(0, text)], []
    if header is None or not records:
        return [(0, text)], []
    names = [h.strip().lower() for h in header]
    column = names.index("external_id") if "external_id" in names else None
    first_line: dict[str, int] = {}
    repeats: list[dict[str, Any]] = []
    kept: list[tuple[int, int]] = []
    for first, last, fields in records:
        key = fields[column].strip() if column is not None and column < len(fields) else ""
        if key and key in first_line:
            reason = f"external_id repeats line {first_line[key]}"
            repeats.append({"line": last, "external_id": key, "reasons": [reason]})
            continue
        if key:
            first_line[key] = last
        kept.append((first, last))
    head = "".join(physical[:header_end])
    runs: list[list[tuple[int, int]]] = []  # contiguous records, at most *rows* each
    for record in kept:
        if not runs or len(runs[-1]) >= rows or runs[-1][-1][1] + 1 != record[0]:
            runs.append([])
        runs[-1].append(record)
    pieces = []
    for run in runs:
        body = "".join(physical[run[0][0] - 1 : run[-1][1]])
        # The piece's first record sits on its line header_end + 1, in the file on run[0][0].
        pieces.append((run[0][0] - header_end - 1, head + body))
    return pieces, repeats


async def _post_csv(url: str, text: str, target: system.Target) -> dict[str, Any]:
    """POST an import file in pieces; one report for the whole file."""
    import httpx

    total: dict[str, Any] = {"rows": 0, "imported": 0, "already_imported": 0, "rejected": 0}
    errors: list[dict[str, Any]] = []
    ids: list[str] = []
    pieces, repeats = csv_chunks(text)
    total["rows"] += len(repeats)
    total["rejected"] += len(repeats)
    errors += repeats
    async with httpx.AsyncClient(timeout=600) as client:
        for offset, piece in pieces:
            try:
                response = await client.post(
                    url,
                    content=piece.encode(),
                    headers={"X-API-Key": target.api_key, "content-type": "text/csv"},
                )
            except httpx.HTTPError as exc:
                raise OSError(f"{url}: {exc!r}") from exc
            if response.status_code >= 400:
                if ids:
                    typer.echo(
                        f"imports {', '.join(ids)} took the lines before {offset + 2}; importing "
                        "the file again after the fix is safe (rows already imported are kept)",
                        err=True,
                    )
                _problem(response)
            report: dict[str, Any] = response.json()
            for name in total:
                total[name] += report.get(name, 0)
            errors += [
                {**e, "line": e["line"] + offset if isinstance(e.get("line"), int) else None}
                for e in report.get("errors", [])
            ]
            ids.append(str(report.get("import_id")))
    errors.sort(key=lambda e: e["line"] if isinstance(e.get("line"), int) else 0)
    return {"import_id": ", ".join(ids), **total, "errors": errors}


def _print_report(report: dict[str, Any]) -> None:
    typer.echo(
        f"import {report.get('import_id')}: {report.get('rows')} rows, "
        f"{report.get('imported')} imported, {report.get('already_imported')} already imported, "
        f"{report.get('rejected')} rejected"
    )
    for error in report.get("errors", []):
        typer.echo(
            f"  line {error.get('line')} ({error.get('external_id') or '-'}): "
            + "; ".join(error.get("reasons", [])),
            err=True,
        )


@portfolio_app.command("import")
def portfolio_import(
    file: Annotated[Path, typer.Argument(help="a CSV file of the documented columns (README)")],
) -> None:
    """Import customers, payers, contracts, supply periods and metering points we already
    supply (the go-live migration from an old CIS). Idempotent; a report names every
    rejected row. Exit code 1 when a row was rejected."""
    try:
        # Bytes, not read_text(): its newline translation would rewrite line breaks inside
        # quoted values; utf-8-sig drops a byte-order mark (Excel's UTF-8).
        text = file.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{file}: cannot read as UTF-8 text: {exc}", 2)

    async def run() -> dict[str, Any]:
        target = _target()
        return await _post_csv(f"{target.gateway_url}/api/portfolio/imports", text, target)

    report = _run(run())
    _print_report(report)
    raise typer.Exit(1 if report.get("rejected") else 0)


def _print_customers(customers: list[dict[str, Any]]) -> None:
    typer.echo(f"{'dar_id':<38} {'type':<9} {'cpr_cvr':<11} {'gsrn':<19} points")
    for c in customers:
        several = f"{len(c['points'])} (name gsrn)" if c["several_points"] else "1"
        typer.echo(
            f"{c['dar_id']:<38} {c['contact_type']:<9} {c['cpr_cvr']:<11} {c['gsrn']:<19} {several}"
        )


async def _customers(limit: int, after: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": limit}
    if after:
        params["after"] = after
    response = await _call("GET", f"{_simulator_url()}/sim/customers", params=params)
    if response.status_code != 200:
        _problem(response)
    customers: list[dict[str, Any]] = response.json()
    return customers


@sim_app.command("seed")
def sim_seed(
    metering_points: Annotated[int, typer.Option(help="how many metering points DataHub knows")],
    seed: Annotated[int, typer.Option(help="same seed, same market")] = 1,
    ours_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="share of the points we already supply; they enter our portfolio through a "
            "portfolio import. The rest are other suppliers' customers to sign up",
        ),
    ] = 0.0,
    product: Annotated[str, typer.Option(help="the product our imported points are on")] = "Spot",
    customers: Annotated[int, typer.Option(help="test customers to print")] = 5,
) -> None:
    """Give the simulated DataHub a market, and print customers ready to sign up."""

    async def run() -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
        sim = _simulator_url()
        response = await _call(
            "POST",
            f"{sim}/sim/seed",
            json={"metering_points": metering_points, "seed": seed, "ours_share": ours_share},
        )
        if response.status_code != 200:
            _problem(response)
        seeded: dict[str, Any] = response.json()
        report = None
        if ours_share > 0:
            csv_file = await _call(
                "GET", f"{sim}/sim/portfolio-import.csv", params={"product": product}
            )
            if csv_file.status_code != 200:
                _problem(csv_file)
            target = _target()
            report = await _post_csv(
                f"{target.gateway_url}/api/portfolio/imports", csv_file.text, target
            )
        return seeded, report, await _customers(customers)

    seeded, report, listed = _run(run())
    typer.echo(
        f"{seeded['added']} metering points added ({metering_points} requested, seed {seed}); "
        f"DataHub now knows {seeded['metering_points']}"
    )
    if report is not None:
        typer.echo("our points entered the portfolio through a portfolio import:")
        _print_report(report)
    if listed:
        typer.echo("customers of other suppliers to sign up (more: wattline sim customers):")
        _print_customers(listed)


@sim_app.command("customers")
def sim_customers(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    after: Annotated[str | None, typer.Option(help="the last dar_id of the previous page")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> None:
    """Customers of other suppliers that a signup can switch to us: the address (DAR id),
    the CPR/CVR DataHub expects, the GSRN, and whether the address has several points."""
    listed = _run(_customers(limit, after))
    if json_output:
        import json as _json

        typer.echo(_json.dumps(listed, indent=2))
    else:
        _print_customers(listed)


@sim_app.command("clock")
def sim_clock(
    advance_days: Annotated[int | None, typer.Option(min=1, help="move forward N days")] = None,
    to: Annotated[str | None, typer.Option(help="move to this ISO time (UTC if no offset)")] = None,
    wait: Annotated[
        bool, typer.Option(help="then wait until our datahub service has fetched every message")
    ] = False,
) -> None:
    """Show the market clock, or move it forward (everyone's business time follows)."""

    async def run() -> dict[str, Any]:
        base = _simulator_url()
        if advance_days is None and to is None:
            response = await _call("GET", f"{base}/sim/clock")
        else:
            body: dict[str, Any] = {"advance_days": advance_days} if advance_days else {"to": to}
            response = await _call("POST", f"{base}/sim/clock", json=body)
        if response.status_code != 200:
            _problem(response)
        result: dict[str, Any] = response.json()
        typer.echo(f"market clock: {result.get('now')}")
        deadline = time.monotonic() + 600
        while wait:
            queued = (await _call("GET", f"{base}/sim/queues")).json()
            if not any(queued.values()):
                typer.echo("DataHub's queues are empty: our datahub service has fetched everything")
                break
            if time.monotonic() > deadline:
                _fail(f"DataHub still holds messages after 600 s: {queued}")
            await asyncio.sleep(1)
        # The datahub service keeps a message before it parses it: fetched is not yet parsed.
        while wait:
            conn = await _connect()
            try:
                received = await conn.fetchval(
                    "SELECT count(*) FROM datahub.inbound_messages WHERE status = 'received'"
                )
            finally:
                await conn.close()
            if not received:
                typer.echo("and has parsed every message it fetched")
                break
            if time.monotonic() > deadline:
                _fail(f"our datahub service still has {received} messages to parse after 600 s")
            await asyncio.sleep(0.5)
        return result

    _run(run())
