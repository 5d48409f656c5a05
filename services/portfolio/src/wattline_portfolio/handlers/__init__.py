"""The portfolio service layer, one module per use case: load, decide (domain), save + outbox
in one transaction. Commands refuse with the errors of ``handlers.errors`` (``api.py`` maps
each to its problem type); event handlers never refuse what DataHub already decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg
from wattline_contracts.envelope import Envelope, Event
from wattline_platform.business_days import danish_today

from wattline_portfolio.adapters.address_lookup import AddressLookup
from wattline_portfolio.adapters.vault import Vault
from wattline_portfolio.settings import PortfolioService, PortfolioSettings


@dataclass
class Portfolio:
    """What the portfolio's handlers work with (built in bootstrap)."""

    service: PortfolioService
    settings: PortfolioSettings
    vault: Vault
    addresses: AddressLookup

    async def today(self) -> date:
        """Today in Denmark, by the market clock."""
        return danish_today(await self.service.clock.now())

    async def emit(self, tx: asyncpg.Connection, event: Event, key: str) -> Envelope:
        return await self.service.emit(tx, event, key=key)
