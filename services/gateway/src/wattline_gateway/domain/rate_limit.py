"""Token buckets: ``limit`` requests per minute per API key, bursting up to ``limit``; and
failed authentications per client address, in bounded memory."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """Refills ``per_minute / 60`` tokens a second up to ``per_minute``."""

    per_minute: int
    tokens: float = field(init=False)
    updated: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.tokens = float(self.per_minute)

    def wait(self, now: float) -> float:
        """Seconds from *now* until a token is there (0 when one is); takes none."""
        rate = self.per_minute / 60.0
        if self.updated:
            self.tokens = min(self.per_minute, self.tokens + (now - self.updated) * rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / rate

    def take(self, now: float) -> float:
        """Take one token at time *now*; return 0 if allowed, else seconds to wait."""
        wait = self.wait(now)
        if not wait:
            self.tokens -= 1
        return wait


@dataclass
class FailureLimiter:
    """Failed authentications (401, 403) per client address: ``per_minute`` each.

    An address whose bucket is empty is refused before its key is even looked at, so a flood
    of guesses learns nothing from the answers. At most ``max_addresses`` are remembered: the
    one that failed longest ago is forgotten first (it has refilled the most anyway), so
    random source addresses cannot grow the table without bound.
    """

    per_minute: int
    max_addresses: int = 10_000
    _buckets: OrderedDict[str, TokenBucket] = field(default_factory=OrderedDict)

    def blocked_for(self, address: str, now: float) -> float:
        """Seconds *address* must wait before it may try again (0: it may)."""
        bucket = self._buckets.get(address)
        return bucket.wait(now) if bucket is not None else 0.0

    def fail(self, address: str, now: float) -> float:
        """Count a failure of *address*; the seconds it must now wait (0 while under limit)."""
        bucket = self._buckets.pop(address, None) or TokenBucket(self.per_minute)
        self._buckets[address] = bucket
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)
        bucket.take(now)
        return bucket.wait(now)
