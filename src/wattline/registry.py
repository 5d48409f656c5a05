"""The services `wattline up` runs, in start order, their default ports and schemas, and the
servers it runs beside them (the mail server).

Imported by every CLI call: it names the services without importing them (a test checks
the names against each service's own spec).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wattline_platform.service import ServiceSpec


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port_offset: int  # port = base port + offset; the gateway sits on the base port
    # Its Prometheus /metrics apart from its public port, at base port + this offset
    # (passed as WATTLINE_<NAME>_METRICS_PORT); None: /metrics is served on its own port.
    metrics_port_offset: int | None = None

    @property
    def schema(self) -> str:
        """The service's Postgres schema (each service's schema is named after it)."""
        return self.name

    @property
    def module(self) -> str:
        return f"wattline_{self.name}"

    def spec(self) -> ServiceSpec:
        """The service's spec (schema, migrations), imported from its bootstrap module."""
        spec: ServiceSpec = importlib.import_module(f"{self.module}.bootstrap").SPEC
        return spec


# The gateway's /metrics, apart from its public port (base): for Prometheus and `wattline status`.
GATEWAY_METRICS_OFFSET = 100

SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry("portfolio", 101),
    ServiceEntry("datahub", 102),
    ServiceEntry("settlement", 103),
    ServiceEntry("invoicing", 104),
    ServiceEntry("reconciliation", 105),
    ServiceEntry("simulator", 106),
    ServiceEntry("notifications", 108),
    ServiceEntry("gateway", 0, metrics_port_offset=GATEWAY_METRICS_OFFSET),
)


@dataclass(frozen=True)
class ServerEntry:
    """A server `wattline up` runs beside the services: not a Wattline service (no schema, no
    /health), on base port + *port_offset* of 127.0.0.1."""

    name: str  # as wattline_platform.endpoints.Server names it
    port_offset: int


# The mail server every e-mailed bill goes to (aiosmtpd, each message a file in <home>/mail);
# its offset follows the first six services' (notifications came later, at base+108).
MAIL = ServerEntry("mail", 107)
SERVERS: tuple[ServerEntry, ...] = (MAIL,)


def by_name(name: str) -> ServiceEntry:
    for entry in SERVICES:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown service {name!r}; known: {', '.join(e.name for e in SERVICES)}")
