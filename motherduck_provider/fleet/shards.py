"""Creating shard stacks: every shard gets the same config (the shard is in the stack name)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .assignment import CONFIG_NAMESPACE, SHARDS_KEY
from .layout import FleetError
from .runner import Fleet

if TYPE_CHECKING:
    from pulumi import automation as auto


def create_stacks(
    fleet: Fleet, names: Iterable[str], shards: int, values: Mapping[str, auto.ConfigValue]
) -> None:
    """Create (or select) each stack and set `values` plus `motherduck:fleetShards` in it.

    Secrets go to `pulumi config set --secret` on stdin: the Automation API's `set_all_config`
    would put them on a command line, where any local user can read them.
    """
    from pulumi import automation as auto

    plain = {k: v for k, v in values.items() if not v.secret}
    plain[f"{CONFIG_NAMESPACE}:{SHARDS_KEY}"] = auto.ConfigValue(str(shards))
    for name in names:
        stack = auto.create_or_select_stack(
            stack_name=name,
            work_dir=str(fleet.project),
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(fleet.project), env_vars=fleet.env, pulumi_command=fleet.command
            ),
        )
        stack.set_all_config(plain)
        for key, value in values.items():
            if value.secret:
                set_secret(fleet, name, key, value.value)


def set_secret(fleet: Fleet, stack: str, key: str, value: str) -> None:
    """`pulumi config set --secret KEY` with the value on stdin."""
    proc = subprocess.run(
        [
            fleet.command.command,
            "--non-interactive",
            "config",
            "set",
            "--secret",
            key,
            "--stack",
            stack,
        ],
        input=value,
        cwd=fleet.project,
        env={**os.environ, **fleet.env},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise FleetError(f"{stack}: setting secret {key} failed: {proc.stderr.strip()[-300:]}")
