"""Kill `pulumi up` after every API write and every checkpoint write of a small stack, recover.

The stack (`programs/killsteps`): two accounts, a token and a Duckling config each; `b-token`
rotates. Three runs are killed step by step: the first `up` (creates), a rotation on demand
without `keep_previous_for` (new token, old one revoked) and a rotation that `rotate_before`
makes due with `keep_previous_for` while a previous token is kept (that one revoked, new token,
old one kept).

The one-step form (`programs/killsteps_onestep`: one ServiceAccount holding tokens `ci` and
`loader` and its Duckling config) is killed at every API write and the checkpoints that
differ of its first `up` (`onestep-create`: account POST, config PUT, two token POSTs, all
in one engine step) and of a rotation of `loader` on demand (`onestep-rotate`). Its calls run
one after another (`MOTHERDUCK_ACCOUNT_WORKERS=1`, set for every killed run) so each point is
the same write in every run.

The same one-step account through the provider plugin (`programs/killsteps_plugin`, Pulumi
YAML, `motherduck:index:*` resources with camelCase state): `plugin-create` and
`plugin-rotate`, the points whose recovery differs (`test_kill_every_step_plugin.py`, with the
YAML host and the plugin on PATH).

How each point is reached, without racing a timer: the killed `up` runs with `--parallel 1`
(one step at a time, so every run makes its requests and checkpoint writes in the same order)
and the emulator holds every API request (a `hold` fault) until the test lets it go. While a
request is held the engine waits for it, so the test knows exactly how many checkpoints were
written (`PULUMI_RETAIN_CHECKPOINTS` keeps a copy of each) and how many writes were sent.

* **after API write N** (`write-N`): write N is let through with its answer held
  (`release(hold_answer=True)`): it is applied and the CLI never hears back. The test kills
  the CLI and every process it started (by pid, as `test_crash.py` does).
* **after checkpoint write K** (`checkpoint-K`): at the first request held after checkpoint K
  the test kills, and the request is closed unhandled, so MotherDuck holds exactly what it held
  when checkpoint K was written. That is also "killed with write N+1 sent but not applied"
  (`test_crash.py` covers the variant where it lands later). When the engine wrote more
  checkpoints before that request (steps that call no API, e.g. the end of one step and the
  start of the next), the stack file (and its `.bak`) is set back to the retained copy of
  checkpoint K: nothing reached MotherDuck in between, so that is the world a kill right after
  checkpoint K leaves. Checkpoints after the last request are reached the same way once the
  run ended, with the run's lock file put back.

Then the README's recovery, with no edit of the program: `python -m motherduck_provider.recover
--cancel`, one `pulumi up`. Checked at every point: the stack loads (`pulumi stack export`),
nothing is pending, MotherDuck holds exactly the accounts and tokens state holds (per token
resource: the live tokens with its mark are exactly `token_id` and `previous_token_id`), the
configs state records, and `pulumi preview --expect-no-changes` and
`pulumi refresh --expect-no-changes` find nothing to do.

A kill here always falls between two checkpoint writes (the engine is waiting for a request);
a kill in the middle of one is `test_recover_storage.py`'s subject. The points before the first
request (the stack's and the provider's pending creates) found that `recover` refused them as
other providers' creates; it now drops them (`state_edits._state_only`).

The tests are in `test_kill_every_step.py` (the walks and the first create points),
`test_kill_every_step_create.py`, `_rotate.py` and `_onestep.py`: one file per few minutes of
engine runs, so that pytest-xdist (`--dist loadfile`) spreads them over its workers; this module
holds what they share. Every point is its own test id (`-k "create-write-3"`);
`-m killsteps_fast` runs one point of each kind per run. `test_walk` steps through each run
without killing it, prints the points and fails if the run makes fewer writes or checkpoints
than the points enumerated here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer, HeldRequest
from motherduck_provider.plugin.properties import snake
from motherduck_provider.resources._account_tokens import WORKERS_ENV
from motherduck_provider.resources.access_token import split_marked
from tests.e2e.test_crash import descendants

PROGRAM = Path(__file__).resolve().parent / "programs" / "killsteps"
ONESTEP = Path(__file__).resolve().parent / "programs" / "killsteps_onestep"
PLUGIN = Path(__file__).resolve().parent / "programs" / "killsteps_plugin"
PROJECT = "md-killsteps"
DYNAMIC = "pulumi-python:dynamic/motherduck:"
PLUGIN_TYPES = "motherduck:index:"  # the provider plugin's resources (camelCase state)
WAIT = 120.0  # the longest a step may take before the test gives up (a hung run fails)

MakeStack = Callable[..., Any]


def prepare_create(emulator: EmulatorServer, stack: Any) -> None:
    """Nothing yet: the killed run creates every resource."""


def prepare_rotate(emulator: EmulatorServer, stack: Any) -> None:
    """Everything created; a new `rotationTrigger` makes the next `up` rotate `b-token`."""
    stack.up()
    stack.run("config", "set", "rotationTrigger", "r1")


def prepare_rotate_keep(emulator: EmulatorServer, stack: Any) -> None:
    """`b-token` was rotated once with a window (a previous token kept) and is due again.

    With the emulator's clock 700 s behind, tokens expire 2,900 s from the provider's now,
    within `rotate_before` (3,000 s): the second `up` rotates, keeping the old token.
    """
    stack.run("config", "set", "keepPreviousFor", "3600")
    emulator.store.clock.advance(-700)
    stack.up()
    stack.up()
    emulator.store.clock.reset()
    [token] = [r for r in stack.resources("AccessToken") if r["urn"].endswith("b-token")]
    assert token["outputs"]["previous_token_id"], "the setup rotation kept no previous token"


@dataclass(frozen=True)
class Phase:
    """One killed run: how to get the stack there, and the writes it makes (measured).

    `kills`: the points killed (`write-N`, `checkpoint-K`); None: every one.
    """

    prepare: Callable[[EmulatorServer, Any], None]
    writes: int
    checkpoints: int
    program: Path = PROGRAM
    accounts: tuple[str, ...] = ("ks_alpha", "ks_beta")
    kills: frozenset[str] | None = None

    @property
    def plugin(self) -> bool:
        """Run through the provider plugin (needs the YAML host and the plugin on PATH)."""
        return self.program == PLUGIN


def onestep(
    prepare: Callable[[EmulatorServer, Any], None],
    writes: int,
    checkpoints: int,
    kills: str,
    program: Path = ONESTEP,
) -> Phase:
    account = "ks_plugin" if program == PLUGIN else "ks_one"
    return Phase(prepare, writes, checkpoints, program, (account,), frozenset(kills.split()))


PHASES = {
    "create": Phase(prepare_create, writes=6, checkpoints=17),
    # Its checkpoint 2 (between the provider's update and the token's, before any request)
    # has nothing pending and nothing applied: its recovery is a plain `up`, which every other
    # point's recovery also runs, so it is not killed. 1 (the provider's update pending) and
    # 3 (the token's) are.
    "rotate": Phase(
        prepare_rotate,
        2,
        5,
        kills=frozenset(
            "write-1 write-2 checkpoint-1 checkpoint-3 checkpoint-4 checkpoint-5".split()
        ),
    ),
    "rotate-keep": Phase(prepare_rotate_keep, writes=2, checkpoints=3),
    # The one-step form (`programs/killsteps_onestep`): one account holding its tokens and its
    # Duckling config, written one after another (MOTHERDUCK_ACCOUNT_WORKERS=1) within one step.
    "onestep-create": onestep(
        prepare_create, 4, 7, "write-1 write-2 write-3 write-4 checkpoint-5 checkpoint-6"
    ),
    "onestep-rotate": onestep(prepare_rotate, 2, 5, "write-1 write-2 checkpoint-4"),
    # The same through the provider plugin (`programs/killsteps_plugin`, Pulumi YAML): the
    # points whose recovery differs (the account applied, pending or not; the last token; a
    # rotation's new token). All 9 passed once; these keep CI's run within its budget.
    "plugin-create": onestep(prepare_create, 4, 7, "write-1 write-4 checkpoint-5", PLUGIN),
    "plugin-rotate": onestep(prepare_rotate, 2, 3, "write-1", PLUGIN),
}


@dataclass(frozen=True)
class Point:
    phase: str
    kind: str  # "write" or "checkpoint"
    index: int  # 1-based

    @property
    def id(self) -> str:
        return f"{self.phase}-{self.kind}-{self.index}"


POINTS = [
    Point(name, kind, index)
    for name, phase in PHASES.items()
    for kind, count in (("write", phase.writes), ("checkpoint", phase.checkpoints))
    for index in range(1, count + 1)
    if phase.kills is None or f"{kind}-{index}" in phase.kills
]
FAST = {
    "create-write-1",
    "create-checkpoint-6",
    "rotate-checkpoint-3",
    "rotate-keep-write-1",
    "onestep-create-write-3",
}


@dataclass
class Step:
    """One API request of a stepped run, and the checkpoints written before it was sent."""

    method: str
    path: str
    checkpoints: int

    def __str__(self) -> str:
        return f"{self.method} {self.path} (after checkpoint {self.checkpoints})"


@dataclass
class SteppedUp:
    """`pulumi up --parallel 1` with each API request held until the test lets it go."""

    emulator: EmulatorServer
    stack: Any
    env: dict[str, str]
    pulumi: Path
    steps: list[Step] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    lock: dict[Path, bytes] = field(default_factory=dict)
    before: dict[Path, bytes] = field(default_factory=dict)

    @property
    def stacks_dir(self) -> Path:
        return self.stack.work_dir / "state" / ".pulumi" / "stacks" / PROJECT

    @property
    def stack_file(self) -> Path:
        return self.stacks_dir / "dev.json"

    def retained(self) -> list[Path]:
        """The checkpoints this run wrote so far, in order (`dev.json.<unix ns>`)."""
        found = [p for p in self.stacks_dir.glob("dev.json.*") if p.suffix[1:].isdigit()]
        return sorted(found, key=lambda p: int(p.suffix[1:]))

    def start(self) -> None:
        for path in (self.stack_file, Path(f"{self.stack_file}.attrs")):
            if path.exists():
                self.before[path] = path.read_bytes()
        self.emulator.store.faults.hold()
        log = (self.stack.project / "killed-up.log").open("w")
        self.proc = subprocess.Popen(
            [str(self.pulumi), "--non-interactive", "up", "--yes", "--skip-preview"]
            + ["--parallel", "1"],
            cwd=self.stack.project,
            env={
                **os.environ,
                **self.env,
                "PULUMI_RETAIN_CHECKPOINTS": "true",
                WORKERS_ENV: "1",  # one account's calls one after another (the one-step form)
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def log(self) -> str:
        return (self.stack.project / "killed-up.log").read_text()

    def next_request(self, applied: bool = False) -> HeldRequest | None:
        """The next held request (one with its write done if `applied`); None: the run ended."""
        assert self.proc is not None
        deadline = time.monotonic() + WAIT
        while True:
            held = [h for h in self.emulator.store.faults.held if h.applied == applied]
            if held:
                assert len(held) == 1, f"more than one request at once: {held}"
                if not self.lock:
                    self.lock = {p: p.read_bytes() for p in self.lock_dir().glob("*.json")}
                return held[0]
            if self.proc.poll() is not None:
                return None
            assert time.monotonic() < deadline, f"no request for {WAIT}s:\n{self.log()}"
            time.sleep(0.01)

    def lock_dir(self) -> Path:
        locks = self.stack.work_dir / "state" / ".pulumi" / "locks"
        return locks / "organization" / PROJECT / "dev"

    def record(self, held: HeldRequest) -> Step:
        step = Step(held.method, held.path, len(self.retained()))
        self.steps.append(step)
        return step

    def kill(self) -> None:
        """SIGKILL the CLI and every process it started, then stop holding requests."""
        assert self.proc is not None
        tree = descendants(self.proc.pid)
        os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)

    def finish(self) -> None:
        """No more holds; the retained copies leave the backend (a plain run has none)."""
        self.emulator.store.faults.clear()
        keep = self.stack.project / "retained-checkpoints"
        keep.mkdir(exist_ok=True)
        for path in self.stacks_dir.glob("dev.json.*"):
            if path.name.split(".")[2].isdigit():
                shutil.move(path, keep / path.name)

    def set_back_to(self, index: int) -> None:
        """Make the stack file (and `.bak`) what they were right after checkpoint `index`."""
        retained = self.retained()
        versions = {
            self.stack_file: retained[index - 1],
            Path(f"{self.stack_file}.bak"): retained[index - 2] if index > 1 else None,
        }
        for target, source in versions.items():
            for suffix in ("", ".attrs"):
                dest = Path(f"{target}{suffix}")
                if source is not None:
                    content: bytes | None = Path(f"{source}{suffix}").read_bytes()
                else:
                    content = self.before.get(Path(f"{self.stack_file}{suffix}"))
                if content is None:
                    dest.unlink(missing_ok=True)
                    continue
                tmp = dest.with_name(dest.name + ".killsteps-tmp")
                tmp.write_bytes(content)
                tmp.replace(dest)

    def put_lock_back(self) -> None:
        assert self.lock, "the run's lock file was never seen"
        for path, content in self.lock.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def walk(up: SteppedUp) -> tuple[int, int]:
    """Let every request through; (writes, checkpoints) the run made."""
    up.start()
    while (held := up.next_request()) is not None:
        up.record(held)
        up.emulator.store.faults.release()
    assert up.proc is not None and up.proc.returncode == 0, up.log()
    checkpoints = len(up.retained())
    up.finish()
    return sum(step.method != "GET" for step in up.steps), checkpoints


def check_walk(phase: str, stepped: Callable[[str], SteppedUp], emulator: EmulatorServer) -> None:
    """Step through the phase's run without a kill; it makes the writes PHASES enumerates."""
    up = stepped(phase)
    writes, checkpoints = walk(up)
    print(f"\n{phase}: {writes} writes, {checkpoints} checkpoints")
    print("\n".join(f"  {step}" for step in up.steps))
    expected = PHASES[phase]
    assert (writes, checkpoints) == (expected.writes, expected.checkpoints), (
        f"{phase}: the run made {writes} writes and {checkpoints} checkpoint writes; the test "
        f"enumerates {expected.writes} and {expected.checkpoints}: update PHASES"
    )
    assert_converged(emulator, up.stack, expected.accounts)


def kill_at(up: SteppedUp, point: Point) -> str:
    """Run until `point`, kill there; what was done (for the test's output)."""
    faults = up.emulator.store.faults
    up.start()
    writes = 0
    while (held := up.next_request()) is not None:
        step = up.record(held)
        if point.kind == "checkpoint" and step.checkpoints >= point.index:
            up.kill()
            faults.release(apply=False)  # the request never reaches MotherDuck
            if step.checkpoints > point.index:
                up.set_back_to(point.index)
            up.finish()
            return f"killed after checkpoint {point.index}, before {step}"
        writes += step.method != "GET"
        if point.kind == "write" and step.method != "GET" and writes == point.index:
            faults.release(hold_answer=True)
            assert up.next_request(applied=True) is not None, up.log()
            up.kill()
            up.finish()
            return f"killed after write {point.index} applied, before its answer: {step}"
        faults.release()
    assert up.proc is not None and up.proc.returncode == 0, up.log()
    written = len(up.retained())
    if point.kind == "checkpoint" and written >= point.index:
        up.set_back_to(point.index)
        up.put_lock_back()
        up.finish()
        return f"killed after checkpoint {point.index} of {written}, after the last request"
    up.finish()
    pytest.fail(
        f"point {point.id} not reached: the run made {writes} writes and {written} checkpoints\n"
        + "\n".join(map(str, up.steps)),
        pytrace=False,
    )


def program_digest(project: Path) -> str:
    files = sorted(
        p
        for p in project.rglob("*")
        if p.is_file() and p.suffix != ".log" and "retained-checkpoints" not in p.parts
    )
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def token_states(managed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each token state records, by where it is recorded: an AccessToken's outputs, or one
    token of a ServiceAccount holding `tokens` (the one-step form)."""
    found = {str(r["urn"]): r["outputs"] for r in managed if r["type"].endswith(":AccessToken")}
    for account in (r for r in managed if r["type"].endswith(":ServiceAccount")):
        outs = account["outputs"]
        for name, details in (outs.get("token_details") or {}).items():
            found[f"{account['urn']} token {name}"] = {**details, "username": outs["username"]}
    return found


def snake_keys(value: Any) -> Any:
    """A plugin resource's state (camelCase keys) in the dynamic providers' spelling."""
    if isinstance(value, dict):
        return {snake(str(k)): snake_keys(v) for k, v in value.items()}
    return value


def assert_converged(emulator: EmulatorServer, stack: Any, accounts: tuple[str, ...]) -> None:
    """MotherDuck holds exactly what state says, and neither preview nor refresh finds work."""
    deployment = stack.export()["deployment"]  # the stack loads
    assert not deployment.get("pending_operations"), deployment.get("pending_operations")
    managed = [
        {**r, "outputs": snake_keys(r.get("outputs") or {})}
        for r in deployment.get("resources") or []
        if r["type"].startswith((DYNAMIC, PLUGIN_TYPES)) and r.get("custom")
    ]
    recorded = sorted(r["id"] for r in managed if r["type"].endswith(":ServiceAccount"))
    assert sorted(emulator.store.users) == recorded == sorted(accounts)
    held: list[str] = []
    for where, outs in token_states(managed).items():
        mine = {outs["token_id"], *filter(None, [outs.get("previous_token_id")])}
        marked = [
            t.id
            for t in emulator.store.list_tokens(outs["username"])
            if split_marked(t.name)[1] == outs["mark"]
        ]
        assert sorted(marked) == sorted(mine), f"{where}: live {marked}, state {mine}"
        held += mine
    live = sorted(t.id for name in recorded for t in emulator.store.list_tokens(name))
    assert live == sorted(held), f"MotherDuck holds {live}, state {sorted(held)}"
    for config in (r for r in managed if isinstance(r["outputs"].get("read_write"), dict)):
        username = config["outputs"]["username"]
        assert emulator.store.get_config(username)["read_write"] == config["outputs"]["read_write"]
    stack.preview("--expect-no-changes")
    stack.refresh("--expect-no-changes")


def stepped_factory(
    emulator: EmulatorServer,
    emulator_stack: MakeStack,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> Callable[[str], SteppedUp]:
    """`make(phase)`: the phase's stack, prepared, ready to be stepped through."""

    def make(phase: str) -> SteppedUp:
        stack = emulator_stack(PHASES[phase].program)
        PHASES[phase].prepare(emulator, stack)
        return SteppedUp(emulator, stack, pulumi_env, pulumi_bin / "pulumi")

    return make


def points(phase: str, first: int = 1, last: int | None = None) -> list[Any]:
    """The pytest params of one phase's points, numbered first..last in POINTS' order."""
    chosen = [p for p in POINTS if p.phase == phase][first - 1 : last]
    return [
        pytest.param(p, id=p.id, marks=[pytest.mark.killsteps_fast] if p.id in FAST else [])
        for p in chosen
    ]


def check_killed_at(
    point: Point,
    stepped: Callable[[str], SteppedUp],
    emulator: EmulatorServer,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    """Kill the phase's run at `point`, recover with the README's commands, check convergence."""
    up = stepped(point.phase)
    program = program_digest(up.stack.project)
    print(f"\n{point.id}: {kill_at(up, point)}")

    recovered = subprocess.run(
        [sys.executable, "-m", "motherduck_provider.recover", "--cancel"]
        + ["--pulumi", str(pulumi_bin / "pulumi")],
        cwd=up.stack.project,
        env={**os.environ, **pulumi_env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    print(recovered.stdout.strip())
    up.stack.up()  # the one `pulumi up` after recovery
    assert program_digest(up.stack.project) == program
    assert_converged(emulator, up.stack, PHASES[point.phase].accounts)


def killed_at_test(params: list[Any]) -> Callable[..., None]:
    """A `test_killed_at` over these points, for the module that assigns it."""

    @pytest.mark.parametrize("point", params)
    def test_killed_at(
        point: Point,
        stepped: Callable[[str], SteppedUp],
        emulator: EmulatorServer,
        pulumi_env: dict[str, str],
        pulumi_bin: Path,
    ) -> None:
        check_killed_at(point, stepped, emulator, pulumi_env, pulumi_bin)

    return test_killed_at
