"""Composition root of the datahub service: the only place its parts are built."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service, ServiceSpec

from wattline_datahub import api, consumers
from wattline_datahub.adapters.datahub_client import DataHubClient
from wattline_datahub.handlers import Datahub
from wattline_datahub.handlers.parsing import InProcesses
from wattline_datahub.jobs import parsers, pollers, retention, sender
from wattline_datahub.settings import DatahubService, DatahubSettings

SPEC = ServiceSpec("datahub", Path(__file__).resolve().parents[2] / "migrations")


def wire(settings: DatahubSettings | None = None, cipher: PiiCipher | None = None) -> Datahub:
    """The datahub service and the context its handlers run in: pollers, parse workers, the
    sender, the consumers, the dead-letter API, DataHub reachability. Without a PII key (and
    no *cipher*) documents are kept unsealed and a request with a sealed customer id fails."""
    settings = settings or DatahubSettings()
    client = datahub_client(settings)
    service = Service(SPEC, settings)
    if cipher is None and service.platform.pii_key:
        key = service.platform.pii_key.get_secret_value()
        cipher = PiiCipher(key) if key else None
    dh = Datahub(service, settings, client, cipher)
    if settings.parse_processes:
        pool = InProcesses(settings.parse_processes)
        dh.parse = pool
        service.shutdown_hooks.append(pool.close)
    service.route_handlers.extend(api.ROUTES)
    consumers.register(dh)
    slots = asyncio.Semaphore(settings.concurrency)  # categories polled at the same time
    for category in settings.categories:
        service.background.append(
            lambda c=category: pollers.run_poller(dh, c, slots)  # type: ignore[misc]
        )
    for _ in range(settings.parse_workers):  # in every replica: they share what is received
        service.background.append(lambda: parsers.run_parser(dh))
    service.background.append(lambda: sender.run_sender(dh))
    service.background.append(lambda: retention.run_retention(dh))
    service.ready_checks["datahub"] = _reachable(client)
    service.shutdown_hooks.append(client.close)
    return dh


def build(settings: DatahubSettings | None = None) -> DatahubService:
    """Wire the datahub service (:func:`wire`) and return it to run."""
    return wire(settings).service


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
