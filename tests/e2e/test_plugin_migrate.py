"""Moving a Python stack to the plugin form through the real engine, nothing recreated.

A Python program (programs/migrate: an account, a token with a secret, a Duckling config) is
brought up; then the project's program becomes the same program in Pulumi YAML and the stack
is moved either by `python -m motherduck_provider.plugin migrate` (programs/migrate/plugin.yaml)
or by aliases in the program (plugin_aliases.yaml). The YAML program then previews and runs
with no change and no API call, the token keeps its id and secret, the emulator holds exactly
what state says, and a refresh and a destroy through the plugin leave nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider import __version__
from motherduck_provider.emulator import EmulatorServer

# The YAML host and the plugin on PATH, as for the plugin's other end-to-end tests.
from tests.e2e.test_plugin_yaml import pulumi_env, yaml_bin  # noqa: F401

pytestmark = pytest.mark.e2e

PROGRAM = Path(__file__).resolve().parent / "programs" / "migrate"
USERNAME = "migrate_svc"
TYPES = {f"motherduck:index:{n}" for n in ("ServiceAccount", "AccessToken", "InstanceConfig")}


def assert_emulator_holds_state(emulator: EmulatorServer, stack: Any) -> None:
    """MotherDuck holds exactly the accounts and tokens state holds; nothing is pending."""
    exported = stack.export()["deployment"]
    assert not exported.get("pending_operations"), exported.get("pending_operations")
    managed = [r for r in exported.get("resources") or [] if r["type"] in TYPES]
    accounts = sorted(r["id"] for r in managed if r["type"].endswith(":ServiceAccount"))
    assert sorted(emulator.store.users) == accounts
    in_state = sorted(r["outputs"]["tokenId"] for r in managed if r["type"].endswith("Token"))
    live = sorted(t.id for name in accounts for t in emulator.store.list_tokens(name))
    assert live == in_state, f"MotherDuck holds {live}, state {in_state}"


def ids_by_name(stack: Any) -> dict[str, str]:
    """Logical name -> id of the stack's MotherDuck resources, of either form."""
    return {
        r["urn"].rsplit("::", 1)[1]: r["id"]
        for r in stack.resources()
        if "motherduck:" in r["type"] and not r["type"].startswith("pulumi:providers:")
    }


def token_secret_in_state(stack: Any) -> str:
    """The token's secret as state holds it (decrypted by the CLI)."""
    text = stack.run("stack", "export", "--show-secrets").stdout
    (token,) = [
        r for r in json.loads(text)["deployment"]["resources"] if r["type"].endswith("AccessToken")
    ]
    secret = token["outputs"]["token"]
    assert isinstance(secret, dict) and "plaintext" in secret, secret
    return str(json.loads(secret["plaintext"]))


@dataclass
class Before:
    """The Python-form stack's objects, as the move must keep them."""

    secret: str
    token_id: str
    secret_sha256: str
    ids: dict[str, str]


def python_stack(emulator_stack: Callable[..., Any]) -> Any:
    """The `dev` stack of the Python program, brought up."""
    stack = emulator_stack(PROGRAM)
    stack.up()
    return stack


def before_move(emulator: EmulatorServer, stack: Any) -> Before:
    """What the Python-form stack holds, checked against the emulator."""
    outputs = stack.outputs(show_secrets=True)
    (live,) = emulator.store.list_tokens(USERNAME)
    assert live.id == outputs["tokenId"]
    assert live.secret_sha256 == hashlib.sha256(outputs["token"].encode()).hexdigest()
    ids = ids_by_name(stack)
    assert set(ids) == {"account", "ci", "ducklings"}
    return Before(outputs["token"], outputs["tokenId"], live.secret_sha256, ids)


def use_program(stack: Any, yaml_name: str, version: str | None = None) -> None:
    """The project's program becomes programs/migrate/<yaml_name> (Pulumi YAML); with
    `version`, each resource asks for that plugin version (as a generated SDK does)."""
    (stack.project / "__main__.py").unlink()
    text = (PROGRAM / yaml_name).read_text()
    if version:
        text = re.sub(
            r"(\n    type: motherduck:index:\w+\n)",
            rf"\1    options: {{version: {version}}}\n",
            text,
        )
    (stack.project / "Pulumi.yaml").write_text(text)


def check_taken_over(
    emulator: EmulatorServer, stack: Any, before: Before, calls: int, texts: list[str]
) -> None:
    """After the move and one `up`: the same objects, ids and secret, through the plugin."""
    after = stack.outputs(show_secrets=True)
    assert (after["tokenId"], after["token"]) == (before.token_id, before.secret)
    assert stack.outputs()["token"] == "[secret]"
    assert {r["type"] for r in stack.resources()} == {
        "pulumi:pulumi:Stack", "pulumi:providers:motherduck", *TYPES
    }  # fmt: skip
    assert ids_by_name(stack) == before.ids

    refresh = stack.refresh()
    assert "4 unchanged" in refresh.stdout, refresh.stdout
    (token,) = stack.resources("motherduck:index:AccessToken")
    assert set(token["outputs"]["token"]) >= {"ciphertext"}  # still encrypted in state
    assert token["outputs"]["tokenType"] == "read_write"
    assert "__provider" not in str(stack.export())
    assert token_secret_in_state(stack) == before.secret
    stack.preview("--expect-no-changes")
    assert_emulator_holds_state(emulator, stack)
    (live,) = emulator.store.list_tokens(USERNAME)
    assert (live.id, live.secret_sha256) == (before.token_id, before.secret_sha256)
    writes = [r for r in emulator.store.requests[calls:] if r.write]
    assert not writes, f"the move wrote to the API: {writes}"

    for text in [*texts, refresh.stdout, stack.state_text()]:
        for value in (before.secret, emulator.admin_token):
            assert value not in text

    stack.destroy()
    assert not emulator.store.has_user(USERNAME)
    assert ids_by_name(stack) == {}
    assert emulator.store.users == {}


@pytest.mark.parametrize("version", [None, __version__], ids=["no-version", "version"])
def test_the_migrate_command_moves_a_python_stack_without_recreating_anything(
    emulator: EmulatorServer,
    emulator_stack: Callable[..., Any],
    pulumi_bin: Path,
    pulumi_env: dict[str, str],  # noqa: F811
    version: str | None,
) -> None:
    stack = python_stack(emulator_stack)
    before = before_move(emulator, stack)
    use_program(stack, "plugin.yaml", version)
    calls = len(emulator.store.requests)
    env = {**os.environ, **pulumi_env}
    command = [sys.executable, "-m", "motherduck_provider.plugin", "migrate"]
    command += ["--pulumi", str(pulumi_bin / "pulumi")]
    command += ["--provider-version", version] if version else []
    moved = subprocess.run(
        command, cwd=stack.project, env=env, capture_output=True, text=True, check=False
    )
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "moved 4 resources to the plugin form" in moved.stdout, moved.stdout
    (backup,) = stack.project.glob("motherduck-migrate-dev-*.json")
    assert "pulumi-python:dynamic/motherduck:AccessToken" in backup.read_text()
    (token,) = stack.resources("motherduck:index:AccessToken")
    assert token["inputs"]["tokenType"] == "read_write" and "__provider" not in token["inputs"]
    name = "default_" + version.replace(".", "_") if version else "default"
    assert token["provider"].split("::")[-2] == name

    again = subprocess.run(
        command, cwd=stack.project, env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0 and "nothing to move" in again.stdout, again.stdout

    preview = stack.preview("--expect-no-changes")
    assert "4 unchanged" in preview.stdout, preview.stdout
    up = stack.up("--expect-no-changes")
    assert len(emulator.store.requests) == calls, "the move, preview or up called the API"
    check_taken_over(
        emulator, stack, before, calls, [moved.stdout + moved.stderr, preview.stdout, up.stdout]
    )


def test_aliases_move_a_python_stack_without_recreating_anything(
    emulator: EmulatorServer,
    emulator_stack: Callable[..., Any],
) -> None:
    """The engine's own way: an alias per resource (old type), no state edit. The Python
    form's outputs stay in state (`__provider`, snake_case names) until a refresh reads each
    resource again: until then the program reads `tokenId` as null (so does anything that
    depends on it), which is why the guide prefers the migrate command."""
    stack = python_stack(emulator_stack)
    before = before_move(emulator, stack)
    use_program(stack, "plugin_aliases.yaml")
    calls = len(emulator.store.requests)
    preview = stack.preview("--expect-no-changes")
    assert "4 unchanged" in preview.stdout, preview.stdout
    up = stack.up("--expect-no-changes")
    assert len(emulator.store.requests) == calls, "the preview or up called the API"
    assert stack.outputs()["tokenId"] is None  # the state still holds `token_id`
    (token,) = stack.resources("motherduck:index:AccessToken")
    assert "__provider" in token["outputs"] and "token_id" in token["outputs"]
    stack.refresh()
    again = stack.up("--expect-no-changes")
    check_taken_over(emulator, stack, before, calls, [preview.stdout, up.stdout, again.stdout])


COMPONENT_PROGRAM = Path(__file__).resolve().parent / "programs" / "migrate_component"


def children_ids(stack: Any) -> dict[tuple[str, str], str]:
    """(kind, logical name) -> id of the stack's MotherDuck custom resources, either form."""
    return {
        (r["type"].rsplit(":", 1)[1], r["urn"].rsplit("::", 1)[1]): r["id"]
        for r in stack.resources()
        if "motherduck:" in r["type"] and r.get("custom") and "providers" not in r["type"]
    }


def test_the_migrate_command_moves_a_python_managed_account(
    emulator: EmulatorServer,
    emulator_stack: Callable[..., Any],
    pulumi_bin: Path,
    pulumi_env: dict[str, str],  # noqa: F811
) -> None:
    """A Python `ManagedAccount` moves too: the component keeps its URN, its children take the
    plugin's types, and the YAML program (the plugin's `construct`) then has no change to
    make, with no API write; the token keeps its id."""
    stack = emulator_stack(COMPONENT_PROGRAM)
    stack.up()
    token_id = stack.outputs()["tokenId"]
    (live,) = emulator.store.list_tokens("migrate_team")
    assert live.id == token_id
    ids = children_ids(stack)
    assert sorted(ids) == [
        ("AccessToken", "team-ci"), ("InstanceConfig", "team"), ("ServiceAccount", "team")
    ]  # fmt: skip

    (stack.project / "__main__.py").unlink()
    (stack.project / "Pulumi.yaml").write_text((COMPONENT_PROGRAM / "plugin.yaml").read_text())
    calls = len(emulator.store.requests)
    command = [sys.executable, "-m", "motherduck_provider.plugin", "migrate"]
    command += ["--pulumi", str(pulumi_bin / "pulumi")]
    moved = subprocess.run(
        command,
        cwd=stack.project,
        env={**os.environ, **pulumi_env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "moved 5 resources to the plugin form" in moved.stdout, moved.stdout
    children = [r for r in stack.resources() if r.get("parent", "").endswith("::team")]
    assert sorted(r["type"] for r in children) == sorted(TYPES)

    preview = stack.preview("--expect-no-changes")
    assert "5 unchanged" in preview.stdout, preview.stdout  # stack, component, 3 children
    stack.up("--expect-no-changes")
    writes = [r for r in emulator.store.requests[calls:] if r.write]
    assert not writes, f"the move, preview or up wrote to the API: {writes}"
    assert stack.outputs()["tokenId"] == token_id
    assert children_ids(stack) == ids
    assert_emulator_holds_state(emulator, stack)

    stack.destroy()
    assert emulator.store.users == {}
    assert children_ids(stack) == {}
