"""Moving an account between the separate and the one-step form through the real engine.

programs/move_form declares account `move_svc` with tokens `ci` and `reader` and a Duckling
config, separately or in one ServiceAccount (config `form`). After each edit of the program,
`python -m motherduck_provider.move_form` rewrites state: the preview then shows no change and
makes no API call, the tokens keep their ids and secrets, MotherDuck holds what state says;
a moved token rotates by its trigger without anything being swept; destroy leaves nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

PROGRAM = Path(__file__).resolve().parent / "programs" / "move_form"
USER = "move_svc"


def move(stack: Any, pulumi_bin: Path, env: dict[str, str], direction: str) -> Any:
    """Run the command in the project, as a user would."""
    command = [sys.executable, "-m", "motherduck_provider.move_form", direction]
    command += ["--pulumi", str(pulumi_bin / "pulumi")]
    return subprocess.run(
        command,
        cwd=stack.project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def live(emulator: EmulatorServer) -> set[str]:
    return {t.id for t in emulator.store.list_tokens(USER)}


def kinds(stack: Any) -> list[str]:
    return sorted(r["type"].rsplit(":", 1)[1] for r in stack.resources() if "dynamic/" in r["type"])


def moved_without_calls(
    emulator: EmulatorServer, stack: Any, pulumi_bin: Path, env: dict[str, str], direction: str
) -> list[str]:
    """Edit the program's form, move, preview with no change: no API write, no preview call."""
    start = len(emulator.store.requests)
    stack.run("config", "set", "form", "onestep" if direction == "to-one-step" else "separate")
    done = move(stack, pulumi_bin, env, direction)
    assert done.returncode == 0, done.stdout + done.stderr
    writes = [r for r in emulator.store.requests[start:] if r.write]
    assert not writes, f"the move wrote to the API: {writes}"
    calls = len(emulator.store.requests)
    preview = stack.preview("--expect-no-changes")
    assert len(emulator.store.requests) == calls, "the preview after the move called the API"
    return [done.stdout, done.stderr, preview.stdout, preview.stderr]


def test_an_account_moves_between_forms_without_recreating_anything(
    emulator: EmulatorServer,
    emulator_stack: Any,
    pulumi_bin: Path,
    pulumi_env: dict[str, str],
) -> None:
    stack = emulator_stack(PROGRAM, {"form": "separate"})
    stack.up()
    assert kinds(stack) == ["AccessToken", "AccessToken", "InstanceConfig", "ServiceAccount"]
    before = stack.outputs(show_secrets=True)
    ids = {before["ci_id"], before["reader_id"]}
    assert live(emulator) == ids
    texts: list[str] = []

    texts += moved_without_calls(emulator, stack, pulumi_bin, pulumi_env, "to-one-step")
    assert kinds(stack) == ["ServiceAccount"]
    (backup,) = stack.project.glob("motherduck-move-dev-*.json")
    assert ":AccessToken" in backup.read_text()
    assert stack.outputs(show_secrets=True) == before
    assert live(emulator) == ids
    (account,) = stack.resources(":ServiceAccount")
    assert account["outputs"]["token_ids"] == {"ci": before["ci_id"], "reader": before["reader_id"]}

    # Back, before any `up` (each token still has its own ciphertext).
    texts += moved_without_calls(emulator, stack, pulumi_bin, pulumi_env, "to-separate")
    assert kinds(stack) == ["AccessToken", "AccessToken", "InstanceConfig", "ServiceAccount"]
    assert stack.outputs(show_secrets=True) == before

    # Once more to the one-step form; there a moved token rotates by its trigger, keeping its
    # mark, and neither the old token nor `reader` is swept by surprise.
    texts += moved_without_calls(emulator, stack, pulumi_bin, pulumi_env, "to-one-step")
    stack.up("--expect-no-changes")
    assert stack.outputs(show_secrets=True) == before
    stack.run("config", "set", "trigger", "1")
    texts.append(stack.up().stdout)
    rotated = stack.outputs(show_secrets=True)
    assert rotated["reader_id"] == before["reader_id"]
    assert rotated["reader_token"] == before["reader_token"]
    assert rotated["ci_id"] != before["ci_id"]
    assert live(emulator) == {rotated["ci_id"], rotated["reader_id"]}
    stack.preview("--expect-no-changes")

    # After an `up` the account holds its tokens as one ciphertext: no way back without
    # decrypting, so the command refuses and changes nothing.
    stack.run("config", "set", "form", "separate")
    refused = move(stack, pulumi_bin, pulumi_env, "to-separate")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "never decrypts" in refused.stderr and len(refused.stderr.splitlines()) == 1
    stack.run("config", "set", "form", "onestep")
    stack.preview("--expect-no-changes")

    for text in [*texts, refused.stdout, refused.stderr, stack.state_text()]:
        for secret in (before["ci_token"], before["reader_token"], emulator.admin_token):
            assert secret not in text
    stack.destroy()
    assert emulator.store.users == {}
    assert kinds(stack) == []
