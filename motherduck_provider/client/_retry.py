"""Retry policy as pure functions: should this attempt be retried, and how long to wait.

GET, PUT and DELETE are idempotent here (PUT replaces the whole config), so they retry on
429, 502, 503, 504 and on transport errors. POST creates something: it retries only when the
API cannot have processed it, i.e. 429 or a connection that failed before the request was sent.

Two budgets, because the failures differ. A 5xx or a transport error says something is wrong:
`MAX_ATTEMPTS` attempts in all. A 429 says "not now" and is normal under a limit shared by many
clients (a fleet of stacks on one admin token): those repeats are bounded by time instead, the
seconds waited on 429s (`rate_limit_wait`, default `RATE_LIMIT_WAIT`), so a long run under a
limit does not fail for having been refused four times. A request is never sent before the
`Retry-After` it was given: a hint the budget cannot cover ends the retries instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from ..config import DEFAULT_RATE_LIMIT_WAIT

MAX_ATTEMPTS: Final = 4
BASE_DELAY: Final = 0.25
MAX_BACKOFF: Final = 8.0
# The longest `Retry-After` a 5xx may ask for and still be retried within MAX_ATTEMPTS.
RETRY_AFTER_CAP: Final = 30.0
# Seconds one request may spend waiting on 429s before the 429 is reported (the default of
# `motherduck:rateLimitWait`).
RATE_LIMIT_WAIT: Final = DEFAULT_RATE_LIMIT_WAIT
# Up to this much is added to a 429's `Retry-After`, so clients refused in the same instant
# (one shared limit) come back spread out rather than all at once.
RATE_LIMIT_JITTER: Final = 1.0
IDEMPOTENT: Final = frozenset({"GET", "PUT", "DELETE"})
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class Tries:
    """What one logical request has used so far: failed attempts (not 429), 429s, seconds waited
    on 429s."""

    failures: int = 0
    limited: int = 0
    waited: float = 0.0


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


def backoff_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based), with no server hint.

    Exponential from 0.25 s, doubled per attempt up to 8 s, with jitter in [half, full] of
    that step so concurrent providers do not retry in lockstep.
    """
    step = min(BASE_DELAY * 2.0 ** (attempt - 1), MAX_BACKOFF)
    jitter = rng.random() if rng is not None else random.random()
    return step / 2 + (step / 2) * jitter


def next_wait(
    method: str,
    tries: Tries,
    *,
    status: int | None = None,
    sent: bool = True,
    retry_after: str | None = None,
    rate_limit_wait: float = RATE_LIMIT_WAIT,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> tuple[float, Tries] | None:
    """How long to wait before repeating a failed attempt, and the tries after it; None: stop.

    A 429 waits its `Retry-After` plus up to `RATE_LIMIT_JITTER` (backoff without one) while
    the waits add up to at most `rate_limit_wait`. Anything else retryable gets `MAX_ATTEMPTS`
    attempts, waiting its `Retry-After` if it gives one of at most `RETRY_AFTER_CAP`.
    """
    if not should_retry(method, status=status, sent=sent):
        return None
    hinted = parse_retry_after(retry_after, now)
    if status == 429:
        limited = tries.limited + 1
        left = rate_limit_wait - tries.waited
        if hinted is None:
            delay = backoff_delay(limited, rng=rng)
        else:
            draw = rng.random() if rng is not None else random.random()
            delay = hinted + min(RATE_LIMIT_JITTER * draw, max(0.0, left - hinted))
        if delay > left:
            return None
        return delay, replace(tries, limited=limited, waited=tries.waited + delay)
    failures = tries.failures + 1
    if failures >= MAX_ATTEMPTS or (hinted is not None and hinted > RETRY_AFTER_CAP):
        return None
    delay = hinted if hinted is not None else backoff_delay(failures, rng=rng)
    return delay, replace(tries, failures=failures)
