"""Retry policy as two pure functions: should this attempt be retried, and how long to wait.

GET, PUT and DELETE are idempotent here (PUT replaces the whole config), so they retry on
429, 502, 503, 504 and on transport errors. POST creates something: it retries only when the
API cannot have processed it, i.e. 429 or a connection that failed before the request was sent.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

MAX_ATTEMPTS: Final = 4
BASE_DELAY: Final = 0.25
MAX_BACKOFF: Final = 8.0
RETRY_AFTER_CAP: Final = 30.0
IDEMPOTENT: Final = frozenset({"GET", "PUT", "DELETE"})
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})


def should_retry(method: str, *, status: int | None = None, sent: bool = True) -> bool:
    """Whether a failed attempt may be repeated.

    `status` is the HTTP status, or None for a transport error; `sent` is False when the
    connection failed before the request went out.
    """
    if status == 429:
        return True
    if method.upper() in IDEMPOTENT:
        return status is None or status in RETRY_STATUSES
    return status is None and not sent


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def backoff_delay(
    attempt: int,
    retry_after: str | None = None,
    *,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    The server's `Retry-After` wins (capped at 30 s); otherwise exponential backoff from
    0.25 s, doubled per attempt up to 8 s, with jitter in [half, full] of that step so
    concurrent providers do not retry in lockstep.
    """
    hinted = parse_retry_after(retry_after, now)
    if hinted is not None:
        return min(hinted, RETRY_AFTER_CAP)
    step = min(BASE_DELAY * 2.0 ** (attempt - 1), MAX_BACKOFF)
    jitter = rng.random() if rng is not None else random.random()
    return step / 2 + (step / 2) * jitter
