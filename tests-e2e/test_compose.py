"""Static checks of the container deployment (docker-compose.yml, Dockerfile, Prometheus, Grafana).

No Docker is needed: the files are parsed and cross-checked, so a service that is dropped from
compose, a port that drifts from its command, or a dashboard that queries an unknown metric fails
here instead of at `docker compose up`.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from promql import metric_names
from wattline_platform.endpoints import ENDPOINTS, ServiceMap, by_env

from wattline.registry import SERVICES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARDS_DIR = ROOT / "deploy" / "grafana" / "dashboards"
DATASOURCES_DIR = ROOT / "deploy" / "grafana" / "provisioning" / "datasources"

WATTLINE_SERVICES = {
    "gateway": 8000,
    "portfolio": 8101,
    "datahub": 8102,
    "settlement": 8103,
    "invoicing": 8104,
    "reconciliation": 8105,
    "simulator": 8106,
    "notifications": 8108,
}
INFRASTRUCTURE = {"kafka", "postgres", "prometheus", "grafana", "migrate"}


def _compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(doc, dict)
    return doc


def _services() -> dict[str, Any]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """`environment` as a mapping, whether compose has it as a list or a (merged) mapping."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        result: dict[str, str] = {}
        for item in env:
            key, sep, value = str(item).partition("=")
            result[key] = value if sep else ""
        return result
    assert isinstance(env, dict), f"unexpected environment: {env!r}"
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return command.split()
    assert isinstance(command, list), f"no command: {service!r}"
    return [str(part) for part in command]


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency name -> condition (the short list form means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {str(d): "service_started" for d in deps}
    return {str(k): str((v or {}).get("condition", "service_started")) for k, v in deps.items()}


def _build(service: dict[str, Any]) -> tuple[str, str]:
    """(context, dockerfile) of a service, normalised."""
    build = service.get("build")
    assert build is not None, f"service has no build: {service!r}"
    if isinstance(build, str):
        build = {"context": build}
    context = (ROOT / str(build.get("context", "."))).resolve()
    dockerfile = (context / str(build.get("dockerfile", "Dockerfile"))).resolve()
    return context.as_posix(), dockerfile.as_posix()


def test_compose_has_infrastructure_and_every_service() -> None:
    services = _services()
    missing = (INFRASTRUCTURE | set(WATTLINE_SERVICES)) - set(services)
    assert not missing, f"missing from docker-compose.yml: {sorted(missing)}"


def test_kafka_runs_in_kraft_mode_without_zookeeper() -> None:
    services = _services()
    assert not any("zookeeper" in name for name in services)
    kafka = services["kafka"]
    assert "zookeeper" not in str(kafka.get("image", ""))
    env = _environment(kafka)
    roles = {r.strip() for r in env["KAFKA_PROCESS_ROLES"].split(",")}
    assert {"broker", "controller"} <= roles
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert "healthcheck" in kafka


def test_postgres_and_migrate_job() -> None:
    services = _services()
    postgres = services["postgres"]
    env = _environment(postgres)
    assert env["POSTGRES_DB"] == "wattline"
    assert any("pg_isready" in part for part in postgres["healthcheck"]["test"])
    assert postgres.get("volumes"), "postgres data must live on a volume"

    migrate = services["migrate"]
    command = " ".join(_command(migrate))
    assert "wattline migrate" in command
    assert "wattline topics" in command
    deps = _depends_on(migrate)
    assert deps.get("postgres") == "service_healthy"
    assert deps.get("kafka") == "service_healthy"
    assert _environment(migrate)["DATABASE_URL"].startswith("postgresql://")


def test_every_wattline_service_is_wired_the_same_way() -> None:
    services = _services()
    builds = {_build(services[name]) for name in [*WATTLINE_SERVICES, "migrate"]}
    assert len(builds) == 1, f"services build from different Dockerfiles: {builds}"
    assert Path(next(iter(builds))[1]) == DOCKERFILE.resolve()

    for name, port in WATTLINE_SERVICES.items():
        service = services[name]
        command = _command(service)
        assert command[-2:] == ["-m", f"wattline_{name}"], f"{name}: command {command}"
        module_service = command[-1].removeprefix("wattline_")
        env = _environment(service)
        assert env.get("DATABASE_URL", "").startswith("postgresql://"), name
        assert env.get("KAFKA_BOOTSTRAP"), name
        assert env.get(f"WATTLINE_{module_service.upper()}_PORT") == str(port), name
        assert env.get(f"WATTLINE_{module_service.upper()}_HOST") == "0.0.0.0", name
        healthcheck = " ".join(str(p) for p in service["healthcheck"]["test"])
        assert f":{port}/health/live" in healthcheck, f"{name}: healthcheck {healthcheck}"
        assert _depends_on(service).get("migrate") == "service_completed_successfully", name

    assert "8000:8000" in [str(p) for p in services["gateway"].get("ports", [])]


def test_gateway_routes_to_the_other_services() -> None:
    services = _services()
    routes = json.loads(_environment(services["gateway"])["WATTLINE_GATEWAY_SERVICES"])
    others = set(WATTLINE_SERVICES) - {"gateway"}
    assert set(routes) == others
    for name, url in routes.items():
        assert url == f"http://{name}:{WATTLINE_SERVICES[name]}", f"{name}: {url}"
        assert name in services


# --- outside addresses: every registry setting present, every URL naming a compose host ------

COMPOSE_BASES = {name: f"http://{name}:{port}" for name, port in WATTLINE_SERVICES.items()}
EXTERNAL_HOSTS = {host for e in ENDPOINTS for host in e.external_hosts}
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}
SUBSTITUTION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def _resolve(value: str) -> str:
    """*value* as compose gives it with an empty .env: defaults in, required ones empty."""
    return SUBSTITUTION.sub(lambda m: m["arg"] or "" if m["op"] in ("-", ":-") else "", value)


def _urls(value: str) -> list[str]:
    """The URLs in a setting's value: itself, or the values of a JSON object of URLs."""
    if value.startswith("{"):
        decoded = json.loads(value)
        assert isinstance(decoded, dict), value
        return [str(v) for v in decoded.values() if "://" in str(v)]
    return [value] if "://" in value else []


def registry_problems(services: dict[str, Any]) -> list[str]:
    """What docker-compose.yml lacks or gets wrong of wattline_platform.endpoints."""
    problems = []
    for endpoint in ENDPOINTS:
        for name in WATTLINE_SERVICES:
            env = _environment(services[name])
            reads = endpoint.compose and name in endpoint.readers
            if not reads:
                if endpoint.env in env:
                    why = (
                        "the registry keeps it out of compose"
                        if name in endpoint.readers
                        else f"{name} does not read it"
                    )
                    problems.append(f"{name}: {endpoint.env} is set but {why}")
                continue
            if endpoint.env not in env:
                problems.append(f"{name}: {endpoint.env} missing ({endpoint.description})")
                continue
            value = _resolve(env[endpoint.env])
            expected = endpoint.render(COMPOSE_BASES, name) or ""
            if isinstance(endpoint.system, ServiceMap):
                same = json.loads(value or "{}") == json.loads(expected)
            else:
                same = value == expected
            if not same:
                problems.append(f"{name}: {endpoint.env}={value!r}, the registry says {expected!r}")
    return problems


def url_problems(services: dict[str, Any]) -> list[str]:
    """Every URL (and Kafka bootstrap server) a Wattline service is given must name a host of
    this compose file, or an outside host the registry allows."""
    problems = []
    for name in [*WATTLINE_SERVICES, "migrate"]:
        for var, raw in _environment(services[name]).items():
            value = _resolve(raw)
            hosts = [urlsplit(url).hostname for url in _urls(value)]
            if var == "KAFKA_BOOTSTRAP":
                hosts = [server.rpartition(":")[0] for server in value.split(",")]
            for host in hosts:
                if host not in services and host not in EXTERNAL_HOSTS:
                    problems.append(f"{name}: {var}={value!r} names {host!r}, not a compose host")
    return problems


def test_the_service_ports_are_the_registry_s() -> None:
    assert {e.name: 8000 + e.port_offset for e in SERVICES} == WATTLINE_SERVICES


def test_every_service_gets_the_outside_addresses_it_reads() -> None:
    assert registry_problems(_services()) == []


def test_every_url_names_a_compose_host() -> None:
    assert url_problems(_services()) == []


def test_a_missing_or_stray_setting_is_found() -> None:
    services = copy.deepcopy(_services())
    del services["datahub"]["environment"]["WATTLINE_DATAHUB_TOKEN_URL"]
    del services["settlement"]["environment"]["WATTLINE_SETTLEMENT_EDS_BASE_URL"]
    services["invoicing"]["environment"]["CLOCK_URL"] = "http://simulator:8106/sim/clock"
    services["portfolio"]["environment"]["WATTLINE_PORTFOLIO_ADDRESS_LOOKUP_URL"] = (
        "http://simulator:8106/addresses/{dar_id}"
    )
    assert registry_problems(services) == [
        "datahub: WATTLINE_DATAHUB_TOKEN_URL missing ("
        + by_env("WATTLINE_DATAHUB_TOKEN_URL").description
        + ")",
        "settlement: WATTLINE_SETTLEMENT_EDS_BASE_URL missing ("
        + by_env("WATTLINE_SETTLEMENT_EDS_BASE_URL").description
        + ")",
        "portfolio: WATTLINE_PORTFOLIO_ADDRESS_LOOKUP_URL='http://simulator:8106/addresses/{dar_id}'"
        ", the registry says 'http://simulator:8106/sim/addresses/{dar_id}'",
        "invoicing: CLOCK_URL is set but the registry keeps it out of compose",
    ]


def test_a_url_outside_compose_is_found() -> None:
    services = copy.deepcopy(_services())
    datahub = services["datahub"]["environment"]
    datahub["WATTLINE_DATAHUB_URL"] = "${WATTLINE_DATAHUB_URL:-http://127.0.0.1:8106}"
    datahub["WATTLINE_DATAHUB_TOKEN_URL"] = "https://login.microsoftonline.com/t/oauth2/v2.0/token"
    gateway = services["gateway"]["environment"]
    gateway["WATTLINE_GATEWAY_SERVICES"] = (
        '{"portfolio": "http://portfolio:8101", "x": "http://x:1"}'
    )
    services["migrate"]["environment"]["KAFKA_BOOTSTRAP"] = "kafka:9092,localhost:19092"
    assert url_problems(services) == [
        f"gateway: WATTLINE_GATEWAY_SERVICES={gateway['WATTLINE_GATEWAY_SERVICES']!r} names 'x', "
        "not a compose host",
        "datahub: WATTLINE_DATAHUB_URL='http://127.0.0.1:8106' names '127.0.0.1', "
        "not a compose host",
        "migrate: KAFKA_BOOTSTRAP='kafka:9092,localhost:19092' names 'localhost', "
        "not a compose host",
    ]


def test_prometheus_scrapes_every_service_in_compose() -> None:
    services = _services()
    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    scraped: dict[str, str] = {}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = str(target).rpartition(":")
                assert host in services, f"job {job['job_name']} scrapes {target}, not in compose"
                scraped[host] = port
    # The gateway's /metrics is on its metrics port, not on the public one.
    metrics_port = _environment(services["gateway"])["WATTLINE_GATEWAY_METRICS_PORT"]
    for name, port in {**WATTLINE_SERVICES, "gateway": int(metrics_port)}.items():
        assert scraped.get(name) == str(port), f"{name} is not scraped on :{port}"
    published = " ".join(str(p) for p in services["gateway"].get("ports", []))
    assert metrics_port not in published, "the gateway's metrics port is published on the host"
    volumes = " ".join(str(v) for v in services["prometheus"].get("volumes", []))
    assert "./deploy/prometheus/prometheus.yml" in volumes


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for panel in panels:
        flat.append(panel)
        flat.extend(_panels(panel.get("panels", [])))
    return flat


def test_grafana_dashboards_query_the_provisioned_prometheus() -> None:
    # Which metrics the queries name is checked against a running system's /metrics in
    # test_observability.py.
    dashboards = sorted(DASHBOARDS_DIR.glob("*.json"))
    assert dashboards, "no Grafana dashboard"
    datasource = yaml.safe_load((DATASOURCES_DIR / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["uid"] == "prometheus"

    used: set[str] = set()
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        assert dashboard["schemaVersion"] == 39
        queried = [p for p in _panels(dashboard["panels"]) if p.get("targets")]
        assert queried, f"{path.name} has no queries"
        for panel in queried:
            assert panel["datasource"]["uid"] == "prometheus", panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "prometheus", panel["title"]
                names = metric_names(target["expr"])
                assert names, f"{panel['title']}: no metric in {target['expr']!r}"
                used |= names
    assert "up" in used


def test_dockerfile_is_multi_stage_and_uses_the_lock() -> None:
    text = DOCKERFILE.read_text()
    stages = [line for line in text.splitlines() if re.match(r"^\s*FROM\s", line, re.IGNORECASE)]
    assert len(stages) >= 2, stages
    assert "uv sync --locked" in text
    assert "pip install uv" in text
    assert "ghcr.io/astral-sh/uv" not in text
    assert re.search(r"^\s*USER\s+wattline\s*$", text, re.MULTILINE)


def test_the_image_carries_the_back_office_where_the_gateway_looks() -> None:
    """A gateway in compose or Kubernetes serves /backoffice/ only if the image has the build
    at <checkout>/backoffice/dist: the gateway's bootstrap looks there, and /app is the checkout."""
    text = DOCKERFILE.read_text()
    stage = re.search(r"^FROM\s+node:(\d+)\S*\s+AS\s+(\w+)\s*$", text, re.MULTILINE)
    assert stage, "no Node.js stage builds the back office"
    assert int(stage.group(1)) >= 20  # Makefile's `node` target asks for Node.js 20 or newer
    assert "npm ci" in text and "npm run build" in text
    assert re.search(
        rf"^COPY --from={stage.group(2)} \S+/dist /app/backoffice/dist\s*$", text, re.MULTILINE
    ), "the runtime stage does not copy the back office build to /app/backoffice/dist"
    bootstrap = ROOT / "services/gateway/src/wattline_gateway/bootstrap.py"
    assert 'parents[4] / "backoffice" / "dist"' in bootstrap.read_text()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "backoffice/node_modules" in ignored  # the stage installs its own, for Linux
