"""Finish what a killed `pulumi up` left pending, without editing the program.

Run it in the project directory after `pulumi cancel` (which only removes the stale lock)::

    python -m motherduck_provider.recover [--stack NAME] [--dry-run]

When `pulumi up` dies (SIGKILL, a lost CI runner) while a create is in flight, the engine keeps
a "pending CREATE" in the stack's state and `pulumi up` ignores it: the resource is created
again. For tokens and Duckling configs that is what we want: the next create revokes any token
the killed run made (it carries this resource's mark; see `access_token.py`) and a config is
adopted as found. A service account, though, may exist already, and creating it again fails
with "already exists". Pulumi 3.274's `pulumi refresh --import-pending-creates URN ID` only
drops the pending create without importing it, so this command does the import itself:

* a pending create of a `ServiceAccount` becomes a resource in state with the username as its
  id (what our create would have returned), and `pulumi refresh --target` then checks it: an
  account that was never made leaves state, so the next `pulumi up` creates it;
* pending creates of `AccessToken` and `InstanceConfig` are dropped: the next `pulumi up`
  creates them and sweeps what the killed run left.

The edited state goes back with `pulumi stack import`, which drops every pending operation,
so the command refuses to run while other providers' creates are pending (resolve those first
with an interactive `pulumi refresh`), unless `--force`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .pulumi_cli import PulumiCLITooOld, require_cli

TYPE_PREFIX = "pulumi-python:dynamic/motherduck:"
ACCOUNT = TYPE_PREFIX + "ServiceAccount"
RECREATED = (TYPE_PREFIX + "AccessToken", TYPE_PREFIX + "InstanceConfig")
PROVIDER_KEY = "__provider"


@dataclass
class Plan:
    """What recovery changes in one stack's exported deployment."""

    adopted: list[str] = field(default_factory=list)
    """URNs of service accounts moved from pending creates into state."""
    dropped: list[str] = field(default_factory=list)
    """URNs of pending token and config creates removed (the next `up` makes them)."""
    foreign: list[str] = field(default_factory=list)
    """Pending creates of other providers, which `pulumi stack import` would lose."""


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
        elif kind == ACCOUNT and isinstance((resource.get("inputs") or {}).get("username"), str):
            if _recorded(resource, resources):
                plan.dropped.append(urn)  # a later `up` recorded it already
            else:
                resources.append(_adopted_account(resource, resources))
                plan.adopted.append(urn)
        elif kind in RECREATED:
            plan.dropped.append(urn)
        else:
            plan.foreign.append(urn)
            kept.append(op)
    deployment["pending_operations"] = kept
    return plan


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
    for old in resources:
        if old.get("urn") == adopted.get("urn") and not old.get("delete"):
            old["delete"] = True
    return adopted


class PulumiFailed(RuntimeError):
    """A `pulumi` command exited non-zero."""


def _pulumi(args: Sequence[str], options: argparse.Namespace) -> str:
    command = [options.pulumi, *args, "--non-interactive"]
    if options.stack:
        command += ["--stack", options.stack]
    proc = subprocess.run(
        command, cwd=options.cwd, capture_output=True, text=True, check=False, env=os.environ
    )
    if proc.returncode != 0:
        hint = ""
        if "currently locked" in proc.stderr:
            hint = (
                "\nThe killed run's lock is still there: if no other `pulumi` command is "
                "running on this stack, run `pulumi cancel --yes`, then this command again."
            )
        raise PulumiFailed(f"`pulumi {' '.join(args)}` failed:\n{proc.stdout}{proc.stderr}{hint}")
    return proc.stdout


def main(argv: Sequence[str] | None = None) -> int:
    """Recover the stack of the current directory; 0 when done or nothing was pending."""
    parser = argparse.ArgumentParser(
        prog="python -m motherduck_provider.recover",
        description="After `pulumi cancel`: adopt service accounts a killed `pulumi up` was "
        "creating and drop its pending token and config creates.",
    )
    parser.add_argument("--stack", help="the stack (default: the selected one)")
    parser.add_argument("--cwd", default=None, help="the project directory (default: here)")
    parser.add_argument("--pulumi", default="pulumi", help="the pulumi executable")
    parser.add_argument("--dry-run", action="store_true", help="say what would change, only")
    parser.add_argument(
        "--force",
        action="store_true",
        help="proceed although other providers' creates are pending (they are dropped)",
    )
    options = parser.parse_args(argv)
    try:
        require_cli(options.pulumi)
        exported = json.loads(_pulumi(["stack", "export"], options))
        plan = plan_recovery(exported["deployment"])
        for urn in plan.adopted:
            print(f"service account: adopting {urn}")
        for urn in plan.dropped:
            print(f"dropping the pending create of {urn}")
        if plan.foreign:
            print("pending creates of other providers:\n  " + "\n  ".join(plan.foreign))
            if not options.force:
                print(
                    "`pulumi stack import` would drop them: resolve them first with "
                    "`pulumi refresh` (interactive), or pass --force",
                    file=sys.stderr,
                )
                return 2
        if not plan.adopted and not plan.dropped:
            print("nothing to recover: no pending create of a MotherDuck resource")
            return 0
        if options.dry_run:
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "deployment.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(exported, handle)
            _pulumi(["stack", "import", "--file", path], options)
        if plan.adopted:
            targets = [arg for urn in plan.adopted for arg in ("--target", urn)]
            _pulumi(["refresh", "--yes", "--skip-preview", *targets], options)
    except (PulumiFailed, PulumiCLITooOld) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print("recovered; now run `pulumi up`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
