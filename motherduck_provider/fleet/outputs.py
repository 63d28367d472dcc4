"""The outputs of every shard as one, for consumers: a Pulumi program or a script.

Shards export the same names, each with its own accounts (e.g. `accounts`: {username: {...}}).
Merged, a name whose values are all maps is one map (an account in two shards is an error: it
is managed twice); any other name becomes {stack: value}. A value that is secret in any shard
stays secret in the merge (`Output.all` carries secretness), and the script form masks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

MASK = "[secret]"


def merge_values(name: str, stacks: Sequence[str], values: Sequence[Any]) -> Any:
    """One value for output `name` from the shards' values (None: the shard has none)."""
    present = [(s, v) for s, v in zip(stacks, values, strict=True) if v is not None]
    if present and all(isinstance(v, Mapping) for _, v in present):
        merged: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for stack, value in present:
            for key, item in value.items():
                if key in seen:
                    raise ValueError(
                        f"output {name!r}: key {key!r} is in stacks {seen[key]!r} and "
                        f"{stack!r}; an account must belong to one shard"
                    )
                seen[key] = stack
                merged[key] = item
        return merged
    return dict(present)


class FleetReference:
    """The shards of a fleet read from a consumer program, one `StackReference` each.

    `project` is `<organization>/<project>` (`organization/<project>` on a file backend)::

        fleet = FleetReference("organization/tenant-fleet", shards=3)
        accounts = fleet.get_output("accounts")   # one Output, secret if any shard's is
    """

    def __init__(
        self,
        project: str,
        *,
        shards: int,
        stack_prefix: str = "shard",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.stacks = [f"{stack_prefix}-{k}" for k in range(shards)]
        self.references = [
            pulumi.StackReference(f"{project}/{stack}", opts=opts) for stack in self.stacks
        ]

    def get_output(self, name: str) -> pulumi.Output[Any]:
        """Output `name` of every shard, merged (see `merge_values`)."""
        parts = [ref.get_output(name) for ref in self.references]
        stacks = self.stacks
        return pulumi.Output.all(*parts).apply(lambda values: merge_values(name, stacks, values))


def mask(value: Any) -> Any:
    """A secret with its values hidden; a map keeps its keys (usernames), so it still merges."""
    if isinstance(value, Mapping):
        return {key: mask(item) for key, item in value.items()}
    return MASK


def merge_outputs(
    per_stack: Mapping[str, Mapping[str, tuple[Any, bool]]], show_secrets: bool
) -> dict[str, Any]:
    """Script form: {stack: {name: (value, secret)}} merged by name, secrets masked unless shown."""
    stacks = list(per_stack)
    names = sorted({name for outputs in per_stack.values() for name in outputs})
    merged: dict[str, Any] = {}
    for name in names:
        entries = [per_stack[s].get(name) for s in stacks]
        values = [None if e is None else e[0] for e in entries]
        if not show_secrets:
            values = [
                mask(v) if e is not None and e[1] else v
                for e, v in zip(entries, values, strict=True)
            ]
        merged[name] = merge_values(name, stacks, values)
    return merged
