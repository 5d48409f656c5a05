"""``/api/api-keys``: the back office lists, creates and revokes API keys (what ``wattline
apikey`` does), served by the gateway itself for ``admin`` callers only (an admin key bound
to no channel, or a back-office user holding ``admin``).

The secret is answered once, by the create call, and is never stored (only its hash) or
logged. A revoked key is refused at once by the gateway process that revoked it (its cache
entry goes); another gateway process refuses it within ``KEY_CACHE_SECONDS`` (30 s), when its
cached copy of the key expires.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from litestar import Request, delete, get, post
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.openapi_problems import problems
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_gateway import handlers
from wattline_gateway.adapters import api_keys as repo
from wattline_gateway.adapters.api_keys import StoredKey
from wattline_gateway.domain import api_keys

if TYPE_CHECKING:
    from wattline_gateway.api import Gateway

PATH = "/api/api-keys"
FIRST_SEGMENT = "api-keys"  # neither a service's name nor an alias may be this


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=api_keys.NAME_PATTERN, description="who uses it, e.g. erp (unique)")
    scopes: list[str] = Field(
        min_length=1, max_length=50, description="admin, portal:issue or <service>:read|write"
    )
    channel: str | None = Field(
        default=None, description="the sales channel it is bound to; null: back office"
    )
    rate_limit_per_minute: int = Field(default=600, ge=1, le=1_000_000)


class ApiKeyOut(BaseModel):
    """A key as listed: never its secret or hash."""

    model_config = ConfigDict(frozen=True)

    name: str
    prefix: str = Field(description="the key starts wl_<prefix>_")
    scopes: list[str]
    channel: str | None
    rate_limit_per_minute: int
    created_at: datetime
    revoked_at: datetime | None = Field(description="null: the key works")


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the key itself, shown this once: send it as X-API-Key")


def _admin(key: StoredKey) -> str | None:
    # Back office only: a channel's key or a portal token never manages keys.
    if key.channel is not None or key.customer is not None or "admin" not in key.scopes:
        return "admin"
    return None


def _out(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "scopes": list(row["scopes"])}


def routes(gateway: Gateway) -> list[Any]:
    """The API-key route handlers, authenticating through *gateway*."""

    @get(
        PATH,
        summary="The API keys",
        description="Every key by name, revoked ones too; never a secret. Needs admin.",
        tags=["api-keys"],
        operation_id="listApiKeys",
    )
    async def list_keys(request: Request[Any, Any, Any], service: ServiceDep) -> list[ApiKeyOut]:
        # Whole: the keys of systems and channels are few (tens), not a growing table.
        await gateway.admit(service, request, _admin)
        async with service.database.connection() as conn:
            rows = await repo.list_keys(conn)
        return [ApiKeyOut.model_validate(_out(row)) for row in rows]

    @post(
        PATH,
        summary="Create an API key",
        description="The answer holds the key itself, this once. Needs admin.",
        tags=["api-keys"],
        operation_id="createApiKey",
        status_code=201,
        responses=problems(400, 409),
    )
    async def create(
        request: Request[Any, Any, Any], service: ServiceDep, data: JSONBody[ApiKeyIn]
    ) -> ApiKeyCreated:
        caller = await gateway.admit(service, request, _admin)

        async def create_key() -> ApiKeyCreated:
            try:
                async with service.database.transaction() as tx:
                    secret = await handlers.create_api_key(
                        tx, data.name, data.scopes, data.rate_limit_per_minute, data.channel
                    )
                    row = await repo.listed(tx, data.name)
            except api_keys.InvalidScope as exc:
                raise Problem(400, "invalid-scope", "Invalid scope", str(exc)) from None
            except api_keys.InvalidChannel as exc:
                raise Problem(400, "invalid-channel", "Invalid channel", str(exc)) from None
            except asyncpg.UniqueViolationError:
                raise Problem(
                    409, "api-key-exists", "Name taken", f"a key named {data.name!r} exists"
                ) from None
            assert row is not None  # written in this transaction
            return ApiKeyCreated.model_validate({**_out(row), "key": secret})

        return await gateway.audited(
            service, caller, "POST", PATH, data.name, create_key, lambda _: 201
        )

    @delete(
        f"{PATH}/{{name:str}}",
        summary="Revoke an API key",
        description=(
            "Refused (401) at once by this gateway, within 30 s by every other gateway "
            "process (their key cache). Needs admin."
        ),
        tags=["api-keys"],
        operation_id="revokeApiKey",
        status_code=204,
        responses=problems(404),
    )
    async def revoke(
        request: Request[Any, Any, Any], service: ServiceDep, name: FromPath[str]
    ) -> None:
        caller = await gateway.admit(service, request, _admin)

        async def revoke_key() -> None:
            async with service.database.connection() as conn:
                revoked = await handlers.revoke_api_key(conn, name)
            if not revoked:
                raise Problem(404, "api-key-not-found", "No such key", f"no active key {name!r}")
            gateway.forget_key(name)

        await gateway.audited(
            service, caller, "DELETE", f"{PATH}/{name}", name, revoke_key, lambda _: 204
        )

    return [list_keys, create, revoke]
