"""The public OpenAPI document without a running system (`wattline openapi`).

Each service behind the gateway is built in process with placeholder settings (building an
app connects to nothing) and its document merged as the gateway merges what its services
serve (wattline_gateway.api.public_openapi): the same bytes a gateway in front of this
checkout's services would serve at /schema/openapi.json, so the back office's TypeScript
client can be generated from a file and checked for drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wattline.registry import SERVICES

if TYPE_CHECKING:
    from wattline_platform.service import Service

NOWHERE = "postgresql://unused.invalid/wattline"  # built, never connected
UNUSED_URL = "http://unused.invalid"  # datahub's DataHub: built, never called


def _portfolio() -> Service[Any]:
    from wattline_platform.pii import PiiCipher
    from wattline_portfolio.bootstrap import PortfolioSettings, build

    return build(PortfolioSettings(database_url=NOWHERE), PiiCipher(PiiCipher.new_key()))


def _datahub() -> Service[Any]:
    from wattline_datahub.bootstrap import build
    from wattline_datahub.settings import DatahubSettings

    return build(
        DatahubSettings(
            database_url=NOWHERE,
            url=UNUSED_URL,
            token_url=UNUSED_URL + "/token",
            client_id="wattline",
            client_secret="unused",  # noqa: S106 (a placeholder, never sent)
        )
    )


def _settlement() -> Service[Any]:
    from wattline_settlement.bootstrap import SettlementSettings, build

    return build(SettlementSettings(database_url=NOWHERE, jobs=False))


def _invoicing() -> Service[Any]:
    from wattline_invoicing.bootstrap import InvoicingSettings, build

    return build(InvoicingSettings(database_url=NOWHERE, jobs=False))


def _reconciliation() -> Service[Any]:
    from wattline_reconciliation.bootstrap import build
    from wattline_reconciliation.settings import ReconciliationSettings

    return build(ReconciliationSettings(database_url=NOWHERE))


def _simulator() -> Service[Any]:
    from wattline_simulator.bootstrap import build
    from wattline_simulator.settings import SimulatorSettings

    return build(SimulatorSettings(database_url=NOWHERE))


def _notifications() -> Service[Any]:
    from wattline_notifications.bootstrap import build
    from wattline_notifications.settings import NotificationsSettings

    return build(NotificationsSettings(database_url=NOWHERE, jobs=False))


# Every service the gateway routes to in a system `wattline up` starts (the registry's, but
# the gateway itself); a test holds the two lists equal.
BUILDERS: dict[str, Callable[[], Service[Any]]] = {
    "portfolio": _portfolio,
    "datahub": _datahub,
    "settlement": _settlement,
    "invoicing": _invoicing,
    "reconciliation": _reconciliation,
    "simulator": _simulator,
    "notifications": _notifications,
}


async def service_document(name: str) -> dict[str, Any]:
    """The OpenAPI document service *name* serves at /schema/openapi.json, its app built in
    process and never started."""
    from litestar.serialization import decode_json, encode_json

    service = BUILDERS[name]()
    try:
        # Through JSON as the service sends it (a Decimal example becomes what a client reads).
        doc: dict[str, Any] = decode_json(encode_json(service.app().openapi_schema.to_schema()))
    finally:
        for hook in service.shutdown_hooks:  # clients the build opened
            await hook()
    return doc


async def service_documents() -> dict[str, dict[str, Any]]:
    """Every service's own document (name -> document), built in process."""
    return {name: await service_document(name) for name in BUILDERS}


async def public_document() -> dict[str, Any]:
    """The merged public document a gateway in front of every service would serve."""
    from wattline_gateway.bootstrap import public_openapi

    return await public_openapi(await service_documents())


def render(doc: dict[str, Any]) -> str:
    """*doc* as the bytes written to a file: sorted keys, indented, one final newline, so a
    drift check can compare them."""
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def routed_services() -> set[str]:
    """The services the gateway forwards to, as the registry names them."""
    return {entry.name for entry in SERVICES if entry.name != "gateway"}
