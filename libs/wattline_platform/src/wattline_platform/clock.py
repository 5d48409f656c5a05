"""Business time: what "now" is for a service.

In production that is the system clock. Locally the whole system lives in the DataHub
simulator's time (``CLOCK_URL`` points at its ``GET /sim/clock``), so that moving the simulated
clock moves every service's idea of today with it.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Protocol

import httpx

from wattline_platform.business_days import danish_today
from wattline_platform.logging import get_logger

log = get_logger(__name__)

# How long a remote clock's last answer may stand in for it while it cannot be reached.
STALE_LIMIT_S = 30.0


class Clock(Protocol):
    """A source of the current (business) time."""

    async def now(self) -> datetime:
        """The current instant, aware and in UTC."""
        ...


class ClockUnavailable(RuntimeError):
    """A remote clock could not be read and its last answer is too old to use."""


class SystemClock:
    """The machine's clock."""

    async def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


class RemoteClock:
    """Follows another process's clock: ``GET url`` answers ``{"now": "<ISO datetime>"}``.

    An answer is reused for *ttl_s* seconds and not extrapolated: the simulator's clock stands
    still between moves, so adding elapsed wall time would invent instants it never showed.
    Concurrent callers share one request. When the clock cannot be read, its last answer is
    used for up to *stale_s* seconds, after which :class:`ClockUnavailable` is raised.
    """

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient | None = None,
        ttl_s: float = 0.5,
        *,
        stale_s: float = STALE_LIMIT_S,
    ) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self.stale_s = stale_s
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(2.0))
        self._lock = asyncio.Lock()
        self._value: datetime | None = None
        self._read_at = -math.inf  # monotonic time of the last successful read
        self._tried_at = -math.inf  # ... of the last attempt, successful or not

    async def now(self) -> datetime:
        """The remote clock's time, at most *ttl_s* seconds old (*stale_s* when it is down).

        Raises :class:`ClockUnavailable` when it cannot be read and no recent answer exists.
        """
        value = self._cached()
        if value is not None:
            return value
        async with self._lock:
            # Another caller may have read it while this one waited for the lock.
            value = self._cached()
            if value is not None:
                return value
            return await self._refresh()

    def _cached(self) -> datetime | None:
        if self._value is not None and time.monotonic() - self._tried_at < self.ttl_s:
            return self._value
        return None

    async def _refresh(self) -> datetime:
        self._tried_at = time.monotonic()
        try:
            response = await self._client.get(self.url)
            response.raise_for_status()
            value = _parse(response.json()["now"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            age = self._tried_at - self._read_at
            if self._value is not None and age < self.stale_s:
                log.warning("clock_unreachable", url=self.url, error=repr(exc), age_s=age)
                return self._value
            raise ClockUnavailable(f"cannot read the clock at {self.url}: {exc!r}") from exc
        self._value, self._read_at = value, self._tried_at
        return value

    async def aclose(self) -> None:
        """Close the HTTP client if this clock created it."""
        if self._owns_client:
            await self._client.aclose()


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:  # the simulator always sends an offset; be lenient anyway
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def make_clock(url: str | None) -> Clock:
    """A :class:`RemoteClock` following *url*, or the :class:`SystemClock` when *url* is unset."""
    return RemoteClock(url) if url else SystemClock()


__all__ = [
    "STALE_LIMIT_S",
    "Clock",
    "ClockUnavailable",
    "RemoteClock",
    "SystemClock",
    "danish_today",
    "make_clock",
]
