"""Requests that may still land after the client gave up on them, and waiting for them.

A POST whose answer never came (a timeout, a connection lost once the request was sent, or a
502/503/504 from a gateway that lost track of it) may still be applied by MotherDuck later; any
other answer comes from the API itself, so whatever the request did is done. Until `window_end`
such a request can still make a token or an account. A create waits for that window, bounded
by `motherduck:lateRequestWait` (see `config.py`), then sweeps or probes, so the run ends with
nothing left behind. A window longer than the bound is not waited for at all: the caller records
it or fails, and says when (UTC) to run `pulumi up` again.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from .._time import format_timestamp
from ..errors import MotherDuckError, ServerError, TransportError
from ._base import utcnow, warn

# For twice as long as the client waited for the request plus this margin, it may still land.
LATE_MARGIN = timedelta(seconds=5)
# What gateways answer when they lost track of a request the API may still be handling.
GATEWAY_STATUSES = frozenset({502, 503, 504})
_sleep = time.sleep  # replaced in tests that must not wait for real


def may_land_late(exc: MotherDuckError) -> bool:
    """Whether a failed write may still be applied after this failure (see the module doc)."""
    if isinstance(exc, TransportError):
        return exc.sent
    return isinstance(exc, ServerError) and exc.status in GATEWAY_STATUSES


def window_end(started: datetime, waited: float, before: datetime | None = None) -> datetime:
    """Until when a request sent at `started`, given up after `waited` seconds, may land.

    `before`: the end of an earlier request's window; the later of the two is returned.
    """
    end = started + timedelta(seconds=2 * waited) + LATE_MARGIN
    return end if before is None or end > before else before


def wait_for_window(until: datetime, bound: float, what: str) -> bool:
    """Sleep until `until` if that is at most `bound` seconds away; True once it has passed.

    False, without waiting: the window ends later than `bound` allows (the caller says when).
    """
    remaining = (until - utcnow()).total_seconds()
    if remaining <= 0:
        return True
    if remaining > bound:
        return False
    warn(
        f"waiting {remaining:.1f}s, until {format_timestamp(until)}, for {what} that failed "
        "without an answer to land, so nothing it makes outlives this run"
    )
    _sleep(remaining)
    return True


def rerun_hint(until: datetime) -> str:
    """When a request may have landed for sure, and the setting that would have waited for it."""
    return (
        f"run `pulumi up` after {format_timestamp(until)} (UTC), when it can no longer land "
        "(raise motherduck:lateRequestWait to wait for it within the run)"
    )
