"""A token bucket per API key: ``limit`` requests per minute, bursting up to ``limit``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """Refills ``per_minute / 60`` tokens a second up to ``per_minute``."""

    per_minute: int
    tokens: float = field(init=False)
    updated: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.tokens = float(self.per_minute)

    def take(self, now: float) -> float:
        """Take one token at time *now*; return 0 if allowed, else seconds to wait."""
        rate = self.per_minute / 60.0
        if self.updated:
            self.tokens = min(self.per_minute, self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate
