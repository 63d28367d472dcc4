"""ServiceAccount(tokens=...) through the real engine: one resource, one step per account.

Create an account with two tokens and a config in one `up`; a preview makes no call and shows
no change; `tokens` is a secret and no secret is plaintext in state, outputs or CLI text;
rotating one token (`rotation_trigger`) leaves the other alone; adding and removing a token
is an update; destroy leaves nothing in the emulator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.test_config_in_account import operations

pytestmark = pytest.mark.e2e

ONESTEP = Path(__file__).resolve().parent / "programs" / "onestep"
USER = "onestep"


def live(emulator: EmulatorServer) -> set[str]:
    return {t.id for t in emulator.store.list_tokens(USER)}


def text(*procs: Any) -> str:
    return "\n".join(p.stdout + "\n" + p.stderr for p in procs)


def test_one_resource_holds_account_tokens_and_config(
    emulator: EmulatorServer, emulator_stack: Any
) -> None:
    stack = emulator_stack(ONESTEP)
    logs = [stack.up()]
    (account,) = stack.resources(":ServiceAccount")
    kinds = [r["type"] for r in stack.resources() if "motherduck:" in r["type"]]
    assert kinds == [account["type"]]  # no AccessToken, no InstanceConfig
    assert sorted(operations(emulator, 0)) == sorted(
        ["users-createServiceAccount", "ducklings-setDucklingConfigForUser"]
        + ["users-createToken"] * 2
    )
    outputs = stack.outputs(show_secrets=True)
    ids = outputs["token_ids"]
    assert live(emulator) == set(ids.values())
    for name, secret in outputs["tokens"].items():
        found = emulator.store.find_token_by_secret(secret)
        assert found is not None and found.id == ids[name]
    assert outputs["token_details"]["reader"]["read_only"] is True
    assert emulator.store.get_config(USER)["read_scaling"]["flock_size"] == 2
    assert stack.outputs()["tokens"] == "[secret]"
    assert account["outputs"]["tokens"].get("4dabf18193072939515e22adb298388d") is not None
    assert "previous_tokens" not in account["outputs"]  # none kept: no ciphertext of nulls

    start = len(emulator.store.requests)
    logs.append(stack.preview("--expect-no-changes"))
    assert len(emulator.store.requests) == start  # preview: 0 calls

    # Rotate `loader` by its trigger; `reader` is untouched.
    stack.run("config", "set", "trigger", "1")
    preview = stack.preview("--diff")
    logs.append(preview)
    assert "tokens" in preview.stdout and "rotation_trigger" in preview.stdout
    logs.append(stack.up())
    rotated = stack.outputs(show_secrets=True)
    assert rotated["token_ids"]["reader"] == ids["reader"]
    assert rotated["token_ids"]["loader"] != ids["loader"]
    assert live(emulator) == set(rotated["token_ids"].values())  # the old one revoked

    # Add `writer`, remove `reader`: one update.
    stack.run("config", "set", "tokens", "loader,writer")
    logs.append(stack.up())
    changed = stack.outputs(show_secrets=True)
    assert set(changed["token_ids"]) == {"loader", "writer"}
    assert changed["token_ids"]["loader"] == rotated["token_ids"]["loader"]
    assert live(emulator) == set(changed["token_ids"].values())
    logs.append(stack.preview("--expect-no-changes"))

    secrets = [
        body["token"]
        for ex in emulator.store.exchanges
        if isinstance(body := ex.response_json, dict) and isinstance(body.get("token"), str)
    ]
    assert len(secrets) == 4
    places = {
        "backend files": stack.state_text(),
        "stack export": json.dumps(stack.export()),
        "stack output": json.dumps(stack.outputs()),
        "CLI output": text(*logs),
    }
    for place, found in places.items():
        assert not [s for s in secrets if s in found], f"a token secret is plaintext in {place}"

    start = len(emulator.store.requests)
    stack.destroy()
    assert operations(emulator, start) == ["users-delete"]
    assert not emulator.store.has_user(USER)
