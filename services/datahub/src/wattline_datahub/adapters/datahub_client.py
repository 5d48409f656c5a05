"""DataHub 3 B2B client: OAuth2 client credentials, peek/dequeue per category, send documents.

The token endpoint is its own URL: DataHub 3's is Microsoft Entra ID's, on another host than
the B2B API (the simulator serves both).

The token is cached and refreshed a minute before it expires; a 401 drops it and the call is
retried once with a fresh one. 429 and 5xx answers raise :class:`Transient` carrying the
server's ``Retry-After`` so callers back off as asked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx
from wattline_platform.logging import get_logger

log = get_logger(__name__)
CIM = "/v1.0/cim"


class Transient(Exception):
    """DataHub could not answer now (429, 5xx, network): try again after ``retry_after``."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Rejected(Exception):
    """DataHub refused a document for good (4xx other than 401/429)."""


@dataclass(frozen=True)
class Peeked:
    message_id: str
    body: bytes
    document_type: str | None


@dataclass
class DataHubClient:
    """One client per process; safe to share between pollers."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    timeout_s: float = 30.0
    http: httpx.AsyncClient = field(init=False)
    _token: str | None = field(default=None, init=False)
    _expires: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s)

    async def close(self) -> None:
        await self.http.aclose()

    async def _bearer(self) -> str:
        if self._token is None or time.monotonic() > self._expires - 60:
            form = {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
            if self.scope:
                form["scope"] = self.scope
            # An absolute URL: httpx leaves base_url out of it.
            response = await self._call("POST", self.token_url, data=form, auth=False)
            if response.status_code != 200:
                raise Transient(f"token endpoint answered {response.status_code}")
            body = response.json()
            self._token = body["access_token"]
            self._expires = time.monotonic() + float(body.get("expires_in", 3600))
        assert self._token is not None
        return self._token

    async def _call(
        self, method: str, path: str, *, auth: bool = True, **kwargs: object
    ) -> httpx.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self._bearer()}"} if auth else {}
            try:
                response = await self.http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError as exc:
                raise Transient(f"{method} {path}: {exc!r}") from exc
            if response.status_code == 401 and auth and attempt == 1:
                log.info("datahub_token_rejected", path=path)
                self._token = None  # revoked or expired early: fetch a new one, once
                continue
            if response.status_code == 429 or response.status_code >= 500:
                raise Transient(
                    f"{method} {path}: {response.status_code}",
                    _retry_after(response.headers.get("Retry-After")),
                )
            return response
        raise Transient(f"{method} {path}: 401 after a fresh token")

    async def peek(self, category: str) -> Peeked | None:
        """The oldest message of *category*, or None when the queue is empty."""
        response = await self._call("GET", f"{CIM}/peek/{category}")
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            raise Transient(f"peek {category}: {response.status_code}")
        message_id = response.headers.get("MessageId")
        if not message_id:
            raise Transient(f"peek {category}: answer without MessageId")
        return Peeked(message_id, response.content, response.headers.get("DocumentType"))

    async def dequeue(self, message_id: str) -> None:
        """Remove a message that is durably stored. An unknown id is already gone: fine."""
        response = await self._call("DELETE", f"{CIM}/dequeue/{message_id}")
        if response.status_code not in (200, 202, 204, 404):
            raise Transient(f"dequeue {message_id}: {response.status_code}")

    async def send(self, document_type: str, body: bytes) -> None:
        """Post a document; raise Rejected when DataHub refuses it for good."""
        response = await self._call("POST", f"{CIM}/incomingMessages/{document_type}", content=body)
        if response.status_code in (200, 202):
            return
        raise Rejected(f"{document_type}: {response.status_code} {response.text[:500]}")

    async def reachable(self) -> bool:
        """True when the token endpoint answers (used by readiness)."""
        try:
            await self._bearer()
            return True
        except Transient:
            return False


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
