"""Requests that land after the client gave up on them: settled within the same run.

A POST held upstream past the client's timeout (`faults.slow` with a 1 s `requestTimeout`)
lands after the retry and its sweep. The create (or rotation) waits for the window in which it
can land, bounded by `motherduck:lateRequestWait`, and sweeps or probes before it returns: at
the end of the SAME run MotherDuck holds exactly what state holds. A window longer than the
bound is left to the next `up`, with a warning naming when. Providers are called directly, as
in test_fault_plans.py; instead of sleeping, the provider's wait ends when the held request has
landed (the emulator logs a request once it has been applied).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from motherduck_provider.config import DEFAULT_LATE_WAIT
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources import _late
from tests.integration.test_fault_plans import (
    CREATE_ACCOUNT,
    CREATE_TOKEN,
    DELETE_TOKEN,
    _fresh_process,  # noqa: F401  (autouse: a new provider process per test)
    account_stack,
    assert_account_state_matches,
    assert_token_state_matches,
    token_stack,
    wait_for_requests,
)
from tests.integration.test_rotation_plans import assert_holds_exactly_state

Landing = Callable[[str, int], list[float]]
UTC_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(UTC\)"


@pytest.fixture
def landing(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Landing:
    """`landing(operation, count)`: the provider's waits end once `count` requests of
    `operation` were handled (the held one has landed); returns the seconds it asked for."""

    def arm(operation: str, count: int) -> list[float]:
        asked: list[float] = []

        def sleep(seconds: float) -> None:
            asked.append(seconds)
            wait_for_requests(emulator, operation, count)

        monkeypatch.setattr(_late, "_sleep", sleep)
        return asked

    return arm


def test_late_token_create_is_swept_in_the_same_run(
    emulator: EmulatorServer, landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = token_stack(emulator, timeout=1)
    waits = landing(CREATE_TOKEN, 2)
    emulator.store.faults.slow(CREATE_TOKEN, seconds=2, count=1)
    assert stack.up(), stack.errors
    assert emulator.store.count(operation=CREATE_TOKEN) == 2  # the held one has landed
    assert emulator.store.count(operation=DELETE_TOKEN) == 1  # ... and was revoked
    assert stack.outs["sweep_after"] is None
    assert len(waits) == 1 and 0 < waits[0] < DEFAULT_LATE_WAIT  # the window, not the bound
    assert "revoking token" in capsys.readouterr().err
    assert_token_state_matches(stack)


@pytest.mark.parametrize("keep", [None, 600], ids=["no window", "keep_previous_for"])
def test_late_rotation_post_is_swept_in_the_same_run(
    emulator: EmulatorServer, landing: Landing, keep: int | None
) -> None:
    stack = token_stack(emulator, timeout=1)
    stack.inputs.update(rotation_trigger="0", keep_previous_for=keep)
    assert stack.up(), stack.errors
    first = stack.outs["token_id"]
    waits = landing(CREATE_TOKEN, 3)
    emulator.store.faults.slow(CREATE_TOKEN, seconds=2, count=1)
    stack.inputs["rotation_trigger"] = "1"
    assert stack.up(), stack.errors
    assert emulator.store.count(operation=CREATE_TOKEN) == 3 and len(waits) == 1
    assert stack.outs["sweep_after"] is None
    assert stack.outs["token_id"] != first
    assert stack.outs["previous_token_id"] == (first if keep else None)
    assert_holds_exactly_state(stack)


def test_token_create_failing_after_three_late_posts_sweeps_before_it_fails(
    emulator: EmulatorServer, landing: Landing
) -> None:
    stack = token_stack(emulator, timeout=1)
    waits = landing(CREATE_TOKEN, 3)
    emulator.store.faults.slow(CREATE_TOKEN, seconds=2, count=3)
    assert not stack.up()
    assert len(waits) == 1
    assert emulator.store.count(operation=CREATE_TOKEN) == 3  # all three landed ...
    assert emulator.store.list_tokens("etl") == []  # ... and were revoked in that run
    (error,) = stack.errors
    assert "3 attempts failed without an answer" in error
    assert "were revoked, late ones too" in error and "run `pulumi up` again" in error
    stack.timeout = 5
    assert stack.up(), stack.errors
    assert_token_state_matches(stack)


def test_token_window_longer_than_the_bound_is_left_to_the_next_up(
    emulator: EmulatorServer, landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = token_stack(emulator, timeout=1)
    stack.late_wait = 1  # the window (about 6 s after the retry) is longer
    waits = landing(CREATE_TOKEN, 2)
    emulator.store.faults.slow(CREATE_TOKEN, seconds=2, count=1)
    assert stack.up(), stack.errors
    assert waits == []  # not waited at all
    until = stack.outs["sweep_after"]
    err = capsys.readouterr().err
    assert f"may still land until {until} (UTC)" in err
    assert f"run `pulumi up` after {until} (UTC)" in err and "lateRequestWait (1s)" in err
    wait_for_requests(emulator, CREATE_TOKEN, 2)
    assert len(emulator.store.list_tokens("etl")) == 2  # the late one, for the next `up`
    provider = stack.provider()
    diff = provider.diff(stack.id, stack.outs, provider.check({}, dict(stack.inputs)).inputs)
    assert diff.changes and not diff.replaces
    stack.late_wait = None  # the default bound: the next `up` waits out the rest, then sweeps
    assert stack.up(), stack.errors
    assert stack.outs["sweep_after"] is None
    assert_token_state_matches(stack)


def test_lost_answers_from_the_api_itself_are_swept_without_waiting(
    emulator: EmulatorServer, landing: Landing
) -> None:
    """A 500 comes from the API: whatever the POST did is done, so nothing can land later."""
    stack = token_stack(emulator)
    waits = landing(CREATE_TOKEN, 3)
    emulator.store.faults.error(CREATE_TOKEN, status=500, count=2, after_write=True)
    assert stack.up(), stack.errors
    assert waits == [] and stack.outs["sweep_after"] is None
    assert_token_state_matches(stack)


def test_account_whose_posts_all_land_late_is_ours_in_the_same_run(
    emulator: EmulatorServer, landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every POST times out and every probe says "not there"; then the first one lands."""
    stack = account_stack(emulator, timeout=1)
    waits = landing(CREATE_ACCOUNT, 1)
    emulator.store.faults.slow(CREATE_ACCOUNT, seconds=5, count=3)
    assert stack.up(), stack.errors
    assert len(waits) == 1
    assert "landed after it had failed without an answer" in capsys.readouterr().err
    wait_for_requests(emulator, CREATE_ACCOUNT, 3)  # the other two find the name taken
    assert_account_state_matches(stack)


def test_account_window_longer_than_the_bound_fails_naming_time_and_command(
    emulator: EmulatorServer, landing: Landing
) -> None:
    stack = account_stack(emulator, timeout=1)
    stack.late_wait = 0  # never wait
    waits = landing(CREATE_ACCOUNT, 1)
    emulator.store.faults.slow(CREATE_ACCOUNT, seconds=5, count=3)
    assert not stack.up()
    assert waits == []
    (error,) = stack.errors
    assert re.search(f"may still land until {UTC_TIME}", error), error
    assert "motherduck:lateRequestWait (0s)" in error
    assert "run `pulumi up` again after that time" in error and "already exists" in error
    wait_for_requests(emulator, CREATE_ACCOUNT, 3)
