"""The retry policy: which attempts repeat and how long to wait."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from motherduck_provider.client import _retry


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("status", [429, 502, 503, 504, None])
def test_idempotent_methods_retry_on_transient_failures(method: str, status: int | None) -> None:
    assert _retry.should_retry(method, status=status)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 501])
def test_no_method_retries_on_final_answers(method: str, status: int) -> None:
    assert not _retry.should_retry(method, status=status)


def test_post_retries_only_when_the_api_cannot_have_processed_it() -> None:
    assert _retry.should_retry("POST", status=429)
    assert _retry.should_retry("POST", status=None, sent=False)
    for status in (500, 502, 503, 504):
        assert not _retry.should_retry("POST", status=status)
    assert not _retry.should_retry("POST", status=None, sent=True)


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    assert _retry.parse_retry_after("3", now) == 3.0
    assert _retry.parse_retry_after("1.5", now) == 1.5
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert _retry.parse_retry_after(later, now) == pytest.approx(7.0)
    past = format_datetime(now - timedelta(seconds=7), usegmt=True)
    assert _retry.parse_retry_after(past, now) == 0.0
    assert _retry.parse_retry_after("soon", now) is None
    assert _retry.parse_retry_after(None, now) is None


def test_a_5xx_waits_its_retry_after_or_is_not_retried() -> None:
    tries = _retry.Tries()
    assert _retry.next_wait("GET", tries, status=503, retry_after="2") == (2.0, _retry.Tries(1))
    # Sending before a long Retry-After would be refused anyway: give the error back instead.
    assert _retry.next_wait("GET", tries, status=503, retry_after="3600") is None


def test_5xx_and_transport_errors_keep_the_attempt_limit() -> None:
    rng = random.Random(1)
    tries = _retry.Tries()
    waits = []
    while (wait := _retry.next_wait("GET", tries, status=502, rng=rng)) is not None:
        delay, tries = wait
        waits.append(delay)
    assert len(waits) == _retry.MAX_ATTEMPTS - 1
    assert _retry.next_wait("PUT", _retry.Tries(failures=3), status=None) is None
    assert _retry.next_wait("POST", _retry.Tries(), status=None, sent=True) is None
    assert _retry.next_wait("POST", _retry.Tries(), status=500) is None


def test_429s_are_bounded_by_time_not_attempts() -> None:
    """Under a shared limit a request may be refused many times; only the waiting is bounded."""
    rng = random.Random(3)
    tries = _retry.Tries(failures=_retry.MAX_ATTEMPTS - 1)  # 5xx budget already used up
    slept = []
    while True:
        wait = _retry.next_wait(
            "POST", tries, status=429, retry_after="1", rate_limit_wait=60, rng=rng
        )
        if wait is None:
            break
        delay, tries = wait
        slept.append(delay)
    assert len(slept) > _retry.MAX_ATTEMPTS * 5
    assert all(1.0 <= d <= 1.0 + _retry.RATE_LIMIT_JITTER for d in slept)  # never early
    assert max(slept) - min(slept) > 0.5  # jittered, so refused clients spread out
    assert sum(slept) <= 60 and tries.waited == pytest.approx(sum(slept))
    assert tries.limited == len(slept)


def test_a_429_never_waits_less_than_retry_after() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    for seed in range(50):
        wait = _retry.next_wait(
            "GET", _retry.Tries(), status=429, retry_after=later, now=now, rng=random.Random(seed)
        )
        assert wait is not None and wait[0] >= 7.0


def test_a_429_whose_retry_after_the_budget_cannot_cover_ends_the_retries() -> None:
    tries = _retry.Tries(limited=10, waited=295.0)
    assert _retry.next_wait("GET", tries, status=429, retry_after="10") is None
    # the jitter is trimmed to what is left; the hint itself never is
    wait = _retry.next_wait("GET", tries, status=429, retry_after="4.5", rng=random.Random(0))
    assert wait is not None and 4.5 <= wait[0] <= 5.0
    assert _retry.next_wait("GET", _retry.Tries(), status=429, rate_limit_wait=0) is None


def test_a_429_without_retry_after_backs_off() -> None:
    rng = random.Random(5)
    first = _retry.next_wait("GET", _retry.Tries(), status=429, rng=rng)
    assert first is not None and _retry.BASE_DELAY / 2 <= first[0] <= _retry.BASE_DELAY
    later = _retry.next_wait("GET", _retry.Tries(limited=20), status=429, rng=rng)
    assert later is not None and later[0] <= _retry.MAX_BACKOFF


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 10])
def test_jitter_is_bounded(attempt: int) -> None:
    rng = random.Random(7)
    step = min(_retry.BASE_DELAY * 2 ** (attempt - 1), _retry.MAX_BACKOFF)
    delays = [_retry.backoff_delay(attempt, rng=rng) for _ in range(500)]
    assert all(step / 2 <= d <= step for d in delays)
    assert max(delays) - min(delays) > step / 4  # it does jitter
