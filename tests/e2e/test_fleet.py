"""A fleet of 3 shard stacks (8 tenants) through the runner, against the emulator.

One shard's `pulumi` is killed (by pid) while the emulator holds its account POST; the other
shards finish; `recover --failed` and `up --failed` bring back exactly that shard. Then the
union of the shards' states is held against what the emulator holds (0 orphans, 0 duplicates),
the outputs are gathered, one account is moved and the fleet is resharded to 4, then 2 (token
ids and secrets unchanged, no deletes, the next `up` a no-op) and everything is destroyed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.fleet import shard_of
from motherduck_provider.fleet.layout import RunRecord
from motherduck_provider.fleet.moves import account_units
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.test_crash import CREATE_ACCOUNT, descendants

pytestmark = pytest.mark.e2e

EXAMPLE = REPO_ROOT / "examples" / "tenant-fleet"
TENANTS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell"]
DYNAMIC = "pulumi-python:dynamic/motherduck:"
DELETE_ACCOUNT = "users-delete"


class FleetProject:
    """The example copied under tmp, driven through `python -m motherduck_provider.fleet`."""

    def __init__(self, project: Path, env: dict[str, str], pulumi: Path) -> None:
        self.project = project
        self.env = env
        self.pulumi = pulumi

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "motherduck_provider.fleet", "--pulumi", str(self.pulumi)]

    def run(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*self.argv(), *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == code, f"fleet {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def outputs(self, show_secrets: bool = False) -> dict[str, Any]:
        args = ["outputs", "--show-secrets"] if show_secrets else ["outputs"]
        return dict(json.loads(self.run(*args).stdout))

    def consumer(self, shards: int) -> Callable[..., Any]:
        """`up` the consumer project (FleetReference); return `pulumi <args>` -> parsed JSON."""
        project = self.project / "consumer"
        manifest = project / "Pulumi.yaml"
        manifest.write_text(
            manifest.read_text().replace("virtualenv: ../../../.venv", f"virtualenv: {sys.prefix}")
        )

        def pulumi(*args: str) -> Any:
            proc = subprocess.run(
                [str(self.pulumi), "--non-interactive", *args],
                cwd=project,
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert proc.returncode == 0, f"pulumi {args}\n{proc.stdout}\n{proc.stderr}"
            return json.loads(proc.stdout) if "--json" in args or "export" in args else None

        pulumi("stack", "init", "dev")
        pulumi("config", "set", "shards", str(shards))
        pulumi("up", "--yes", "--skip-preview")
        return pulumi

    def export(self, stack: str) -> dict[str, Any]:
        proc = subprocess.run(
            [str(self.pulumi), "--non-interactive", "stack", "export", "--stack", stack],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(proc.stdout)["deployment"])


def assert_fleet_matches(emulator: EmulatorServer, fleet: FleetProject, shards: int) -> None:
    """The emulator holds exactly the union of the shards' accounts and tokens, each once."""
    accounts: list[str] = []
    tokens: list[str] = []
    for k in range(shards):
        deployment = fleet.export(f"shard-{k}")
        assert not deployment.get("pending_operations"), (k, deployment["pending_operations"])
        ours = [r for r in deployment.get("resources") or [] if r["type"].startswith(DYNAMIC)]
        mine = [r["id"] for r in ours if r["type"].endswith(":ServiceAccount")]
        accounts += mine
        tokens += [r["outputs"]["token_id"] for r in ours if r["type"].endswith(":AccessToken")]
        for r in ours:  # the one-step form: the account holds its tokens
            tokens += (r["outputs"].get("token_ids") or {}).values()
        for r in ours:  # every resource sits in the shard that owns its account
            assert r["outputs"]["username"] in mine, (k, r["urn"])
    duplicated = [name for name, n in Counter(accounts).items() if n > 1]
    assert not duplicated, f"in two shards: {duplicated}"
    assert sorted(emulator.store.users) == sorted(accounts) == sorted(TENANTS)
    live = sorted(t.id for name in accounts for t in emulator.store.list_tokens(name))
    assert live == sorted(tokens), f"MotherDuck holds {live}, state {sorted(tokens)}"


def kill_tree(pid: int) -> None:
    for each in descendants(pid):
        try:
            os.kill(each, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pulumi_up_of(runner: int) -> int:
    """The pid of the `pulumi up` the runner (pid `runner`) started."""
    for pid in descendants(runner):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"pulumi") and b"up" in argv:
            return pid
    raise AssertionError("no `pulumi up` under the runner")


@pytest.fixture
def fleet(
    emulator: EmulatorServer,
    copy_project: Callable[[Path], Path],
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> FleetProject:
    project = copy_project(EXAMPLE)
    manifest = project / "Pulumi.yaml"
    text = manifest.read_text().replace("virtualenv: ../../.venv", f"virtualenv: {sys.prefix}")
    manifest.write_text(text)
    (project / "tenants.json").write_text(json.dumps(TENANTS))
    env = {
        **os.environ,
        **pulumi_env,
        "FLEET_ADMIN_TOKEN": emulator.admin_token,
        "PYTHONPATH": str(REPO_ROOT),
    }
    made = FleetProject(project, env, pulumi_bin / "pulumi")
    made.run(
        "init",
        "--shards",
        "3",
        "--config",
        f"motherduck:apiUrl={emulator.url}",
        "--secret",
        "motherduck:token=FLEET_ADMIN_TOKEN",
        "--config",
        "protect=false",
    )
    return made


def test_fleet_crash_rerun_outputs_move_reshard_destroy(
    emulator: EmulatorServer, fleet: FleetProject
) -> None:
    assert [shard_of(t, 3) for t in TENANTS].count(0) == 1  # shard-0 holds acme alone

    # Shards one at a time (deterministic order): shard-0's account POST is held, its
    # `pulumi` is killed, and shards 1 and 2 still run.
    emulator.store.faults.slow(CREATE_ACCOUNT, seconds=3, count=1)
    log = fleet.project / "killed-fleet.log"
    with log.open("w") as out:
        runner = subprocess.Popen(
            [*fleet.argv(), "up", "--parallel", "1"],
            cwd=fleet.project,
            env=fleet.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while emulator.store.faults.rules:
            assert runner.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the account POST was never sent"
            time.sleep(0.02)
        kill_tree(pulumi_up_of(runner.pid))
        assert runner.wait(timeout=300) == 1, log.read_text()
    finally:
        if runner.poll() is None:
            kill_tree(runner.pid)
    summary = log.read_text()
    assert "total   2/3 ok" in summary, summary
    assert "shard-0: killed (SIGKILL) before `up` finished" in summary, summary
    assert RunRecord(fleet.project).failed("up") == ["shard-0"]
    deadline = time.monotonic() + 30
    while not emulator.store.has_user("acme"):  # the held POST lands after the kill
        assert time.monotonic() < deadline
        time.sleep(0.05)

    recovered = fleet.run("recover", "--failed")
    assert "shard-0: " in recovered.stdout and "shard-1" not in recovered.stdout
    assert "adopting" in recovered.stdout  # the account the killed run created
    rerun = fleet.run("up", "--failed")
    assert "shard-0: up succeeded" in rerun.stdout
    assert "shard-1" not in rerun.stdout and "shard-2" not in rerun.stdout
    assert emulator.store.count(operation=CREATE_ACCOUNT) == len(TENANTS)
    assert RunRecord(fleet.project).failed("up") == []
    assert_fleet_matches(emulator, fleet, 3)
    refresh = fleet.run("refresh", "--expect-no-changes").stdout
    assert "shard-2: refresh succeeded" in refresh and " 0 API calls" not in refresh

    # Outputs of every shard in one call; secrets masked unless asked for.
    masked = fleet.outputs()
    assert sorted(masked["accounts"]) == sorted(TENANTS)
    assert set(masked["tokens"].values()) == {"[secret]"}
    before = fleet.outputs(show_secrets=True)
    assert all(len(secret) > 20 for secret in before["tokens"].values())
    for secret in before["tokens"].values():
        assert secret not in json.dumps(masked)
    consumer = fleet.consumer(shards=3)
    assert consumer("stack", "output", "tenants", "--json") == sorted(TENANTS)
    assert consumer("stack", "output", "tokens", "--json") == "[secret]"
    assert consumer("stack", "output", "tokens", "--json", "--show-secrets") == before["tokens"]
    exported = json.dumps(consumer("stack", "export"))
    assert not [s for s in before["tokens"].values() if s in exported]
    emulator.store.faults.clear()
    deletes = emulator.store.count(operation=DELETE_ACCOUNT)
    calls = len(emulator.store.requests)

    # Move one account, then change the shard count: nothing is deleted or re-created.
    moved = next(t for t in TENANTS if shard_of(t, 3) == 1)
    fleet.run("move", moved, "--to", "0")
    noop = fleet.run("up", "--expect-no-changes")
    assert "total   3/3 ok" in noop.stdout
    assert fleet.outputs(show_secrets=True) == before
    assert moved in account_units(fleet.export("shard-0")["resources"])
    assert moved not in account_units(fleet.export("shard-1")["resources"])
    for shards in (4, 2):  # grow (new stacks get the config, the secret too), then shrink
        fleet.run("reshard", "--shards", str(shards))
        fleet.run("up", "--expect-no-changes")
        assert fleet.outputs(show_secrets=True) == before
        assert_fleet_matches(emulator, fleet, shards)
    assert len(emulator.store.requests) == calls  # moves, no-op ups, outputs: no API call
    assert emulator.store.count(operation=DELETE_ACCOUNT) == deletes == 0
    assert not (fleet.project / "Pulumi.shard-2.yaml").exists()
    assert emulator.admin_token not in (fleet.project / "Pulumi.shard-1.yaml").read_text()

    fleet.run("destroy")
    assert not emulator.store.users
    assert emulator.store.count(operation=DELETE_ACCOUNT) == len(TENANTS)
