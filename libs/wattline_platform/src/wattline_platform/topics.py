"""Topic definitions (``deploy/topics.yaml``), explicit topic creation and the broker epoch.

Topics are always created explicitly at start-up (Tansu cannot add partitions later, and real
Kafka clusters usually forbid auto-creation). Every topic gets a ``<topic>.dlq`` twin.

The *broker epoch* is a random id written once to a one-partition marker topic when the topics
are created. An embedded broker that restarts forgets everything, the marker included, so the
next ``ensure_topics`` writes a new epoch; relays notice and re-publish their outboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from wattline_platform.logging import get_logger

EPOCH_TOPIC = "wattline.broker-epoch"
DLQ_SUFFIX = ".dlq"
log = get_logger(__name__)


@dataclass(frozen=True)
class TopicSpec:
    """One topic as defined in the topics file."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


def default_topics_file() -> Path:
    """``deploy/topics.yaml`` of the repository, unless ``WATTLINE_TOPICS_FILE`` says otherwise."""
    override = os.environ.get("WATTLINE_TOPICS_FILE")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[4] / "deploy" / "topics.yaml"


def _replication_override() -> int | None:
    """``WATTLINE_TOPICS_REPLICATION_FACTOR``: every topic's replication factor on this cluster
    (the topics file's 1 suits one broker; production wants 3), or None when unset."""
    raw = os.environ.get("WATTLINE_TOPICS_REPLICATION_FACTOR", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(
            f"WATTLINE_TOPICS_REPLICATION_FACTOR must be a whole number >= 1, not {raw!r}"
        )
    return int(raw)


def load_topics(path: Path | None = None) -> list[TopicSpec]:
    """Read the topic definitions, adding a ``.dlq`` twin for each and the epoch marker.

    With ``WATTLINE_TOPICS_REPLICATION_FACTOR`` set, every topic gets that replication factor,
    and (from 3 replicas) ``min.insync.replicas`` 2 unless the file says otherwise, so a write
    the producers' ``acks=all`` confirmed survives the loss of one broker.
    """
    doc: dict[str, Any] = yaml.safe_load((path or default_topics_file()).read_text())
    defaults = dict(doc.get("defaults", {}))
    override = _replication_override()
    if override is not None:
        defaults["replication_factor"] = override
        if override >= 3:
            defaults["config"] = {"min.insync.replicas": "2", **defaults.get("config", {})}
        doc["topics"] = [
            {k: v for k, v in entry.items() if k != "replication_factor"} for entry in doc["topics"]
        ]
    specs: list[TopicSpec] = []
    for entry in doc["topics"]:
        partitions = int(entry.get("partitions", defaults.get("partitions", 1)))
        rf = int(entry.get("replication_factor", defaults.get("replication_factor", 1)))
        # A topic's own config wins over the defaults' (e.g. retention.ms, which the inbox's
        # retention is bounded by: see wattline_platform.inbox).
        config = {
            str(k): str(v)
            for k, v in {**defaults.get("config", {}), **entry.get("config", {})}.items()
        }
        specs.append(TopicSpec(entry["name"], partitions, rf, config))
        specs.append(TopicSpec(entry["name"] + DLQ_SUFFIX, 1, rf, {}))
    # The marker must outlive any retention period: deleting it would look like a new broker.
    specs.append(
        TopicSpec(
            EPOCH_TOPIC, 1, int(defaults.get("replication_factor", 1)), {"retention.ms": "-1"}
        )
    )
    return specs


def longest_retention(specs: list[TopicSpec]) -> timedelta | None:
    """The longest ``retention.ms`` of the event topics in *specs* (their .dlq twins and the
    epoch marker aside): how long the broker may still hold, and redeliver, a record. None
    when a topic keeps its records forever (``-1``) or names no retention, since then no
    bound is known."""
    longest = timedelta(0)
    for spec in specs:
        if spec.name == EPOCH_TOPIC or spec.name.endswith(DLQ_SUFFIX):
            continue
        raw = spec.config.get("retention.ms")
        if raw is None or int(raw) < 0:
            return None
        longest = max(longest, timedelta(milliseconds=int(raw)))
    return longest


async def ensure_topics(bootstrap: str, specs: list[TopicSpec]) -> str:
    """Create the missing topics and the epoch marker; return the broker epoch."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=40000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        for spec in missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # a racing creator
                await admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            spec.partitions,
                            spec.replication_factor,
                            topic_configs=spec.config or None,
                        )
                    ]
                )
        if missing:
            log.info("topics_created", count=len(missing))
    finally:
        await admin.close()
    epoch = await read_epoch(bootstrap)
    if epoch is None:
        epoch = uuid.uuid4().hex
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", request_timeout_ms=40000
        )
        try:
            await producer.start()
            await producer.send_and_wait(EPOCH_TOPIC, epoch.encode(), partition=0)
        finally:
            await producer.stop()
        log.info("broker_epoch_written", epoch=epoch)
    return epoch


class EpochUnknown(RuntimeError):
    """The marker exists but could not be read in time: don't take that for 'no epoch'."""


async def read_epoch(bootstrap: str, timeout_s: float = 3.0) -> str | None:
    """The epoch written to this broker, or None when the marker is missing or empty.

    Raises EpochUnknown when the marker has records that could not be read in time.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        request_timeout_ms=40000,
        fetch_max_wait_ms=100,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
        partitions = consumer.partitions_for_topic(EPOCH_TOPIC)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(EPOCH_TOPIC)
        if not partitions:
            return None
        tp = TopicPartition(EPOCH_TOPIC, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=200, max_records=1)
            for records in batch.values():
                for record in records:
                    value: bytes = record.value
                    return value.decode()
            if consumer.highwater(tp) == 0:
                return None
        raise EpochUnknown(f"could not read {EPOCH_TOPIC} within {timeout_s}s")
    finally:
        await consumer.stop()
