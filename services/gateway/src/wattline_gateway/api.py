"""Gateway routes: authenticate, rate-limit, forward ``/api/<service>/...``; merged OpenAPI.

Besides a service's own name, the first segment may be an alias the service owns (``products``
is the portfolio's): ``/api/products/...`` goes to the portfolio at that same path, authorised
with the portfolio's scopes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from litestar import Litestar, Request, Response, get, route
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath
from litestar.response import Redirect
from wattline_platform import identity
from wattline_platform.logging import CORRELATION_HEADER, correlation_id_var, get_logger
from wattline_platform.openapi_problems import document_problems
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_gateway import (
    apikeys_api,
    audit_api,
    backoffice_files,
    docs,
    handlers,
    portal_api,
    session_api,
)
from wattline_gateway.adapters import api_keys as repo
from wattline_gateway.adapters import portal_tokens as portal_repo
from wattline_gateway.adapters.backoffice import Session
from wattline_gateway.domain import api_keys, audit, backoffice, openapi, paths, portal_tokens
from wattline_gateway.domain.rate_limit import Buckets, FailureLimiter

# Request headers passed on to services; credentials stay at the gateway.
FORWARDED_REQUEST_HEADERS = (
    "content-type",
    "accept",
    "accept-language",
    "if-none-match",
    "idempotency-key",
)
FORWARDED_RESPONSE_HEADERS = (
    "content-type",
    "idempotent-replayed",
    "etag",
    "location",
    "retry-after",
    "content-disposition",
)
log = get_logger(__name__)

KEY_CACHE_SECONDS = 30.0
PORTAL_TOKEN_TTL = timedelta(hours=1)
T = TypeVar("T")
UNKNOWN_KEY_CACHE_SECONDS = 5.0
KEY_CACHE_MAX = 10_000


@dataclass
class Gateway:
    """Routing table, HTTP client, key cache and rate-limit buckets of one gateway process."""

    services: dict[str, str]
    client: httpx.AsyncClient
    aliases: dict[str, str] = field(default_factory=dict)  # first segment -> owning service
    max_body_bytes: int = 64_000_000
    # Signs the identity every forwarded request carries (services refuse /api/* without it).
    identity_key: str | None = None
    _keys: dict[str, tuple[float, repo.StoredKey | None]] = field(default_factory=dict)
    _buckets: Buckets = field(default_factory=Buckets)
    failed_auth_per_minute: int = 30
    # Issues customers' portal tokens (a MitID login would be another PortalTokenIssuer).
    portal_issuer: portal_tokens.PortalTokenIssuer = field(
        default_factory=lambda: portal_tokens.BackOfficeIssuer(PORTAL_TOKEN_TTL)
    )
    portal_rate_limit_per_minute: int = 120
    # A back-office user's browser session (session_api): how long it lives, how fast it goes.
    session_lifetime: timedelta = timedelta(hours=8)
    session_rate_limit_per_minute: int = 600
    backoffice_dir: Path | None = None  # the built web app served at /backoffice/
    _failures: FailureLimiter = field(init=False)

    def __post_init__(self) -> None:
        self._failures = FailureLimiter(self.failed_auth_per_minute)
        shadowed = sorted(set(self.aliases) & set(self.services))
        if shadowed:
            raise ValueError(f"aliases {shadowed} are also service names")
        if audit_api.FIRST_SEGMENT in {*self.aliases, *self.services}:
            raise ValueError(f"/api/{audit_api.FIRST_SEGMENT} is the gateway's own audit trail")
        for own in (portal_api.FIRST_SEGMENT, session_api.FIRST_SEGMENT, apikeys_api.FIRST_SEGMENT):
            if own in {*self.aliases, *self.services}:
                raise ValueError(f"/api/{own} is the gateway's own")

    def owner(self, first_segment: str) -> str | None:
        """The service that serves ``/api/<first_segment>/...``, or None."""
        if first_segment in self.services:
            return first_segment
        owner = self.aliases.get(first_segment)
        # An alias of a service this gateway does not route to is as unknown as any name.
        return owner if owner in self.services else None

    async def admit(
        self,
        service: ServiceDep,
        request: Request[Any, Any, Any],
        lacking: Callable[[repo.StoredKey], str | None],
    ) -> repo.StoredKey:
        """The authenticated key of *request*, once *lacking* names no scope it lacks (else a
        403 naming it) and its own rate limit lets it through.

        Every 401 and 403 counts against the client's address: an address over
        ``failed_auth_per_minute`` gets 429 before its key is looked at, so a flood of guesses
        learns nothing, while other addresses are not affected.
        """
        address = self.address_of(request)
        self.refuse_blocked(address)
        try:
            key = await self.authenticate(service, request)
            wanted = lacking(key)
            if wanted:
                raise Problem(403, "forbidden", "Missing scope", f"key '{key.name}' lacks {wanted}")
        except Problem as refused:
            if refused.status in (401, 403):
                self.failed(address)
            raise
        self.throttle(key)
        return key

    @staticmethod
    def address_of(request: Request[Any, Any, Any]) -> str:
        return request.client.host if request.client else "unknown"

    def refuse_blocked(self, address: str) -> None:
        """429 while *address* is over its failed authentications."""
        wait = self._failures.blocked_for(address, time.monotonic())
        if wait:
            raise _rate_limited(wait, "too many failed authentications from this address")

    def failed(self, address: str) -> None:
        """Count one failed authentication (or login) of *address*."""
        self._failures.fail(address, time.monotonic())

    def forgive(self, address: str) -> None:
        """Take back one counted failure of *address* (a login that succeeded)."""
        self._failures.forgive(address, time.monotonic())

    async def session(self, service: ServiceDep, request: Request[Any, Any, Any]) -> Session:
        """The live back-office session the request's cookie carries, else 401 (a cookie
        that names no live session counts as a failed authentication)."""
        token = request.cookies.get(session_api.COOKIE)
        if not token:
            raise Problem(401, "unauthenticated", "Not logged in", "log in: POST /api/session")
        address = self.address_of(request)
        self.refuse_blocked(address)
        found = await handlers.session_of(service.database, token)
        if found is None:
            self.failed(address)
            raise Problem(401, "invalid-session", "Session ended", "log in again")
        return found

    def identity_of(self, session: Session) -> repo.StoredKey:
        """A session as the key it acts as: the user's scopes, named ``user:<username>``."""
        return repo.StoredKey(
            session.id,
            f"{backoffice.USER_PREFIX}{session.username}",
            "",
            session.scopes,
            self.session_rate_limit_per_minute,
            None,
        )

    @staticmethod
    def check_csrf(request: Request[Any, Any, Any]) -> None:
        """403 for a state-changing request without the back office's own header: a
        cross-site form cannot set it."""
        if request.method.upper() in api_keys.READ_METHODS:
            return
        if request.headers.get(session_api.CSRF_HEADER) != session_api.CSRF_VALUE:
            raise Problem(
                403,
                "csrf",
                "Missing X-Requested-By",
                f"a request with the session cookie that changes state must send "
                f"'X-Requested-By: {session_api.CSRF_VALUE}'",
            )

    async def authenticate(
        self, service: ServiceDep, request: Request[Any, Any, Any]
    ) -> repo.StoredKey:
        key = request.headers.get("x-api-key") or _bearer(request.headers.get("authorization"))
        if not key and request.cookies.get(session_api.COOKIE):  # a back-office user's browser
            session = await self.session(service, request)
            self.check_csrf(request)
            return self.identity_of(session)
        if not key:
            raise Problem(
                401,
                "unauthenticated",
                "API key required",
                "send it as 'Authorization: Bearer <key>' or 'X-API-Key'",
            )
        if portal_tokens.is_portal_token(key):
            return await self._portal_token(service, key)
        prefix = api_keys.parse_prefix(key)
        stored = await self._lookup(service, prefix) if prefix else None
        if (
            stored is None
            or stored.revoked_at is not None
            or not api_keys.verify(key, stored.key_hash)
        ):
            raise Problem(401, "invalid-api-key", "Invalid API key")
        return stored

    async def _portal_token(self, service: ServiceDep, token: str) -> repo.StoredKey:
        """A customer's portal token as a key bound to that customer, holding only
        ``portal:read``. Looked up on every request (not cached): revoked or expired, it is
        refused at once."""
        prefix = portal_tokens.parse_prefix(token)
        stored = None
        if prefix:
            async with service.database.connection() as conn:
                stored = await portal_repo.by_prefix(conn, prefix)
        if (
            stored is None
            or stored.revoked_at is not None
            or stored.expires_at <= datetime.now(UTC)
            or not portal_tokens.verify(token, stored.token_hash)
        ):
            raise Problem(401, "invalid-portal-token", "Invalid or expired portal token")
        return repo.StoredKey(
            stored.token_id,
            f"portal-{prefix}",
            stored.token_hash,
            frozenset({portal_tokens.PORTAL_SCOPE}),
            self.portal_rate_limit_per_minute,
            None,
            customer=stored.customer_id,
        )

    async def _lookup(self, service: ServiceDep, prefix: str) -> repo.StoredKey | None:
        now = time.monotonic()
        cached = self._keys.get(prefix)
        if cached:
            ttl = KEY_CACHE_SECONDS if cached[1] is not None else UNKNOWN_KEY_CACHE_SECONDS
            if now - cached[0] < ttl:
                return cached[1]
        async with service.database.connection() as conn:
            stored = await repo.by_prefix(conn, prefix)
        if len(self._keys) >= KEY_CACHE_MAX:  # random prefixes must not grow it for ever
            self._keys.clear()
        self._keys[prefix] = (now, stored)
        return stored

    def forget_key(self, name: str) -> None:
        """Drop the key called *name* from this process's cache: revoked here, it is refused
        at once (other gateway processes refuse it when their copy expires)."""
        for prefix, (_, stored) in list(self._keys.items()):
            if stored is not None and stored.name == name:
                del self._keys[prefix]

    def throttle(self, key: repo.StoredKey) -> None:
        # A customer's portal tokens share one bucket: logging in again is no way round it.
        name = f"customer-{key.customer}" if key.customer is not None else key.name
        wait = self._buckets.get(name, key.rate_limit_per_minute).take(time.monotonic())
        if wait:
            raise _rate_limited(
                wait, f"key '{key.name}' allows {key.rate_limit_per_minute} requests per minute"
            )

    async def audited(
        self,
        service: ServiceDep,
        key: repo.StoredKey,
        method: str,
        path: str,
        routed_rest: str,
        call: Callable[[], Awaitable[T]],
        status_of: Callable[[T], int | None],
    ) -> T:
        """Run the state-changing *call* of *key* on the audit trail: on record before it is
        made (a crash after that leaves its outcome unknown, never the call), its outcome (the
        status *status_of* the result, or the refusal's) after."""
        entry = await _record_call(service, key, method, path, routed_rest)
        status: int | None = None
        try:
            result = await call()
            status = status_of(result)
            return result
        except Problem as refused:
            status = refused.status
            raise
        finally:
            if status is not None:
                await _record_outcome(service, entry, status)

    def sign(self, key: repo.StoredKey) -> str:
        """A fresh identity of the authenticated *key* for one forwarded request."""
        if self.identity_key is None:
            raise Problem(503, "not-configured", "Gateway not configured", "IDENTITY_KEY unset")
        caller = identity.Identity(
            str(key.id), key.name, key.scopes, channel=key.channel, customer=key.customer
        )
        return identity.sign(caller, self.identity_key)

    async def forward(
        self, target: str, request: Request[Any, Any, Any], path: str, key: repo.StoredKey
    ) -> Response[bytes]:
        # As the bytes that came (Litestar reads them as Latin-1; httpx would encode a str as
        # ASCII, and a UTF-8 Idempotency-Key was a 500).
        headers = {
            k.encode("latin-1"): v.encode("latin-1")
            for k, v in request.headers.items()
            if k.lower() in FORWARDED_REQUEST_HEADERS
        }
        headers[CORRELATION_HEADER.encode()] = (correlation_id_var.get() or "").encode("latin-1")
        headers[identity.IDENTITY_HEADER.encode()] = self.sign(key).encode()
        try:
            # *path* is the raw path and query (domain.paths): httpx keeps its escapes as sent.
            upstream = await self.client.request(
                request.method, f"{target}{path}", headers=headers, content=await request.body()
            )
        except httpx.TimeoutException as exc:
            where = path.split("?", 1)[0]
            raise Problem(504, "service-timeout", "Service did not answer in time", where) from exc
        except httpx.TransportError as exc:
            where = path.split("?", 1)[0]
            raise Problem(503, "service-unavailable", "Service unavailable", where) from exc
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            headers={
                **{
                    k: v
                    for k, v in upstream.headers.items()
                    if k.lower() in FORWARDED_RESPONSE_HEADERS
                },
                **_served_headers(upstream.headers.get("content-type", "")),
            },
        )


def _served_headers(content_type: str) -> dict[str, str]:
    """What every answer of a service carries on the back office's origin: no sniffing, and
    an HTML page (a bill as HTML) sandboxed with no script, so a missed escape in one could
    not act with a logged-in user's session."""
    headers = {"x-content-type-options": "nosniff"}
    if content_type.lower().startswith("text/html"):
        headers["content-security-policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
        )
    return headers


def _rate_limited(wait: float, detail: str) -> Problem:
    # Whole seconds, at least one (problem_response also sends it as Retry-After).
    return Problem(
        429, "rate-limited", "Too many requests", detail, retry_after=max(1, math.ceil(wait))
    )


def _bearer(value: str | None) -> str | None:
    if value and value.lower().startswith("bearer "):
        return value[7:].strip()
    return None


def routes(gateway: Gateway) -> list[Any]:
    """The gateway's route handlers bound to *gateway*."""

    # The first path also takes /api/<target> alone (and with a query string): a `path`
    # parameter never matches an empty rest.
    @route(
        ["/api/{target:str}", "/api/{target:str}/{path:path}"],
        http_method=[
            HttpMethod.GET,
            HttpMethod.POST,
            HttpMethod.PUT,
            HttpMethod.PATCH,
            HttpMethod.DELETE,
        ],
        include_in_schema=False,
        # Above the largest body a service takes (a 50 MB portfolio import), so that service
        # says 413 with its own limit; Litestar's default of 10 MB would cut it short here.
        request_max_body_size=gateway.max_body_bytes,
    )
    async def proxy(
        request: Request[Any, Any, Any],
        target: FromPath[str],
        service: ServiceDep,
        path: FromPath[str] = "",
    ) -> Response[bytes]:
        owner = gateway.owner(target)
        if owner is None:
            raise Problem(404, "unknown-api", "No such API", f"/api/{target}")
        try:
            upstream_path = paths.upstream_target(
                request.scope.get("raw_path") or request.scope["path"].encode(),
                request.scope.get("query_string", b""),
            )
        except paths.InvalidPath as exc:
            raise Problem(400, "invalid-path", "Invalid path", str(exc)) from exc

        def lacking(key: repo.StoredKey) -> str | None:
            if key.customer is not None:  # a portal token: the portal's reads, nothing else
                if target == owner and portal_tokens.reaches(owner, path, request.method):
                    return None
                return "a back-office key (a portal token reaches only GET .../portal/...)"
            # The owner's scope, or the public prefix's own (a sales channel's key can hold
            # signup:write and products:read without seeing back office's customers).
            if api_keys.allows(key.scopes, owner, request.method) or (
                target != owner and api_keys.allows(key.scopes, target, request.method)
            ):
                return None
            access = "read" if request.method == "GET" else "write"
            return f"{owner}:{access}" + (f" or {target}:{access}" if target != owner else "")

        key = await gateway.admit(service, request, lacking)
        if not audit.is_recorded(request.method):
            return await gateway.forward(gateway.services[owner], request, upstream_path, key)
        return await gateway.audited(
            service,
            key,
            request.method,
            upstream_path.split("?", 1)[0],
            path,
            lambda: gateway.forward(gateway.services[owner], request, upstream_path, key),
            lambda response: response.status_code,
        )

    # Also the standard Litestar path: the gateway's own (empty) document is switched off.
    @get([docs.SPEC_PATH, docs.LEGACY_SPEC_PATH], include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        return await merged_openapi(gateway)

    @get("/docs", include_in_schema=False)
    async def docs_page() -> Response[str]:
        return Response(
            docs.DOCS_HTML,
            media_type="text/html",  # Litestar adds the charset
            headers={**DOCS_HEADERS, "cache-control": "no-cache"},
        )

    @get(f"{docs.ASSETS_PATH}/{docs.SWAGGER_UI_VERSION}/{{name:str}}", include_in_schema=False)
    async def docs_asset(name: FromPath[str]) -> Response[bytes]:
        found = docs.asset(name)
        if found is None:
            raise Problem(404, "not-found", "No such file", f"{docs.ASSETS_PATH}/{name}")
        # The version is in the path: a new Swagger UI gets new URLs.
        return Response(
            found.body,
            media_type=found.media_type,
            headers={**DOCS_HEADERS, "cache-control": "public, max-age=86400, immutable"},
        )

    # Litestar routes /backoffice and /backoffice/ alike: the app's relative URLs need the slash.
    @get(
        [backoffice_files.PREFIX, f"{backoffice_files.PREFIX}/{{rest:path}}"],
        include_in_schema=False,
    )
    async def backoffice_file(
        request: Request[Any, Any, Any], rest: FromPath[str] = ""
    ) -> Response[bytes] | Redirect:
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        if not rest and not raw.endswith(b"/"):
            return Redirect(f"{backoffice_files.PREFIX}/")
        try:
            found = backoffice_files.find(gateway.backoffice_dir, rest)
        except backoffice_files.NotBuilt:
            raise Problem(
                404,
                "backoffice-not-built",
                "The back office is not built",
                "run `make backoffice` (or set WATTLINE_GATEWAY_BACKOFFICE_DIR to its build)",
            ) from None
        except backoffice_files.NotFound:
            raise Problem(
                404, "not-found", "No such file", f"{backoffice_files.PREFIX}/{rest}"
            ) from None
        try:
            body = await asyncio.to_thread(found.path.read_bytes)
        except FileNotFoundError:  # gone since it was found (a build under way)
            raise Problem(
                404, "not-found", "No such file", f"{backoffice_files.PREFIX}/{rest}"
            ) from None
        return Response(
            body,
            media_type=found.media_type,
            headers={**backoffice_files.HEADERS, "cache-control": found.cache_control},
        )

    return [
        proxy,
        openapi,
        docs_page,
        docs_asset,
        backoffice_file,
        *own_routes(gateway),
    ]


async def _record_call(
    service: ServiceDep, key: repo.StoredKey, method: str, path: str, routed_rest: str
) -> int:
    try:
        return await handlers.record_call(
            service.database, key, method, path, routed_rest, correlation_id_var.get() or ""
        )
    except Exception as exc:  # no trail, no call: it is not forwarded unrecorded
        log.exception("audit_record_failed", method=method)
        raise Problem(
            503, "audit-unavailable", "Audit trail unavailable", "the call was not forwarded"
        ) from exc


async def _record_outcome(service: ServiceDep, entry: int, status: int) -> None:
    try:
        await handlers.record_outcome(service.database, entry, status)
    except Exception:  # the caller still gets its answer; the entry keeps "outcome unknown"
        log.exception("audit_outcome_failed", entry=entry, status=status)


async def merged_openapi(gateway: Gateway) -> dict[str, Any]:
    """One OpenAPI document for the public API: every service's ``/api`` paths together, as
    each service serves its document now (one that does not answer is named in
    ``x-unavailable``)."""

    async def fetch(name: str, base: str) -> tuple[str, dict[str, Any] | None]:
        try:
            response = await gateway.client.get(f"{base}/schema/openapi.json")
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return name, result
        except httpx.HTTPError:
            return name, None

    parts = await asyncio.gather(*(fetch(n, b) for n, b in sorted(gateway.services.items())))
    return public_openapi(gateway, dict(parts))


def public_openapi(gateway: Gateway, parts: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The public document of the services' own documents *parts* (name -> document, None:
    it did not answer), the gateway's own ``/api`` routes (the audit trail, portal tokens)
    and what the gateway itself answers; ``wattline openapi`` builds it from documents made
    in process."""
    doc = openapi.merge(parts, gateway.owner, _own_openapi(gateway))
    return document_problems(doc, gateway=True)


def own_routes(gateway: Gateway) -> list[Any]:
    """The gateway's own ``/api`` routes: the audit trail, API keys, portal tokens, the
    session."""
    return [
        *audit_api.routes(gateway),
        *apikeys_api.routes(gateway),
        *portal_api.routes(gateway),
        *session_api.routes(gateway),
    ]


def _own_openapi(gateway: Gateway) -> dict[str, Any]:
    """The OpenAPI document of the gateway's own ``/api`` routes (merged into the public one)."""
    app = Litestar(
        own_routes(gateway),
        dependencies={"service": Provide(lambda: None, sync_to_thread=False)},
        openapi_config=OpenAPIConfig(title="Wattline gateway", version="0.1.0"),
    )
    doc: dict[str, Any] = app.openapi_schema.to_schema()
    return doc


DOCS_HEADERS = {
    "content-security-policy": docs.CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
