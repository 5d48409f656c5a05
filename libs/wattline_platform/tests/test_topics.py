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
