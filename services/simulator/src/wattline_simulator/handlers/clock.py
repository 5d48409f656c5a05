"""The simulated market clock: read it, move it forward (the days passed are generated)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from wattline_platform.db import Database

from wattline_simulator.adapters import market, store
from wattline_simulator.domain import clock
from wattline_simulator.handlers.generation import DayHook, DayResult
from wattline_simulator.handlers.processes import complete_due, completer
from wattline_simulator.settings import SimulatorSettings

# The catch-up job (``jobs.catch_up.catch_up``), handed in by the composition root.
CatchUp = Callable[[Database, SimulatorSettings, DayHook | None], Awaitable[list[DayResult]]]


@dataclass(frozen=True)
class Moved:
    """A clock move: where the clock was, where it is, and the days it generated."""

    previous: datetime
    now: datetime
    generated: list[DayResult]


async def now(db: Database, settings: SimulatorSettings) -> datetime:
    """The simulated time (the configured start until the clock first moves)."""
    async with db.connection() as conn:
        return await store.now(conn) or settings.start


async def move(
    db: Database,
    settings: SimulatorSettings,
    to: datetime | None,
    advance_days: int | None,
    catch_up: CatchUp,
) -> Moved:
    """Move the clock forward (``domain.clock`` errors for a move that is not one), then
    generate the days that have passed: processes effective by a day's start complete
    before that day is generated, the rest once the clock has moved."""
    async with db.transaction() as tx:
        previous = await store.now(tx) or settings.start
        target = clock.target(previous, to, advance_days)
        await store.set_now(tx, target)
    generated = await catch_up(db, settings, completer(settings))
    async with db.transaction() as tx:
        await market.lock_generation(tx)
        await complete_due(tx, target, settings)
    return Moved(previous, target, generated)
