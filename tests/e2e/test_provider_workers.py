"""More than 4 creates and deletes at once through Pulumi's dynamic-provider server.

`python -m pulumi.dynamic` runs its calls on a pool of 4 threads; our providers raise that
limit in the server process (`resources/_server_workers.py`, `MOTHERDUCK_PROVIDER_WORKERS`,
default 16). `bench/stack` with ACCOUNTS one-step accounts, every API call slowed down, and
`--parallel` above 4: the emulator sees more than 4 accounts created (and deleted) at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.emulator.store import RequestRecord

pytestmark = pytest.mark.e2e

PROGRAM = Path(__file__).resolve().parents[2] / "bench" / "stack"
ACCOUNTS = 12
LATENCY = 0.3  # seconds per API call: long enough that the calls of one batch overlap


def most_at_once(records: list[RequestRecord], operation: str) -> int:
    """The most requests of `operation` the emulator was handling at the same moment."""
    edges: list[tuple[Any, int]] = []
    for r in records:
        if r.operation_id == operation:
            edges += [(r.at - timedelta(seconds=r.duration), 1), (r.at, -1)]
    most = current = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        current += step
        most = max(most, current)
    return most


def test_more_than_four_accounts_are_created_and_deleted_at_once(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    stack = emulator_stack(
        PROGRAM, {"accounts": str(ACCOUNTS), "prefix": "wide", "onestep": "true"}
    )
    store = emulator.store
    store.faults.latency = LATENCY
    start = len(store.requests)
    stack.up("--parallel", str(ACCOUNTS))
    assert len(store.users) == ACCOUNTS
    assert most_at_once(store.requests[start:], "users-createServiceAccount") > 4
    start = len(store.requests)
    stack.destroy("--parallel", str(ACCOUNTS))
    assert store.users == {}
    assert most_at_once(store.requests[start:], "users-delete") > 4
