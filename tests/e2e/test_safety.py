"""Safe by default for the person at the keyboard (issue 10), through the real engine.

Adoption shows and guards what it changes, `scripts/down` asks before it lifts protection,
mistakes are reported together and named, config keys have their Terraform aliases, and the
messages say where the admin token came from and what a rename deletes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

PROGRAMS = Path(__file__).resolve().parent / "programs"
SAFETY = PROGRAMS / "safety"
ACCOUNT = PROGRAMS / "account"
REPO_ROOT = Path(__file__).resolve().parents[2]
MakeStack = Callable[..., Any]

LEGACY = {
    "read_write": {"instance_size": "jumbo", "cooldown_seconds": 600},
    "read_scaling": {"instance_size": "jumbo", "flock_size": 6},
}


def text_of(*procs: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(p.stdout + "\n" + p.stderr for p in procs)


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- 1, 10: adoption preview, refusal to shrink, values that stay known --------------------


def test_adoption_preview_shows_old_to_new_and_refuses_to_shrink(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    emulator.store.create_user("legacy_etl", config=LEGACY)
    stack = emulator_stack(
        SAFETY, {"username": "legacy_etl", "rwSize": "pulse", "rsSize": "jumbo", "flockSize": "0"}
    )

    preview = stack.preview("--diff", check=False)
    assert preview.returncode != 0
    text = one_line(text_of(preview))
    assert (
        "InstanceConfig for existing account 'legacy_etl' would change its live Duckling "
        "configuration: read_write.instance_size: 'jumbo' -> 'pulse'; "
        "read_write.cooldown_seconds: 600 -> none; read_scaling.flock_size: 6 -> 0"
    ) in text, text
    assert "read_write: instance_size 'pulse' would shrink the live 'jumbo'" in text
    assert "read_scaling: flock_size 0 would shrink the live 6" in text
    assert "set allow_downsize=True" in text
    assert stack.up(check=False).returncode != 0
    assert emulator.store.write_count == 0
    assert emulator.store.get_config("legacy_etl")["read_scaling"]["flock_size"] == 6

    # Growing needs no permission; preview names every field that changes.
    stack.run("config", "set", "rwSize", "mega")
    stack.run("config", "set", "flockSize", "8")
    preview = stack.preview()
    text = one_line(text_of(preview))
    assert (
        "will change its live Duckling configuration: read_write.instance_size: 'jumbo' -> "
        "'mega'; read_write.cooldown_seconds: 600 -> 300; read_scaling.flock_size: 6 -> 8"
    ) in text, text

    # Shrinking on purpose.
    stack.run("config", "set", "rwSize", "pulse")
    stack.run("config", "set", "flockSize", "0")
    stack.run("config", "set", "allowDownsize", "true")
    up = stack.up()
    assert "read_scaling.flock_size: 6 -> 0" in one_line(text_of(up))
    assert emulator.store.get_config("legacy_etl") == {
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "jumbo", "flock_size": 0, "cooldown_seconds": 60},
    }

    # A later flock change keeps the unchanged cooldowns known: nothing shows as removed.
    stack.run("config", "set", "flockSize", "2")
    preview = stack.preview("--diff")
    assert "- cooldown_seconds" not in preview.stdout, preview.stdout
    assert "cooldown_seconds: 60" in preview.stdout
    assert "1 to update" in preview.stdout


# --- 3, 5, 9: every problem at once, the token's username rule, collisions ------------------


def test_every_problem_reported_together_before_anything_is_sent(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(SAFETY, {"case": "invalid"})
    for proc in (stack.preview(check=False), stack.up(check=False)):
        assert proc.returncode != 0
        text = one_line(text_of(proc))
        assert "invalid inputs, 5 problems" in text, text
        for expected in (
            "ServiceAccount 'loader-upper': username: 'ETL_LOADER' is the same account as "
            "ServiceAccount 'loader' ('etl_loader'; usernames are case-insensitive)",
            "AccessToken 'dashed': username: 'ab-cd' may only contain letters, digits and '_'",
            "AccessToken 'empty': username: '' has 0 characters; a username has 3 to 255",
            "InstanceConfig 'ducklings': read_write: instance_size: 'huge' is not one of",
            "InstanceConfig 'ducklings': read_scaling: flock_size: 65 is out of range",
        ):
            assert expected in text, f"{expected!r} missing from:\n{text}"
        assert "adopt=True would make both own it" in text
        assert "Traceback" not in text
    assert emulator.store.requests == []
    assert stack.resources("ServiceAccount") == []


def test_twin_known_only_at_run_time_is_named_not_adopted(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(SAFETY, {"case": "twin"})
    up = stack.up(check=False)
    assert up.returncode != 0
    text = one_line(text_of(up))
    assert "which this stack also manages (usernames are case-insensitive)" in text, text
    assert "set adopt=True to manage" not in text
    assert len(emulator.store.users) == 1  # whichever of the two came first


# --- 8: a rename deletes the account: preview says so; no misleading "no reset" ------------


def test_new_account_then_rename(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    """A new account: no call in preview, cooldowns stay known; then a rename deletes it."""
    stack = emulator_stack(ACCOUNT, {"withToken": "false", "username": "etl_old"})
    stack.preview()
    assert len(emulator.store.requests) == 0, "preview of a new account called the API"
    stack.up()
    stack.run("config", "set", "flockSize", "4")
    start = len(emulator.store.requests)
    preview = stack.preview("--diff")
    assert len(emulator.store.requests) == start
    assert "- cooldown_seconds" not in preview.stdout, preview.stdout
    assert "~ flock_size      : 2 => 4" in preview.stdout

    stack.run("config", "set", "username", "etl_new")
    preview = stack.preview()
    text = one_line(text_of(preview))
    assert "service account 'etl_old' will be DELETED, with its data, tokens and Duckling " in text
    assert "after the new account 'etl_new' is created" in text
    up = stack.up()
    assert "MotherDuck has no reset" not in text_of(up)
    assert emulator.store.has_user("etl_new") and not emulator.store.has_user("etl_old")

    stack.run("config", "set", "username", "ETL_NEW")
    preview = stack.preview(check=False)
    assert preview.returncode != 0
    assert "'ETL_NEW' names the same account as 'etl_new'" in one_line(text_of(preview))


# --- 3c, 6, 7: Terraform config names, plaintext token, the token's source ----------------


def test_terraform_config_names_plaintext_warning_and_token_source(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(ACCOUNT, {"withToken": "false"})
    stack.run("config", "rm", "motherduck:token")
    stack.run("config", "rm", "motherduck:apiUrl")
    stack.run("config", "set", "--plaintext", "motherduck:apiBaseUrl", emulator.url)
    stack.run("config", "set", "--plaintext", "motherduck:adminToken", emulator.admin_token)
    up = stack.up()
    text = one_line(text_of(up))
    warning = "motherduck:adminToken holds a MotherDuck admin token in plain text"
    # Once per run, though two resources are declared.
    assert text.split("Diagnostics:", 1)[1].count(warning) == 1, text
    assert "1 warning" in text
    assert "pulumi config set --secret motherduck:adminToken`" in text
    assert emulator.store.has_user("etl_writer")

    stack.run("config", "set", "--plaintext", "motherduck:apiUrl", "http://127.0.0.1:1")
    clash = stack.preview(check=False)
    assert clash.returncode != 0
    assert "motherduck:apiUrl and motherduck:apiBaseUrl are both set, to different values" in (
        one_line(text_of(clash))
    )
    stack.run("config", "rm", "motherduck:apiUrl")

    # A DuckDB token in MOTHERDUCK_TOKEN (and no admin token set): the 401 names its source.
    stack.run("config", "rm", "motherduck:adminToken")
    stack.run("config", "set", "username", "etl_other")
    duckdb_token = "duckdb-user-token-not-an-admin-one"
    proc = stack._run(
        stack.project,
        "up",
        "--yes",
        "--skip-preview",
        check=False,
        env={"MOTHERDUCK_TOKEN": duckdb_token, "MOTHERDUCK_ADMIN_TOKEN": ""},
    )
    assert proc.returncode != 0
    text = one_line(text_of(proc))
    assert "401" in text and "MOTHERDUCK_TOKEN" in text, text
    assert duckdb_token not in text


# --- 2: scripts/down asks before it lifts protection ----------------------------------------


def project_copy(tmp_path: Path) -> Path:
    """The root project with its scripts, sharing this checkout's virtualenv (no install)."""
    dst = tmp_path / "repo"
    for name in ("scripts", "tools", "stack"):
        shutil.copytree(REPO_ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Pulumi.yaml", "pyproject.toml"):
        shutil.copy2(REPO_ROOT / name, dst / name)
    (dst / ".venv").symlink_to(REPO_ROOT / ".venv")
    return dst


def test_down_asks_first_and_never_leaves_state_less_protected(
    emulator: EmulatorServer, tmp_path: Path, pulumi_bin: Path
) -> None:
    project = project_copy(tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MOTHERDUCK_", "PULUMI_", "VIRTUAL_ENV"))
    }
    # A "real" endpoint as far as the scripts can tell: the emulator named in the environment.
    env.update(
        MOTHERDUCK_API_BASE_URL=emulator.url,
        MOTHERDUCK_ADMIN_TOKEN=emulator.admin_token,
        MOTHERDUCK_PULUMI_WORK=str(tmp_path / "work"),
    )

    def script(name: str, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", f"scripts/{name}", *args],
            cwd=project,
            env=env,
            input=answer,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def protected() -> dict[str, bool]:
        exported = subprocess.run(
            [str(pulumi_bin / "pulumi"), "stack", "export", "--stack", "local"],
            cwd=project,
            env={**env, **pulumi_env_for(tmp_path / "work", pulumi_bin)},
            capture_output=True,
            text=True,
            check=True,
        )
        resources = json.loads(exported.stdout)["deployment"].get("resources") or []
        return {
            r["urn"].rsplit("::", 1)[1]: bool(r.get("protect"))
            for r in resources
            if r["type"].endswith("ServiceAccount")
        }

    up = script("up", "--yes")
    assert up.returncode == 0, text_of(up)
    assert protected() == {"etl-writer": True, "bi-reader": True}

    no = script("down", answer="n\n")
    assert no.returncode != 0
    assert "Type 'yes' to go on" in no.stderr and "aborted: nothing was changed" in no.stderr
    assert "ServiceAccount etl-writer  (protected)" in no.stderr
    assert protected() == {"etl-writer": True, "bi-reader": True}
    assert set(emulator.store.users) == {"etl_writer", "bi_reader"}

    # Yes, but the destroy fails half way: what is left is protected again.
    emulator.store.faults.error("users-delete", status=500)
    failed = script("down", answer="yes\n")
    assert failed.returncode != 0
    assert "protected again" in failed.stderr, text_of(failed)
    assert protected() == {"etl-writer": True, "bi-reader": True}
    assert set(emulator.store.users) == {"etl_writer", "bi_reader"}

    emulator.store.faults.clear()
    done = script("down", answer="yes\n")
    assert done.returncode == 0, text_of(done)
    assert emulator.store.users == {}


def pulumi_env_for(work: Path, bin_dir: Path) -> dict[str, str]:
    from tools.pulumi_env import pulumi_environment

    return pulumi_environment(work, bin_dir)
