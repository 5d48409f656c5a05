"""``/api/session``: a back-office user logs in with a username and password and gets a
session cookie (HttpOnly, so the session never reaches JavaScript); with it, every ``/api``
request is authorised with the user's scopes, as an API key holding them is.

A request the cookie authenticates that changes state must carry ``X-Requested-By:
wattline-backoffice``: a cross-site form cannot set a header, so it cannot act for the user
(SameSite=Strict already keeps the cookie off cross-site requests in current browsers).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from pydantic import BaseModel, ConfigDict, Field
from wattline_platform.logging import get_logger
from wattline_platform.openapi_problems import problems
from wattline_platform.problem import Problem
from wattline_platform.service import ServiceDep

from wattline_gateway import handlers
from wattline_gateway.adapters.backoffice import Session

if TYPE_CHECKING:
    from wattline_gateway.api import Gateway

log = get_logger(__name__)
PATH = "/api/session"
FIRST_SEGMENT = "session"  # neither a service's name nor an alias may be this
COOKIE = "wattline_session"
CSRF_HEADER = "x-requested-by"
CSRF_VALUE = "wattline-backoffice"


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=63)
    password: str = Field(min_length=1, max_length=256)


class SessionOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    scopes: list[str] = Field(description="what the session may do, as an API key's scopes")
    expires_at: datetime = Field(description="UTC; log in again from then")


def _out(session: Session) -> SessionOut:
    return SessionOut(
        username=session.username, scopes=sorted(session.scopes), expires_at=session.expires_at
    )


def _secure(request: Request[Any, Any, Any]) -> bool:
    """Whether the browser came over https (directly, or to a proxy in front)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" or request.url.scheme == "https"


def routes(gateway: Gateway) -> list[Any]:
    """The session route handlers of *gateway*."""

    @post(
        PATH,
        summary="Log in to the back office",
        description=(
            "Exchanges a back-office user's username and password for a session: the answer "
            f"sets the HttpOnly cookie {COOKIE}, which authorises every /api request with "
            "the user's scopes. Failed logins count against the address's limit (429)."
        ),
        tags=["session"],
        operation_id="logIn",
        status_code=200,
        security=[],
    )
    async def log_in(
        request: Request[Any, Any, Any], service: ServiceDep, data: JSONBody[LoginIn]
    ) -> Response[SessionOut]:
        address = gateway.address_of(request)
        gateway.refuse_blocked(address)
        # Counted as a failure before it is checked (and forgiven if it succeeds), so logins
        # sent in parallel cannot all pass the limit while their passwords are hashed.
        gateway.failed(address)
        new = await handlers.log_in(
            service.database,
            data.username,
            data.password,
            gateway.session_lifetime,
            replacing=request.cookies.get(COOKIE),
        )
        if new is None:
            raise Problem(401, "invalid-login", "Invalid username or password")
        gateway.forgive(address)
        identity = gateway.identity_of(new.session)
        await gateway.audited(
            service, identity, "POST", PATH, new.session.username, _nothing, lambda _: 200
        )
        return Response(
            _out(new.session),
            cookies=[
                Cookie(
                    key=COOKIE,
                    value=new.token,
                    path="/",
                    httponly=True,
                    samesite="strict",
                    secure=_secure(request),
                    max_age=int(gateway.session_lifetime.total_seconds()),
                )
            ],
        )

    @get(
        PATH,
        summary="The back-office session",
        description=f"Who the {COOKIE} cookie logs in, or 401 when it logs in no one.",
        tags=["session"],
        operation_id="getSession",
        security=[],
    )
    async def current(request: Request[Any, Any, Any], service: ServiceDep) -> SessionOut:
        return _out(await gateway.session(service, request))

    @delete(
        PATH,
        summary="Log out of the back office",
        description="Ends the session at once (in every gateway) and clears the cookie.",
        tags=["session"],
        operation_id="logOut",
        status_code=204,
        security=[],
        responses=problems(403),
    )
    async def log_out(request: Request[Any, Any, Any], service: ServiceDep) -> Response[None]:
        session = await gateway.session(service, request)
        gateway.check_csrf(request)

        # Ended first: a logout must not wait on the audit trail (an entry that cannot be
        # written is logged and the user is still logged out).
        await handlers.log_out(service.database, session.id)
        try:
            await gateway.audited(
                service, gateway.identity_of(session), "DELETE", PATH, session.username,
                _nothing, lambda _: 204,
            )  # fmt: skip
        except Problem:
            log.warning("logout_not_audited", session=str(session.id))
        response: Response[None] = Response(None, status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    return [log_in, current, log_out]


async def _nothing() -> None:
    """The login is on record once its session exists; nothing more to call."""
