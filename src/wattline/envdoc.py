"""``deploy/env.example``, generated from the settings classes and the endpoint registry.

    uv run python -m wattline.envdoc > deploy/env.example     # regenerate
    uv run python -m wattline.envdoc --check                  # exit 1 with a diff on drift

Every variable of every settings class is listed with its default and its description (the
``Field(description=...)``); the outside addresses of :mod:`wattline_platform.endpoints` add
whether a deployment must set them and what ``wattline up`` and ``docker-compose.yml`` give
them. The compose-only variables (Postgres and Grafana) are the trailer below.
Service packages are imported only when a document is made, never by the CLI at start.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from wattline.registry import SERVICES

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "env.example"
PLATFORM_CLASSES = ("wattline_platform.config:PlatformSettings",)
SERVICE_BASE = "wattline_platform.config:ServiceSettings"
# Every settings class of every service, by service ("module:Class"); a test fails when a
# service defines one that is not listed here.
SERVICE_CLASSES: dict[str, tuple[str, ...]] = {
    "portfolio": ("wattline_portfolio.settings:PortfolioSettings",),
    "datahub": ("wattline_datahub.settings:DatahubSettings",),
    "settlement": ("wattline_settlement.settings:SettlementSettings",),
    "invoicing": ("wattline_invoicing.settings:InvoicingSettings",),
    "reconciliation": ("wattline_reconciliation.settings:ReconciliationSettings",),
    "simulator": ("wattline_simulator.settings:SimulatorSettings",),
    "notifications": ("wattline_notifications.settings:NotificationsSettings",),
    "gateway": ("wattline_gateway.bootstrap:GatewaySettings",),
}
WIDTH = 96

HEADER = """\
# Wattline environment variables. Generated from the settings classes (a test fails when this
# file drifts from them): edit a class's Field(description=...) and regenerate with
#   uv run python -m wattline.envdoc > deploy/env.example
#
# Copy to `.env` next to docker-compose.yml (compose reads it for its ${...} substitutions) or set
# them in your orchestrator. A commented line shows a default; an uncommented `NAME=` has none
# and is required (or secret). `wattline up` fills every outside address itself (the simulator
# plays DataHub, Energi Data Service, the address register and the clock); docker-compose.yml
# points them at its simulator unless .env says otherwise.
"""

COMPOSE_TRAILER = (
    """\
# Password of the `postgres` superuser, which only the migrate job logs in as (compose puts it in
# that job's DATABASE_URL). Required, as are the services' below: compose refuses to start
# without them. Make each random and URL-safe, e.g. `openssl rand -hex 24`.
POSTGRES_PASSWORD=
# Each service's own database role, wattline_<service>, owning its schema and nothing else: its
# password, in that service's DATABASE_URL; `wattline migrate` creates the role with it.
"""
    + "".join(f"POSTGRES_{entry.name.upper()}_PASSWORD=\n" for entry in SERVICES)
    + """\
# Grafana admin login and anonymous (Viewer) access.
GRAFANA_ADMIN_USER=admin
GRAFANA_ADMIN_PASSWORD=admin
GRAFANA_ANONYMOUS=true
"""
)


def load(path: str) -> type[Any]:
    """The class named ``module:Class``."""
    module, _, name = path.partition(":")
    cls: type[Any] = getattr(importlib.import_module(module), name)
    return cls


@dataclasses.dataclass(frozen=True)
class Variable:
    name: str
    default: str
    description: str
    required: bool = False  # no default: shown as `NAME=`
    secret: bool = False
    notes: tuple[str, ...] = ()


def render_default(value: Any) -> str:
    """A default as it would be written in the environment."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float | str):
        return str(value)
    if hasattr(value, "get_secret_value"):
        return str(value.get_secret_value())
    if isinstance(value, list | tuple | set | frozenset | dict):
        plain = value if isinstance(value, dict) else list(value)
        return json.dumps(plain, separators=(",", ":"), default=str)
    return str(value)


def _default(field: Any) -> tuple[str, bool, bool]:
    """(the default as text, True when there is none, True when it is random per start)."""
    if field.default_factory is not None:
        first, second = field.default_factory(), field.default_factory()
        if first != second:
            return "", False, True  # a signing key made at each start: documented, not shown
        return render_default(first), False, False
    if field.is_required():
        return "", True, False
    return render_default(field.default), field.default is None, False


def variables(cls: type[Any], skip: set[str] | None = None) -> Iterator[Variable]:
    """The environment variables of a pydantic-settings class, in field order."""
    from wattline_platform.endpoints import ENDPOINTS

    registry = {e.env: e for e in ENDPOINTS}
    prefix = str(cls.model_config.get("env_prefix") or "")
    described = {n: f.description for base in reversed(cls.__mro__) for n, f in _fields(base)}
    for name, field in cls.model_fields.items():
        if skip and name in skip:
            continue
        env = f"{prefix}{name}".upper()
        default, unset, random = _default(field)
        secret = "SecretStr" in str(field.annotation)
        notes = ["Default: a new random value at each start."] if random else []
        endpoint = registry.get(env)
        required = False
        if endpoint is not None:
            required = endpoint.required
            notes.extend(_endpoint_notes(endpoint))
        yield Variable(
            env,
            default,
            str(described.get(name) or ""),
            required=required or (secret and unset),
            secret=secret,
            notes=tuple(notes),
        )


def _fields(cls: type[Any]) -> Iterator[tuple[str, Any]]:
    own = cls.__dict__.get("__pydantic_fields__") or {}
    for name, field in own.items():
        if field.description:
            yield name, field


def _endpoint_notes(endpoint: Any) -> Iterator[str]:
    from wattline_platform.endpoints import Fixed, InSystem, Server, ServiceMap

    from wattline.registry import SERVERS

    if endpoint.required:
        yield "Required: no default."
    source = endpoint.system
    up = "the environment's value, else " if endpoint.environment_wins else ""
    if isinstance(source, InSystem):
        yield f"`wattline up`: {up}<{source.service} URL>{source.path}."
    elif isinstance(source, Server):
        offset = next(s.port_offset for s in SERVERS if s.name == source.name)
        yield (
            f"`wattline up`: {up}its own {source.name} server, {source.scheme}://127.0.0.1:"
            f"<base port + {offset}>; docker-compose.yml: its {source.name} service, "
            f"{source.compose_url()}."
        )
    elif isinstance(source, Fixed):
        mirror = f" ({source.mirrors} when set)" if source.mirrors else ""
        yield f"`wattline up`: {up}{source.value!r}{mirror}, the simulator's."
    elif isinstance(source, ServiceMap):
        yield "`wattline up`: every other service's URL."
    if not endpoint.compose:
        yield "docker-compose.yml leaves it unset."
    if endpoint.external_hosts:
        yield f"Outside host: {', '.join(endpoint.external_hosts)}."


def _wrap(text: str) -> list[str]:
    words, lines, line = text.split(), [], "#"
    for word in words:
        if len(line) + 1 + len(word) > WIDTH and line != "#":
            lines.append(line)
            line = "#"
        line = f"{line} {word}"
    if line != "#":
        lines.append(line)
    return lines


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "." if text else ""


def _entry(var: Variable) -> list[str]:
    text = " ".join(p for p in (_sentence(var.description), *var.notes) if p)
    lines = _wrap(text)
    if var.required or var.secret:
        lines.append(f"{var.name}=")
    else:
        lines.append(f"# {var.name}={var.default}")
    return lines


def _heading(title: str) -> str:
    head = f"# --- {title} "
    return head + "-" * max(3, WIDTH - len(head))


def document() -> str:
    """The whole of deploy/env.example."""
    base = load(SERVICE_BASE)
    shared = set(base.model_fields)
    out = [HEADER]
    out.append(_heading("Shared by every process"))
    out.append("")
    for path in PLATFORM_CLASSES:
        for var in variables(load(path)):
            out.extend([*_entry(var), ""])
    out.append(_heading("Every service: WATTLINE_<SERVICE>_*"))
    out.extend(
        _wrap(
            "<SERVICE> is one of "
            + ", ".join(e.name.upper() for e in SERVICES)
            + ". Each service reads only its own prefix; its port is listed in its section."
        )
    )
    out.append("")
    for var in variables(base, skip={"port"}):
        generic = dataclasses.replace(var, name=f"WATTLINE_<SERVICE>_{var.name}")
        out.extend([*_entry(generic), ""])
    for entry in SERVICES:
        out.append(_heading(entry.name))
        out.append("")
        for path in SERVICE_CLASSES[entry.name]:
            cls = load(path)
            own = {
                n
                for n, f in cls.model_fields.items()
                if n not in shared or (n == "port" or f.default != base.model_fields[n].default)
            }
            skip = set(cls.model_fields) - own
            for var in variables(cls, skip=skip):
                out.extend([*_entry(var), ""])
    out.extend([_heading("docker-compose.yml only"), "", COMPOSE_TRAILER])
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wattline.envdoc", description=__doc__)
    parser.add_argument("--check", action="store_true", help=f"compare with {ENV_EXAMPLE}")
    parser.add_argument("--write", action="store_true", help=f"write {ENV_EXAMPLE}")
    args = parser.parse_args(argv)
    text = document()
    if args.check:
        current = ENV_EXAMPLE.read_text() if ENV_EXAMPLE.exists() else ""
        if current == text:
            return 0
        sys.stderr.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                "deploy/env.example",
                "generated",
            )
        )
        print(
            "deploy/env.example is out of date: uv run python -m wattline.envdoc --write",
            file=sys.stderr,
        )
        return 1
    if args.write:
        ENV_EXAMPLE.write_text(text)
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
