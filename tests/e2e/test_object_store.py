"""The state in an S3-compatible object store (MinIO on loopback), and runs that collide.

What holds on the file backend holds here, with as few `pulumi` runs as that takes:

* a stack's `up` killed (SIGKILL, the whole tree) while the emulator holds its account POST:
  the next `pulumi up` is refused by the lock object the kill left (Pulumi's message names the
  holder and `pulumi cancel`), the documented `recover --cancel` removes it and adopts the
  account, `up` finishes with 0 orphans, then refresh and preview find nothing to do, and
  `destroy` empties MotherDuck; what `recover` says about a stack file it cannot load there;
* runs that collide, on the file backend and on the object store: while a fleet runner's
  `pulumi up` of shard-0 is held, a plain `pulumi up`, a second fleet runner, `move` and
  `reshard` are refused with the holder (user@host, pid) and what to do; the first run then
  finishes, and the fleet is destroyed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.fleet import shard_of
from tests.e2e.conftest import REPO_ROOT, object_store_env
from tests.e2e.test_crash import CREATE_ACCOUNT, up_killed_while_held
from tests.e2e.test_faults import ACCOUNT, assert_matches_state
from tests.e2e.test_fleet import FleetProject, kill_tree, pulumi_up_of
from tools.minio import Server, put_object
from tools.pulumi_env import pulumi_environment

pytestmark = pytest.mark.e2e

EXAMPLE = REPO_ROOT / "examples" / "tenant-fleet"
# Three tenants over two shards, each shard with at least one.
TENANTS = ["acme", "globex", "initech"]
LOCKED = "the stack is currently locked by 1 lock(s)"


@pytest.fixture
def backend() -> str:
    """Where this test's state lives: `s3` (MinIO) unless the test is parametrized."""
    return "s3"


@pytest.fixture
def pulumi_env(
    pulumi_bin: Path, pulumi_work_dir: Path, backend: str, request: pytest.FixtureRequest
) -> dict[str, str]:
    """The usual environment, with the state in this test's own prefix of the bucket for s3."""
    env = pulumi_environment(pulumi_work_dir, pulumi_bin)
    if backend == "s3":
        server: Server = request.getfixturevalue("object_store")
        env.update(object_store_env(server, request.node.name))
    return env


def recover(project: Path, env: dict[str, str], pulumi: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motherduck_provider.recover", "--cancel", "--pulumi", str(pulumi)],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_stack_killed_recovered_refreshed_destroyed_on_the_object_store(
    emulator: EmulatorServer,
    emulator_stack: Callable[..., Any],
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
    pulumi_work_dir: Path,
    object_store: Server,
) -> None:
    pulumi = pulumi_bin / "pulumi"
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    up_killed_while_held(emulator, stack, pulumi_env, pulumi, CREATE_ACCOUNT, 1)
    assert emulator.store.has_user("etl_writer")

    refused = stack.up(check=False)  # the lock object the killed run left
    assert refused.returncode != 0
    assert LOCKED in refused.stderr and "`pulumi cancel`" in refused.stderr, refused.stderr
    assert f"s3://{object_store.bucket}/" in refused.stderr, refused.stderr

    done = recover(stack.project, pulumi_env, pulumi)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "object store" in done.stdout and "nothing to repair" in done.stdout, done.stdout
    assert "ran `pulumi cancel --yes`" in done.stdout and "adopting" in done.stdout, done.stdout
    up = stack.up()
    assert "+ 2 created" in up.stdout  # the token and the config; the account was adopted
    assert emulator.store.count(operation=CREATE_ACCOUNT) == 1
    assert_matches_state(emulator, stack)  # 0 orphans; refresh and preview find nothing

    stack.destroy()
    assert not emulator.store.users
    assert not [p for p in (pulumi_work_dir / "state").rglob("*") if p.is_file()]  # all in S3

    # A stack file that does not load: nothing to repair in place, the exact commands instead.
    url = pulumi_env["PULUMI_BACKEND_URL"].split("?")[0]
    project = yaml.safe_load((stack.project / "Pulumi.yaml").read_text())["name"]
    key = f"{url.split('/', 3)[3]}/.pulumi/stacks/{project}/dev.json"
    put_object(object_store.endpoint, object_store.bucket, key, b'{"version": 3, "checkpoint": ')
    broken = recover(stack.project, pulumi_env, pulumi)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    stack_file = f"s3://{object_store.bucket}/{key}"
    assert f"aws s3 cp {stack_file}.bak {stack_file}" in broken.stderr, broken.stderr
    assert f"--endpoint-url http://{object_store.endpoint}" in broken.stderr, broken.stderr


@pytest.fixture
def small_fleet(
    emulator: EmulatorServer,
    copy_project: Callable[[Path], Path],
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> FleetProject:
    """examples/tenant-fleet with three tenants over two shards, in this test's backend."""
    assert sorted({shard_of(t, 2) for t in TENANTS}) == [0, 1]
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
        "2",
        "--config",
        f"motherduck:apiUrl={emulator.url}",
        "--config",
        "motherduck:requestTimeout=300",  # the held request waits while the others are refused
        "--secret",
        "motherduck:token=FLEET_ADMIN_TOKEN",
        "--config",
        "protect=false",
    )
    return made


@pytest.mark.parametrize("backend", ["file", "s3"])
def test_runs_that_collide_are_refused(
    emulator: EmulatorServer, small_fleet: FleetProject, backend: str
) -> None:
    fleet = small_fleet
    emulator.store.faults.hold(CREATE_ACCOUNT, count=1)
    log = fleet.project / "first-runner.log"
    with log.open("w") as out:
        runner = subprocess.Popen(  # shard-0 first, its first account POST held
            [*fleet.argv(), "up", "--parallel", "1"],
            cwd=fleet.project,
            env=fleet.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not emulator.store.faults.held:
            assert runner.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the account POST was never sent"
            time.sleep(0.02)
        holder = f"(pid {pulumi_up_of(runner.pid)})"

        # A plain `pulumi up`: Pulumi's own refusal names the lock, its holder and `pulumi cancel`.
        plain = subprocess.run(
            [str(fleet.pulumi), "--non-interactive", "up", "--yes", "--stack", "shard-0"],
            cwd=fleet.project,
            env=fleet.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert plain.returncode != 0
        assert LOCKED in plain.stderr and holder in plain.stderr, plain.stderr
        assert "`pulumi cancel`" in plain.stderr, plain.stderr
        # A second fleet runner: its summary names the cause in one line.
        second = fleet.run("up", "--shard", "0", code=1).stdout
        assert "shard-0: lock held by " in second and holder in second, second
        assert "another run of this stack is going on; wait for it to end" in second, second
        # Moves refuse before changing anything.
        moved = next(t for t in TENANTS if shard_of(t, 2) == 1)
        for args in (("move", moved, "--to", "0"), ("reshard", "--shards", "3")):
            refused = fleet.run(*args, code=2).stderr
            assert f"`{' '.join(args)}` refused, nothing was changed" in refused, refused
            assert "shard-0: lock held by " in refused and holder in refused, refused
            assert "Wait for that run to end" in refused, refused
        assert not (fleet.project / "Pulumi.shard-2.yaml").exists()
        assert "fleetPins" not in (fleet.project / "Pulumi.shard-0.yaml").read_text()

        emulator.store.faults.release()
        assert runner.wait(timeout=300) == 0, log.read_text()
    finally:
        if runner.poll() is None:
            kill_tree(runner.pid)
    assert "total   2/2 ok" in log.read_text(), log.read_text()
    assert sorted(emulator.store.users) == sorted(TENANTS)
    assert emulator.store.count(operation=CREATE_ACCOUNT) == len(TENANTS)
    for k in range(2):
        assert not fleet.export(f"shard-{k}").get("pending_operations")

    fleet.run("destroy")
    assert not emulator.store.users
