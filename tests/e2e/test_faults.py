"""Fault plans of issue 8 through the real engine: at most two `pulumi up` runs, no program edit.

After the runs MotherDuck (the emulator) holds exactly what the stack's state says: no orphan
token, no duplicate, no orphan account; refresh and `preview --expect-no-changes` are clean.
The whole plan matrix runs fast in `tests/integration/test_fault_plans.py`; these are the
representative plans, one per reported defect, through Pulumi itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider._time import parse_timestamp
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources._test_clock import TEST_CLOCK_ENV

pytestmark = pytest.mark.e2e

ACCOUNT = Path(__file__).resolve().parent / "programs" / "account"
DYNAMIC = "pulumi-python:dynamic/motherduck:"
CREATE_TOKEN = "users-createToken"
CREATE_ACCOUNT = "users-createServiceAccount"
GET_CONFIG = "ducklings-getDucklingConfigForUser"
PUT_CONFIG = "ducklings-setDucklingConfigForUser"

MakeStack = Callable[..., Any]


def assert_matches_state(emulator: EmulatorServer, stack: Any) -> None:
    """The emulator holds exactly the stack's accounts and tokens; nothing is pending."""
    exported = stack.export()["deployment"]
    assert not exported.get("pending_operations"), exported.get("pending_operations")
    managed = [r for r in exported.get("resources") or [] if r["type"].startswith(DYNAMIC)]
    accounts = sorted(r["id"] for r in managed if r["type"].endswith(":ServiceAccount"))
    assert sorted(emulator.store.users) == accounts
    in_state = sorted(r["outputs"]["token_id"] for r in managed if r["type"].endswith("Token"))
    live = sorted(t.id for name in accounts for t in emulator.store.list_tokens(name))
    assert live == in_state, f"MotherDuck holds {live}, state {in_state}"
    stack.refresh()
    stack.preview("--expect-no-changes")


def token_outputs(stack: Any) -> dict[str, Any]:
    """The token's outputs in the stack's state."""
    (token,) = stack.resources(":AccessToken")
    outputs: dict[str, Any] = token["outputs"]
    return outputs


def wait_for(emulator: EmulatorServer, operation: str, count: int) -> None:
    """Until the emulator has handled `count` requests of `operation` (a late one too)."""
    deadline = time.monotonic() + 30
    while emulator.store.count(operation=operation) < count:
        assert time.monotonic() < deadline, f"{operation} never reached {count}"
        time.sleep(0.05)


def test_two_lost_token_answers(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    """Defect 1: the answer of two token POSTs in a row is lost (both applied)."""
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    emulator.store.faults.error(CREATE_TOKEN, status=500, count=2, after_write=True)
    first = stack.up()
    assert "revoking token" in first.stdout
    assert len(emulator.store.list_tokens("etl_writer")) == 1  # both twins already revoked
    stack.up()  # no edit, nothing left to do: a 500 comes from the API, nothing lands later
    assert emulator.store.count(operation=CREATE_TOKEN) == 3
    assert_matches_state(emulator, stack)


def test_late_token_request(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    """Defect 2: the token POST lands after the client's timeout (held 2 s, timeout 1 s).

    The `up` that met it waits for the window in which it can land (about 6 s, within the
    default `motherduck:lateRequestWait`), revokes the late token and ends with exactly the
    tokens state holds and `sweep_after` empty.
    """
    stack = emulator_stack(ACCOUNT, {"ttl": "3600", "motherduck:requestTimeout": "1"})
    emulator.store.faults.slow(CREATE_TOKEN, seconds=2, count=1)
    up = stack.up()
    assert "waiting" in up.stdout and "revoking token" in up.stdout
    assert emulator.store.count(operation=CREATE_TOKEN) == 2  # the late one landed in that run
    assert not token_outputs(stack).get("sweep_after")
    assert_matches_state(emulator, stack)


def test_late_token_request_beyond_the_wait(
    emulator: EmulatorServer, emulator_stack: MakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window longer than `motherduck:lateRequestWait` is left to the next `up`, which says
    when; that `up` (after the time) revokes the late token.

    The window is about 7 s. The provider reads the emulator's clock, frozen inside the window
    for the preview and past it for the second `up`, so a slow machine cannot make the preview
    fall after the window (it did in CI: the preview then announced the sweep instead).
    """
    monkeypatch.setenv(TEST_CLOCK_ENV, emulator.url + "/_emulator/clock")
    config = {"ttl": "3600", "motherduck:requestTimeout": "1", "motherduck:lateRequestWait": "0"}
    stack = emulator_stack(ACCOUNT, config)
    emulator.store.faults.slow(CREATE_TOKEN, seconds=2, count=1)
    first = stack.up()
    until = token_outputs(stack)["sweep_after"]
    assert f"run `pulumi up` after {until} (UTC)" in " ".join(first.stdout.split())
    wait_for(emulator, CREATE_TOKEN, 2)
    assert len(emulator.store.list_tokens("etl_writer")) == 2  # the late duplicate, for now
    end = parse_timestamp(until)
    emulator.store.clock.freeze(end - timedelta(seconds=1))
    assert "may still land" in stack.preview().stdout
    emulator.store.clock.freeze(end + timedelta(seconds=1))
    stack.run("config", "rm", "motherduck:lateRequestWait")
    second = stack.up()
    assert "1 updated" in second.stdout
    assert not token_outputs(stack).get("sweep_after")
    assert_matches_state(emulator, stack)


def test_unconfirmed_account_create(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    """Defect 3: the account POST's answer is lost and the existence probe fails 4 times."""
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    emulator.store.faults.error(CREATE_ACCOUNT, status=500, count=1, after_write=True)
    emulator.store.faults.error(GET_CONFIG, status=503, count=4)
    up = stack.up()
    assert "earlier attempt of this create" in up.stdout
    assert emulator.store.count(operation=CREATE_ACCOUNT) == 2  # the second got "taken"
    assert_matches_state(emulator, stack)


def test_mixed_plan(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    """429 with Retry-After, a drop before the write, a lost answer, each on another's retry."""
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    faults = emulator.store.faults
    faults.rate_limit(CREATE_ACCOUNT, retry_after=1, count=1)
    faults.error(CREATE_ACCOUNT, status=500, count=1, after_write=True)
    faults.drop(CREATE_TOKEN, count=1)
    faults.rate_limit(CREATE_TOKEN, retry_after=1, count=1)
    faults.drop(CREATE_TOKEN, count=1, after_write=True)
    faults.drop(PUT_CONFIG, count=1)
    first = stack.up(check=False)
    if first.returncode != 0:
        stack.up()
    stack.up()
    assert_matches_state(emulator, stack)
