"""The shared rate limit: a token bucket per bearer token, 429 with whole-second Retry-After."""

from __future__ import annotations

import httpx
import pytest

from motherduck_provider.emulator import EmulatorControl, EmulatorServer
from motherduck_provider.emulator.limits import SharedLimit


class FakeClock:
    """Monotonic seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limit(rate: float, burst: int | None = None) -> tuple[SharedLimit, FakeClock]:
    clock = FakeClock()
    shared = SharedLimit(clock=clock)
    shared.set(rate, burst)
    return shared, clock


def test_off_until_set() -> None:
    shared = SharedLimit()
    assert all(shared.admit("t", "GET", "/v1/x") is None for _ in range(1000))
    assert shared.snapshot() is None


def test_burst_then_refill_at_the_rate() -> None:
    shared, clock = limit(20, burst=5)
    assert [shared.admit("t", "GET", f"/{i}") for i in range(6)] == [None] * 5 + [1]
    clock.now += 0.05  # one request's worth
    assert shared.admit("t", "GET", "/6") is None
    assert shared.admit("t", "GET", "/7") == 1
    clock.now += 10  # refills only up to the burst
    assert [shared.admit("t", "GET", f"/b{i}") for i in range(6)] == [None] * 5 + [1]
    assert shared.snapshot() == {"rate": 20.0, "burst": 5, "admitted": 11, "limited": 3, "early": 0}


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    shared, clock = limit(0.4, burst=1)
    assert shared.admit("t", "GET", "/a") is None
    assert shared.admit("t", "GET", "/b") == 3  # 2.5 s until the next request, rounded up
    clock.now += 2.5
    assert shared.admit("t", "GET", "/b") is None


def test_each_token_has_its_own_bucket() -> None:
    shared, _ = limit(1, burst=1)
    assert shared.admit("one", "GET", "/a") is None
    assert shared.admit("one", "GET", "/a") == 1
    assert shared.admit("two", "GET", "/a") is None


def test_a_repeat_before_its_retry_after_counts_as_early() -> None:
    shared, clock = limit(1, burst=1)
    assert shared.admit("t", "POST", "/v1/users", b'{"username":"a"}') is None
    assert shared.admit("t", "POST", "/v1/users", b'{"username":"b"}') == 1
    clock.now += 0.5
    # another request (other body) is not a repeat; the repeat itself is early
    assert shared.admit("t", "POST", "/v1/users", b'{"username":"c"}') == 1
    assert shared.admit("t", "POST", "/v1/users", b'{"username":"b"}') == 1
    assert shared.stats.early == 1
    clock.now += 1.0  # the repeat's Retry-After (given at +0.5) has passed
    assert shared.admit("t", "POST", "/v1/users", b'{"username":"b"}') is None
    assert shared.stats.early == 1
    assert shared.stats.limited == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rate": 0}, "rate"),
        ({"rate": "fast"}, "rate"),
        ({"rate": 5, "burst": 0}, "burst"),
        ({"burst": 5}, "rate"),
        ({"rate": 5, "window": 1}, "window"),
    ],
)
def test_bad_settings_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        SharedLimit().configure(data)


def test_command_line_form() -> None:
    assert SharedLimit.parse("20") == {"rate": 20.0}
    assert SharedLimit.parse("20,burst=40") == {"rate": 20.0, "burst": 40}
    with pytest.raises(ValueError, match="burst"):
        SharedLimit.parse("20,window=3")


def test_the_emulator_answers_429_in_the_api_error_shape(
    client: httpx.Client, emulator: EmulatorServer, alice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(emulator.store.faults.limit, "clock", clock)
    with EmulatorControl(emulator.url) as control:
        assert control.set_limit(2, burst=2) == {
            "rate": 2.0,
            "burst": 2,
            "admitted": 0,
            "limited": 0,
            "early": 0,
        }
        statuses = [client.get("/v1/users/alice/tokens").status_code for _ in range(2)]
        refused = client.get("/v1/users/alice/tokens")
        assert statuses == [200, 200]
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.json() == {"message": "Too Many Requests", "code": "TOO_MANY_REQUESTS"}
        refused_again = client.get("/v1/users/alice/tokens")  # did not wait: early
        assert refused_again.status_code == 429
        clock.now += 1.0
        assert client.get("/v1/users/alice/tokens").status_code == 200
        assert control.limit() == {"rate": 2.0, "burst": 2, "admitted": 3, "limited": 2, "early": 1}
        assert emulator.store.count(status=429) == 2
        control.set_limit(None)
        assert control.limit() is None


def test_the_limit_is_shared_by_every_client_of_a_token(
    emulator: EmulatorServer, alice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.store.faults.limit, "clock", FakeClock())
    emulator.store.faults.limit.set(3, burst=3)
    headers = {"Authorization": f"Bearer {emulator.admin_token}"}
    clients = [httpx.Client(base_url=emulator.url, headers=headers) for _ in range(3)]
    try:
        codes = [c.get("/v1/users/alice/instances").status_code for c in clients + clients]
    finally:
        for c in clients:
            c.close()
    assert codes == [200, 200, 200, 429, 429, 429]


def test_faults_reset_turns_the_limit_off(emulator: EmulatorServer) -> None:
    emulator.store.faults.limit.set(1)
    emulator.store.reset()
    assert emulator.store.faults.snapshot()["limit"] is None
