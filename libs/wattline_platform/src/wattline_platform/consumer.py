"""Idempotent event consumption: inbox in the effect's transaction, ack after commit, DLQ.

One FastStream batch subscriber per service covers all the topics it consumes (one consumer
group joins much faster on Tansu than one group per topic). A batch is applied in one
transaction; if that fails, each event is retried on its own, a bounded number of times,
and a poison event goes to ``<topic>.dlq`` with the reason in its headers, so the partition
moves on. Infrastructure failures (database unreachable) are never dead-lettered: the
consumer waits and retries, because the event itself is fine.

A handler takes one event (``on``), or all the new events of its type that follow each other in
a batch (``on_batch``), so that a bulk store can load them with one COPY.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from wattline_contracts import Envelope, Event

from wattline_platform import inbox, metrics
from wattline_platform.broker import CONSUMER_SETTINGS
from wattline_platform.db import Database
from wattline_platform.logging import causation_id_var, correlation_id_var, get_logger
from wattline_platform.topics import DLQ_SUFFIX

log = get_logger(__name__)

Handler = Callable[[asyncpg.Connection, Any, Envelope], Awaitable[None]]
BatchHandler = Callable[[asyncpg.Connection, Sequence[tuple[Any, Envelope]]], Awaitable[None]]

# Failures of the database connection, not of the event: wait and retry, never dead-letter.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError,
)


class PoisonEvent(Exception):
    """An event that can never be applied (bad payload, unknown type)."""


@dataclass(frozen=True)
class Item:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope
    event: Event
    handler: Handler


class EventConsumer:
    """Routes events of the subscribed topics to handlers, exactly once in effect."""

    def __init__(
        self,
        service: str,
        db: Database,
        broker: KafkaBroker,
        *,
        batch_size: int = 500,
        max_retries: int = 3,
        retry_backoff_s: float = 0.2,
        on_fatal: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.service = service
        self.db = db
        self.broker = broker
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        self.routes: dict[tuple[str, int], tuple[type[Event], Handler]] = {}
        self.batch_routes: dict[tuple[str, int], BatchHandler] = {}
        # Called when a batch can neither be finished nor rewound: the process should exit so
        # the uncommitted batch is delivered again after a restart.
        self.on_fatal = on_fatal or _exit_process

    def on(self, event_cls: type[Event]) -> Callable[[Handler], Handler]:
        """Register a handler ``async (tx, event, envelope)`` for *event_cls*."""

        def register(fn: Handler) -> Handler:
            self.routes[(event_cls.TYPE, event_cls.VERSION)] = (event_cls, fn)
            return fn

        return register

    def on_batch(self, event_cls: type[Event]) -> Callable[[BatchHandler], BatchHandler]:
        """Register a handler ``async (tx, [(event, envelope), ...])`` for *event_cls*.

        It is called once for each run of consecutive new events of that type in a batch, in
        batch order, inside the batch's transaction; events of other types before and after
        the run are applied before and after it. ``routes`` gets a one-event adapter, so the
        event can still be applied alone.
        """

        def register(fn: BatchHandler) -> BatchHandler:
            async def one(tx: asyncpg.Connection, event: Any, envelope: Envelope) -> None:
                await fn(tx, [(event, envelope)])

            key = (event_cls.TYPE, event_cls.VERSION)
            self.routes[key] = (event_cls, one)
            self.batch_routes[key] = fn
            return fn

        return register

    @property
    def topics(self) -> list[str]:
        return sorted({cls.topic() for cls, _ in self.routes.values()})

    def attach(self, group_suffix: str = "") -> None:
        """Create the service's single batch subscriber on the broker.

        *group_suffix* (the broker epoch) keeps a consumer of a previous broker incarnation
        from committing stale offsets into the new one's group.
        """
        if not self.routes:
            return

        async def on_batch(body: list[Any], msg: KafkaMessage) -> None:
            records: Any = msg.raw_message
            if not isinstance(records, tuple | list):
                records = (records,)
            try:
                await self.process(records)
                await self.acknowledge(msg)
            except Exception as exc:
                # Not finished (e.g. the DLQ publish failed): rewind so the batch comes
                # again, rather than let a later commit skip past it.
                log.error("batch_failed", error=repr(exc), records=len(records))
                try:
                    rewind(msg.consumer, records)
                except Exception as rewind_exc:
                    self.on_fatal(rewind_exc)
                await asyncio.sleep(1.0)

        self.broker.subscriber(
            *self.topics,
            group_id=f"{self.service}.{group_suffix}" if group_suffix else self.service,
            batch=True,
            max_records=self.batch_size,
            batch_timeout_ms=100,
            ack_policy=AckPolicy.MANUAL,
            # Our own parsing: FastStream's would raise on one odd header or body before
            # our poison handling runs, and the batch would be skipped.
            parser=_lenient_parser,
            decoder=_raw_decoder,
            **CONSUMER_SETTINGS,
        )(on_batch)

    async def acknowledge(self, msg: KafkaMessage) -> None:
        """Commit the batch's offsets: only ever after its effects are committed."""
        await msg.ack()

    def decode(self, record: ConsumerRecord[Any, Any]) -> Item:
        """Turn a record into an envelope and its typed event, or raise PoisonEvent."""
        try:
            envelope = Envelope.model_validate_json(record.value or b"")
        except ValidationError as exc:
            raise PoisonEvent(f"invalid envelope: {_short(exc)}") from exc
        route = self.routes.get((envelope.type, envelope.version))
        if route is None:
            raise PoisonEvent(f"no handler for {envelope.type} v{envelope.version}")
        event_cls, handler = route
        try:
            event = event_cls.model_validate(envelope.payload)
        except ValidationError as exc:
            raise PoisonEvent(
                f"invalid {envelope.type} v{envelope.version}: {_short(exc)}"
            ) from exc
        return Item(record, envelope, event, handler)

    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply a batch of records; return when every record is applied or dead-lettered."""
        items: list[Item] = []
        for record in records:
            try:
                items.append(self.decode(record))
            except PoisonEvent as exc:
                await self.dead_letter(record, str(exc), attempts=1)
        if not items:
            return
        try:
            await self._with_transient_retry(lambda: self._apply(items))
        except Exception:
            # Isolate the event(s) that fail: each on its own, with bounded retries.
            for item in items:
                await self._apply_alone(item)

    async def _apply(self, items: Sequence[Item]) -> None:
        async with self.db.transaction() as tx:
            new = await inbox.record_many(
                tx, [(i.envelope.event_id, i.record.topic, i.envelope.type) for i in items]
            )
            applied: set[uuid.UUID] = set()
            run: list[Item] = []  # consecutive new events for one batch handler
            for item in items:
                outcome = "duplicate"
                if item.envelope.event_id in new and item.envelope.event_id not in applied:
                    applied.add(item.envelope.event_id)
                    batch = self._batch_handler(item)
                    if run and batch is not self._batch_handler(run[0]):
                        await self._call_batch(tx, run)
                        run = []
                    if batch is not None:
                        run.append(item)
                    else:
                        await self._call(tx, item)
                    outcome = "applied"
                metrics.EVENTS_CONSUMED.labels(self.service, item.record.topic, outcome).inc()
            if run:
                await self._call_batch(tx, run)

    def _batch_handler(self, item: Item) -> BatchHandler | None:
        return self.batch_routes.get((item.envelope.type, item.envelope.version))

    async def _call_batch(self, tx: asyncpg.Connection, run: Sequence[Item]) -> None:
        handler = self._batch_handler(run[0])
        assert handler is not None
        with structlog.contextvars.bound_contextvars(
            event_type=run[0].envelope.type, events=len(run)
        ):
            await handler(tx, [(i.event, i.envelope) for i in run])

    async def _call(self, tx: asyncpg.Connection, item: Item) -> None:
        cid = correlation_id_var.set(item.envelope.correlation_id)
        caus = causation_id_var.set(item.envelope.event_id)
        try:
            with structlog.contextvars.bound_contextvars(
                event_id=str(item.envelope.event_id), event_type=item.envelope.type
            ):
                await item.handler(tx, item.event, item.envelope)
        finally:
            correlation_id_var.reset(cid)
            causation_id_var.reset(caus)

    async def _apply_alone(self, item: Item) -> None:
        last_error = ""
        for attempt in range(1, self.max_retries + 1):
            try:
                await self._with_transient_retry(lambda: self._apply([item]))
                return
            except Exception as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "event_failed",
                    event_id=str(item.envelope.event_id),
                    topic=item.record.topic,
                    attempt=attempt,
                    error=last_error,
                )
                await asyncio.sleep(self.retry_backoff_s * attempt)
        await self.dead_letter(item.record, last_error, attempts=self.max_retries)

    async def _with_transient_retry(self, fn: Callable[[], Awaitable[None]]) -> None:
        delay = 0.2
        while True:
            try:
                await fn()
                return
            except TRANSIENT_ERRORS as exc:
                log.warning("consumer_transient_error", error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, *, attempts: int
    ) -> None:
        """Send *record* unchanged to ``<topic>.dlq`` with why, where from and how often tried."""
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        headers.update(
            {
                "x-dlq-reason": reason[:2000],
                "x-dlq-original-topic": record.topic,
                "x-dlq-partition": str(record.partition),
                "x-dlq-offset": str(record.offset),
                "x-dlq-attempts": str(attempts),
                "x-dlq-consumer": self.service,
            }
        )
        await self.broker.publish(
            record.value, record.topic + DLQ_SUFFIX, key=record.key, headers=headers
        )
        metrics.EVENTS_DEAD_LETTERED.labels(self.service, record.topic).inc()
        log.error(
            "event_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason[:500],
        )


def rewind(consumer: Any, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
    """Seek each still-assigned partition back to its earliest record in *records*.

    A partition taken away meanwhile needs nothing: its next owner starts from the last
    committed offset, which is before these records.
    """
    earliest: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        earliest[tp] = min(earliest.get(tp, record.offset), record.offset)
    assigned = consumer.assignment()
    for tp, offset in earliest.items():
        if tp in assigned:
            consumer.seek(tp, offset)


async def _lenient_parser(records: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    return await original(tuple(_clean(r) for r in records))


def _clean(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    headers = tuple((k, _utf8(v)) for k, v in (record.headers or ()))
    if headers == tuple(record.headers or ()):
        return record
    return dataclasses.replace(record, headers=headers)


def _utf8(value: bytes | None) -> bytes:
    if value is None:
        return b""
    try:
        value.decode()
        return value
    except UnicodeDecodeError:
        return value.decode(errors="replace").encode()


async def _raw_decoder(msg: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    return [r.value or b"" for r in msg.raw_message]


def _exit_process(exc: BaseException) -> None:
    log.critical("consumer_cannot_recover", error=repr(exc))
    os._exit(70)


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


__all__ = ["BatchHandler", "EventConsumer", "PoisonEvent"]
