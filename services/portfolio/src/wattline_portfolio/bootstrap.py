"""Composition root of the portfolio service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from wattline_platform import metrics as platform_metrics
from wattline_platform.business_days import danish_holidays
from wattline_platform.logging import get_logger
from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service, ServiceSpec

from wattline_portfolio import api, consumers, handlers, metrics, portal
from wattline_portfolio.adapters.address_lookup import AddressLookup
from wattline_portfolio.adapters.vault import Vault
from wattline_portfolio.settings import PortfolioService, PortfolioSettings

SPEC = ServiceSpec("portfolio", Path(__file__).resolve().parents[2] / "migrations")
log = get_logger(__name__)

__all__ = ["SPEC", "PortfolioSettings", "build", "portfolio_of", "wire"]


def portfolio_of(
    service: PortfolioService, settings: PortfolioSettings, cipher: PiiCipher
) -> handlers.Portfolio:
    """The handlers' context for *service*."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
    service.shutdown_hooks.append(client.aclose)
    return handlers.Portfolio(
        service, settings, Vault(cipher), AddressLookup(settings.address_lookup_url, client)
    )


def build(
    settings: PortfolioSettings | None = None, cipher: PiiCipher | None = None
) -> PortfolioService:
    """Wire the portfolio service: API, DataHub answers, the scheduler."""
    return wire(settings, cipher).service


def wire(
    settings: PortfolioSettings | None = None, cipher: PiiCipher | None = None
) -> handlers.Portfolio:
    """The portfolio service and the context its handlers run in."""
    settings = settings or PortfolioSettings()
    service = Service(SPEC, settings)
    if cipher is None:
        key = service.platform.pii_key
        if key is None:
            raise RuntimeError("PII_KEY is not set: the portfolio seals personal data with it")
        cipher = PiiCipher(key.get_secret_value())
    p = portfolio_of(service, settings, cipher)
    service.route_handlers.extend(api.routes(p))
    service.route_handlers.extend(portal.routes(p))
    consumers.register(p)
    service.background.append(lambda: scheduler(p))
    service.background.append(
        lambda: platform_metrics.refresh_gauges(
            service.database, lambda conn: metrics.refresh(conn, service.clock)
        )
    )
    return p


async def scheduler(p: handlers.Portfolio) -> None:
    """Create the default catalogue once, then raise due requests and complete due endings."""
    while True:
        try:
            await handlers.ensure_default_products(p)
            # The holiday calendar takes ~0.3 s to build per year, on the event loop: build
            # the years signups will touch now, not in the first customer's request.
            today = await p.today()
            for year in range(today.year - 1, today.year + 3):
                danish_holidays(year, p.settings.closed_eves)
            break
        except Exception as exc:
            log.warning("default_products_failed", error=repr(exc))
            await asyncio.sleep(2)
    while True:
        for name, job in (("raise", handlers.raise_due), ("complete", handlers.complete_due)):
            try:
                while await job(p) > 0:
                    pass
            except Exception as exc:
                log.error("scheduler_failed", job=name, error=repr(exc))
        await asyncio.sleep(p.settings.scheduler_interval_s)
