"""What `wattline status` shows from the services' /metrics: DataHub queue depths and peek
latency, outbox lags, dead letters, open processes and overdue settlement runs: the
numbers the Grafana dashboards and alert rules read, on the command line."""

from __future__ import annotations

import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(url: str, timeout: float = 5.0) -> Samples:
    """The samples of one /metrics page by series name; empty when it does not answer."""
    if not url.startswith(("http://", "https://")):
        return {}
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked above
            text = response.read().decode()
    except OSError:
        return {}
    samples: Samples = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    return samples


def _by(samples: Samples, name: str, label: str) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for labels, value in samples.get(name, []):
        totals[labels.get(label, "")] += value
    return totals


def summary(pages: Mapping[str, Samples]) -> Iterable[str]:
    """Lines for *pages* (service name -> its samples)."""
    datahub = pages.get("datahub", {})
    depth = _by(datahub, "wattline_datahub_queue_depth_estimate", "category")
    peeks = _by(datahub, "wattline_datahub_peek_seconds_sum", "category")
    counts = _by(datahub, "wattline_datahub_peek_seconds_count", "category")
    for category in sorted(depth.keys() | counts.keys()):
        mean = peeks[category] / counts[category] if counts.get(category) else 0.0
        yield (
            f"queue {category:<18} {depth.get(category, 0):.0f} taken since last empty, "
            f"peek {mean * 1000:.0f} ms on average"
        )
    for service, samples in sorted(pages.items()):
        for schema, lag in sorted(_by(samples, "wattline_outbox_lag_seconds", "schema").items()):
            yield f"lag outbox {schema:<15} {lag:.1f} s"
        dead = sum(_by(samples, "wattline_events_dead_lettered_total", "topic").values())
        consumed = sum(_by(samples, "wattline_events_consumed_total", "topic").values())
        if dead or consumed:
            yield f"events {service:<17} {consumed:.0f} consumed, {dead:.0f} dead-lettered"
    pending = _by(pages.get("portfolio", {}), "wattline_portfolio_pending_processes", "kind")
    oldest = _by(
        pages.get("portfolio", {}), "wattline_portfolio_oldest_pending_process_seconds", "kind"
    )
    for kind, count in sorted(pending.items()):
        if count:
            hours = oldest.get(kind, 0) / 3600
            yield f"processes {kind:<14} {count:.0f} open, oldest {hours:.1f} h"
    overdue = pages.get("settlement", {}).get("wattline_settlement_runs_past_deadline")
    if overdue:
        yield f"settlement runs past deadline: {overdue[0][1]:.0f}"
