"""Creating shard stacks: every shard gets the same config (the shard is in the stack name)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .assignment import CONFIG_NAMESPACE, SHARDS_KEY
from .runner import Fleet

if TYPE_CHECKING:
    from pulumi import automation as auto


def create_stacks(
    fleet: Fleet, names: Iterable[str], shards: int, values: Mapping[str, auto.ConfigValue]
) -> None:
    """Create (or select) each stack and set `values` plus `motherduck:fleetShards` in it."""
    from pulumi import automation as auto

    for name in names:
        stack = auto.create_or_select_stack(
            stack_name=name,
            work_dir=str(fleet.project),
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(fleet.project), env_vars=fleet.env, pulumi_command=fleet.command
            ),
        )
        stack.set_all_config(
            {**values, f"{CONFIG_NAMESPACE}:{SHARDS_KEY}": auto.ConfigValue(str(shards))}
        )
