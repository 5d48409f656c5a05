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

    def give_back(self, now: float) -> None:
        """Return one token taken earlier (never above ``per_minute``)."""
        self.wait(now)
        self.tokens = min(float(self.per_minute), self.tokens + 1)

    def take(self, now: float) -> float:
        """Take one token at time *now*; return 0 if allowed, else seconds to wait."""
        wait = self.wait(now)
        if not wait:
            self.tokens -= 1
        return wait


@dataclass
class Buckets:
    """Token buckets by name in bounded memory: at most ``max_names`` are remembered, the one
    used longest ago is forgotten first (it has refilled the most anyway), so many names (random
    source addresses, a portal token per customer login) cannot grow the table without bound."""

    max_names: int = 10_000
    _buckets: OrderedDict[str, TokenBucket] = field(default_factory=OrderedDict)

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, name: object) -> bool:
        return name in self._buckets

    def peek(self, name: str) -> TokenBucket | None:
        """The bucket of *name*, if remembered, without counting it as used."""
        return self._buckets.get(name)

    def get(self, name: str, per_minute: int) -> TokenBucket:
        """The bucket of *name* (a full new one when unknown or its limit changed), now the
        most recently used."""
        bucket = self._buckets.pop(name, None)
        if bucket is None or bucket.per_minute != per_minute:
            bucket = TokenBucket(per_minute)
        self._buckets[name] = bucket
        while len(self._buckets) > self.max_names:
            self._buckets.popitem(last=False)
        return bucket


@dataclass
class FailureLimiter:
    """Failed authentications (401, 403) per client address: ``per_minute`` each.

    An address whose bucket is empty is refused before its key is even looked at, so a flood
    of guesses learns nothing from the answers. At most ``max_addresses`` are remembered.
    """

    per_minute: int
    max_addresses: int = 10_000
    _buckets: Buckets = field(init=False)

    def __post_init__(self) -> None:
        self._buckets = Buckets(self.max_addresses)

    def blocked_for(self, address: str, now: float) -> float:
        """Seconds *address* must wait before it may try again (0: it may)."""
        bucket = self._buckets.peek(address)
        return bucket.wait(now) if bucket is not None else 0.0

    def forgive(self, address: str, now: float) -> None:
        """Take back one failure counted for *address* (an attempt counted before it was
        checked, that succeeded)."""
        bucket = self._buckets.peek(address)
        if bucket is not None:
            bucket.give_back(now)

    def fail(self, address: str, now: float) -> float:
        """Count a failure of *address*; the seconds it must now wait (0 while under limit)."""
        bucket = self._buckets.get(address, self.per_minute)
        bucket.take(now)
        return bucket.wait(now)
