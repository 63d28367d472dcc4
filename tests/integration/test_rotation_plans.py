"""Rotation with an overlap window under every fault plan, providers called directly.

As in test_fault_plans.py, each `up` is played the way the engine would, in a fresh provider
process, against the emulator. After at most two runs MotherDuck holds exactly the tokens
state holds (`token_id` and, during a window, `previous_token_id`), each secret in state
authenticates as its token, and a refresh followed by a diff finds nothing to do.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources._test_clock import TEST_CLOCK_ENV
from tests.integration.test_fault_plans import (
    DELETE_TOKEN,
    TOKEN_PLANS,
    Stack,
    _fresh_process,  # noqa: F401  (autouse: a new provider process per test)
    new_process,
    token_stack,
    waits,  # noqa: F401  (fixture: the provider's waits are recorded, not slept)
)

pytestmark = pytest.mark.usefixtures("waits")

REVOKE_PLANS = {
    "500 not applied": lambda e: e.store.faults.error(DELETE_TOKEN, status=500, count=1),
    "500 applied (lost answer)": lambda e: e.store.faults.error(
        DELETE_TOKEN, status=500, count=1, after_write=True
    ),
    "dropped after the write": lambda e: e.store.faults.drop(
        DELETE_TOKEN, count=1, after_write=True
    ),
}


def overlap_stack(emulator: EmulatorServer, keep: int = 600) -> Stack:
    stack = token_stack(emulator)
    stack.inputs.update(keep_previous_for=keep, rotation_trigger="0")
    assert stack.up(), stack.errors
    return stack


def rotate(stack: Stack, trigger: str) -> bool:
    stack.inputs["rotation_trigger"] = trigger
    return stack.up()


def assert_holds_exactly_state(stack: Stack) -> None:
    """0 orphans, 0 duplicates: the live tokens are state's current and previous ones."""
    store = stack.emulator.store
    outs = stack.outs
    held = sorted(t for t in (outs["token_id"], outs.get("previous_token_id")) if t)
    live = sorted(t.id for t in store.list_tokens("etl"))
    assert live == held, f"live {live}, state {held}; errors {stack.errors}"
    for secret_key, id_key in (("token", "token_id"), ("previous_token", "previous_token_id")):
        if outs.get(id_key):
            found = store.find_token_by_secret(outs[secret_key])
            assert found is not None and found.id == outs[id_key], secret_key
    assert stack.refresh_and_diff()


@pytest.mark.parametrize("plan", list(TOKEN_PLANS))
def test_overlap_rotation_under_token_faults(emulator: EmulatorServer, plan: str) -> None:
    stack = overlap_stack(emulator)
    first = stack.outs["token_id"]
    TOKEN_PLANS[plan](emulator)
    rotate(stack, "1")
    stack.up()  # the second `up`, no edit
    assert stack.outs["token_id"] != first and stack.outs["previous_token_id"] == first
    assert_holds_exactly_state(stack)


@pytest.mark.parametrize("plan", list(REVOKE_PLANS))
@pytest.mark.parametrize("keep", [0, 600])
def test_rotation_under_revoke_faults(emulator: EmulatorServer, plan: str, keep: int) -> None:
    """The revoke of the old token (keep 0) or of the kept previous one (keep 600) fails."""
    stack = overlap_stack(emulator, keep)
    if keep:
        assert rotate(stack, "1")  # now a previous token is kept
    REVOKE_PLANS[plan](emulator)
    rotate(stack, "2")
    stack.up()
    assert_holds_exactly_state(stack)
    if not keep:
        assert stack.outs["previous_token_id"] is None  # the failed revoke was made up for


@pytest.mark.parametrize("keep", [0, 600])
def test_a_rotation_killed_before_state_was_saved(emulator: EmulatorServer, keep: int) -> None:
    """Every request of the rotation landed, but the engine never recorded its result."""
    stack = overlap_stack(emulator, keep)
    assert rotate(stack, "1")
    stack.inputs["rotation_trigger"] = "2"
    new_process()
    provider = stack.provider()
    news = provider.check({}, dict(stack.inputs)).inputs
    lost = provider.update(stack.id, dict(stack.outs), news).outs  # the run dies here
    assert stack.up()  # the same rotation again, from the state before it
    assert lost["token_id"] not in {t.id for t in emulator.store.list_tokens("etl")}
    assert_holds_exactly_state(stack)


def test_the_window_ends_with_the_first_up_after_it(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = overlap_stack(emulator, keep=600)
    assert rotate(stack, "1")
    previous = stack.outs["previous_token_id"]
    assert stack.up() and stack.outs["previous_token_id"] == previous  # within the window
    emulator.store.clock.advance(601)
    monkeypatch.setenv(TEST_CLOCK_ENV, emulator.url + "/_emulator/clock")
    assert stack.up()
    assert stack.outs["previous_token_id"] is None
    assert_holds_exactly_state(stack)


def test_the_test_clock_follows_the_emulator(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motherduck_provider.resources._base import utcnow

    monkeypatch.setenv(TEST_CLOCK_ENV, emulator.url + "/_emulator/clock")
    emulator.store.clock.freeze()
    emulator.store.clock.advance(3 * 86_400)
    assert abs(utcnow() - emulator.store.clock.now()) < timedelta(milliseconds=1)  # ms precision
