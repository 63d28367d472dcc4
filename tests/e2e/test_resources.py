"""ServiceAccount, AccessToken and InstanceConfig through their whole lifecycles in the real
Pulumi CLI and engine, against the in-process emulator.

Programs live in `programs/` (copied per test); stack config changes their inputs between
runs. Every test checks the emulator's own state, not only what Pulumi reports.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.emulator.store import parse_timestamp

pytestmark = pytest.mark.e2e

PROGRAMS = Path(__file__).resolve().parent / "programs"
ACCOUNT = PROGRAMS / "account"
INVALID = PROGRAMS / "invalid"
REPO_ROOT = Path(__file__).resolve().parents[2]

CREATE_TOKEN = "users-createToken"
DELETE_TOKEN = "users-deleteToken"
CREATE_ACCOUNT = "users-createServiceAccount"
GET_CONFIG = "ducklings-getDucklingConfigForUser"
NO_RESET = "MotherDuck has no reset"
DYNAMIC = "pulumi-python:dynamic/motherduck:"
DYNAMIC_TYPES = {f"{DYNAMIC}{t}" for t in ("ServiceAccount", "AccessToken", "InstanceConfig")}

Proc = subprocess.CompletedProcess[str]
MakeStack = Callable[..., Any]


# --- helpers ---------------------------------------------------------------------------------


def output_of(*procs: Proc) -> str:
    """Everything the CLI printed, both streams."""
    return "\n".join(p.stdout + "\n" + p.stderr for p in procs)


def resources_line(proc: Proc) -> str:
    """The `Resources:` summary of an `up`/`preview`/`destroy`, as one line."""
    text = proc.stdout
    assert "Resources:" in text, text
    return " ".join(text.split("Resources:", 1)[1].split("Duration:", 1)[0].split())


def token_ids(emulator: EmulatorServer, username: str) -> list[str]:
    return [t.id for t in emulator.store.list_tokens(username)]


def secrets_seen(emulator: EmulatorServer) -> list[str]:
    """Every token secret the emulator ever handed out (from its create-token responses)."""
    found = []
    for ex in emulator.store.exchanges:
        body = ex.response_json
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            found.append(body["token"])
    return found


def wire_order(emulator: EmulatorServer, start: int = 0) -> list[tuple[str, str]]:
    return [(r.operation_id or "?", r.path) for r in emulator.store.requests[start:]]


def assert_replaced_create_first(
    emulator: EmulatorServer, start: int, username: str, old_id: str, new_id: str
) -> None:
    """The new token was POSTed before the old one was revoked, and only the new one lives."""
    order = wire_order(emulator, start)
    creates = [i for i, (op, _) in enumerate(order) if op == CREATE_TOKEN]
    old_path = f"/v1/users/{username}/tokens/{old_id}"
    revokes = [i for i, (op, path) in enumerate(order) if op == DELETE_TOKEN and path == old_path]
    assert len(creates) == 1 and len(revokes) == 1, order
    assert creates[0] < revokes[0], f"old token revoked before the new one existed: {order}"
    assert new_id != old_id
    assert token_ids(emulator, username) == [new_id]


def assert_no_plaintext(emulator: EmulatorServer, stack: Any, *procs: Proc) -> None:
    """Neither state files, `stack export`, CLI output, stack config nor the pickled provider
    contain the admin token or any token secret in plaintext."""
    secrets = [emulator.admin_token, *secrets_seen(emulator)]
    assert len(secrets) > 1, "no token secret was handed out; nothing to scan for"
    exported = stack.export()
    project_files = "\n".join(
        p.read_text(errors="replace") for p in stack.project.rglob("*") if p.is_file()
    )
    places = {
        "state files": stack.state_text(),
        "stack export": json.dumps(exported),
        "CLI output": output_of(*procs),
        "project files": project_files,
    }
    pickles = 0
    for res in exported["deployment"].get("resources") or []:
        for section in ("inputs", "outputs"):
            blob = (res.get(section) or {}).get("__provider")
            if blob is None:
                continue
            assert isinstance(blob, str), f"{res['urn']} {section}.__provider is not plain"
            raw = base64.b64decode(blob)
            assert b"motherduck_provider.stored" in raw  # a reference, not a closure
            places[f"{res['urn']} {section}.__provider"] = raw.decode("latin-1")
            pickles += 1
    assert pickles >= 2
    for where, text in places.items():
        for secret in secrets:
            label = "admin token" if secret == emulator.admin_token else "token secret"
            assert secret not in text, f"{label} in plaintext in {where}"


def managed(stack: Any) -> list[dict[str, Any]]:
    """The stack's MotherDuck resources (no stack, no provider)."""
    return [r for r in stack.resources() if str(r["type"]).startswith(DYNAMIC)]


def seconds_until(timestamp: str) -> float:
    return (parse_timestamp(timestamp) - datetime.now(UTC)).total_seconds()


# --- 1, 11: create all three --------------------------------------------------------------


def test_create_all_three(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    # Engine debug logs on: they are scanned for secrets below with everything else.
    up = stack.up("--logtostderr", "-v=9", "--logflow")
    assert "Provider[" in up.stderr and "Create(" in up.stderr, "verbose logs missing"
    assert resources_line(up) == "+ 4 created"

    store = emulator.store
    assert store.has_user("etl_writer")
    tokens = store.list_tokens("etl_writer")
    # MotherDuck shows the name with this resource's mark (README: How tokens are named).
    (state,) = stack.resources("AccessToken")
    assert state["outputs"]["name"] == "ci"
    assert [t.name for t in tokens] == [f"ci [pulumi:{state['outputs']['mark']}]"]
    assert store.get_config("etl_writer") == {
        "read_write": {"instance_size": "standard", "cooldown_seconds": 60},
        "read_scaling": {"instance_size": "standard", "flock_size": 2, "cooldown_seconds": 60},
    }

    outs = stack.outputs()
    assert outs["token"] == "[secret]"
    assert outs["token_id"] == tokens[0].id and outs["username"] == "etl_writer"
    secret = stack.outputs(show_secrets=True)["token"]
    found = store.find_token_by_secret(secret)
    assert found is not None and found.id == tokens[0].id
    assert found.expire_at is not None
    assert (found.expire_at - found.created_at).total_seconds() == 3600
    assert outs["expire_at"].startswith(found.expire_at.strftime("%Y-%m-%dT%H:%M:%S"))

    (token,) = stack.resources("AccessToken")
    assert token["id"] == f"etl_writer/{tokens[0].id}"
    assert "token" in (token.get("additionalSecretOutputs") or [])
    assert_no_plaintext(emulator, stack, up)


def test_state_keeps_one_frame_the_declaring_line(
    emulator: EmulatorServer, emulator_stack: MakeStack, tmp_path: Path
) -> None:
    """Each resource stores the program line that declared it, not the SDK's whole stack
    (`resources/_trace_guard.py`); a stack written with the full trace upgrades with no change."""
    stack = emulator_stack(ACCOUNT)
    stack.up()
    program = (stack.project / "__main__.py").read_text().splitlines()
    ours = [r for r in stack.resources() if str(r["type"]).startswith(DYNAMIC)]
    assert len(ours) == 3
    for res in ours:
        (frame,) = res["stackTrace"]
        assert frame["sourcePosition"] == res["sourcePosition"]
        where, line = res["sourcePosition"].rsplit("#", 1)
        assert where == "project:///__main__.py"
        assert str(res["type"]).removeprefix(DYNAMIC) + "(" in program[int(line) - 1]

    # What the releases before this one stored: the full stack, first frame in our own code.
    exported = stack.export()
    ours_file = "project:///motherduck_provider/resources/service_account.py#286"
    long_trace = [{"sourcePosition": ours_file}, *([{"sourcePosition": "x.py#1"}, {}] * 6)]
    for res in exported["deployment"]["resources"]:
        if str(res["type"]).startswith(DYNAMIC):
            res["sourcePosition"], res["stackTrace"] = ours_file, long_trace
    old_state = tmp_path / "old-state.json"
    old_state.write_text(json.dumps(exported))
    stack.run("stack", "import", "--file", str(old_state))
    writes = emulator.store.write_count
    stack.preview("--expect-no-changes")
    assert resources_line(stack.up("--expect-no-changes")) == "4 unchanged"
    assert emulator.store.write_count == writes
    assert all(len(r["stackTrace"]) == 1 for r in stack.resources() if r["type"] in DYNAMIC_TYPES)


# --- 2: no-op -----------------------------------------------------------------------------


def test_second_up_is_a_no_op(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    stack.up()
    before = stack.outputs(show_secrets=True)
    writes = emulator.store.write_count

    again = stack.up()
    assert resources_line(again) == "4 unchanged"
    assert emulator.store.write_count == writes
    stack.preview("--expect-no-changes")
    stack.refresh("--expect-no-changes")
    stack.preview("--expect-no-changes")
    assert emulator.store.write_count == writes
    assert stack.outputs(show_secrets=True) == before  # refresh kept the stored secret
    assert token_ids(emulator, "etl_writer") == [before["token_id"]]


# --- 3: in-place Duckling update ----------------------------------------------------------


def test_duckling_change_updates_in_place(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600", "flockSize": "2"})
    first = stack.up()
    token_id = stack.outputs()["token_id"]

    stack.run("config", "set", "flockSize", "4")
    start = len(emulator.store.requests)
    up = stack.up()
    assert resources_line(up) == "~ 1 updated 3 unchanged"
    assert "ducklings updated" in up.stdout
    writes = [(r.operation_id, r.method) for r in emulator.store.requests[start:] if r.write]
    assert writes == [("ducklings-setDucklingConfigForUser", "PUT")]

    config = emulator.store.get_config("etl_writer")
    assert config["read_scaling"] == {
        "instance_size": "standard",
        "flock_size": 4,
        "cooldown_seconds": 60,
    }
    assert config["read_write"] == {"instance_size": "standard", "cooldown_seconds": 60}
    assert stack.outputs()["read_scaling"]["flock_size"] == 4
    assert stack.outputs()["token_id"] == token_id
    assert token_ids(emulator, "etl_writer") == [token_id]
    stack.preview("--expect-no-changes")
    assert_no_plaintext(emulator, stack, first, up)


# --- 4: token rename ----------------------------------------------------------------------


def test_token_rename_creates_before_revoking(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600", "tokenName": "ci"})
    first = stack.up()
    old = stack.outputs(show_secrets=True)

    stack.run("config", "set", "tokenName", "ci_v2")
    start = len(emulator.store.requests)
    up = stack.up()
    assert resources_line(up) == "+-1 replaced 3 unchanged"
    new = stack.outputs(show_secrets=True)
    assert_replaced_create_first(emulator, start, "etl_writer", old["token_id"], new["token_id"])
    assert [t.name.split(" [pulumi:")[0] for t in emulator.store.list_tokens("etl_writer")] == [
        "ci_v2"
    ]
    assert new["token"] != old["token"]
    assert emulator.store.find_token_by_secret(old["token"]) is None
    found = emulator.store.find_token_by_secret(new["token"])
    assert found is not None and found.id == new["token_id"]
    assert emulator.store.has_user("etl_writer")
    assert_no_plaintext(emulator, stack, first, up)


# --- 5: deleted outside Pulumi ------------------------------------------------------------


def test_account_deleted_out_of_band(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    stack.up()
    old_token = stack.outputs()["token_id"]
    emulator.store.delete_user("etl_writer")

    refresh = stack.refresh()
    assert "3 deleted" in resources_line(refresh)
    assert managed(stack) == []
    assert not emulator.store.has_user("etl_writer")

    up = stack.up()
    assert resources_line(up) == "+ 3 created 1 unchanged"
    assert emulator.store.has_user("etl_writer")
    new_token = stack.outputs()["token_id"]
    assert new_token != old_token
    assert token_ids(emulator, "etl_writer") == [new_token]
    assert emulator.store.get_config("etl_writer")["read_scaling"]["flock_size"] == 2
    assert len(managed(stack)) == 3
    stack.preview("--expect-no-changes")


# --- 6: expired token ---------------------------------------------------------------------


def test_expired_token_is_reported_and_rotated(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "300"})
    # Created with the emulator's clock 297 s behind: the token expires ~3 s from real now,
    # so the provider process (which uses the real clock) soon sees it as expired too.
    emulator.store.clock.advance(-297)
    stack.up()
    emulator.store.clock.reset()
    old = stack.outputs()
    # Made to expire about 3 s after its creation; under load `up` and `outputs` can take
    # longer than that (CI, 2026-12-07: already 0.27 s past it), which changes nothing below.
    wait = seconds_until(old["expire_at"])
    assert wait < 10, old["expire_at"]
    time.sleep(max(wait, 0) + 0.5)
    assert token_ids(emulator, "etl_writer") == []  # expired tokens leave the list

    start = len(emulator.store.requests)
    preview = stack.preview()
    assert len(emulator.store.requests) == start, "preview called the API"
    # The provider's stderr reaches the CLI's stdout, as a diagnostic of the stack.
    text = preview.stdout
    assert f"token {old['token_id']} ('ci') expired at {old['expire_at']}" in text, text
    assert "1 to update" in resources_line(preview)  # rotation is in place

    up = stack.up()
    assert "1 updated" in resources_line(up)
    new = stack.outputs(show_secrets=True)
    assert new["token_id"] != old["token_id"]
    assert token_ids(emulator, "etl_writer") == [new["token_id"]]
    found = emulator.store.find_token_by_secret(new["token"])
    assert found is not None and found.id == new["token_id"]
    assert seconds_until(new["expire_at"]) > 250
    stack.preview("--expect-no-changes")


# --- 7: rotate_before ---------------------------------------------------------------------


def test_rotate_before_window(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "600", "rotateBefore": "300"})
    stack.up()
    old = stack.outputs()
    preview = stack.preview("--expect-no-changes")
    assert "rotate_before" not in output_of(preview)

    stack.run("config", "set", "rotateBefore", "599")
    # 599 s before a 600 s token's expiry is one second after its creation.
    time.sleep(max(0.0, 1.5 - (600 - seconds_until(old["expire_at"]))))
    preview = stack.preview()
    text = output_of(preview)
    assert f"token {old['token_id']} ('ci') expires at {old['expire_at']}" in text, text
    assert "within rotate_before=599s" in text
    assert "1 to update" in resources_line(preview)  # rotation is in place

    start = len(emulator.store.requests)
    up = stack.up()
    assert "1 updated" in resources_line(up)
    new = stack.outputs()
    assert_replaced_create_first(emulator, start, "etl_writer", old["token_id"], new["token_id"])
    (state,) = stack.resources("AccessToken")
    assert state["id"] == f"etl_writer/{old['token_id']}"  # the id names the first token


# --- 8: adopt an existing account ---------------------------------------------------------


LEGACY_CONFIG = {
    "read_write": {"instance_size": "jumbo", "cooldown_seconds": 600},
    "read_scaling": {"instance_size": "standard", "flock_size": 3},
}
LEGACY = {
    "username": "legacy_etl",
    "adopt": "true",
    "rwSize": "jumbo",
    "rsSize": "standard",
    "flockSize": "3",
}


def test_adopt_existing_account(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    emulator.store.create_user("legacy_etl", config=LEGACY_CONFIG)
    live = emulator.store.get_config("legacy_etl")
    stack = emulator_stack(ACCOUNT, {**LEGACY, "withToken": "false"})
    emulator.store.clear_logs()

    up = stack.up()
    assert resources_line(up) == "+ 3 created"
    assert emulator.store.count(operation=CREATE_ACCOUNT) == 0
    assert emulator.store.write_count == 0
    assert emulator.store.get_config("legacy_etl") == live
    assert stack.outputs()["read_write"] == {"instance_size": "jumbo", "cooldown_seconds": 600}
    stack.preview("--expect-no-changes")
    stack.refresh("--expect-no-changes")
    stack.preview("--expect-no-changes")
    assert emulator.store.write_count == 0

    destroy = stack.destroy()
    assert NO_RESET not in output_of(destroy)  # the account and its config went together
    assert not emulator.store.has_user("legacy_etl")  # adopted means managed: deleted


def test_refresh_with_adopt_false_set_leaves_no_diff(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    """A refresh reads back no `adopt` input unless it was true (so `pulumi import` suggests
    none); a stack whose program says `adopt=False` (as state held it before) sees no change."""
    stack = emulator_stack(ACCOUNT, {"adopt": "false", "withToken": "false"})
    stack.up()
    writes = emulator.store.write_count
    stack.refresh("--expect-no-changes")
    (account,) = stack.resources("ServiceAccount")
    assert "adopt" not in account["inputs"] and account["outputs"]["adopt"] is False
    stack.preview("--expect-no-changes")
    assert resources_line(stack.up("--expect-no-changes")) == "3 unchanged"
    assert emulator.store.write_count == writes


# --- 9: track an existing token -----------------------------------------------------------


def test_adopt_existing_token(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    emulator.store.create_user("legacy_etl", config=LEGACY_CONFIG)
    seeded = emulator.store.create_token("legacy_etl", "legacy", ttl=3600)
    stack = emulator_stack(
        ACCOUNT,
        {
            **LEGACY,
            "withConfig": "false",
            "tokenName": "legacy",
        },
    )
    # A username/uuid looks like a secret to the CLI; it is an id, so store it in plaintext.
    adopt_id = f"legacy_etl/{seeded.record.id}"
    stack.run("config", "set", "--plaintext", "adoptTokenId", adopt_id)
    emulator.store.clear_logs()

    up = stack.up()
    assert resources_line(up) == "+ 3 created"
    text = output_of(up)
    assert f"tracking existing token {seeded.record.id}" in text, text
    assert "secret is shown by MotherDuck only once" in text
    assert emulator.store.write_count == 0
    assert token_ids(emulator, "legacy_etl") == [seeded.record.id]

    outs = stack.outputs(show_secrets=True)
    assert outs["token_id"] == seeded.record.id
    assert outs["created_ts"] and outs["expire_at"]
    assert parse_timestamp(outs["expire_at"]) == seeded.record.expire_at
    assert outs.get("token") in (None, "")
    (token,) = stack.resources("AccessToken")
    assert token["id"] == f"legacy_etl/{seeded.record.id}"
    assert token["outputs"]["name"] == "legacy"
    stack.preview("--expect-no-changes")
    stack.refresh("--expect-no-changes")
    assert emulator.store.write_count == 0


# --- 10: destroy ----------------------------------------------------------------------------


def test_destroy_leaves_nothing(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    stack.up()
    assert emulator.store.users

    destroy = stack.destroy()
    assert resources_line(destroy) == "- 4 deleted"
    assert NO_RESET not in output_of(destroy)  # the account and its config went together
    assert emulator.store.users == {}
    assert emulator.store.count(operation="users-delete", status=200) == 1
    assert stack.resources() == []


# --- 12: invalid inputs ---------------------------------------------------------------------


INVALID_CASES: dict[str, Iterable[str]] = {
    "account": ("username: '1bad-name' must start with a letter", "may only contain letters"),
    "token": (
        "ttl: 10 is out of range; allowed 300 to 31536000 seconds",
        "name: 'MotherDuck Extension' is reserved",
        "token_type: 'admin' is not one of read_write, read_scaling",
    ),
    "ducklings": (
        "instance_size: 'huge' is not one of pulse",
        "read_scaling: cooldown_seconds (300",
        "cannot be set with instance_size 'pulse'",
        "flock_size: 65 is out of range; allowed 0 to 64",
    ),
}


def test_invalid_inputs_fail_preview_without_api_calls(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(INVALID)
    # The engine stops at the first resource whose check fails: one run per resource shows
    # that each reports all of its problems at once.
    for case, expected in INVALID_CASES.items():
        stack.run("config", "set", "case", case)
        preview = stack.preview(check=False)
        assert preview.returncode != 0
        text = output_of(preview)
        for snippet in expected:
            assert snippet in text, f"{case}: {snippet!r} missing from:\n{text}"
    stack.run("config", "set", "case", "all")
    assert stack.preview(check=False).returncode != 0
    assert stack.up(check=False).returncode != 0
    assert len(emulator.store.requests) == 0
    assert emulator.store.users == {}


# --- 13: Automation API ---------------------------------------------------------------------


def inline_program() -> None:
    account = ServiceAccount("account", username="inline_etl")
    token = AccessToken("token", username=account.username, name="ci", ttl=3600)
    InstanceConfig(
        "ducklings",
        username=account.username,
        read_write={"instance_size": "standard"},
        read_scaling={"instance_size": "standard", "flock_size": 1},
    )
    pulumi.export("token", token.token)
    pulumi.export("token_id", token.token_id)


def test_automation_api_lifecycle(
    emulator: EmulatorServer,
    inline_stack: Callable[..., auto.Stack],
) -> None:
    stack = inline_stack("md-inline", inline_program, REPO_ROOT)
    stack.set_config("motherduck:apiUrl", auto.ConfigValue(value=emulator.url))
    stack.set_config("motherduck:token", auto.ConfigValue(value=emulator.admin_token, secret=True))

    up = stack.up()
    assert up.summary.result == "succeeded"
    assert up.summary.resource_changes == {"create": 4}
    assert up.outputs["token"].secret
    found = emulator.store.find_token_by_secret(up.outputs["token"].value)
    assert found is not None and found.id == up.outputs["token_id"].value
    assert emulator.store.get_config("inline_etl")["read_scaling"]["flock_size"] == 1
    assert emulator.admin_token not in up.stdout + up.stderr
    assert up.outputs["token"].value not in up.stdout + up.stderr

    writes = emulator.store.write_count
    again = stack.up()
    assert again.summary.resource_changes == {"same": 4}
    assert emulator.store.write_count == writes
    assert stack.preview(expect_no_changes=True).change_summary == {"same": 4}

    events: list[auto.EngineEvent] = []
    resources = stack.export_stack().deployment["resources"]
    (config,) = [r["urn"] for r in resources if r["type"].endswith(":InstanceConfig")]
    config_only = stack.destroy(target=[config], on_event=events.append)
    assert config_only.summary.resource_changes == {"delete": 1, "same": 3}
    # The provider's stderr, written as it shuts down (`_held`), reaches Automation API
    # callers as one diagnostic event too.
    diagnostics = [e.diagnostic_event.message for e in events if e.diagnostic_event]
    assert sum(NO_RESET in m for m in diagnostics) == 1, diagnostics
    destroy = stack.destroy()
    assert destroy.summary.resource_changes == {"delete": 3}
    assert NO_RESET not in destroy.stdout  # the account went too: nothing to warn about
    assert emulator.store.users == {}
    stack.workspace.remove_stack("dev")


# --- 14: failed refresh keeps state ---------------------------------------------------------


def test_refresh_error_keeps_state(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    stack.up()

    def snapshot() -> dict[str, Any]:
        # Secrets are re-encrypted with a fresh nonce on every save: compare them decrypted.
        plain = {
            r["urn"]: (r["id"], {k: v for k, v in r["outputs"].items() if k != "token"})
            for r in managed(stack)
        }
        return {"resources": plain, "outputs": stack.outputs(show_secrets=True)}

    before = snapshot()
    assert len(before["resources"]) == 3

    emulator.store.faults.error(GET_CONFIG, status=500)
    refresh = stack.refresh(check=False)
    assert refresh.returncode != 0
    assert "MotherDuck API error 500" in output_of(refresh)
    assert snapshot() == before
    assert emulator.store.has_user("etl_writer")

    emulator.store.faults.clear()
    stack.refresh()
    assert snapshot() == before
    stack.preview("--expect-no-changes")
