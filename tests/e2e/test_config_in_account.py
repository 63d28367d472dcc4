"""ManagedAccount(config_in_account=True) through the engine: 2 + T resources per account
instead of 3 + T, the same calls, and a one-time move of an existing stack with no write and no
"keeps its configuration" warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

MANAGED = Path(__file__).resolve().parent / "programs" / "managed"
GET_CONFIG = "ducklings-getDucklingConfigForUser"
SET_CONFIG = "ducklings-setDucklingConfigForUser"


def operations(emulator: EmulatorServer, start: int) -> list[str]:
    return [r.operation_id or "?" for r in emulator.store.requests[start:]]


def kinds(stack: Any) -> list[str]:
    return sorted(str(r["type"]).rsplit(":", 1)[-1] for r in stack.resources("Config"))


def test_compact_form_and_moving_an_existing_stack_to_it(
    emulator: EmulatorServer, emulator_stack: Any
) -> None:
    stack = emulator_stack(MANAGED)
    stack.up()
    assert kinds(stack) == ["InstanceConfig", "InstanceConfig"]

    # The move: the InstanceConfigs leave the stack, the accounts take their config over.
    stack.run("config", "set", "configInAccount", "true")
    start = len(emulator.store.requests)
    moved = stack.up()
    assert "no reset" not in moved.stdout + moved.stderr
    assert operations(emulator, start) == [GET_CONFIG, GET_CONFIG]  # matches: no write
    assert kinds(stack) == []
    accounts = stack.resources("ServiceAccount")
    assert [a["outputs"]["read_scaling"]["flock_size"] for a in accounts] == [2, 2]
    stack.preview("--expect-no-changes")

    start = len(emulator.store.requests)
    stack.refresh("--expect-no-changes")
    assert sorted(operations(emulator, start)) == sorted([GET_CONFIG, "users-listTokens"] * 2)

    stack.run("config", "set", "flock", "4")
    start = len(emulator.store.requests)
    stack.up()
    assert operations(emulator, start) == [SET_CONFIG, SET_CONFIG]
    assert emulator.store.get_config("managed_1")["read_scaling"]["flock_size"] == 4

    start = len(emulator.store.requests)
    stack.destroy()
    assert len(operations(emulator, start)) == 4  # T + 1 per account
    assert not emulator.store.has_user("managed_0") and not emulator.store.has_user("managed_1")

    # A new stack in the compact form: 2 + T calls per account, 3 resources per account.
    start = len(emulator.store.requests)
    stack.up()
    assert sorted(operations(emulator, start)) == sorted(
        ["users-createServiceAccount", SET_CONFIG, "users-createToken"] * 2
    )
    assert len(stack.resources("motherduck:ServiceAccount")) == 2
    assert len(stack.resources("motherduck:AccessToken")) == 2
    stack.destroy()


def test_one_step_managed_account_and_switching_an_existing_stack_to_it(
    emulator: EmulatorServer, emulator_stack: Any
) -> None:
    """`ManagedAccount(one_step=True)`: the account holds its token and config, so each
    account is the component and one resource. Setting it on an existing stack makes the
    token in the account before the `AccessToken` child's is revoked; no account is made
    again and no token is left behind."""
    stack = emulator_stack(MANAGED)
    stack.up()
    before = {a: {t.id for t in emulator.store.list_tokens(a)} for a in ("managed_0", "managed_1")}

    stack.run("config", "set", "oneStep", "true")
    start = len(emulator.store.requests)
    stack.up()
    assert sorted(operations(emulator, start)) == sorted(
        [GET_CONFIG, "users-listTokens", "users-createToken", "users-deleteToken"] * 2
    )
    assert stack.resources("motherduck:AccessToken") == []
    assert stack.resources("motherduck:InstanceConfig") == []
    for account in stack.resources("motherduck:ServiceAccount"):
        username = account["outputs"]["username"]
        ids = set(account["outputs"]["token_ids"].values())
        assert {t.id for t in emulator.store.list_tokens(username)} == ids
        assert not ids & before[username]
        assert account["outputs"]["read_scaling"]["flock_size"] == 2
    start = len(emulator.store.requests)
    stack.preview("--expect-no-changes")
    assert len(emulator.store.requests) == start

    start = len(emulator.store.requests)
    stack.destroy()
    assert operations(emulator, start) == ["users-delete"] * 2  # the tokens go with it
    assert not emulator.store.users
