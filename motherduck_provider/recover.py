"""Recover a stack after a killed `pulumi up`, without editing the program.

Run it in the project directory, with the run's environment, when no other `pulumi` command
is running on this stack::

    python -m motherduck_provider.recover --cancel [--stack NAME] [--dry-run]
    pulumi up

In order, it:

1. **repairs file-backend storage** a kill can leave unreadable (`failed to load checkpoint:
   EOF`): a metadata sidecar (`*.attrs`) the backend cannot decode is moved, with a copy kept,
   to `<backend>/.motherduck-recover/`; nothing else is touched (see `backend_storage.py`).
   An object store (S3, MinIO, GCS, Azure Blob) writes each object whole: nothing to repair
   there; should its stack file not load, the error names the exact commands that put the
   previous version back;
2. with `--cancel`, removes the killed run's lock (`pulumi cancel --yes`);
3. **finishes the killed run's pending creates**: a `ServiceAccount` is recorded as created
   with the username as its id (what our create would have returned) and
   `pulumi refresh --target` then checks it (an account that was never made leaves state, so
   the next `up` creates it); pending `AccessToken` and `InstanceConfig` creates are dropped:
   the next `up` creates them and sweeps what the killed run left. So are pending creates of
   the stack, components and provider resources, which change nothing outside state. Pulumi 3.274's
   `pulumi refresh --import-pending-creates` drops a pending create without importing it, so
   the edited state goes back with `pulumi stack import`;
4. with `--adopt USERNAME...`, records accounts of the program whose pending create is gone
   (`pulumi refresh --clear-pending-creates` ran first, as Pulumi suggests) and which `up` now
   reports as "already exists" (see `state_edits.adopt_declared`).

`pulumi stack import` drops every pending operation, so the command refuses while other
providers' creates are pending (resolve those first with `pulumi refresh`), unless `--force`.
The older sequence `pulumi cancel --yes`, this command, `pulumi up` still works whenever
`pulumi cancel` can load the stack.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import backend_storage as storage
from .pulumi_cli import PulumiCLITooOld, require_cli
from .state_edits import AdoptRefused, Plan, adopt_declared, plan_recovery

__all__ = ["Plan", "main", "plan_recovery"]


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
                "running on this stack, run this command again with --cancel."
            )
        elif "failed to load checkpoint" in proc.stderr and options.advice:
            hint = "\n" + options.advice
        raise PulumiFailed(f"`pulumi {' '.join(args)}` failed:\n{proc.stdout}{proc.stderr}{hint}")
    return proc.stdout


def _repair_storage(options: argparse.Namespace) -> int:
    """Step 1: make a file backend loadable again (or prepare advice); how many files are broken."""
    cwd = Path(options.cwd or ".").resolve()
    backend = storage.find_backend(cwd, os.environ)
    root = backend.root(cwd)
    if root is None:
        try:
            project, stack = storage.selected_stack(cwd, backend, os.environ, options.stack)
        except storage.StackNotFound:
            project, stack = "", ""
        options.advice = storage.other_backend_advice(backend, project, stack)
        print(storage.object_store_note(backend))
        return 0
    options.advice = (
        f"The file backend {root} holds no metadata file this command can prove broken, so it "
        "changed nothing there; see the docs, Faults and interrupted runs."
    )
    try:
        project, stack = storage.selected_stack(cwd, backend, os.environ, options.stack)
        found = storage.diagnose(root, project, stack)
    except storage.StackNotFound as exc:
        print(f"storage check skipped: {exc}")
        return 0
    for stray in found.strays:
        print(f"left alone: {stray} (a killed write's temporary file; Pulumi never reads it)")
    for stray in found.stray_locks:
        print(
            f"{stray}: a killed write's temporary lock file, which Pulumi reads as a lock; "
            + ("--cancel removes it" if options.cancel else "run this command with --cancel")
        )
    if options.dry_run:
        for sidecar in found.broken:
            print(f"would move the unreadable metadata file {sidecar} out of the backend")
        return len(found.broken)
    for source, saved in storage.repair(root, found.broken):
        print(f"storage: moved the unreadable metadata file {source} to {saved}")
    return len(found.broken)


def _adopt(exported: dict[str, Any], plan: Plan, options: argparse.Namespace) -> list[str]:
    """Step 4: `--adopt` usernames not already recovered from a pending create."""
    deployment = exported["deployment"]
    recovered = {
        str(r.get("id", "")).casefold()
        for r in deployment.get("resources") or []
        if str(r.get("urn")) in plan.adopted
    }
    wanted = [name for name in options.adopt if name.casefold() not in recovered]
    if not wanted:
        return []
    preview = json.loads(_pulumi(["preview", "--json"], options))
    return adopt_declared(deployment, preview, wanted)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motherduck_provider.recover",
        description="After a killed `pulumi up`: repair a file backend the kill left unreadable, "
        "remove the run's lock (--cancel), adopt the service accounts it was creating, drop its "
        "pending token and config creates. Then run `pulumi up`. Run it only when no other "
        "`pulumi` command is running on this stack.",
    )
    parser.add_argument("--stack", help="the stack (default: the selected one)")
    parser.add_argument("--cwd", default=None, help="the project directory (default: here)")
    parser.add_argument("--pulumi", default="pulumi", help="the pulumi executable")
    parser.add_argument(
        "--cancel",
        action="store_true",
        help="remove the killed run's lock first (`pulumi cancel --yes`)",
    )
    parser.add_argument(
        "--adopt",
        nargs="+",
        default=[],
        metavar="USERNAME",
        help="record these accounts of the program as created (when `pulumi up` says they "
        "already exist because `pulumi refresh --clear-pending-creates` ran first)",
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would change, only")
    parser.add_argument(
        "--force",
        action="store_true",
        help="proceed although other providers' creates are pending (they are dropped)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Recover the stack of the current directory; 0 when done or nothing was pending."""
    options = _parser().parse_args(argv)
    options.advice = ""
    try:
        require_cli(options.pulumi)
        if _repair_storage(options) and options.dry_run:
            print("the rest can be checked once storage is repaired: run without --dry-run")
            return 0
        if options.cancel and not options.dry_run:
            _pulumi(["cancel", "--yes"], options)
            print("ran `pulumi cancel --yes`: the stack is unlocked")
        exported = json.loads(_pulumi(["stack", "export"], options))
        plan = plan_recovery(exported["deployment"])
        plan.adopted += _adopt(exported, plan, options)
    except storage.StorageRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    except AdoptRefused as exc:
        print(f"refused: --adopt {exc}", file=sys.stderr)
        return 2
    except (PulumiFailed, PulumiCLITooOld) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return _apply(exported, plan, options)


def _apply(exported: dict[str, Any], plan: Plan, options: argparse.Namespace) -> int:
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
        print("nothing to recover: no pending create of a MotherDuck resource; run `pulumi up`")
        return 0
    if options.dry_run:
        return 0
    try:
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
