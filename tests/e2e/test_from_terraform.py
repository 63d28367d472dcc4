"""From Terraform in one command, through the real engine against the emulator.

Objects are made in the emulator as Terraform's provider makes them (tokens named without a
mark) and its state written (`tests/fixtures/terraform/terraform_like.py`); the command then
carries them into a new stack: preview shows no change and calls no API, the stack holds the
Terraform secrets (encrypted), refresh changes nothing, a rotation replaces a Terraform token
by a marked one and revokes it, destroy leaves nothing. `--check` reports a revoked token and
a deleted account and writes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.conftest import EmulatorStack, RunPulumi

# The YAML host and the plugin on PATH, as for the plugin's other end-to-end tests.
from tests.e2e.test_plugin_yaml import pulumi_env, yaml_bin  # noqa: F401
from tests.fixtures.terraform.terraform_like import apply, client_for

pytestmark = pytest.mark.e2e

MANIFEST = f"""name: md-fromtf
runtime:
  name: python
  options:
    virtualenv: {sys.prefix}
"""


def terraform_state(emulator: EmulatorServer, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    with client_for(emulator.url, emulator.admin_token) as client:
        state = apply(client)
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(state))
    return path, state


def new_stack(
    emulator: EmulatorServer,
    tmp_path: Path,
    run_pulumi: RunPulumi,
    work_dir: Path,
    manifest: str = MANIFEST,
) -> EmulatorStack:
    """An empty project directory (Pulumi.yaml only) and its `dev` stack with its config."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(manifest)
    run_pulumi(project, "stack", "init", "dev")
    run_pulumi(project, "config", "set", "--plaintext", "motherduck:apiUrl", emulator.url)
    run_pulumi(project, "config", "set", "--secret", "motherduck:token", emulator.admin_token)
    return EmulatorStack(project, run_pulumi, work_dir)


def convert(
    stack: EmulatorStack, state: Path, pulumi_bin: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "motherduck_provider.from_terraform", str(state)]
    command += [
        "--stack",
        "dev",
        "--dir",
        str(stack.project),
        "--pulumi",
        str(pulumi_bin / "pulumi"),
    ]
    return subprocess.run(
        [*command, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def secrets_of(state: dict[str, Any]) -> dict[str, str]:
    """Terraform resource name -> token secret."""
    return {
        r["name"]: r["instances"][0]["attributes"]["token"]
        for r in state["resources"]
        if r["type"] == "motherduck_access_token"
    }


def test_a_terraform_state_becomes_a_stack_with_no_change_to_make(
    emulator: EmulatorServer,
    tmp_path: Path,
    run_pulumi: RunPulumi,
    pulumi_work_dir: Path,
    pulumi_bin: Path,
    pulumi_env: dict[str, str],  # noqa: F811
) -> None:
    path, state = terraform_state(emulator, tmp_path)
    secrets = secrets_of(state)
    stack = new_stack(emulator, tmp_path, run_pulumi, pulumi_work_dir)
    before = len(emulator.store.requests)
    done = convert(stack, path, pulumi_bin, pulumi_env, "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [r for r in emulator.store.requests[before:] if r.write or r.method != "GET"]
    assert "terraform state rm 'motherduck_service_account.etl'" in done.stdout
    assert path.read_text() == json.dumps(state), "the Terraform state was changed"
    for secret in secrets.values():
        assert secret not in done.stdout + done.stderr

    calls = len(emulator.store.requests)
    preview = stack.preview("--expect-no-changes")
    assert "10 unchanged" in preview.stdout, preview.stdout
    assert len(emulator.store.requests) == calls, "preview called the API"

    # The same stack again, from another directory of the project: refused, nothing left.
    other = tmp_path / "other"
    other.mkdir()
    (other / "Pulumi.yaml").write_text(MANIFEST)
    again = convert(EmulatorStack(other, run_pulumi, pulumi_work_dir), path, pulumi_bin, pulumi_env)
    assert again.returncode == 2, again.stdout + again.stderr
    assert "stack 'dev' already holds 11 resource(s)" in again.stderr
    assert sorted(p.name for p in other.iterdir()) == ["Pulumi.yaml"]

    assert stack.outputs(show_secrets=True)["w_rw_token"] == secrets["w_rw"]
    assert stack.outputs()["w_rw_token"] == "[secret]"
    exported = json.loads(stack.run("stack", "export", "--show-secrets").stdout)
    tokens = {
        r["urn"].rsplit("::", 1)[1]: r
        for r in exported["deployment"]["resources"]
        if r["type"].endswith(":AccessToken")
    }
    assert {k: json.loads(t["outputs"]["token"]["plaintext"]) for k, t in tokens.items()} == secrets
    assert all("mark" not in t["outputs"] for t in tokens.values())
    text = stack.state_text()
    for secret in [*secrets.values(), emulator.admin_token]:
        assert secret not in text, "a secret in plain text in the backend"

    refresh = stack.refresh()
    assert "10 unchanged" in refresh.stdout, refresh.stdout
    stack.preview("--expect-no-changes")

    # A rotation: a new, marked token; the Terraform one revoked.
    main = stack.project / "__main__.py"
    main.write_text(
        main.read_text().replace('name="w-rw",', 'name="w-rw",\n    rotation_trigger="1",')
    )
    old_id = tokens["w_rw"]["outputs"]["token_id"]
    stack.up()
    (live,) = emulator.store.list_tokens("tfx_writer")
    assert live.id != old_id and live.name is not None and live.name.startswith("w-rw [pulumi:")
    assert stack.outputs(show_secrets=True)["w_rw_token"] != secrets["w_rw"]
    stack.preview("--expect-no-changes")

    stack.destroy()
    assert emulator.store.users == {}


def test_check_reports_a_revoked_token_and_a_deleted_account_and_writes_nothing(
    emulator: EmulatorServer,
    tmp_path: Path,
    run_pulumi: RunPulumi,
    pulumi_work_dir: Path,
    pulumi_bin: Path,
    pulumi_env: dict[str, str],  # noqa: F811
) -> None:
    path, state = terraform_state(emulator, tmp_path)
    (w_rw,) = [r for r in state["resources"] if r["name"] == "w_rw"]
    token_id = w_rw["instances"][0]["attributes"]["id"]
    emulator.store.delete_token("tfx_writer", token_id)
    emulator.store.delete_user("tfx_etl")
    stack = new_stack(emulator, tmp_path, run_pulumi, pulumi_work_dir)
    before = len(emulator.store.requests)
    done = convert(stack, path, pulumi_bin, pulumi_env, "--check")
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"token {token_id} of 'tfx_writer' no longer exists" in done.stdout
    assert "motherduck_service_account.etl: account 'tfx_etl' no longer exists" in done.stdout
    assert "motherduck_access_token.e_rw: token" in done.stdout
    assert "nothing was written" in done.stderr
    assert not (stack.project / "__main__.py").exists()
    assert not stack.export()["deployment"].get("resources")
    assert not [r for r in emulator.store.requests[before:] if r.write]


def assert_taken_over(
    emulator: EmulatorServer, stack: Any, secrets: dict[str, str], unchanged: int
) -> None:
    """A converted stack previews and refreshes with no change, its preview with no call and
    the whole with no write; the token's secret is Terraform's."""
    calls = len(emulator.store.requests)
    preview = stack.preview("--expect-no-changes")
    assert f"{unchanged} unchanged" in preview.stdout, preview.stdout
    assert len(emulator.store.requests) == calls, "preview called the API"
    assert stack.outputs(show_secrets=True)["w_rw_token"] == secrets["w_rw"]
    refresh = stack.refresh()
    assert f"{unchanged} unchanged" in refresh.stdout, refresh.stdout
    stack.preview("--expect-no-changes")
    assert not [r for r in emulator.store.requests[calls:] if r.write]


def test_a_terraform_state_becomes_a_yaml_stack_with_no_change_to_make(
    emulator: EmulatorServer,
    tmp_path: Path,
    run_pulumi: RunPulumi,
    pulumi_work_dir: Path,
    pulumi_bin: Path,
    pulumi_env: dict[str, str],  # noqa: F811
) -> None:
    """`--language yaml`: the plugin's types; the stub Pulumi.yaml becomes the program."""
    path, state = terraform_state(emulator, tmp_path)
    secrets = secrets_of(state)
    stub = "name: md-fromtf-yaml\nruntime: yaml\n"
    stack = new_stack(emulator, tmp_path, run_pulumi, pulumi_work_dir, stub)
    done = convert(stack, path, pulumi_bin, pulumi_env, "--language", "yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "type: motherduck:index:AccessToken" in (stack.project / "Pulumi.yaml").read_text()

    assert_taken_over(emulator, stack, secrets, unchanged=10)
    text = stack.state_text()
    for secret in secrets.values():
        assert secret not in text

    stack.destroy()
    assert emulator.store.users == {}


def test_managed_accounts_take_over_a_terraform_state_with_no_change_to_make(
    emulator: EmulatorServer,
    tmp_path: Path,
    run_pulumi: RunPulumi,
    pulumi_work_dir: Path,
    pulumi_bin: Path,
    pulumi_env: dict[str, str],  # noqa: F811
) -> None:
    """`--language managed`: one ManagedAccount per account, its token and config children."""
    path, state = terraform_state(emulator, tmp_path)
    secrets = secrets_of(state)
    stack = new_stack(emulator, tmp_path, run_pulumi, pulumi_work_dir)
    done = convert(stack, path, pulumi_bin, pulumi_env, "--language", "managed")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ManagedAccount(" in (stack.project / "__main__.py").read_text()

    assert_taken_over(emulator, stack, secrets, unchanged=13)

    stack.destroy()
    assert emulator.store.users == {}
