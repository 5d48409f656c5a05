"""Every outside address and credential a Wattline service calls, in one table.

A service reads these from its settings class like any other setting; what this module adds is
the one place that says, for each of them, who reads it, whether a deployment must set it and
what it is inside a Wattline system (``wattline up`` on one machine, ``docker-compose.yml`` on
one host), where the DataHub simulator plays DataHub, Energi Data Service, the address register
and the market clock. From this table

* the supervisor fills every child's environment (:func:`system_environment`), so no setting
  needs a default pointing at another process's port;
* ``tests-e2e/test_compose.py`` checks that every compose service gets what it needs, and
  that its URLs name compose hosts;
* ``deploy/env.example`` (``python -m wattline.envdoc``) marks the required ones and says
  what ``wattline up`` gives them.

Besides the services, a system has servers that are not Wattline services (:class:`Server`):
the mail server bills are e-mailed through, which ``wattline up`` runs on localhost (writing
every message to ``<home>/mail``) and docker-compose.yml runs as its ``mail`` service.

The services themselves never import this module: they have no defaults, so a deployment
that forgets one fails at start-up (:class:`wattline_platform.config.MissingSettings`) or,
for the address lookup, answers 503 where it is needed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InSystem:
    """A URL served by another process of the system: *service*'s base URL followed by *path*."""

    service: str
    path: str = ""


@dataclass(frozen=True)
class Server:
    """A server of the system that is not a Wattline service (no /health, no base URL among
    the services'), reached as ``<scheme>://host:port``.

    ``wattline up`` runs it and says where (the *servers* of :meth:`Endpoint.render`); in
    docker-compose.yml it is the compose service *name*, listening on *port*.
    """

    name: str
    scheme: str
    port: int

    def compose_url(self) -> str:
        """Its URL inside docker-compose.yml."""
        return f"{self.scheme}://{self.name}:{self.port}"


@dataclass(frozen=True)
class Fixed:
    """A constant (a credential both sides agree on); *mirrors* names the other side's setting.

    ``wattline up`` takes the mirrored variable when it is set, so changing the simulator's
    credential changes the client's with it.
    """

    value: str
    mirrors: str | None = None


@dataclass(frozen=True)
class ServiceMap:
    """A JSON object: every other service of the system -> its base URL (the gateway's routes)."""


Source = InSystem | Server | Fixed | ServiceMap


@dataclass(frozen=True)
class Endpoint:
    """One outside address or credential and how a Wattline system fills it."""

    env: str
    readers: tuple[str, ...]
    description: str
    # A deployment must set it: the setting has no default (nothing on another process's port).
    required: bool
    # Its value in a Wattline system, rendered against that system's base URLs; None: nothing
    # to fill (left to the environment).
    system: Source | None
    url: bool = True
    secret: bool = False
    # `wattline up` keeps a value already in its environment (False: always the system's, as
    # for DataHub, which is the simulator on a developer machine whatever the shell says).
    environment_wins: bool = True
    # docker-compose.yml passes it to its readers (False: production leaves it unset).
    compose: bool = True
    # Hosts outside the system a deployment may point it at (documentation and URL checks).
    external_hosts: tuple[str, ...] = field(default=())

    def render(
        self,
        bases: Mapping[str, str],
        reader: str,
        servers: Mapping[str, str] | None = None,
    ) -> str | None:
        """The system's value for *reader*, given every service's base URL (no trailing /)
        and the URL of each of its other servers (*servers*; one not given is at its
        docker-compose.yml address)."""
        source = self.system
        if source is None:
            return None
        if isinstance(source, InSystem):
            return bases[source.service] + source.path
        if isinstance(source, Server):
            return (servers or {}).get(source.name) or source.compose_url()
        if isinstance(source, Fixed):
            return source.value
        return json.dumps({name: url for name, url in bases.items() if name != reader})


EVERY_SERVICE_BUT_THE_SIMULATOR = (
    "portfolio",
    "datahub",
    "settlement",
    "invoicing",
    "reconciliation",
    "notifications",
    "gateway",
)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "WATTLINE_DATAHUB_URL",
        ("datahub",),
        "DataHub 3's B2B API root (peek, dequeue, incomingMessages)",
        required=True,
        system=InSystem("simulator"),
        environment_wins=False,
    ),
    Endpoint(
        "WATTLINE_DATAHUB_TOKEN_URL",
        ("datahub",),
        "OAuth2 token endpoint for DataHub's client credentials: DataHub 3 uses Microsoft "
        "Entra ID (https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token); the "
        "simulator serves one at <its URL>/oauth2/v2.0/token",
        required=True,
        system=InSystem("simulator", "/oauth2/v2.0/token"),
        environment_wins=False,
        external_hosts=("login.microsoftonline.com",),
    ),
    Endpoint(
        "WATTLINE_DATAHUB_CLIENT_ID",
        ("datahub",),
        "our application (client) id at the token endpoint",
        required=True,
        system=Fixed("wattline", mirrors="WATTLINE_SIMULATOR_CLIENT_ID"),
        url=False,
        environment_wins=False,
    ),
    Endpoint(
        "WATTLINE_DATAHUB_CLIENT_SECRET",
        ("datahub",),
        "our client secret at the token endpoint",
        required=True,
        system=Fixed("dev-secret", mirrors="WATTLINE_SIMULATOR_CLIENT_SECRET"),
        url=False,
        secret=True,
        environment_wins=False,
    ),
    Endpoint(
        "WATTLINE_DATAHUB_SCOPE",
        ("datahub",),
        "OAuth2 scope sent with the token request (Entra ID: <DataHub app id>/.default); "
        "not sent when empty",
        required=False,
        system=None,
        url=False,
    ),
    Endpoint(
        "WATTLINE_SETTLEMENT_EDS_BASE_URL",
        ("settlement",),
        "Energi Data Service's API root, where spot prices are fetched",
        required=False,
        system=InSystem("simulator"),
        external_hosts=("api.energidataservice.dk",),
    ),
    Endpoint(
        "WATTLINE_PORTFOLIO_ADDRESS_LOOKUP_URL",
        ("portfolio",),
        "DAR address id -> GSRNs, a URL template ({dar_id} is filled in) answering "
        '{"gsrns": [...]} or 404; unset: signups that need it answer 503',
        required=True,
        system=InSystem("simulator", "/sim/addresses/{dar_id}"),
    ),
    Endpoint(
        "WATTLINE_INVOICING_SMTP_URL",
        ("invoicing",),
        "the mail server bills are e-mailed through: smtp://host:port (STARTTLS when "
        "WATTLINE_INVOICING_SMTP_STARTTLS) or smtps://host:port (TLS from the first byte), "
        "port 25/465 when left out; unset: nothing is e-mailed and the bills' deliveries wait "
        "as pending until it is set",
        required=False,
        system=Server("mail", "smtp", 1025),
    ),
    Endpoint(
        "WATTLINE_NOTIFICATIONS_SMTP_URL",
        ("notifications",),
        "the mail server notifications are e-mailed through: smtp://host:port (STARTTLS when "
        "WATTLINE_NOTIFICATIONS_SMTP_STARTTLS) or smtps://host:port; unset: e-mails wait as "
        "pending until it is set",
        required=False,
        system=Server("mail", "smtp", 1025),
    ),
    Endpoint(
        "CLOCK_URL",
        EVERY_SERVICE_BUT_THE_SIMULATOR,
        "follow this clock for business time instead of the system clock: a URL answering "
        '{"now": "<ISO datetime>"}; unset in production. The simulator owns the clock and '
        "never follows one",
        required=False,
        system=InSystem("simulator", "/sim/clock"),
        compose=False,
    ),
    Endpoint(
        "WATTLINE_GATEWAY_SERVICES",
        ("gateway",),
        "where the gateway forwards /api/<name>/...: a JSON object, service -> base URL",
        required=True,
        system=ServiceMap(),
        environment_wins=False,
    ),
)


def by_env(name: str) -> Endpoint:
    """The endpoint read from environment variable *name*."""
    for endpoint in ENDPOINTS:
        if endpoint.env == name:
            return endpoint
    raise KeyError(name)


def read_by(service: str) -> tuple[Endpoint, ...]:
    """The endpoints *service* reads."""
    return tuple(e for e in ENDPOINTS if service in e.readers)


def system_environment(
    service: str,
    bases: Mapping[str, str],
    environ: Mapping[str, str],
    servers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """*environ* for *service* running in a system whose services are at *bases* and whose
    other servers (:class:`Server`, by name) at *servers*.

    Every endpoint *service* reads is filled with the system's value unless the environment
    already has one and may keep it; endpoints it does not read are removed, so a shell's
    ``CLOCK_URL`` never reaches the simulator, which owns the clock.
    """
    env = dict(environ)
    for endpoint in ENDPOINTS:
        if service not in endpoint.readers:
            env.pop(endpoint.env, None)
            continue
        if endpoint.environment_wins and env.get(endpoint.env):
            continue
        source = endpoint.system
        if isinstance(source, Fixed) and source.mirrors and env.get(source.mirrors):
            env[endpoint.env] = env[source.mirrors]
            continue
        value = endpoint.render(bases, service, servers)
        if value is not None:
            env[endpoint.env] = value
    return env
