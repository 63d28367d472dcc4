"""A file backend that writes no metadata sidecars (`file://<dir>?metadata=skip`).

docs/recover.md advises it for local state: the file backend then writes no `X.attrs` beside
each file, so a kill cannot leave one empty (the failure `recover` repairs), and the engine
spends no CPU on their MD5 (docs/performance.md). Here a `pulumi up` is killed with the
account POST in flight on such a backend; the documented `recover --cancel` and one `pulumi up`
converge, and no sidecar was ever written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.test_recover_storage import (  # noqa: F401 (killed_create: a fixture)
    killed_create,
    recover,
    stack_file,
    up_after_adopting,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def pulumi_env(pulumi_env: dict[str, str]) -> dict[str, str]:
    """This test's backend URL with `?metadata=skip` (every command of the test uses it)."""
    return {**pulumi_env, "PULUMI_BACKEND_URL": pulumi_env["PULUMI_BACKEND_URL"] + "?metadata=skip"}


def test_killed_run_recovers_and_no_sidecar_is_written(
    emulator: EmulatorServer,
    killed_create: Any,  # noqa: F811
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    stack = killed_create
    done = recover(stack, pulumi_env, pulumi_bin / "pulumi", "--cancel")
    assert done.returncode == 0, done.stdout + done.stderr
    up_after_adopting(emulator, stack, done)
    stack.preview("--expect-no-changes")
    assert "dev" in stack.run("stack", "ls").stdout

    state = stack.work_dir / "state"
    assert stack_file(stack).exists() and stack_file(stack, ".bak").exists()
    assert not sorted(state.rglob("*.attrs")), "the backend wrote metadata sidecars"
