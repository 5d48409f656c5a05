"""The services `wattline up` runs, in start order, and their default ports."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from wattline_platform.service import ServiceSpec


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port_offset: int  # port = base port + offset; the gateway sits on the base port

    @property
    def module(self) -> str:
        return f"wattline_{self.name}"

    def spec(self) -> ServiceSpec:
        """The service's spec (schema, migrations), imported from its bootstrap module."""
        spec: ServiceSpec = importlib.import_module(f"{self.module}.bootstrap").SPEC
        return spec


SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry("portfolio", 101),
    ServiceEntry("datahub", 102),
    ServiceEntry("settlement", 103),
    ServiceEntry("invoicing", 104),
    ServiceEntry("reconciliation", 105),
    ServiceEntry("simulator", 106),
    ServiceEntry("gateway", 0),
)


def by_name(name: str) -> ServiceEntry:
    for entry in SERVICES:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown service {name!r}; known: {', '.join(e.name for e in SERVICES)}")
