"""Catch the daily generation up with the simulated clock: every passed day, oldest first.

Each day is its own transaction under the generation lock (``handlers.generation``), so two
catch-ups at once, or a restart halfway, queue every day exactly once.
"""

from __future__ import annotations

from wattline_platform.db import Database

from wattline_simulator.handlers.generation import (
    DayHook,
    DayResult,
    days_to_generate,
    generate_due_day,
)
from wattline_simulator.settings import SimulatorSettings


async def catch_up(
    db: Database, settings: SimulatorSettings, before_day: DayHook | None = None
) -> list[DayResult]:
    """Generate every local day that has fully passed on the simulated clock and is not
    generated yet, oldest first, each in its own transaction. *before_day* runs in that
    transaction first, with the day's start (e.g. to complete processes effective by then).
    """
    results: list[DayResult] = []
    for day in await days_to_generate(db, settings):
        result = await generate_due_day(db, day, settings, before_day)
        if result is not None:
            results.append(result)
    return results
