"""Run one Pulumi operation over a fleet's shards, several at once.

Each shard is its own stack: its own engine, provider process and state file, so shards run
side by side and one shard's failure never touches another's. The runner waits for all of them
and reports each shard's outcome (counts from the engine's events, API calls from the call log
the provider appends to, seconds); what failed is recorded so `--failed` can run exactly those
shards again.

Each operation is one `pulumi` run through the Automation API's `PulumiCommand` (its errors,
its environment), with the engine's events read from `--event-log`. Not `auto.Stack.up()` and
the like: they select the stack first and follow every run with `pulumi stack output
--show-secrets` and `pulumi stack history`, three more CLI starts (two of them deriving the
passphrase's key) whose answers a runner does not use: about 1 CPU-second per shard and
operation, a sixth of a 20-shard fleet's `up` and a quarter of its `destroy` on 2 cores.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..client._calls import CALL_LOG_ENV, count_calls
from .causes import failure_cause
from .layout import call_log

if TYPE_CHECKING:
    from pulumi import automation as auto

OPERATIONS = ("preview", "up", "refresh", "destroy")
# Seconds between two progress lines of one shard while it runs.
PROGRESS_EVERY = 10.0
# Error diagnostics kept per shard to name its failure.
ERRORS_KEPT = 3

Print = Callable[[str], None]


def default_parallel() -> int:
    """Shards run at once by default: two per core (a shard waits on the API half the time)."""
    return max(2, 2 * (os.cpu_count() or 1))


@dataclass
class ShardOutcome:
    """What one shard's run did; `result` is `succeeded` or `failed`.

    A failed shard's `errors` holds one line naming why (`causes.failure_cause`).
    """

    stack: str
    result: str = "failed"
    created: int = 0
    updated: int = 0
    deleted: int = 0
    same: int = 0
    failed: int = 0
    calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_CREATED = {"create", "create-replacement", "import", "import-replacement"}
_UPDATED = {"update", "replace"}
_DELETED = {"delete", "delete-replaced", "discard", "discard-replaced"}


class _Tally:
    """Counts one shard's engine events as they arrive (the Automation API's event thread)."""

    def __init__(self, outcome: ShardOutcome, say: Print) -> None:
        self.outcome = outcome
        self.say = say
        self.failed_urns: set[str] = set()
        self.next_line = time.monotonic() + PROGRESS_EVERY
        self.summary: dict[str, int] | None = None
        self.errors: list[str] = []
        self.error_count = 0

    def add(self, op: str, count: int = 1) -> None:
        o = self.outcome
        if op in _CREATED:
            o.created += count
        elif op in _UPDATED:
            o.updated += count
        elif op in _DELETED:
            o.deleted += count
        elif op == "same":
            o.same += count

    def on_event(self, event: auto.EngineEvent) -> None:
        if event.res_outputs_event is not None:
            self.add(str(event.res_outputs_event.metadata.op.value))
        elif event.res_op_failed_event is not None:
            self.failed_urns.add(event.res_op_failed_event.metadata.urn)
        elif event.diagnostic_event is not None:
            diag = event.diagnostic_event
            if diag.severity == "error":
                if diag.urn:
                    self.failed_urns.add(diag.urn)
                if diag.message.strip():
                    self.error_count += 1
                    if len(self.errors) < ERRORS_KEPT:
                        self.errors.append(diag.message)
        elif event.summary_event is not None:
            self.summary = {
                str(k.value if hasattr(k, "value") else k): v
                for k, v in (event.summary_event.resource_changes or {}).items()
            }
        now = time.monotonic()
        if now >= self.next_line:
            self.next_line = now + PROGRESS_EVERY
            o = self.outcome
            self.say(
                f"{o.stack}: running, {o.created} created, {o.updated} updated, "
                f"{o.deleted} deleted, {o.same} unchanged"
            )

    def finish(self) -> None:
        o = self.outcome
        if self.summary is not None:  # the engine's own totals (a preview has only these)
            o.created = o.updated = o.deleted = o.same = 0
            for op, count in self.summary.items():
                self.add(op, count)
        o.failed = len(self.failed_urns)


@dataclass
class Fleet:
    """The shard stacks of one project, opened on demand with one environment each."""

    project: Path
    command: auto.PulumiCommand
    env: dict[str, str] = field(default_factory=dict)

    def open(self, stack: str, extra_env: dict[str, str] | None = None) -> auto.Stack:
        from pulumi import automation as auto

        options = auto.LocalWorkspaceOptions(
            work_dir=str(self.project),
            env_vars={**self.env, **(extra_env or {})},
            pulumi_command=self.command,
        )
        return auto.select_stack(stack_name=stack, work_dir=str(self.project), opts=options)

    def operate(
        self,
        stack: str,
        operation: str,
        on_event: Callable[[auto.EngineEvent], None],
        expect_no_changes: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        """`pulumi <operation>` on one shard, as `auto.Stack` would run it; raises its
        `CommandError` when it fails. Each engine event goes to `on_event` as it is logged."""
        if operation not in OPERATIONS:
            raise ValueError(f"operation: {operation!r} is not one of {', '.join(OPERATIONS)}")
        args = [operation, "--stack", stack, "--color", "never", "--exec-kind", "auto.local"]
        if operation != "preview":
            args += ["--yes", "--skip-preview"]
        if expect_no_changes and operation != "destroy":
            args.append("--expect-no-changes")
        env = {**self.env, **(extra_env or {}), "PULUMI_DEBUG_COMMANDS": "true"}
        with tempfile.TemporaryDirectory(prefix="motherduck-fleet-") as tmp:
            log = Path(tmp) / "events.jsonl"
            log.touch()
            ended = threading.Event()
            reader = threading.Thread(target=_follow, args=(log, on_event, ended), daemon=True)
            reader.start()
            try:
                self.command.run([*args, "--event-log", str(log)], str(self.project), env)
            finally:
                ended.set()
                reader.join()


def _follow(
    log: Path, on_event: Callable[[auto.EngineEvent], None], ended: threading.Event
) -> None:
    """Each whole line of the event log, as it is written, until the run ended and all is read."""
    from pulumi import automation as auto

    with log.open(encoding="utf-8") as lines:
        partial = ""
        while True:
            # Looked at before the read: once the run has ended every line is written, so an
            # empty read then means all is read (the end may come just after an empty read).
            done = ended.is_set()
            line = lines.readline()
            if not line:
                if done:
                    return
                ended.wait(0.1)
                continue
            partial += line
            if partial.endswith("\n"):
                on_event(auto.EngineEvent.from_json(json.loads(partial)))
                partial = ""


def run_shard(
    fleet: Fleet, stack_name: str, operation: str, say: Print, expect_no_changes: bool = False
) -> ShardOutcome:
    """One operation on one shard; never raises for the shard's own failure."""
    outcome = ShardOutcome(stack_name)
    tally = _Tally(outcome, say)
    log = call_log(fleet.project, stack_name)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    start = time.perf_counter()
    say(f"{stack_name}: {operation} started")
    error: BaseException | None = None
    try:
        calls = {CALL_LOG_ENV: str(log.resolve())}
        fleet.operate(stack_name, operation, tally.on_event, expect_no_changes, calls)
        outcome.result = "succeeded"
    except Exception as exc:  # noqa: BLE001 - one shard's failure never stops the others
        error = exc
    tally.finish()
    outcome.seconds = round(time.perf_counter() - start, 1)
    outcome.calls = count_calls(log)
    if outcome.result == "succeeded" and outcome.failed:
        outcome.result = "failed"
    if outcome.result != "succeeded":
        outcome.errors = [failure_cause(error, tally.errors, operation, tally.error_count)]
    say(
        f"{stack_name}: {operation} {outcome.result} in {outcome.seconds:.1f}s, "
        f"{outcome.created} created, {outcome.updated} updated, {outcome.deleted} deleted, "
        f"{outcome.calls} API calls"
    )
    return outcome


def run_fleet(
    fleet: Fleet,
    stacks: Sequence[str],
    operation: str,
    parallel: int,
    say: Print = print,
    expect_no_changes: bool = False,
    on_done: Callable[[ShardOutcome], None] | None = None,
) -> list[ShardOutcome]:
    """Run `operation` on `stacks`, at most `parallel` at once, each to its end.

    `on_done` gets each outcome as its shard ends (one at a time), so a record of them
    survives a runner that is itself killed later.
    """
    lock = threading.Lock()

    def locked_say(line: str) -> None:
        with lock:
            say(line)

    def one(stack: str) -> ShardOutcome:
        outcome = run_shard(fleet, stack, operation, locked_say, expect_no_changes)
        if on_done is not None:
            with lock:
                on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max(1, min(parallel, len(stacks)))) as pool:
        return list(pool.map(one, stacks))
