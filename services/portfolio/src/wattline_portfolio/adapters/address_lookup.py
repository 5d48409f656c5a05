"""DAR address id -> the metering points (GSRNs) at that address, over HTTP.

Locally the DataHub simulator answers (``/sim/addresses/{dar_id}``); the URL is a template so
a real lookup service can take its place.
"""

from __future__ import annotations

import uuid

import httpx


class AddressLookupUnavailable(RuntimeError):
    """The lookup service did not answer usefully."""


class AddressLookup:
    """Resolve DAR ids to GSRNs."""

    def __init__(self, url_template: str | None, client: httpx.AsyncClient) -> None:
        self.url_template = url_template
        self.client = client

    async def gsrns(self, dar_id: uuid.UUID) -> list[str]:
        """The GSRNs at *dar_id*, sorted; empty when the address has none (or is unknown)."""
        if not self.url_template:
            raise AddressLookupUnavailable(
                "the address lookup is not configured (WATTLINE_PORTFOLIO_ADDRESS_LOOKUP_URL)"
            )
        try:
            response = await self.client.get(self.url_template.format(dar_id=dar_id))
        except httpx.HTTPError as exc:
            raise AddressLookupUnavailable(f"address lookup failed: {exc!r}") from exc
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise AddressLookupUnavailable(f"address lookup answered {response.status_code}")
        return sorted(str(g) for g in response.json().get("gsrns", []))
