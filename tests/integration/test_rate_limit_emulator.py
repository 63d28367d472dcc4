"""Our client under the emulator's shared rate limit: patient, never early, bounded by time.

The limit's clock and the client's sleep are one fake clock: a client's wait moves the time
the limit sees, so these runs take no real time and repeat exactly.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from motherduck_provider import errors
from motherduck_provider.client import AdminClient
from motherduck_provider.config import Secret, Settings
from motherduck_provider.emulator import EmulatorServer


class SharedClock:
    """Seconds that move only when a client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def limited_client(
    emulator: EmulatorServer, clock: SharedClock, rate_limit_wait: float = 300.0
) -> AdminClient:
    settings = Settings(
        api_url=emulator.url,
        token=Secret(emulator.admin_token),
        timeout=5,
        rate_limit_wait=rate_limit_wait,
    )
    return AdminClient(settings, sleep=clock.sleep, rng=random.Random(7))


def test_a_run_far_over_the_limit_completes_and_never_comes_back_early(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SharedClock()
    monkeypatch.setattr(emulator.store.faults.limit, "clock", clock)
    emulator.store.faults.limit.set(2, burst=2)
    with limited_client(emulator, clock) as client:
        for i in range(12):
            client.create_service_account(f"svc_{i}")
    assert len(emulator.store.users) == 12
    stats = emulator.store.faults.limit.stats
    assert stats.limited >= 5  # far more than the 3 retries attempts alone would allow
    assert stats.early == 0
    assert clock.now >= (12 - 2) / 2  # no faster than the limit


def test_clients_sharing_a_token_share_the_limit(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SharedClock()
    monkeypatch.setattr(emulator.store.faults.limit, "clock", clock)
    emulator.store.faults.limit.set(1, burst=1)
    clients = [limited_client(emulator, clock) for _ in range(2)]
    try:
        clients[0].create_service_account("one")
        # The second client was never refused itself, yet its first request meets the limit.
        clients[1].create_service_account("two")
    finally:
        for client in clients:
            client.close()
    assert emulator.store.faults.limit.stats.limited >= 1
    assert emulator.store.faults.limit.stats.early == 0


def test_a_limit_that_never_lets_up_fails_with_the_429(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SharedClock()
    monkeypatch.setattr(emulator.store.faults.limit, "clock", lambda: 0.0)  # never refills
    emulator.store.faults.limit.set(1, burst=1)
    with limited_client(emulator, clock, rate_limit_wait=20) as client:
        client.create_service_account("first")
        with pytest.raises(errors.RateLimitedError) as info:
            client.create_service_account("second")
    assert "rateLimitWait" in str(info.value) and "\n" not in str(info.value)
    assert 0 < clock.now <= 20
    assert emulator.store.faults.limit.stats.early > 0  # time stood still: every retry "early"


def test_threads_of_one_client_under_the_limit(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four threads (a provider's four calls at once) all finish; none is early."""
    clock = SharedClock()
    monkeypatch.setattr(emulator.store.faults.limit, "clock", clock)
    emulator.store.faults.limit.set(3, burst=3)
    with limited_client(emulator, clock) as client, ThreadPoolExecutor(4) as pool:
        list(pool.map(client.create_service_account, [f"t_{i}" for i in range(16)]))
    assert len(emulator.store.users) == 16
