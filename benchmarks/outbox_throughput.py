"""Outbox throughput: events/s from outbox insert to consumed-and-committed.

Starts the embedded stack (PostgreSQL + Tansu) on free ports, then pushes N events through
the real pipeline: handlers append to a producer schema's outbox in transactions of
``--tx-size`` events, the OutboxRelay publishes them, and an EventConsumer applies each one
(inbox row + effect row, one transaction per batch) and commits its offsets. The figure is
N divided by the time from the first insert to the last commit.

Beside it, the floor measured in the same run: the same N effect rows INSERTed straight into
the consumer's schema in transactions of ``--consumer-batch`` (no outbox, relay, broker or
inbox). The checks: every event applied exactly once (N effect rows with N distinct values,
N inbox rows) and every outbox row published; the exit code is non-zero when one fails.

    uv run python benchmarks/outbox_throughput.py --events 50000
    uv run python benchmarks/outbox_throughput.py --smoke        # 200 events, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import asyncpg
from _bench import Checks, machine, parse_args
from wattline_contracts import Envelope
from wattline_platform import migrations, outbox
from wattline_platform.broker import KafkaPublisher, make_broker
from wattline_platform.config import PlatformSettings
from wattline_platform.consumer import EventConsumer
from wattline_platform.db import Database
from wattline_platform.embedded import Stack, throwaway_stack
from wattline_platform.testing import create_topics, event_class


async def run(args: argparse.Namespace) -> int:
    async with throwaway_stack(fast_db=args.fast_db) as stack:
        return await _run(args, stack)


async def floor(db: Database, events: int, batch: int) -> float:
    """Seconds to INSERT *events* effect rows straight, in transactions of *batch*."""
    started = time.perf_counter()
    for first in range(0, events, batch):
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO floor_effects (n) VALUES ($1)",
                [(n,) for n in range(first, min(first + batch, events))],
            )
    return time.perf_counter() - started


async def _run(args: argparse.Namespace, stack: Stack) -> int:
    dsn = stack.dsn
    conn = await asyncpg.connect(dsn)
    platform_sql = migrations.load(migrations.PLATFORM_SQL, "platform")
    await migrations.apply(conn, "producer", platform_sql)
    await migrations.apply(
        conn,
        "consumer",
        [
            *platform_sql,
            migrations.Migration(
                "bench/0001.sql",
                "CREATE TABLE effects (n int NOT NULL); "
                "CREATE TABLE floor_effects (n int NOT NULL);",
            ),
        ],
    )
    await conn.close()
    evt = event_class("bench.event.happened")
    await create_topics(stack.bootstrap, evt.TYPE, partitions=args.partitions)
    print(
        f"stack up: postgres :{stack.pg_port} (fsync {'off' if args.fast_db else 'on'}), "
        f"tansu :{stack.kafka_port}, {args.partitions} partitions",
        flush=True,
    )

    settings = PlatformSettings(database_url=dsn, kafka_bootstrap=stack.bootstrap)
    producer_db = await Database(dsn, "producer", max_size=8).open()
    consumer_db = await Database(dsn, "consumer", max_size=8).open()
    relay_broker = make_broker(settings, "bench-relay")
    await relay_broker.start()
    relay = outbox.OutboxRelay(
        producer_db.pool,
        "producer",
        KafkaPublisher(relay_broker, stack.bootstrap),
        batch_size=args.relay_batch,
        poll_interval_s=0.01,
    )
    consumer_broker = make_broker(settings, "bench-consumer")
    consumer = EventConsumer("bench", consumer_db, consumer_broker, batch_size=args.consumer_batch)
    applied = 0

    @consumer.on(evt)
    async def apply(tx: asyncpg.Connection, event: Any, envelope: Envelope) -> None:
        await tx.execute("INSERT INTO effects (n) VALUES ($1)", event.n)

    original_ack = consumer.acknowledge
    done = asyncio.Event()

    async def counting_ack(msg: Any) -> None:
        nonlocal applied
        await original_ack(msg)
        applied += len(msg.raw_message)
        if applied >= args.events:
            done.set()

    consumer.acknowledge = counting_ack  # type: ignore[method-assign]
    consumer.attach()
    t_join = time.perf_counter()
    await consumer_broker.start()
    await asyncio.sleep(args.warmup)
    print(f"consumer joined in {time.perf_counter() - t_join:.1f}s", flush=True)

    inserted = 0
    started = time.perf_counter()

    async def produce() -> None:
        nonlocal inserted
        while inserted < args.events:
            n = min(args.tx_size, args.events - inserted)
            envs = [
                outbox.envelope_for(
                    evt(n=inserted + i),  # type: ignore[call-arg]
                    f"key-{(inserted + i) % 997}",
                    "bench",
                )
                for i in range(n)
            ]
            async with producer_db.transaction() as tx:
                await outbox.append_envelopes(tx, envs, schema="producer")
            inserted += n

    async def progress() -> None:
        while not done.is_set():
            await asyncio.sleep(1.0)
            elapsed = time.perf_counter() - started
            print(
                f"  {elapsed:5.1f}s inserted {inserted:>7} consumed+committed {applied:>7} "
                f"({applied / elapsed:,.0f}/s)",
                flush=True,
            )

    relay_task = asyncio.create_task(relay.run())
    progress_task = asyncio.create_task(progress())
    await produce()
    await asyncio.wait_for(done.wait(), timeout=args.timeout)
    elapsed = time.perf_counter() - started
    relay.stop()
    await relay_task
    progress_task.cancel()
    await asyncio.sleep(0.5)  # let a late duplicate (if any) land before judging
    await consumer_broker.stop()
    await relay_broker.stop()
    floor_s = await floor(consumer_db, args.events, args.consumer_batch)
    effects = await consumer_db.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT n) AS d, min(n) AS lo, max(n) AS hi FROM effects"
    )
    inbox = await consumer_db.fetchval("SELECT count(*) FROM inbox")
    unpublished = await producer_db.fetchval(
        "SELECT count(*) FROM outbox WHERE published_at IS NULL"
    )
    await producer_db.close()
    await consumer_db.close()
    assert effects is not None
    rate, floor_rate = args.events / elapsed, args.events / floor_s
    print(
        f"\nRESULT {args.events} events in {elapsed:.2f}s = {rate:,.0f} events/s "
        f"(insert -> relay -> broker -> consume -> commit), effects exactly {effects['n']}"
    )
    print(
        f"  floor: the same {args.events} effect rows INSERTed straight in transactions of "
        f"{args.consumer_batch}: {floor_s:.2f}s = {floor_rate:,.0f} rows/s "
        f"(the pipeline runs at {rate / floor_rate:.0%} of it)"
    )
    checks = Checks()
    checks.check(
        effects["n"] == effects["d"] == args.events
        and effects["lo"] == 0
        and effects["hi"] == args.events - 1,
        f"every event applied exactly once: {effects['n']} effect rows, {effects['d']} distinct, "
        f"of {args.events}",
    )
    checks.check(inbox == args.events, f"one inbox row per event: {inbox} of {args.events}")
    checks.check(unpublished == 0, f"every outbox row published: {unpublished} left")
    print(
        machine(
            f"relay batch {args.relay_batch}, consumer batch {args.consumer_batch}, "
            f"tx size {args.tx_size}, fsync {'off' if args.fast_db else 'on'}"
        )
    )
    return checks.exit_code()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument(
        "--tx-size", type=int, default=100, help="events appended per producer transaction"
    )
    parser.add_argument("--relay-batch", type=int, default=1000)
    parser.add_argument("--consumer-batch", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--fast-db", action="store_true", help="fsync off (as in tests)")
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for the last commit"
    )
    args = parse_args(parser, {"events": 200, "warmup": 0.5, "fast_db": True, "timeout": 60})
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
