"""Composition root of the portfolio service."""

from __future__ import annotations

from pathlib import Path

import httpx
from litestar import Router
from litestar.di import Provide
from wattline_platform import metrics as platform_metrics
from wattline_platform.pii import PiiCipher
from wattline_platform.service import Service, ServiceSpec

from wattline_portfolio import api, consumers, metrics, portal_api
from wattline_portfolio.adapters.address_lookup import AddressLookup
from wattline_portfolio.adapters.vault import Vault
from wattline_portfolio.handlers import Portfolio
from wattline_portfolio.jobs.scheduler import scheduler_job
from wattline_portfolio.settings import PortfolioService, PortfolioSettings

SPEC = ServiceSpec("portfolio", Path(__file__).resolve().parents[2] / "migrations")

__all__ = ["SPEC", "PortfolioSettings", "build", "portfolio_of", "routes", "wire"]


def portfolio_of(
    service: PortfolioService, settings: PortfolioSettings, cipher: PiiCipher
) -> Portfolio:
    """The handlers' context for *service*."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
    service.shutdown_hooks.append(client.aclose)
    return Portfolio(
        service, settings, Vault(cipher), AddressLookup(settings.address_lookup_url, client)
    )


def routes(p: Portfolio) -> Router:
    """The API's and the portal's routes, handed *p* as ``portfolio``, the handlers' refusals
    answered as problem+json (``api.EXCEPTION_HANDLERS``)."""
    return Router(
        "/",
        route_handlers=[*api.ROUTES, *portal_api.ROUTES],
        dependencies={"portfolio": Provide(lambda: p, sync_to_thread=False)},
        exception_handlers=api.EXCEPTION_HANDLERS,
    )


def build(
    settings: PortfolioSettings | None = None, cipher: PiiCipher | None = None
) -> PortfolioService:
    """Wire the portfolio service: API, DataHub answers, the scheduler."""
    return wire(settings, cipher).service


def wire(settings: PortfolioSettings | None = None, cipher: PiiCipher | None = None) -> Portfolio:
    """The portfolio service and the context its handlers run in."""
    settings = settings or PortfolioSettings()
    service = Service(SPEC, settings)
    if cipher is None:
        key = service.platform.pii_key
        if key is None:
            raise RuntimeError("PII_KEY is not set: the portfolio seals personal data with it")
        cipher = PiiCipher(key.get_secret_value())
    p = portfolio_of(service, settings, cipher)
    service.route_handlers.append(routes(p))
    consumers.register(p)
    service.background.append(lambda: scheduler_job(p))
    service.background.append(
        lambda: platform_metrics.refresh_gauges(
            service.database, lambda conn: metrics.refresh(conn, service.clock)
        )
    )
    return p
