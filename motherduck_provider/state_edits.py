"""The edits `python -m motherduck_provider.recover` makes to an exported deployment.

Both record a service account as created, with the username as its id (exactly what our create
returns), in the shape the engine records a create: inputs, outputs, parent, provider
reference, dependencies and `protect` of the resource the program registers.

* `plan_recovery` takes that resource from a pending create the killed run left;
* `adopt_declared` takes it from `pulumi preview --json` (the program's registration), for
  accounts whose pending create is gone because `pulumi refresh --clear-pending-creates` ran.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TYPE_PREFIX = "pulumi-python:dynamic/motherduck:"
ACCOUNT = TYPE_PREFIX + "ServiceAccount"
# The provider plugin's type tokens (`plugin.schema.token`): the same resources, same rules.
PLUGIN_TYPE_PREFIX = "motherduck:index:"
ACCOUNTS = (ACCOUNT, PLUGIN_TYPE_PREFIX + "ServiceAccount")
RECREATED = tuple(
    prefix + kind
    for prefix in (TYPE_PREFIX, PLUGIN_TYPE_PREFIX)
    for kind in ("AccessToken", "InstanceConfig")
)
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
PROVIDER_KEY = "__provider"
# The engine's stand-in for a value preview cannot know (e.g. a new provider's id).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class Plan:
    """What recovery changes in one stack's exported deployment."""

    adopted: list[str] = field(default_factory=list)
    """URNs of service accounts now recorded as created."""
    dropped: list[str] = field(default_factory=list)
    """URNs of pending creates removed (the next `up` makes them): tokens, configs, and what
    the engine makes by itself (the stack, components, provider resources)."""
    foreign: list[str] = field(default_factory=list)
    """Pending creates of other providers, which `pulumi stack import` would lose."""


class AdoptRefused(ValueError):
    """`--adopt` was asked for an account it cannot prove is this program's and not in state."""


def plan_recovery(deployment: dict[str, Any]) -> Plan:
    """Edit `deployment` (the `deployment` of `pulumi stack export`) in place; say what changed.

    A service account's pending create becomes a resource with the username as id; if state
    still holds the account it replaces (the create half of create-before-delete), the old one
    is marked for deletion, exactly as the engine would have recorded it.
    """
    plan = Plan()
    resources: list[dict[str, Any]] = deployment.get("resources") or []
    deployment["resources"] = resources
    kept: list[dict[str, Any]] = []
    for op in deployment.get("pending_operations") or []:
        resource = op.get("resource") or {}
        kind, urn = resource.get("type"), str(resource.get("urn"))
        if op.get("type") != "creating":
            kept.append(op)
        elif kind in ACCOUNTS and isinstance((resource.get("inputs") or {}).get("username"), str):
            if _recorded(resource, resources):
                plan.dropped.append(urn)  # a later `up` recorded it already
            else:
                resources.append(_adopted_account(resource, resources))
                plan.adopted.append(urn)
        elif kind in RECREATED or _state_only(resource):
            plan.dropped.append(urn)
        else:
            plan.foreign.append(urn)
            kept.append(op)
    deployment["pending_operations"] = kept
    return plan


def adopt_declared(
    deployment: dict[str, Any], preview: dict[str, Any], usernames: Iterable[str]
) -> list[str]:
    """Record the program's accounts named `usernames` as created; their URNs.

    `preview` is the output of `pulumi preview --json`; each username must belong to a
    ServiceAccount whose create it plans (usernames ignore case). Refuses, changing nothing,
    a username no ServiceAccount of the program declares, one state already holds, or a
    resource whose parent, provider or dependencies state does not hold yet.
    """
    resources: list[dict[str, Any]] = deployment.get("resources") or []
    declared = {
        str(s["newState"]["inputs"]["username"]).casefold(): s
        for s in preview.get("steps") or []
        if (s.get("newState") or {}).get("type") in ACCOUNTS
        and isinstance(s["newState"].get("inputs", {}).get("username"), str)
    }
    held = {
        str(r.get("id", "")).casefold(): str(r.get("urn"))
        for r in resources
        if r.get("type") in ACCOUNTS and not r.get("delete")
    }
    known = {str(r.get("urn")) for r in resources} | {
        f"{r.get('urn')}::{r.get('id')}" for r in resources
    }
    chosen: list[dict[str, Any]] = []
    for username in usernames:
        key = username.casefold()
        if key in held:
            raise AdoptRefused(f"{username!r}: state already holds it ({held[key]})")
        step = declared.get(key)
        if step is None:
            raise AdoptRefused(
                f"{username!r}: no ServiceAccount of this program declares it (declared: "
                f"{', '.join(sorted(declared)) or 'none'}); nothing was changed"
            )
        if step.get("op") not in ("create", "create-replacement"):
            raise AdoptRefused(f"{username!r}: preview plans {step.get('op')!r}, not a create")
        state = step["newState"]
        if "[secret]" in json.dumps(state.get("inputs")):
            raise AdoptRefused(f"{username!r}: preview hides a secret input; adopt=True instead")
        needed = [state.get("parent"), state.get("provider"), *(state.get("dependencies") or [])]
        missing = [str(u) for u in needed if u and (str(u) not in known or UNKNOWN in str(u))]
        if missing:
            raise AdoptRefused(
                f"{username!r}: state does not hold what it depends on yet ({', '.join(missing)}); "
                "run `pulumi up` once (it fails with `already exists`), then this command again"
            )
        chosen.append(state)
    for state in chosen:
        resources.append(_adopted_account(state, resources))
    deployment["resources"] = resources
    return [str(state["urn"]) for state in chosen]


def _state_only(resource: dict[str, Any]) -> bool:
    """Whether creating `resource` changes nothing outside state, so a rerun can redo it.

    The stack and other components are only recorded; a provider resource's create loads and
    configures its plugin. A kill in the first steps of a first `up` leaves such pending creates.
    """
    kind = str(resource.get("type") or "")
    return resource.get("custom") is False or kind.startswith(PROVIDER_TYPE_PREFIX)


def _recorded(resource: dict[str, Any], resources: list[dict[str, Any]]) -> bool:
    """Whether state already holds this very account under this URN (usernames ignore case)."""
    username = str(resource["inputs"]["username"]).casefold()
    return any(
        r.get("urn") == resource.get("urn")
        and not r.get("delete")
        and str(r.get("id", "")).casefold() == username
        for r in resources
    )


def _adopted_account(resource: dict[str, Any], resources: list[dict[str, Any]]) -> dict[str, Any]:
    adopted = copy.deepcopy(resource)
    inputs = adopted.get("inputs") or {}
    username = inputs["username"]
    adopted["id"] = username
    outputs = {"username": username, "adopt": bool(inputs.get("adopt"))}
    if PROVIDER_KEY in inputs:
        outputs[PROVIDER_KEY] = inputs[PROVIDER_KEY]
    adopted["outputs"] = outputs
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    adopted.setdefault("created", now)
    adopted["modified"] = now
    for old in resources:
        if old.get("urn") == adopted.get("urn") and not old.get("delete"):
            old["delete"] = True
    return adopted
