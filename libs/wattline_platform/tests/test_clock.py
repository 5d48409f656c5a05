"""Business time: the system clock, a followed remote clock over real HTTP, Danish dates."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from litestar import Litestar, Response, get
from litestar.testing import AsyncTestClient
from wattline_platform.business_days import danish_today as danish_today_pure
from wattline_platform.clock import (
    ClockUnavailable,
    RemoteClock,
    SystemClock,
    danish_today,
    make_clock,
)
from wattline_platform.config import PlatformSettings, ServiceSettings
from wattline_platform.service import Service, ServiceSpec
from wattline_platform.testing import serve_app

JAN_1 = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class SimClock:
    """A stand-in for the simulator's ``GET /sim/clock`` that counts its readers."""

    now: datetime = JAN_1
    hits: int = 0
    delay_s: float = 0.0
    failing: bool = False

    def app(self) -> Litestar:
        @get("/sim/clock")
        async def read() -> Response[dict[str, str]]:
            self.hits += 1
            await asyncio.sleep(self.delay_s)
            if self.failing:
                return Response({"detail": "down"}, status_code=503)
            return Response({"now": self.now.isoformat()})

        return Litestar([read])


async def test_an_answer_is_reused_for_the_ttl_then_a_moved_clock_is_followed() -> None:
    sim = SimClock()
    async with serve_app(sim.app()) as base:
        clock = RemoteClock(f"{base}/sim/clock", ttl_s=0.3)
        try:
            assert await clock.now() == JAN_1
            sim.now = JAN_1 + timedelta(days=2)
            assert await clock.now() == JAN_1  # within the ttl: not asked again
            assert sim.hits == 1
            await asyncio.sleep(0.35)
            assert await clock.now() == JAN_1 + timedelta(days=2)
            assert sim.hits == 2
        finally:
            await clock.aclose()


async def test_concurrent_callers_share_one_request() -> None:
    sim = SimClock(delay_s=0.1)
    async with serve_app(sim.app()) as base:
        clock = RemoteClock(f"{base}/sim/clock")
        try:
            answers = await asyncio.gather(*(clock.now() for _ in range(20)))
        finally:
            await clock.aclose()
    assert set(answers) == {JAN_1}
    assert sim.hits == 1


async def test_an_offset_answer_comes_back_in_utc() -> None:
    sim = SimClock(now=datetime(2025, 3, 30, 3, 0, tzinfo=timezone(timedelta(hours=2))))
    async with serve_app(sim.app()) as base:
        clock = RemoteClock(f"{base}/sim/clock")
        try:
            now = await clock.now()
        finally:
            await clock.aclose()
    assert now == datetime(2025, 3, 30, 1, 0, tzinfo=UTC) and now.tzinfo is UTC


async def test_an_http_error_is_covered_by_the_last_answer() -> None:
    sim = SimClock()
    async with serve_app(sim.app()) as base:
        clock = RemoteClock(f"{base}/sim/clock", ttl_s=0.05)
        try:
            assert await clock.now() == JAN_1
            sim.failing = True
            await asyncio.sleep(0.1)
            assert await clock.now() == JAN_1  # a 503: the last answer is young enough
            assert sim.hits == 2
            sim.failing, sim.now = False, JAN_1 + timedelta(hours=1)
            await asyncio.sleep(0.1)
            assert await clock.now() == JAN_1 + timedelta(hours=1)  # recovered
        finally:
            await clock.aclose()


async def test_an_unreachable_clock_is_covered_until_its_last_answer_is_stale() -> None:
    sim = SimClock()
    async with serve_app(sim.app()) as base:
        clock = RemoteClock(f"{base}/sim/clock", ttl_s=0.05, stale_s=0.6)
        assert await clock.now() == JAN_1
    try:
        # The server is gone: connections are refused.
        await asyncio.sleep(0.1)
        assert await clock.now() == JAN_1
        await asyncio.sleep(0.6)
        with pytest.raises(ClockUnavailable):
            await clock.now()
    finally:
        await clock.aclose()


async def test_a_clock_never_read_is_unavailable_at_once() -> None:
    sim = SimClock(failing=True)
    async with serve_app(sim.app()) as base:
        clock = RemoteClock(f"{base}/sim/clock")
        try:
            with pytest.raises(ClockUnavailable):
                await clock.now()
        finally:
            await clock.aclose()


async def test_system_clock_and_make_clock() -> None:
    before = datetime.now(UTC)
    now = await SystemClock().now()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)
    assert isinstance(make_clock(None), SystemClock)
    assert isinstance(make_clock(""), SystemClock)
    remote = make_clock("http://127.0.0.1:1/sim/clock")
    assert isinstance(remote, RemoteClock)
    await remote.aclose()


@pytest.mark.parametrize(
    ("instant", "today"),
    [
        ("2025-03-29T22:59:00+00:00", date(2025, 3, 29)),  # 23:59 CET
        ("2025-03-29T23:30:00+00:00", date(2025, 3, 30)),  # 00:30 CET, the 23-hour day
        ("2025-03-30T21:59:00+00:00", date(2025, 3, 30)),  # 23:59 CEST
        ("2025-03-30T22:00:00+00:00", date(2025, 3, 31)),
        ("2025-10-25T22:00:00+00:00", date(2025, 10, 26)),  # 00:00 CEST, the 25-hour day
        ("2025-10-26T22:59:00+00:00", date(2025, 10, 26)),  # 23:59 CET
        ("2025-10-26T23:00:00+00:00", date(2025, 10, 27)),
    ],
)
def test_danish_today_across_daylight_saving(instant: str, today: date) -> None:
    assert danish_today(datetime.fromisoformat(instant)) == today


def test_danish_today_refuses_a_naive_datetime() -> None:
    assert danish_today is danish_today_pure  # one definition, importable without httpx
    with pytest.raises(ValueError, match="aware"):
        danish_today(datetime(2025, 1, 1, 12))


async def test_service_clock_follows_clock_url_and_is_closed_on_shutdown() -> None:
    sim = SimClock()
    async with serve_app(sim.app()) as base:
        service = Service(
            ServiceSpec("demo", migrations_dir=None, messaging=False),
            ServiceSettings(),
            PlatformSettings(clock_url=f"{base}/sim/clock"),
        )
        async with AsyncTestClient(app=service.app()):
            clock = service.clock
            assert isinstance(clock, RemoteClock)
            assert await clock.now() == JAN_1
        assert clock._client.is_closed

    default = Service(
        ServiceSpec("demo", migrations_dir=None, messaging=False),
        ServiceSettings(),
        PlatformSettings(clock_url=None),
    )
    assert isinstance(default.clock, SystemClock)
    default.clock = FixedClock(JAN_1)  # what a test of a handler does
    assert await default.clock.now() == JAN_1


@dataclass
class FixedClock:
    instant: datetime

    async def now(self) -> datetime:
        return self.instant
