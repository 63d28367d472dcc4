"""Which failed requests may still land, their window, and how long a create waits for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from motherduck_provider.errors import ServerError, TransportError
from motherduck_provider.resources import _late

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def server_error(status: int) -> ServerError:
    return ServerError(status, "HTTP_ERROR", "failed", [], method="POST", path="/v1/users")


def test_only_requests_the_api_may_still_be_handling_can_land_late() -> None:
    assert _late.may_land_late(TransportError("POST", "/v1/users", "timed out"))
    assert not _late.may_land_late(TransportError("POST", "/v1/users", "refused", sent=False))
    for status in (502, 503, 504):  # a gateway lost track of the request
        assert _late.may_land_late(server_error(status))
    assert not _late.may_land_late(server_error(500))  # the API itself answered


def test_the_window_is_twice_the_wait_plus_a_margin_and_only_grows() -> None:
    end = _late.window_end(NOW, 30)
    assert end == NOW + timedelta(seconds=60) + _late.LATE_MARGIN
    assert _late.window_end(NOW + timedelta(seconds=1), 1, end) == end
    assert _late.window_end(NOW + timedelta(seconds=40), 30, end) > end


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    asked: list[float] = []
    monkeypatch.setattr(_late, "utcnow", lambda: NOW)
    monkeypatch.setattr(_late, "_sleep", asked.append)
    return asked


def test_waits_until_the_window_ends_not_for_the_whole_bound(
    slept: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _late.wait_for_window(NOW + timedelta(seconds=10), 120, "a token request")
    assert slept == [10.0]
    assert "waiting 10.0s, until 2026-01-01T00:00:10.000Z" in capsys.readouterr().err


def test_a_window_that_has_passed_needs_no_wait(slept: list[float]) -> None:
    assert _late.wait_for_window(NOW - timedelta(seconds=1), 120, "a token request")
    assert _late.wait_for_window(NOW, 0, "a token request")
    assert slept == []


def test_a_window_longer_than_the_bound_is_not_waited_for(slept: list[float]) -> None:
    assert not _late.wait_for_window(NOW + timedelta(seconds=121), 120, "a token request")
    assert not _late.wait_for_window(NOW + timedelta(seconds=1), 0, "a token request")
    assert slept == []
