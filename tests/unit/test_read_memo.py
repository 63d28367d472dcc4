"""ReadMemo: reads of one account share one request; writes and `fresh=True` see past it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from motherduck_provider.client._http import ReadMemo
from motherduck_provider.errors import NotFoundError, ServerError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Counter:
    """A fetch that counts its calls and returns the call number (or raises `fail`)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self) -> int:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return self.calls


def not_found() -> NotFoundError:
    return NotFoundError(404, "NOT_FOUND", "no user", [], method="GET", path="/v1/users/x")


def server_error() -> ServerError:
    return ServerError(503, "HTTP_503", "busy", [], method="GET", path="/v1/users/x")


def test_answers_are_reused_within_ttl_per_account_and_kind() -> None:
    clock = Clock()
    memo = ReadMemo(ttl=5, clock=clock)
    fetch = Counter()
    assert [memo.read("etl", "tokens", fetch) for _ in range(3)] == [1, 1, 1]
    assert memo.read("ETL", "tokens", fetch) == 1, "usernames are case-insensitive"
    assert memo.read("etl", "instances", fetch) == 2
    assert memo.read("other", "tokens", fetch) == 3
    clock.now = 5.01
    assert memo.read("etl", "tokens", fetch) == 4
    assert fetch.calls == 4


def test_a_read_that_decides_a_write_asks_for_a_younger_answer() -> None:
    clock = Clock()
    memo = ReadMemo(ttl=300, clock=clock)
    fetch = Counter()
    assert memo.read("etl", "instances", fetch) == 1
    clock.now = 60.0
    assert memo.read("etl", "instances", fetch) == 1, "a refresh read reuses it"
    assert memo.read("etl", "instances", fetch, max_age=10) == 2, "a deciding read does not"
    clock.now = 65.0
    assert memo.read("etl", "instances", fetch, max_age=10) == 2


def test_ttl_zero_keeps_nothing() -> None:
    memo = ReadMemo(ttl=0)
    fetch = Counter()
    assert [memo.read("etl", "tokens", fetch) for _ in range(2)] == [1, 2]


def test_fresh_sends_its_own_request_and_refreshes_the_memo() -> None:
    memo = ReadMemo(ttl=5, clock=Clock())
    fetch = Counter()
    assert memo.read("etl", "tokens", fetch) == 1
    assert memo.read("etl", "tokens", fetch, fresh=True) == 2
    assert memo.read("etl", "tokens", fetch) == 2


def test_a_write_forgets_the_account_before_and_after() -> None:
    memo = ReadMemo(ttl=5, clock=Clock())
    fetch = Counter()
    memo.read("etl", "tokens", fetch)
    memo.read("bi", "tokens", fetch)
    with memo.writing("ETL"):
        assert memo.read("etl", "tokens", fetch) == 3  # read during the write: not kept
    assert memo.read("etl", "tokens", fetch) == 4
    assert memo.read("bi", "tokens", fetch) == 2, "another account is untouched"


def test_not_found_is_an_answer_other_errors_are_never_kept() -> None:
    memo = ReadMemo(ttl=5, clock=Clock())
    gone = Counter(fail=not_found())
    for _ in range(3):
        with pytest.raises(NotFoundError):
            memo.read("etl", "instances", gone)
    assert gone.calls == 1
    failing = Counter(fail=server_error())
    for _ in range(3):
        with pytest.raises(ServerError):
            memo.read("etl", "tokens", failing)
    assert failing.calls == 3


def blocking_fetch(
    release: threading.Event, started: threading.Event, value: object
) -> Callable[[], object]:
    def fetch() -> object:
        started.set()
        assert release.wait(5)
        return value

    return fetch


def test_concurrent_reads_share_one_request_errors_included() -> None:
    memo = ReadMemo(ttl=0)  # only the single flight shares
    release, started = threading.Event(), threading.Event()
    calls: list[int] = []

    def fetch() -> int:
        calls.append(1)
        started.set()
        assert release.wait(5)
        raise server_error()

    with ThreadPoolExecutor(4) as pool:
        leader = pool.submit(memo.read, "etl", "tokens", fetch)
        assert started.wait(5)
        waiters = [pool.submit(memo.read, "etl", "tokens", fetch) for _ in range(3)]
        release.set()
        for future in [leader, *waiters]:
            with pytest.raises(ServerError):
                future.result(5)
    assert len(calls) == 1
    with pytest.raises(ServerError):
        memo.read("etl", "tokens", fetch)  # the error was shared, not kept
    assert len(calls) == 2


def test_a_read_that_overlapped_a_write_is_neither_joined_nor_kept() -> None:
    """A list started before a token POST must not be served after the POST."""
    memo = ReadMemo(ttl=5, clock=Clock())
    release, started = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        stale = pool.submit(memo.read, "etl", "tokens", blocking_fetch(release, started, "old"))
        assert started.wait(5)
        with memo.writing("etl"):
            pass
        # A reader after the write does not join the stale flight.
        assert memo.read("etl", "tokens", lambda: "new") == "new"
        release.set()
        assert stale.result(5) == "old"
    assert memo.read("etl", "tokens", lambda: "newer") == "new"


def test_an_older_flight_landing_late_does_not_replace_a_newer_answer() -> None:
    memo = ReadMemo(ttl=5, clock=Clock())
    release, started = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        old = pool.submit(memo.read, "etl", "tokens", blocking_fetch(release, started, "old"))
        assert started.wait(5)
        assert memo.read("etl", "tokens", lambda: "new", fresh=True) == "new"
        release.set()
        assert old.result(5) == "old"
    assert memo.read("etl", "tokens", lambda: "unused") == "new"


def test_clear_forgets_everything() -> None:
    memo = ReadMemo(ttl=5, clock=Clock())
    fetch = Counter()
    memo.read("etl", "tokens", fetch)
    memo.clear()
    assert memo.read("etl", "tokens", fetch) == 2
