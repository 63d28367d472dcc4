"""Moving accounts between shards without deleting anything: `pulumi state move`.

An account's resources (its `ManagedAccount` with every child, or a top-level `ServiceAccount`
with the top-level tokens and configs of the same username) leave one shard's state and enter
another's as they are: ids, token secrets (re-encrypted for the new stack), marks. Then the
fleet config changes so that the program declares them in the new shard; the next `up` of both
shards has nothing to do. The state moves first: if the config change fails, running the same
command again finishes it (a move finds the account already where it should be), and in
between a protected account refuses deletion rather than disappearing. Both refuse, before
changing anything, while another run holds the lock of one of the fleet's stacks (`locks.py`).
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .assignment import CONFIG_NAMESPACE, PINS_KEY, SHARDS_KEY, account_key, shard_of
from .layout import FleetError, FleetFile
from .locks import refuse_if_locked
from .runner import Fleet
from .shards import create_stacks

DYNAMIC = "pulumi-python:dynamic/motherduck:"
STACK_TYPE = "pulumi:pulumi:Stack"

Print = Callable[[str], None]


def _key(name: str) -> str:
    return f"{CONFIG_NAMESPACE}:{name}"


def account_units(resources: list[dict[str, Any]]) -> dict[str, set[str]]:
    """{casefolded username: top-level URNs that hold its resources} of one stack's state."""
    by_urn = {r["urn"]: r for r in resources}
    units: dict[str, set[str]] = defaultdict(set)
    for resource in resources:
        if not str(resource.get("type", "")).startswith(DYNAMIC):
            continue
        username = (resource.get("outputs") or {}).get("username") or (
            resource.get("inputs") or {}
        ).get("username")
        if not isinstance(username, str):
            continue
        urn = resource["urn"]
        while True:  # climb to the child of the stack: `state move` takes its children along
            parent = by_urn.get(by_urn[urn].get("parent") or "")
            if parent is None or parent.get("type") == STACK_TYPE:
                break
            urn = parent["urn"]
        units[account_key(username)].add(urn)
    return dict(units)


def stack_units(fleet: Fleet, stack: str) -> dict[str, set[str]]:
    exported = fleet.open(stack).export_stack().deployment or {}
    if exported.get("pending_operations"):
        raise FleetError(
            f"{stack}: has pending operations; run `... recover --shard N` for it first"
        )
    return account_units(list(exported.get("resources") or []))


def state_move(fleet: Fleet, source: str, dest: str, urns: Iterable[str]) -> None:
    """`pulumi state move` of `urns` (and their children) from `source` to `dest`."""
    urns = sorted(urns)
    proc = subprocess.run(
        [
            fleet.command.command,
            "--non-interactive",
            "state",
            "move",
            "--yes",
            "--source",
            source,
            "--dest",
            dest,
            *urns,
        ],
        cwd=fleet.project,
        env={**_base_env(), **fleet.env},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise FleetError(
            f"pulumi state move {source} -> {dest} exited {proc.returncode}: "
            f"{(proc.stderr or proc.stdout).strip()[-500:]} (if it names a provider: the two "
            "stacks recorded different config; keep the shards' config the same and run "
            "`... up` on both first)"
        )


def _base_env() -> dict[str, str]:
    import os

    return dict(os.environ)


def read_pins(fleet: Fleet, stack: str) -> dict[str, int]:
    config = fleet.open(stack).get_all_config()
    raw = config.get(_key(PINS_KEY))
    return {str(k): int(v) for k, v in json.loads(raw.value).items()} if raw else {}


def write_fleet_config(fleet: Fleet, spec: FleetFile, pins: dict[str, int]) -> None:
    """Every shard's `fleetShards` and `fleetPins` (the same in each)."""
    from pulumi import automation as auto

    for stack_name in spec.stacks:
        values = {_key(SHARDS_KEY): auto.ConfigValue(str(spec.shards))}
        stack = fleet.open(stack_name)
        if pins:
            values[_key(PINS_KEY)] = auto.ConfigValue(json.dumps(pins, sort_keys=True))
        else:
            stack.remove_config(_key(PINS_KEY))
        stack.set_all_config(values)


def move_account(fleet: Fleet, spec: FleetFile, username: str, to: int, say: Print) -> None:
    """Move one account to shard `to`, and pin it there."""
    if not 0 <= to < spec.shards:
        raise FleetError(f"--to: {to} is not a shard within 0..{spec.shards - 1}")
    refuse_if_locked(fleet, spec.stacks, f"move {username} --to {to}")
    key = account_key(username)
    holders = {s: units[key] for s in spec.stacks if key in (units := stack_units(fleet, s))}
    dest = spec.stack(to)
    if len(holders) > 1:
        raise FleetError(f"{username}: in the state of {', '.join(holders)}; merge by hand first")
    if not holders:
        raise FleetError(f"{username}: in no shard's state (a typo, or not created yet?)")
    [(source, urns)] = holders.items()
    if source != dest:
        state_move(fleet, source, dest, urns)
        say(f"{username}: moved {len(urns)} resource(s) with children from {source} to {dest}")
    else:
        say(f"{username}: already in {dest}")
    pins = read_pins(fleet, spec.stack(0))
    if shard_of(username, spec.shards) == to:
        pins.pop(key, None)
    else:
        pins[key] = to
    write_fleet_config(fleet, spec, pins)


def reshard(fleet: Fleet, spec: FleetFile, shards: int, say: Print) -> FleetFile:
    """Spread every account over `shards` stacks by the hash (pins within range are kept)."""
    from pulumi import automation as auto

    refuse_if_locked(fleet, spec.stacks, f"reshard --shards {shards}")
    new = FleetFile(spec.stack_prefix, shards)
    pins = {u: k for u, k in read_pins(fleet, spec.stack(0)).items() if k < shards}
    base = fleet.open(spec.stack(0)).get_all_config()
    copied = {name: auto.ConfigValue(v.value, v.secret) for name, v in base.items()}
    added = [new.stack(k) for k in range(spec.shards, shards)]
    create_stacks(fleet, added, shards, copied)  # shard 0's config; secrets stay secret
    for name in added:
        say(f"{name}: created")
    moves: dict[tuple[str, str], set[str]] = defaultdict(set)
    for k, source in enumerate(spec.stacks):
        for username, urns in stack_units(fleet, source).items():
            target = pins.get(username, shard_of(username, shards))
            if target != k:
                moves[(source, new.stack(target))].update(urns)
    for (source, dest), urns in sorted(moves.items()):
        state_move(fleet, source, dest, urns)
        say(f"{source} -> {dest}: moved {len(urns)} account unit(s)")
    write_fleet_config(fleet, new, pins)
    for k in range(shards, spec.shards):  # emptied stacks: nothing of ours is left in them
        name = spec.stack(k)
        if stack_units(fleet, name):
            raise FleetError(f"{name}: still holds accounts after the moves; not removed")
        stack = fleet.open(name)
        stack.destroy(color="never")  # only the stack and provider entries remain: no API call
        stack.workspace.remove_stack(name)
        say(f"{name}: removed (empty)")
    new.save(fleet.project)
    return new
