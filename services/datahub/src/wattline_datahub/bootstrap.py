"""Composition root of the datahub service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service, ServiceSpec

from wattline_datahub import api, consumers, pollers
from wattline_datahub.adapters.datahub_client import DataHubClient
from wattline_datahub.outbound import Outbound
from wattline_datahub.settings import DatahubSettings

SPEC = ServiceSpec("datahub", Path(__file__).resolve().parents[2] / "migrations")


def build(settings: DatahubSettings | None = None) -> Service:
    """Wire the datahub service: pollers, the dead-letter API, DataHub reachability."""
    settings = settings or DatahubSettings()
    client = datahub_client(settings)
    service = Service(SPEC, settings)
    key = service.platform.pii_key.get_secret_value() if service.platform.pii_key else ""
    cipher = PiiCipher(key) if key else None
    outbound = Outbound(service, client, settings, cipher)
    service.route_handlers.extend(api.ROUTES)
    consumers.register(service, outbound)
    pollers.start_pollers(service, client, settings)
    service.background.append(outbound.run_sender)
    service.ready_checks["datahub"] = _reachable(client)
    service.shutdown_hooks.append(client.close)
    return service


def datahub_client(settings: DatahubSettings) -> DataHubClient:
    """The DataHub client of *settings*; MissingSettings when DataHub is not configured."""
    settings.require_datahub()
    assert settings.url and settings.token_url and settings.client_id and settings.client_secret
    return DataHubClient(
        settings.url,
        settings.token_url,
        settings.client_id,
        settings.client_secret.get_secret_value(),
        scope=settings.scope or None,
    )


def _reachable(client: DataHubClient) -> Callable[[], Awaitable[tuple[bool, str]]]:
    async def check() -> tuple[bool, str]:
        ok = await client.reachable()
        return ok, "token endpoint answers" if ok else f"{client.base_url} unreachable"

    return check
