"""The registry of outside addresses: what `wattline up` gives each service."""

import json

import pytest
from wattline_platform.endpoints import (
    ENDPOINTS,
    EVERY_SERVICE_BUT_THE_SIMULATOR,
    Fixed,
    Server,
    by_env,
    read_by,
    system_environment,
)

BASES = {
    "portfolio": "http://127.0.0.1:20101",
    "datahub": "http://127.0.0.1:20102",
    "settlement": "http://127.0.0.1:20103",
    "invoicing": "http://127.0.0.1:20104",
    "reconciliation": "http://127.0.0.1:20105",
    "simulator": "http://127.0.0.1:20106",
    "gateway": "http://127.0.0.1:20000",
}
SIM = BASES["simulator"]


def test_datahub_gets_the_simulator_as_datahub_and_its_token_endpoint() -> None:
    env = system_environment("datahub", BASES, {"PATH": "/bin"})
    assert env["PATH"] == "/bin"
    assert env["WATTLINE_DATAHUB_URL"] == SIM
    assert env["WATTLINE_DATAHUB_TOKEN_URL"] == SIM + "/oauth2/v2.0/token"
    assert env["WATTLINE_DATAHUB_CLIENT_ID"] == "wattline"
    assert env["WATTLINE_DATAHUB_CLIENT_SECRET"] == "dev-secret"
    assert env["CLOCK_URL"] == SIM + "/sim/clock"
    assert "WATTLINE_DATAHUB_SCOPE" not in env  # nothing to fill; the environment may give one


def test_locally_datahub_is_the_simulator_whatever_the_shell_says() -> None:
    shell = {
        "WATTLINE_DATAHUB_URL": "https://b2b.datahub3.dk",
        "WATTLINE_DATAHUB_SCOPE": "app/.default",
        "WATTLINE_SIMULATOR_CLIENT_SECRET": "other-secret",
    }
    env = system_environment("datahub", BASES, shell)
    assert env["WATTLINE_DATAHUB_URL"] == SIM
    assert env["WATTLINE_DATAHUB_SCOPE"] == "app/.default"
    # the simulator's credential changed: the client's follows it
    assert env["WATTLINE_DATAHUB_CLIENT_SECRET"] == "other-secret"


def test_settlement_fetches_spot_prices_from_the_simulator_unless_told_otherwise() -> None:
    env = system_environment("settlement", BASES, {})
    assert env["WATTLINE_SETTLEMENT_EDS_BASE_URL"] == SIM
    real = {"WATTLINE_SETTLEMENT_EDS_BASE_URL": "https://api.energidataservice.dk"}
    assert system_environment("settlement", BASES, real) == {
        **real,
        "CLOCK_URL": SIM + "/sim/clock",
    }


def test_portfolio_looks_addresses_up_in_the_simulator() -> None:
    env = system_environment("portfolio", BASES, {"WATTLINE_DATAHUB_URL": "x"})
    assert env["WATTLINE_PORTFOLIO_ADDRESS_LOOKUP_URL"] == SIM + "/sim/addresses/{dar_id}"
    assert "WATTLINE_DATAHUB_URL" not in env  # not the portfolio's to read


def test_an_explicit_clock_wins_but_never_reaches_the_simulator() -> None:
    shell = {"CLOCK_URL": "http://clock.example/now"}
    assert system_environment("invoicing", BASES, shell)["CLOCK_URL"] == shell["CLOCK_URL"]
    assert "CLOCK_URL" not in system_environment("simulator", BASES, shell)
    assert "CLOCK_URL" not in system_environment("simulator", BASES, {})


def test_the_gateway_routes_to_every_other_service() -> None:
    env = system_environment("gateway", BASES, {"WATTLINE_GATEWAY_SERVICES": '{"a": "b"}'})
    routes = json.loads(env["WATTLINE_GATEWAY_SERVICES"])
    assert routes == {k: v for k, v in BASES.items() if k != "gateway"}


def test_the_simulator_gets_nothing_of_the_registry() -> None:
    env = system_environment("simulator", BASES, {"HOME": "/root"})
    assert env == {"HOME": "/root"}


def test_every_required_endpoint_has_a_system_value_and_is_in_compose() -> None:
    for endpoint in ENDPOINTS:
        assert endpoint.readers, endpoint.env
        if endpoint.required:
            assert endpoint.system is not None and endpoint.compose, endpoint.env
        if endpoint.secret:
            assert not endpoint.url, endpoint.env
    names = [e.env for e in ENDPOINTS]
    assert len(names) == len(set(names))
    assert "simulator" not in EVERY_SERVICE_BUT_THE_SIMULATOR


def test_lookups() -> None:
    assert by_env("CLOCK_URL").readers == EVERY_SERVICE_BUT_THE_SIMULATOR
    with pytest.raises(KeyError):
        by_env("WATTLINE_NOPE")
    assert {e.env for e in read_by("settlement")} == {
        "WATTLINE_SETTLEMENT_EDS_BASE_URL",
        "CLOCK_URL",
    }
    secret = by_env("WATTLINE_DATAHUB_CLIENT_SECRET")
    assert isinstance(secret.system, Fixed) and secret.secret


def test_invoicing_mails_through_the_system_s_mail_server() -> None:
    local = {"mail": "smtp://127.0.0.1:20107"}
    env = system_environment("invoicing", BASES, {}, local)
    assert env["WATTLINE_INVOICING_SMTP_URL"] == "smtp://127.0.0.1:20107"
    # a developer's own mail server wins; nobody else reads the setting
    own = {"WATTLINE_INVOICING_SMTP_URL": "smtps://mail.example.dk"}
    assert system_environment("invoicing", BASES, own, local) == {
        **own,
        "CLOCK_URL": SIM + "/sim/clock",
    }
    assert "WATTLINE_INVOICING_SMTP_URL" not in system_environment("portfolio", BASES, own, local)
    endpoint = by_env("WATTLINE_INVOICING_SMTP_URL")
    assert isinstance(endpoint.system, Server)
    # docker-compose.yml: its `mail` service
    assert endpoint.render(BASES, "invoicing") == "smtp://mail:1025"
