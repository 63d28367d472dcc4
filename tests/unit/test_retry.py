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


def test_retry_after_wins_and_is_capped() -> None:
    assert _retry.backoff_delay(1, "2") == 2.0
    assert _retry.backoff_delay(1, "3600") == _retry.RETRY_AFTER_CAP


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 10])
def test_jitter_is_bounded(attempt: int) -> None:
    rng = random.Random(7)
    step = min(_retry.BASE_DELAY * 2 ** (attempt - 1), _retry.MAX_BACKOFF)
    delays = [_retry.backoff_delay(attempt, rng=rng) for _ in range(500)]
    assert all(step / 2 <= d <= step for d in delays)
    assert max(delays) - min(delays) > step / 4  # it does jitter
