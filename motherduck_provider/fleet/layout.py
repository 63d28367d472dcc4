"""Where a fleet is written down in its project: `.pulumi-fleet/`.

* `fleet.json` (commit it): the stack name prefix and the shard count, fixed at `init`; shard
  `k` is stack `<prefix>-<k>`. Jobs of a CI matrix read it to find their stack.
* `runs.json` (local, ignored): the outcome of the last run of each operation on each shard,
  so `--failed` can run again exactly the shards that failed.
* `calls/<stack>.log` (local, ignored): the API call log of a shard's last run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assignment import MAX_SHARDS

FLEET_DIR = ".pulumi-fleet"
FLEET_FILE = "fleet.json"
RUNS_FILE = "runs.json"
CALLS_DIR = "calls"
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


class FleetError(Exception):
    """A fleet command cannot run as asked (its message says why and what to do)."""


def write_json(path: Path, data: Any) -> None:
    """Replace `path` atomically, so a killed runner never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class FleetFile:
    """The fleet's stacks: `<stack_prefix>-0` .. `<stack_prefix>-<shards - 1>`."""

    stack_prefix: str
    shards: int

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.stack_prefix):
            raise FleetError(
                f"stack prefix {self.stack_prefix!r}: letters, digits, '_', '.', '-' "
                "(starting with a letter or digit)"
            )
        if not 1 <= self.shards <= MAX_SHARDS:
            raise FleetError(f"shards: {self.shards} is not within 1..{MAX_SHARDS}")

    def stack(self, shard: int) -> str:
        return f"{self.stack_prefix}-{shard}"

    @property
    def stacks(self) -> list[str]:
        return [self.stack(k) for k in range(self.shards)]

    @staticmethod
    def path(project: Path) -> Path:
        return project / FLEET_DIR / FLEET_FILE

    @classmethod
    def load(cls, project: Path) -> FleetFile:
        path = cls.path(project)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise FleetError(
                f"{path}: no fleet here; create one with "
                "`python -m motherduck_provider.fleet init --shards N`"
            ) from None
        return cls(str(data["stack_prefix"]), int(data["shards"]))

    def save(self, project: Path) -> None:
        write_json(self.path(project), {"stack_prefix": self.stack_prefix, "shards": self.shards})
        ignore = project / FLEET_DIR / ".gitignore"
        if not ignore.exists():
            ignore.write_text(f"{RUNS_FILE}\n{CALLS_DIR}/\n")


class RunRecord:
    """The last outcome of each operation on each shard (`runs.json`)."""

    def __init__(self, project: Path) -> None:
        self.path = project / FLEET_DIR / RUNS_FILE

    def load(self) -> dict[str, dict[str, dict[str, Any]]]:
        try:
            return dict(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return {}

    def failed(self, operation: str) -> list[str]:
        """Stacks whose last `operation` did not succeed."""
        runs = self.load().get(operation, {})
        return sorted(stack for stack, outcome in runs.items() if outcome["result"] != "succeeded")

    def save(self, operation: str, outcomes: dict[str, dict[str, Any]]) -> None:
        """Record these shards' outcomes; other shards keep theirs (a CI job runs one)."""
        runs = self.load()
        runs.setdefault(operation, {}).update(outcomes)
        write_json(self.path, runs)

    def forget(self, stacks: list[str]) -> None:
        runs = self.load()
        for outcomes in runs.values():
            for stack in stacks:
                outcomes.pop(stack, None)
        write_json(self.path, runs)


def call_log(project: Path, stack: str) -> Path:
    return project / FLEET_DIR / CALLS_DIR / f"{stack}.log"
