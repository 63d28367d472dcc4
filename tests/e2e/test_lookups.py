"""The data functions inside a real Pulumi program, run by the real engine against the emulator.

They read at preview time (plain and Output forms), wait for an account the same run creates,
export whole results without secrets, and fail a program with one line, not a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.conftest import EmulatorStack

pytestmark = pytest.mark.e2e

PROGRAM = Path(__file__).resolve().parent / "programs" / "lookups"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LEGACY_CONFIG = {
    "read_write": {"instance_size": "standard", "cooldown_seconds": 600},
    "read_scaling": {"instance_size": "standard", "flock_size": 2},
}


def test_data_functions_read_at_preview_and_up(
    emulator: EmulatorServer, emulator_stack: Callable[..., EmulatorStack]
) -> None:
    store = emulator.store
    store.create_user("legacy", config=LEGACY_CONFIG)
    created = store.create_token("legacy", "nightly", ttl=86_400)
    store.set_duckling_status("legacy", "rs.1", "cooldown")
    stack = emulator_stack(PROGRAM, {"existing": "legacy"})

    stack.preview()
    assert store.write_count == 0
    reads = {r.path for r in store.requests}
    assert reads == {
        "/v1/users/legacy/tokens",
        "/v1/users/legacy/instances",
        "/v1/active_accounts",
    }, "preview reads the existing account, and not the one it has yet to create"

    up = stack.up()
    outputs = stack.outputs()
    assert outputs["token_ids"] == [created.record.id]
    (token,) = outputs["tokens"]["tokens"]
    assert token == {**created.record.metadata(), "id": created.record.id}
    assert outputs["existing_rw_size"] == "standard"
    assert outputs["existing_config"]["read_scaling"] == {
        "instance_size": "standard",
        "flock_size": 2,
        "cooldown_seconds": 60,
    }
    assert outputs["fresh_config"]["read_write"] == {
        "instance_size": "pulse",
        "cooldown_seconds": None,
    }
    assert outputs["active"] == {
        "accounts": [
            {
                "username": "legacy",
                "ducklings": [{"id": "rs.1", "type": "read_scaling", "status": "cooldown"}],
            }
        ]
    }
    shown = json.dumps(stack.outputs(show_secrets=True))
    printed = up.stdout + up.stderr
    for text in (shown, printed, stack.state_text()):
        assert created.secret not in text
        assert emulator.admin_token not in text


def test_a_failed_lookup_is_one_line(
    emulator: EmulatorServer, emulator_stack: Callable[..., EmulatorStack]
) -> None:
    emulator.store.create_user("legacy")
    stack = emulator_stack(PROGRAM, {"existing": "legacy", "missing": "nobody"})
    failed = stack.preview(check=False)
    printed = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "404 (NOT_FOUND)" in printed and "nobody" in printed, printed
    assert "Traceback" not in printed, printed
    assert emulator.admin_token not in printed


def test_adopt_example_finds_the_token_by_name(
    emulator: EmulatorServer, emulator_stack: Callable[..., EmulatorStack]
) -> None:
    """examples/adopt-existing with `adoptTokenName` alone: get_tokens finds the id."""
    store = emulator.store
    store.create_user("legacy_loader")
    store.create_token("legacy_loader", "ad-hoc")
    nightly = store.create_token("legacy_loader", "nightly-load", ttl=86_400).record
    config = {"username": "legacy_loader", "adoptTokenName": "nightly-load"}
    stack = emulator_stack(EXAMPLES / "adopt-existing", config)
    stack.up()
    assert store.write_count == 0
    assert stack.outputs()["token_id"] == nightly.id

    twin = store.create_token("legacy_loader", "nightly-load").record
    failed = stack.preview(check=False)
    printed = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "2 live tokens of 'legacy_loader' are named 'nightly-load'" in printed, printed
    assert nightly.id in printed and twin.id in printed
    assert "Traceback" not in printed


def test_dive_embed_session_is_a_secret_minted_on_every_run(
    emulator: EmulatorServer, emulator_stack: Callable[..., EmulatorStack]
) -> None:
    store = emulator.store
    store.create_user("legacy")
    dive = store.create_dive()
    stack = emulator_stack(PROGRAM, {"existing": "legacy", "dive": dive})
    ups = [stack.up(), stack.up()]
    assert store.count(operation="dashboards-createEmbedSession", status=200) == 2
    assert stack.outputs()["embed"] == "[secret]"
    embed = stack.outputs(show_secrets=True)["embed"]
    assert (embed["dive_id"], embed["username"]) == (dive, "legacy")
    state = stack.state_text()
    assert embed["session"] not in state, "the session is kept only encrypted"
    for up in ups:
        assert embed["session"] not in up.stdout + up.stderr
