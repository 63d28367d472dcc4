"""Rotation through the real engine: overlap window, on-demand rotation, faults, refresh.

The provider process reads the emulator's clock (`MOTHERDUCK_PULUMI_TEST_CLOCK_URL`, test
only), so a window of an hour passes with `store.clock.advance` instead of a sleep. Every test
checks the emulator's own state: which tokens are live, which secrets authenticate, and that
MotherDuck holds exactly the tokens state holds (`token_id` and `previous_token_id`).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.emulator.store import parse_timestamp
from motherduck_provider.resources._test_clock import TEST_CLOCK_ENV

pytestmark = pytest.mark.e2e

ROTATION = Path(__file__).resolve().parent / "programs" / "rotation"
USER = "app_loader"
DAY = 86_400
CREATE_TOKEN = "users-createToken"
DELETE_TOKEN = "users-deleteToken"
PREVIOUS = ("previous_token", "previous_token_id", "previous_revoke_after")

MakeStack = Callable[..., Any]
Proc = subprocess.CompletedProcess[str]


@pytest.fixture
def shared_clock(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Provider processes started by `pulumi` read the emulator's clock."""
    monkeypatch.setenv(TEST_CLOCK_ENV, emulator.url + "/_emulator/clock")


def text(*procs: Proc) -> str:
    return "\n".join(p.stdout + "\n" + p.stderr for p in procs)


def live(emulator: EmulatorServer) -> list[str]:
    return sorted(t.id for t in emulator.store.list_tokens(USER))


def authenticates(emulator: EmulatorServer, secret: str) -> str | None:
    """The id of the live token this secret logs in as (None: it no longer works)."""
    found = emulator.store.find_token_by_secret(secret)
    return found.id if found else None


def assert_state_matches(emulator: EmulatorServer, stack: Any) -> dict[str, Any]:
    """MotherDuck holds exactly the current and previous token of state; nothing pending."""
    exported = stack.export()["deployment"]
    assert not exported.get("pending_operations"), exported.get("pending_operations")
    (token,) = [r for r in exported["resources"] if r["type"].endswith(":AccessToken")]
    outputs = token["outputs"]
    held = sorted(t for t in (outputs["token_id"], outputs.get("previous_token_id")) if t)
    assert live(emulator) == held, f"MotherDuck holds {live(emulator)}, state {held}"
    return dict(outputs)


def assert_secrets_hidden(emulator: EmulatorServer, stack: Any, logs: Iterable[Proc]) -> None:
    """Every token secret ever handed out is absent from state, export, outputs and CLI text."""
    secrets = [
        body["token"]
        for ex in emulator.store.exchanges
        if isinstance(body := ex.response_json, dict) and isinstance(body.get("token"), str)
    ]
    assert secrets
    places = {
        "backend files": stack.state_text(),
        "stack export": json.dumps(stack.export()),
        "stack output": json.dumps(stack.outputs()),
        "CLI output": text(*logs),
    }
    for place, found in places.items():
        assert not [s for s in secrets if s in found], f"a token secret is plaintext in {place}"


def test_overlap_window(
    emulator: EmulatorServer, emulator_stack: MakeStack, shared_clock: None
) -> None:
    """Both tokens work during the window; the first `up` after it revokes the old one."""
    config = {
        "ttl": str(30 * DAY),
        "rotateBefore": str(25 * DAY),
        "keepPreviousFor": "3600",
        "rotationTrigger": "1",
    }
    stack = emulator_stack(ROTATION, config)
    logs = [stack.up()]
    first = stack.outputs(show_secrets=True)
    expires = parse_timestamp(first["expire_at"])
    assert parse_timestamp(first["rotates_at"]) == expires - timedelta(days=25)
    assert first.get("previous_token_id") is None

    # On demand, with overlap: preview says so without calling the API.
    stack.run("config", "set", "rotationTrigger", "2")
    requests = emulator.store.request_count
    logs.append(preview := stack.preview())
    assert emulator.store.request_count == requests, "preview called the API"
    said = text(preview)
    assert f"token {first['token_id']} ('loader'): rotation_trigger changed; rotating now" in said
    assert "the old one stays valid as previous_token for 3600s" in said
    assert "1 to update" in said

    logs.append(stack.up())
    second = stack.outputs(show_secrets=True)
    assert second["previous_token_id"] == first["token_id"] != second["token_id"]
    assert second["previous_token"] == first["token"]
    assert live(emulator) == sorted([first["token_id"], second["token_id"]])
    assert authenticates(emulator, first["token"]) == first["token_id"]  # old still works
    assert authenticates(emulator, second["token"]) == second["token_id"]
    window = parse_timestamp(second["previous_revoke_after"]) - emulator.store.clock.now()
    assert timedelta(minutes=50) < window <= timedelta(hours=1)

    # During the window: nothing to do, and the schedule in one line.
    logs.append(quiet := stack.preview("--expect-no-changes"))
    said = text(quiet)
    assert f"previous token {first['token_id']} valid until the first `pulumi up` after" in (said)
    assert "rotates in 4 d 23 h" in said  # ttl 30 d, rotate_before 25 d
    schedule = [line for line in said.splitlines() if "rotates in 4 d 23 h" in line]
    assert not [line for line in schedule if "warning" in line], schedule  # information
    logs.append(stack.up("--expect-no-changes"))
    assert authenticates(emulator, first["token"]) == first["token_id"]

    # After it: preview names the revocation (no API call), up does it.
    emulator.store.clock.advance(3601)
    requests = emulator.store.request_count
    logs.append(preview := stack.preview())
    assert emulator.store.request_count == requests, "preview called the API"
    assert f"revoking previous token {first['token_id']} now" in text(preview)
    logs.append(stack.up())
    third = stack.outputs(show_secrets=True)
    assert third["token_id"] == second["token_id"]
    assert third.get("previous_token_id") is None and third.get("previous_token") is None
    assert third.get("previous_revoke_after") is None
    assert authenticates(emulator, first["token"]) is None
    assert authenticates(emulator, second["token"]) == second["token_id"]
    assert_state_matches(emulator, stack)
    logs.append(stack.preview("--expect-no-changes"))
    assert_secrets_hidden(emulator, stack, logs)


def test_on_demand_rotation_and_a_previous_token_revoked_outside(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    """Without overlap the old token goes in the same `up`; with it, refresh notices a revoke."""
    stack = emulator_stack(ROTATION)
    logs = [stack.up()]
    first = stack.outputs(show_secrets=True)

    stack.run("config", "set", "rotationTrigger", "leak-2030-01")
    start = len(emulator.store.requests)
    logs.append(stack.up())
    second = stack.outputs(show_secrets=True)
    assert live(emulator) == [second["token_id"]]
    assert authenticates(emulator, first["token"]) is None
    writes = [r.operation_id for r in emulator.store.requests[start:]]
    assert [w for w in writes if w in (CREATE_TOKEN, DELETE_TOKEN)] == [CREATE_TOKEN, DELETE_TOKEN]
    assert second.get("previous_token_id") is None

    # keep_previous_for alone is a local update: no write.
    stack.run("config", "set", "keepPreviousFor", "600")
    write_count = emulator.store.write_count
    logs.append(stack.up())
    assert emulator.store.write_count == write_count

    stack.run("config", "set", "rotationTrigger", "2")
    logs.append(stack.up())
    third = stack.outputs(show_secrets=True)
    assert third["previous_token_id"] == second["token_id"]
    assert live(emulator) == sorted([second["token_id"], third["token_id"]])

    # Someone revokes the previous token by hand: refresh clears it, without an error.
    emulator.store.delete_token(USER, second["token_id"])
    logs.append(refresh := stack.refresh())
    assert f"previous token {second['token_id']} of '{USER}'" in text(refresh)
    assert "was revoked outside Pulumi" in text(refresh)
    after = assert_state_matches(emulator, stack)  # the resource's outputs in state
    assert [after.get(k) for k in PREVIOUS] == [None, None, None]
    assert after["token_id"] == third["token_id"]
    logs.append(stack.preview("--expect-no-changes"))
    assert_secrets_hidden(emulator, stack, logs)


def test_interrupted_rotation_leaves_nothing_behind(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    """A rotation's POSTs all lose their answers, then the revoke of the kept token fails:
    each time the next `up`, with no edit, ends with MotherDuck holding exactly what state
    says. Deleting the resource during a window revokes both tokens."""
    stack = emulator_stack(ROTATION, {"keepPreviousFor": "600"})
    stack.up()
    first = stack.outputs()

    stack.run("config", "set", "rotationTrigger", "1")
    emulator.store.faults.error(CREATE_TOKEN, status=500, count=3, after_write=True)
    failed = stack.up(check=False)
    assert failed.returncode != 0 and "3 attempts failed without an answer" in text(failed)
    assert live(emulator) == [first["token_id"]]  # each token they made was revoked
    stack.up()
    outputs = assert_state_matches(emulator, stack)
    assert outputs["previous_token_id"] == first["token_id"]
    assert emulator.store.count(operation=CREATE_TOKEN) == 5

    stack.run("config", "set", "rotationTrigger", "2")
    emulator.store.faults.error(DELETE_TOKEN, status=500, count=1)
    failed = stack.up(check=False)
    assert failed.returncode != 0
    assert f"could not revoke previous token {first['token_id']}" in text(failed)
    assert emulator.store.count(operation=CREATE_TOKEN) == 5  # nothing made, nothing lost
    stack.up()
    outputs = assert_state_matches(emulator, stack)
    assert outputs["previous_token_id"] != first["token_id"]
    stack.preview("--expect-no-changes")

    start = len(emulator.store.requests)
    stack.destroy()
    revoked = [
        r.path.rsplit("/", 1)[1]
        for r in emulator.store.requests[start:]
        if r.operation_id == DELETE_TOKEN and r.applied
    ]
    assert sorted(revoked) == sorted([outputs["token_id"], outputs["previous_token_id"]])
    assert emulator.store.users == {}
