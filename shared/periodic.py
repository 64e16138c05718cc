"""Periodic work: one loop for every clock-driven step (plan windows, grievance escalations,
ageing out, money held for no plan, progress snapshots, the idempotency purge), so each behaves
the same when the database is away or the service stops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()


async def every(
    seconds: float,
    step: Callable[[], Awaitable[object]],
    *,
    name: str,
    quiet: tuple[type[BaseException], ...] = (),
) -> None:
    """Run `step` now and then every `seconds` until cancelled.

    A round that raises is logged (`<name>_failed`, the exception's repr) and the next round runs
    on time: a step's work is idempotent, so a round missed while PostgreSQL is away is simply done
    by the next. Exceptions in `quiet` are expected races (another replica did the work) and are
    not logged. Cancellation is never swallowed: it ends the loop at once, within a round or
    between rounds."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except quiet:
            pass
        except Exception as exc:
            log.warning(f"{name}_failed", error=repr(exc))
        await asyncio.sleep(seconds)
