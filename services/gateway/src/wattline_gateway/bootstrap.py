"""Composition root of the gateway."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from wattline_platform import identity
from wattline_platform.config import PlatformSettings, ServiceSettings, require
from wattline_platform.service import Service, ServiceSpec

from wattline_gateway import api
from wattline_gateway.domain.portal_tokens import BackOfficeIssuer

SPEC = ServiceSpec("gateway", Path(__file__).resolve().parents[2] / "migrations", messaging=False)


def _checkout_backoffice() -> Path | None:
    """The checkout's backoffice/dist (services/gateway/src/wattline_gateway -> the root),
    when this runs from a checkout that has built it."""
    built = Path(__file__).resolve().parents[4] / "backoffice" / "dist"
    return built if built.is_dir() else None


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATTLINE_GATEWAY_", extra="ignore")

    port: int = 8000
    metrics_port: int = Field(
        default=8100,
        ge=0,
        le=65535,
        description=(
            "port of the gateway's /metrics, apart from its public port (which serves only "
            "/health/*, /docs, the OpenAPI document, /backoffice/ and /api/*): for Prometheus, "
            "never publish it; 0 takes any free port"
        ),
    )
    # No default: the services' addresses belong to the deployment (`wattline up` and
    # docker-compose.yml fill it from wattline_platform.endpoints).
    services: dict[str, str] = Field(
        default_factory=dict,
        description="service name -> base URL (JSON); /api/<name>/... is forwarded there",
    )
    aliases: dict[str, str] = Field(
        default_factory=lambda: {
            **dict.fromkeys(
                ("products", "signup", "signups", "address", "customers", "processes", "contracts"),
                "portfolio",
            ),
            **dict.fromkeys(("metering-points", "settlements"), "settlement"),
            **dict.fromkeys(
                ("invoices", "billing-accounts", "erp", "payments", "dunning", "webhooks"),
                "invoicing",
            ),
        },
        description=(
            "public first path segment -> owning service; /api/<alias>/... is forwarded to that "
            "service at the same path and authorised with its scopes"
        ),
    )
    portal_token_ttl_minutes: int = Field(
        default=60,
        ge=1,
        le=720,
        description="how long a customer's portal token lives (POST /api/portal-tokens)",
    )
    portal_rate_limit_per_minute: int = Field(
        default=120,
        ge=1,
        description=(
            "requests per minute one customer's portal tokens may make together (429 with "
            "Retry-After above it)"
        ),
    )
    session_hours: float = Field(
        default=8,
        gt=0,
        le=24 * 30,
        description="how long a back-office user's login (POST /api/session) lasts",
    )
    backoffice_dir: Path | None = Field(
        default=None,
        description=(
            "the back office's build (Vite's dist/), served at /backoffice/; unset: the "
            "checkout's backoffice/dist when it exists (`make backoffice` builds it)"
        ),
    )
    connect_timeout_s: float = Field(default=2.0, description="connecting to a service")
    read_timeout_s: float = Field(default=30.0, description="waiting for a service's answer")
    max_body_bytes: int = Field(
        default=64_000_000,
        ge=1,
        description="largest request body forwarded (413 above); services have lower limits",
    )
    failed_auth_per_minute: int = Field(
        default=30,
        ge=1,
        description=(
            "failed authentications (401, 403) one client address may make per minute; above "
            "it the address gets 429 with Retry-After, whatever key it sends"
        ),
    )


def build(settings: GatewaySettings | None = None) -> Service[GatewaySettings]:
    """Wire the gateway: no broker, its own schema for API keys."""
    settings = settings or GatewaySettings()
    require(settings, "gateway", "services")
    platform = PlatformSettings()
    require(platform, "gateway", "identity_key")  # services answer nothing unsigned
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
        # Keep a connection per request in flight: with fewer, bursts reconnect per request.
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
    )
    gateway = api.Gateway(
        dict(settings.services),
        client,
        aliases=dict(settings.aliases),
        max_body_bytes=settings.max_body_bytes,
        failed_auth_per_minute=settings.failed_auth_per_minute,
        portal_issuer=BackOfficeIssuer(timedelta(minutes=settings.portal_token_ttl_minutes)),
        portal_rate_limit_per_minute=settings.portal_rate_limit_per_minute,
        session_lifetime=timedelta(hours=settings.session_hours),
        backoffice_dir=settings.backoffice_dir or _checkout_backoffice(),
        identity_key=None
        if platform.identity_key is None
        else platform.identity_key.get_secret_value(),
    )
    # /schema/openapi.json is the merged document of all services (api.routes), not its own.
    # It authenticates API keys itself and signs the identity the services require.
    service = Service(
        SPEC,
        settings,
        platform,
        openapi_schema=False,
        metrics_port=settings.metrics_port,
        identity_required=identity.no_paths,
    )
    service.route_handlers.extend(api.routes(gateway))
    service.shutdown_hooks.append(client.aclose)
    for name, base in sorted(settings.services.items()):
        service.ready_checks[name] = _downstream_ready(client, base)
    return service


async def public_openapi(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The document a gateway in front of services serving *parts* (name -> the document
    each serves) would serve at /schema/openapi.json, without either running (``wattline
    openapi``): the same merge, this deployment's aliases."""
    settings = GatewaySettings(services=dict.fromkeys(parts, "http://unused.invalid"))
    async with httpx.AsyncClient() as client:  # never called: the parts are at hand
        gateway = api.Gateway(dict(settings.services), client, aliases=dict(settings.aliases))
        return api.public_openapi(gateway, dict(parts))


def _downstream_ready(
    client: httpx.AsyncClient, base: str
) -> Callable[[], Awaitable[tuple[bool, str]]]:
    async def check() -> tuple[bool, str]:
        response = await client.get(f"{base}/health/ready", timeout=4.0)
        if response.status_code == 200:
            return True, "ready"
        failing = [k for k, v in response.json().get("checks", {}).items() if not v.get("ok")]
        return False, f"not ready: {', '.join(failing) or response.status_code}"

    return check
