import pytest
from wattline_contracts import topics
from wattline_platform.topics import DLQ_SUFFIX, EPOCH_TOPIC, load_topics


def test_every_contract_topic_is_defined_with_a_dlq_twin() -> None:
    names = {spec.name for spec in load_topics()}
    for topic in topics():
        assert topic in names, f"{topic} missing from deploy/topics.yaml"
        assert topic + DLQ_SUFFIX in names
    assert EPOCH_TOPIC in names


def test_partitions_come_from_the_file() -> None:
    spec = next(s for s in load_topics() if s.name == "portfolio.metering_point.registered")
    assert spec.partitions == 6
    dlq = next(s for s in load_topics() if s.name == spec.name + DLQ_SUFFIX)
    assert dlq.partitions == 1


def test_one_broker_by_default_and_the_cluster_s_replication_when_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WATTLINE_TOPICS_REPLICATION_FACTOR", raising=False)
    specs = load_topics()
    assert {s.replication_factor for s in specs} == {1}
    assert all("min.insync.replicas" not in s.config for s in specs)

    monkeypatch.setenv("WATTLINE_TOPICS_REPLICATION_FACTOR", "3")
    specs = load_topics()
    assert {s.replication_factor for s in specs} == {3}
    registered = next(s for s in specs if s.name == "portfolio.metering_point.registered")
    assert registered.config["min.insync.replicas"] == "2"
    assert registered.config["retention.ms"] == "604800000"  # the file's config is kept


@pytest.mark.parametrize("bad", ["0", "three", "-1"])
def test_a_bad_replication_factor_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("WATTLINE_TOPICS_REPLICATION_FACTOR", bad)
    with pytest.raises(ValueError, match="WATTLINE_TOPICS_REPLICATION_FACTOR"):
        load_topics()
