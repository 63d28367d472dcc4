"""A file backend that writes no metadata sidecars (`file://<dir>?metadata=skip`).

docs/recover.md advises it for local state: the file backend then writes no `X.attrs` beside
each file, so a kill cannot leave one empty (the failure `recover` repairs), and the engine
spends no CPU on their MD5 (docs/performance.md). Here a `pulumi up` is killed with the
account POST in flight on such a backend; the documented `recover --cancel` and one `pulumi up`
converge, and no sidecar was ever written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.test_crash import CREATE_ACCOUNT, up_killed_while_held
from tests.e2e.test_faults import ACCOUNT, assert_matches_state
from tests.e2e.test_recover_storage import recover, stack_file

pytestmark = pytest.mark.e2e

MakeStack = Callable[..., Any]


@pytest.fixture
def pulumi_env(pulumi_env: dict[str, str]) -> dict[str, str]:
    """This test's backend URL with `?metadata=skip` (every command of the test uses it)."""
    return {**pulumi_env, "PULUMI_BACKEND_URL": pulumi_env["PULUMI_BACKEND_URL"] + "?metadata=skip"}


def test_killed_run_recovers_and_no_sidecar_is_written(
    emulator: EmulatorServer,
    emulator_stack: MakeStack,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    pulumi = pulumi_bin / "pulumi"
    up_killed_while_held(emulator, stack, pulumi_env, pulumi, CREATE_ACCOUNT, 1)

    done = recover(stack, pulumi_env, pulumi, "--cancel")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "adopting" in done.stdout
    stack.up()
    assert emulator.store.count(operation=CREATE_ACCOUNT) == 1
    assert_matches_state(emulator, stack)
    stack.preview("--expect-no-changes")
    assert "dev" in stack.run("stack", "ls").stdout

    state = stack.work_dir / "state"
    assert stack_file(stack).exists() and stack_file(stack, ".bak").exists()
    assert not sorted(state.rglob("*.attrs")), "the backend wrote metadata sidecars"
