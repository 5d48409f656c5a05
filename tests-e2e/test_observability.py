"""Operations (issue 14): the Grafana dashboards and Prometheus alert rules read metrics the
running services really export, the rule files are well formed, and each service exports the
seed 000 B5 metrics it owns.

The exported names are read from a running system's ``/metrics`` (each service on its port,
the gateway on its own metrics port), not from a list kept here, so a renamed metric or a
metrics module no service imports fails this test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from e2e_system import System, wait_for, wattline
from prometheus_client.parser import text_string_to_metric_families
from promql import balanced, metric_names

from wattline.registry import GATEWAY_METRICS_OFFSET, SERVICES

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")

# What each service must export (seed 000 B5), beyond what every service exports.
OWNED = {
    "datahub": {
        "wattline_datahub_queue_depth_estimate",
        "wattline_datahub_peek_seconds_bucket",
        "wattline_datahub_messages_total",
        "wattline_datahub_series_refused_total",
        "wattline_datahub_missing_data_reminders_total",
    },
    "settlement": {
        "wattline_settlement_runs_total",
        "wattline_settlement_run_duration_seconds_bucket",
        "wattline_settlement_runs_past_deadline",
    },
    "portfolio": {
        "wattline_portfolio_active_metering_points",
        "wattline_portfolio_pending_processes",
        "wattline_portfolio_oldest_pending_process_seconds",
    },
    "invoicing": {"wattline_invoicing_documents_issued_total", "wattline_invoicing_payments_total"},
    "reconciliation": {
        "wattline_reconciliation_deviation_hours",
        "wattline_reconciliation_deviations_detected_total",
    },
}
EVERY_SERVICE = {"wattline_http_requests_total", "wattline_http_request_seconds_bucket"}
MESSAGING = {
    "wattline_events_consumed_total",
    "wattline_events_dead_lettered_total",
    "wattline_outbox_lag_seconds",
}


def exported(text: str) -> set[str]:
    """Every series name a /metrics page offers, a family without samples yet included."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {s.name for s in family.samples}
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names |= {family.name + s for s in ("_bucket", "_sum", "_count")}
        else:
            names.add(family.name)
    return names


def metrics_url(system: System, service: str) -> str:
    offset = next(e.port_offset for e in SERVICES if e.name == service)
    if service == "gateway":
        offset = GATEWAY_METRICS_OFFSET
    return f"http://127.0.0.1:{system.base_port + offset}/metrics"


@pytest.fixture(scope="module")
def scraped(system: System) -> dict[str, str]:
    """Each service's /metrics text once the portfolio's gauges were first refreshed."""

    def fetch() -> dict[str, str]:
        return {e.name: httpx.get(metrics_url(system, e.name), timeout=10).text for e in SERVICES}

    return wait_for(  # type: ignore[no-any-return]
        fetch,
        lambda pages: 'wattline_portfolio_pending_processes{kind="BRS-001"}' in pages["portfolio"],
        timeout=60,
    )


def queries() -> list[tuple[str, str]]:
    """(where, expression) of every dashboard panel and alert rule."""
    found = []
    for path in DASHBOARDS:
        stack = list(json.loads(path.read_text())["panels"])
        while stack:
            panel = stack.pop()
            stack += panel.get("panels", [])
            found += [
                (f"{path.name}: {panel['title']}", t["expr"]) for t in panel.get("targets", [])
            ]
    for group in rule_groups():
        found += [(f"rule {r['alert']}", r["expr"]) for r in group["rules"]]
    return found


def rule_files() -> list[Path]:
    config = yaml.safe_load(PROMETHEUS.read_text())
    # The compose Prometheus mounts deploy/prometheus/ files at /etc/prometheus/.
    return [PROMETHEUS.parent / Path(f).name for f in config.get("rule_files", [])]


def rule_groups() -> list[dict[str, Any]]:
    return [g for path in rule_files() for g in yaml.safe_load(path.read_text())["groups"]]


def test_the_rule_files_parse_and_cover_the_alerts_of_seed_000_b5() -> None:
    files = rule_files()
    assert files, "prometheus.yml loads no rule file"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = " ".join(compose["services"]["prometheus"]["volumes"])
    alerts: dict[str, dict[str, Any]] = {}
    for path in files:
        assert f"./deploy/prometheus/{path.name}:/etc/prometheus/{path.name}" in volumes
        for group in yaml.safe_load(path.read_text())["groups"]:
            assert group["name"] and group["rules"], group
            for rule in group["rules"]:
                assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
                assert rule["alert"] not in alerts, f"{rule['alert']} twice"
                assert balanced(rule["expr"]), rule["alert"]
                assert metric_names(rule["expr"]), rule["alert"]
                assert DURATION.match(rule.get("for", "0s")), rule["alert"]
                assert rule["labels"]["severity"] in {"warning", "critical"}
                assert rule["annotations"]["summary"]
                alerts[rule["alert"]] = rule
    covered = {name: metric_names(rule["expr"]) for name, rule in alerts.items()}
    assert covered["ServiceDown"] == {"up"}
    assert "wattline_events_dead_lettered_total" in covered["DeadLetterRateOverFivePercent"]
    assert "> 0.05" in alerts["DeadLetterRateOverFivePercent"]["expr"]
    assert "wattline_datahub_queue_depth_estimate" in covered["DataHubQueueGrowing"]
    assert "[30m]" in alerts["DataHubQueueGrowing"]["expr"]
    assert covered["SettlementRunFailed"] == {"wattline_settlement_runs_total"}
    assert covered["SettlementRunPastDeadline"] == {"wattline_settlement_runs_past_deadline"}
    assert covered["OutboxLagOverOneMinute"] == {"wattline_outbox_lag_seconds"}
    assert "> 60" in alerts["OutboxLagOverOneMinute"]["expr"]
    assert covered["ReconciliationDeviationOverTolerance"] == {
        "wattline_reconciliation_deviation_hours"
    }


def test_every_dashboard_is_provisioned_and_has_its_subject() -> None:
    titles = {json.loads(p.read_text())["title"] for p in DASHBOARDS}
    assert titles >= {
        "Wattline overview",
        "DataHub queues",
        "Onboarding processes",
        "Settlement runs",
        "Reconciliation",
        "Invoicing and payments",
    }
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids)), uids


def test_every_query_names_a_metric_the_running_services_export(scraped: dict[str, str]) -> None:
    by_service = {name: exported(text) for name, text in scraped.items()}
    everywhere = set().union(*by_service.values()) | {"up"}  # up: Prometheus's own
    unknown = {
        where: sorted(metric_names(expr) - everywhere)
        for where, expr in queries()
        if metric_names(expr) - everywhere
    }
    assert not unknown, unknown
    assert all(metric_names(expr) for _, expr in queries())


def test_each_service_exports_the_metrics_it_owns(scraped: dict[str, str]) -> None:
    for service, text in scraped.items():
        names = exported(text)
        missing = EVERY_SERVICE - names
        if service not in ("gateway", "simulator"):
            missing |= MESSAGING - names
        missing |= OWNED.get(service, set()) - names
        assert not missing, f"{service} does not export {sorted(missing)}"
    # The gauges read from the tables carry values, one series per process kind.
    portfolio = scraped["portfolio"]
    for kind in ("BRS-001", "BRS-002", "BRS-003", "BRS-009", "BRS-010", "BRS-011"):
        assert f'wattline_portfolio_pending_processes{{kind="{kind}"}}' in portfolio
    assert re.search(r"^wattline_portfolio_active_metering_points \d", portfolio, re.M)
    assert re.search(r"^wattline_settlement_runs_past_deadline \d", scraped["settlement"], re.M)


def test_status_prints_queue_depths_and_lags(system: System, tmp_path: Path) -> None:
    status = wattline("status", home=system.home, cwd=tmp_path, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    # Every polled DataHub category, with the depth and peek latency the datahub service saw.
    queues = [line for line in lines if line.startswith("queue ")]
    assert queues and all(re.search(r"\d+ taken since last empty, peek \d+ ms", q) for q in queues)
    lags = {line.split()[2] for line in lines if line.startswith("lag outbox ")}
    assert {"portfolio", "datahub", "settlement", "invoicing"} <= lags, lines
