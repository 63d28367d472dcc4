"""A stack of many accounts through the real engine, with the API calls of each phase counted.

`bench/stack` with SCALE accounts (one token and one config each, 3 x SCALE resources): `up`
makes exactly 3 calls per account, a no-change `preview` and a no-op `up` none, `refresh` 2
per account and `destroy` 2 per account (the token, then the account). Before the pickle guard
(`resources/_pickle_guard.py`) a stack stopped at about 330 accounts with RecursionError; the
unit test `test_many_resources.py` constructs 1,200 resources, and `bench/bench_stack.py`
measures 1,000 accounts. SCALE is the largest size that keeps this test near two minutes on
two busy cores.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

PROGRAM = Path(__file__).resolve().parents[2] / "bench" / "stack"
SCALE = 150


def test_many_accounts_take_the_fewest_calls(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    stack = emulator_stack(PROGRAM, {"accounts": str(SCALE), "prefix": "scale"})
    store = emulator.store

    def calls(run: Callable[[], Any]) -> dict[str, int]:
        start = len(store.requests)
        run()
        found: dict[str, int] = {}
        for request in store.requests[start:]:
            found[request.operation_id or "?"] = found.get(request.operation_id or "?", 0) + 1
        return found

    assert calls(stack.up) == {
        "users-createServiceAccount": SCALE,
        "users-createToken": SCALE,
        "ducklings-setDucklingConfigForUser": SCALE,
    }
    assert len(store.users) == SCALE
    assert calls(lambda: stack.preview("--expect-no-changes")) == {}
    assert calls(lambda: stack.up("--expect-no-changes")) == {}
    assert calls(stack.refresh) == {
        "ducklings-getDucklingConfigForUser": SCALE,
        "users-listTokens": SCALE,
    }
    assert calls(stack.destroy) == {
        "users-deleteToken": SCALE,
        "users-delete": SCALE,
    }
    assert store.users == {}
