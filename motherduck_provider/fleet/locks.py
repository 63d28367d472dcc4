"""Whether a run holds a shard's lock: `move` and `reshard` refuse while one does.

A self-managed backend (a folder, S3, MinIO, GCS, Azure Blob) keeps a stack's lock as an
object under `.pulumi/locks/`; `pulumi up`, `refresh`, `destroy` and `stack import` (which
`pulumi state move` uses) take it. A move while another run updates one of its stacks would
write state that run then overwrites with its own, and a reshard could stop half-way, so both
look first. On a folder backend the lock files are read directly (instant). Elsewhere:
Pulumi has no command that only reads a lock, but `pulumi stack init` of a stack
that exists takes the lock (refused with Pulumi's own "currently locked ... created by
USER@HOST (pid N) at TIME" when another holds it) and then fails with "already exists"
without writing anything: the same check every locking command makes, on every backend.
Pulumi Cloud refuses concurrent updates itself (`Another update is currently in progress`).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import backend_storage as storage
from .causes import lock_holder
from .layout import FleetError
from .runner import Fleet

_LOCKED = ("the stack is currently locked", "Another update is currently in progress")


def _pulumi(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [fleet.command.command, "--non-interactive", *args],
        cwd=fleet.project,
        env={**os.environ, **fleet.env},
        capture_output=True,
        text=True,
        check=False,
    )


def _existing(fleet: Fleet) -> set[str]:
    proc = _pulumi(fleet, "stack", "ls", "--json")
    if proc.returncode != 0:
        raise FleetError(f"`pulumi stack ls` failed: {proc.stderr.strip()[-300:]}")
    return {str(s["name"]).rsplit("/", 1)[-1] for s in json.loads(proc.stdout or "[]")}


def _probe(fleet: Fleet, stack: str) -> str:
    """Who holds `stack`'s lock ('' when nobody does)."""
    proc = _pulumi(fleet, "stack", "init", stack, "--no-select")
    text = proc.stderr + proc.stdout
    if any(marker in text for marker in _LOCKED):
        return lock_holder(text)
    if "already exists" in text:
        return ""
    if proc.returncode == 0:  # cannot happen for a listed stack; never leave one behind
        _pulumi(fleet, "stack", "rm", stack, "--yes", "--preserve-config")
        return ""
    raise FleetError(
        f"{stack}: could not check whether a run holds its lock (`pulumi stack init {stack}` "
        f"as a probe): {text.strip()[-300:]}"
    )


def _file_locks(root: Path, project: str, stack: str) -> str:
    """Who holds `stack`'s lock in a folder backend, read as Pulumi's checkForLock reads it."""
    holders = []
    for folder in (
        root / ".pulumi/locks/organization" / project / stack,
        root / ".pulumi/locks" / stack,
    ):
        for lock in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                found = json.loads(lock.read_text(encoding="utf-8"))
                who = f"{found['username']}@{found['hostname']} (pid {found['pid']})"
                holders.append(f"{who} since {found['timestamp']}")
            except (OSError, ValueError, KeyError, TypeError):
                holders.append(f"an unreadable lock file {lock} (`pulumi cancel` removes it)")
    return "; ".join(holders)


def locked(fleet: Fleet, stacks: Sequence[str]) -> dict[str, str]:
    """{stack: who holds its lock} for those of `stacks` a run holds now (checked side by side)."""
    root = storage.find_backend(fleet.project, {**os.environ, **fleet.env}).root(fleet.project)
    if root is not None:
        project = str(storage.project_settings(fleet.project).get("name") or "")
        found = {s: _file_locks(root, project, s) for s in stacks}
        return {s: who for s, who in found.items() if who}
    present = _existing(fleet)
    wanted = [s for s in stacks if s in present]
    if not wanted:
        return {}
    with ThreadPoolExecutor(min(len(wanted), 8)) as pool:
        found = dict(zip(wanted, pool.map(lambda s: _probe(fleet, s), wanted), strict=True))
    return {s: who for s, who in found.items() if who}


def refuse_if_locked(fleet: Fleet, stacks: Sequence[str], command: str) -> None:
    """A FleetError naming each held lock and what to do, before `command` changes anything."""
    held = locked(fleet, stacks)
    if not held:
        return
    lines = "\n".join(f"  {stack}: lock held by {who}" for stack, who in sorted(held.items()))
    raise FleetError(
        f"`{command}` refused, nothing was changed: another run is updating "
        f"{', '.join(sorted(held))}:\n{lines}\n"
        f"Wait for that run to end, then run `{command}` again (if that run is dead, "
        "`... recover --shard K` removes its lock)."
    )
