"""Kill points of the one-step form through the provider plugin (`programs/killsteps_plugin`,
Pulumi YAML): its create and a rotation, and `--adopt` after Pulumi's own hint.

How and what is checked: `tests/e2e/killsteps.py`. The plugin's resources are
`motherduck:index:*` with camelCase state; `python -m motherduck_provider.recover --cancel` and
one `pulumi up` must bring them back exactly as they do the Python program's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.killsteps import (
    Point,
    SteppedUp,
    assert_converged,
    kill_at,
    killed_at_test,
    points,
)
from tests.e2e.test_plugin_yaml import pulumi_env, yaml_bin  # noqa: F401
from tests.e2e.test_recover_storage import recover

pytestmark = pytest.mark.e2e


test_killed_at = killed_at_test(points("plugin-create") + points("plugin-rotate"))


def test_adopt_after_pulumi_cleared_the_pending_create(
    stepped: Callable[[str], SteppedUp],
    emulator: EmulatorServer,
    pulumi_env: dict[str, str],  # noqa: F811
    pulumi_bin: Path,
) -> None:
    """Pulumi's own hint (`refresh --clear-pending-creates`) ran first: `--adopt` brings the
    plugin's account back, as it does the Python program's."""
    up = stepped("plugin-create")
    print(kill_at(up, Point("plugin-create", "write", 1)))  # the account POST applied
    stack = up.stack
    stack.run("cancel", "--yes")
    stack.refresh("--clear-pending-creates")
    failed = stack.up(check=False)
    command = "python -m motherduck_provider.recover --adopt ks_plugin"
    assert failed.returncode != 0 and f"`{command}`, then `pulumi up`" in failed.stdout

    done = recover(stack, pulumi_env, pulumi_bin / "pulumi", "--adopt", "ks_plugin")
    assert done.returncode == 0, done.stdout + done.stderr
    stack.up()
    assert_converged(emulator, stack, ("ks_plugin",))
