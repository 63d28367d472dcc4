"""`pulumi up` killed with SIGKILL at a chosen write, then the README's recovery.

The emulator holds the chosen request (a latency rule), the test kills the CLI and every
process it started (the language host and the provider run in process groups of their own,
so the whole tree goes, as when a CI runner dies), and the held request then lands with nobody
left to hear the answer. The recovery is the earlier sequence "When a run is interrupted" keeps
working: `pulumi cancel`, `python -m motherduck_provider.recover`, `pulumi up` (the documented
`recover --cancel` is tested in `test_recover_storage.py`). Afterwards MotherDuck holds exactly
what state says.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.test_faults import ACCOUNT, assert_matches_state, wait_for

pytestmark = pytest.mark.e2e

CREATE_ACCOUNT = "users-createServiceAccount"
CREATE_TOKEN = "users-createToken"

MakeStack = Callable[..., Any]


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (by parent links in /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def up_killed_while_held(
    emulator: EmulatorServer,
    stack: Any,
    env: dict[str, str],
    pulumi: Path,
    operation: str,
    landed: int,
) -> None:
    """Start `pulumi up`, SIGKILL it and its tree while `operation` is held, let it land."""
    emulator.store.faults.slow(operation, seconds=2, count=1)
    log = stack.project / "killed-up.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(pulumi), "--non-interactive", "up", "--yes", "--skip-preview"],
            cwd=stack.project,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while emulator.store.faults.rules:  # the rule is used up once the request is held
            if proc.poll() is not None:
                pytest.fail(f"pulumi up ended before the held request:\n{log.read_text()}")
            assert time.monotonic() < deadline, "the request was never sent"
            time.sleep(0.02)
        tree = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    finally:
        proc.wait(timeout=30)
    wait_for(emulator, operation, landed)  # the held request was applied after the kill


def recover(stack: Any, env: dict[str, str], pulumi: Path) -> subprocess.CompletedProcess[str]:
    """The documented recovery, before the next `pulumi up`."""
    stack.run("cancel", "--yes")
    proc = subprocess.run(
        [sys.executable, "-m", "motherduck_provider.recover", "--pulumi", str(pulumi / "pulumi")],
        cwd=stack.project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def crash(
    emulator: EmulatorServer, pulumi_env: dict[str, str], pulumi_bin: Path
) -> Callable[..., None]:
    def run(stack: Any, operation: str, landed: int) -> None:
        up_killed_while_held(emulator, stack, pulumi_env, pulumi_bin / "pulumi", operation, landed)

    return run


def test_killed_while_creating_the_account(
    emulator: EmulatorServer,
    emulator_stack: MakeStack,
    crash: Callable[..., None],
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    """Killed with the account POST in flight: the account exists, state has a pending create."""
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    crash(stack, CREATE_ACCOUNT, 1)
    assert emulator.store.has_user("etl_writer")
    pending = stack.export()["deployment"].get("pending_operations") or []
    assert [op["type"] for op in pending] == ["creating"]

    done = recover(stack, pulumi_env, pulumi_bin)
    assert "adopting" in done.stdout
    up = stack.up()
    assert "+ 2 created" in up.stdout  # the token and the config; the account was adopted
    assert emulator.store.count(operation=CREATE_ACCOUNT) == 1
    assert_matches_state(emulator, stack)


def test_killed_while_creating_the_token(
    emulator: EmulatorServer,
    emulator_stack: MakeStack,
    crash: Callable[..., None],
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    """Killed with the token POST in flight: the token is valid and nobody holds its secret.

    `pulumi cancel` and `pulumi up` alone already revoke it (the recovery command, run after,
    only clears the pending create Pulumi keeps warning about).
    """
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    crash(stack, CREATE_TOKEN, 1)
    tokens = emulator.store.list_tokens("etl_writer")
    assert len(tokens) == 1, (tokens, (stack.project / "killed-up.log").read_text())
    orphan = tokens[0]

    stack.run("cancel", "--yes")
    up = stack.up()
    assert f"revoking token {orphan.id}" in up.stdout
    assert orphan.id not in [t.id for t in emulator.store.list_tokens("etl_writer")]
    assert "dropping the pending create" in recover(stack, pulumi_env, pulumi_bin).stdout
    assert_matches_state(emulator, stack)


def test_killed_while_rotating(
    emulator: EmulatorServer,
    emulator_stack: MakeStack,
    crash: Callable[..., None],
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    """Killed with the rotation's new-token POST in flight; `cancel` + `up` finish it."""
    stack = emulator_stack(ACCOUNT, {"ttl": "3600", "rotateBefore": "3000"})
    emulator.store.clock.advance(-700)  # the token is due for rotation from the next run on
    stack.up()
    emulator.store.clock.reset()
    old = stack.outputs()["token_id"]
    crash(stack, CREATE_TOKEN, 2)
    assert len(emulator.store.list_tokens("etl_writer")) == 2  # the old one and a lost one

    stack.run("cancel", "--yes")  # an interrupted update leaves no pending create
    up = stack.up()
    assert "1 updated" in up.stdout
    new = stack.outputs()["token_id"]
    assert new != old
    assert_matches_state(emulator, stack)
