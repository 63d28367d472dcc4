"""`python -m motherduck_provider.fleet` (also `motherduck-fleet`): run a fleet of shard stacks.

    init --shards N [--stack-prefix shard] [--config K=V]... [--secret K=ENVVAR]...
    preview | up | refresh | destroy [--shard K]... [--failed] [--parallel N] [--expect-no-changes]
    outputs [--show-secrets]
    recover [--shard K]... [--failed]      after a killed run: `recover --cancel` per shard
    move USERNAME --to K                   one account to shard K (pinned there)
    reshard --shards M                     every account to its shard among M stacks
    status                                 the shards and the last outcome of each operation

Run it in the project directory (or pass `--cwd`). Exit code 0 when every shard succeeded,
1 when any failed, 2 for a usage error.

Why `--failed` is a flag and not the default: after a program change, `up` must reach every
shard, and a default that silently skipped shards because of a local record would leave them
behind. `--failed` is explicit, reads the last outcome of the same operation per shard, and in
a CI matrix each job simply runs its own `--shard K` again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .layout import FleetError, FleetFile, RunRecord
from .runner import OPERATIONS, Fleet, default_parallel, run_fleet


def _command(path: str | None) -> object:
    from pulumi import automation as auto

    if path is None:
        return auto.PulumiCommand()
    binary = Path(path).resolve()
    if binary.parent.name != "bin":
        raise FleetError(f"--pulumi: {path} must be <root>/bin/pulumi")
    return auto.PulumiCommand(root=str(binary.parent.parent))


def _fleet(args: argparse.Namespace) -> Fleet:
    project = Path(args.cwd).resolve()
    if not (project / "Pulumi.yaml").exists():
        raise FleetError(f"{project}: no Pulumi.yaml (run in the project dir or pass --cwd)")
    return Fleet(project, _command(args.pulumi))  # type: ignore[arg-type]


def _selected(args: argparse.Namespace, spec: FleetFile, operation: str) -> list[str]:
    stacks = spec.stacks
    if args.shard:
        bad = [k for k in args.shard if not 0 <= k < spec.shards]
        if bad:
            raise FleetError(f"--shard: {bad[0]} is not within 0..{spec.shards - 1}")
        stacks = [spec.stack(k) for k in sorted(set(args.shard))]
    if args.failed:
        failed = set(RunRecord(Path(args.cwd).resolve()).failed(operation))
        stacks = [s for s in stacks if s in failed]
    return stacks


def cmd_init(args: argparse.Namespace) -> int:
    from pulumi import automation as auto

    fleet = _fleet(args)
    try:
        existing = FleetFile.load(fleet.project)
    except FleetError:
        existing = None
    if existing is not None and existing.shards != args.shards:
        raise FleetError(
            f"this project's fleet has {existing.shards} shards; change it with `reshard`"
        )
    spec = FleetFile(args.stack_prefix, args.shards)
    values: dict[str, auto.ConfigValue] = {}
    for item in args.config:
        key, sep, value = item.partition("=")
        if not sep:
            raise FleetError(f"--config: {item!r} is not KEY=VALUE")
        values[key] = auto.ConfigValue(value)
    for item in args.secret:
        key, sep, var = item.partition("=")
        if not sep or var not in os.environ:
            raise FleetError(f"--secret: {item!r}: give KEY=ENVVAR with ENVVAR set")
        values[key] = auto.ConfigValue(os.environ[var], secret=True)
    from .shards import create_stacks

    create_stacks(fleet, spec.stacks, spec.shards, values)
    for k, name in enumerate(spec.stacks):
        print(f"{name}: ready (shard {k} of {spec.shards})")
    spec.save(fleet.project)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .summary import render

    fleet = _fleet(args)
    spec = FleetFile.load(fleet.project)
    stacks = _selected(args, spec, args.command)
    if not stacks:
        print(f"fleet {args.command}: no shard to run" + (" (none failed)" if args.failed else ""))
        return 0
    record = RunRecord(fleet.project)
    # Until a shard ends, its record says `running`: if this runner is killed, `--failed`
    # still picks it up.
    record.save(args.command, {s: {"result": "running"} for s in stacks})
    start = time.perf_counter()
    outcomes = run_fleet(
        fleet,
        stacks,
        args.command,
        args.parallel or default_parallel(),
        say=lambda line: print(line, flush=True),
        expect_no_changes=args.expect_no_changes,
        on_done=lambda o: record.save(args.command, {o.stack: o.to_dict()}),
    )
    print(render(args.command, outcomes, time.perf_counter() - start))
    return 0 if all(o.result == "succeeded" for o in outcomes) else 1


def cmd_outputs(args: argparse.Namespace) -> int:
    from .outputs import merge_outputs

    fleet = _fleet(args)
    spec = FleetFile.load(fleet.project)
    per_stack = {
        name: {k: (v.value, v.secret) for k, v in fleet.open(name).outputs().items()}
        for name in spec.stacks
    }
    try:
        merged = merge_outputs(per_stack, args.show_secrets)
    except ValueError as exc:
        raise FleetError(str(exc)) from None
    print(json.dumps(merged, indent=2, sort_keys=True))
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    import subprocess

    fleet = _fleet(args)
    spec = FleetFile.load(fleet.project)
    stacks = _selected(args, spec, "up")
    status = 0
    for name in stacks:
        env = {**os.environ, **fleet.env}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "motherduck_provider.recover",
                "--stack",
                name,
                "--pulumi",
                fleet.command.command,
                "--cancel",
            ],
            cwd=fleet.project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in proc.stdout.strip().splitlines():
            print(f"{name}: {line}")
        if proc.returncode != 0:
            status = 1
            print(f"{name}: recover failed: {proc.stderr.strip()[-500:]}")
    return status


def cmd_move(args: argparse.Namespace) -> int:
    from .moves import move_account

    fleet = _fleet(args)
    move_account(fleet, FleetFile.load(fleet.project), args.username, args.to, print)
    return 0


def cmd_reshard(args: argparse.Namespace) -> int:
    from .moves import reshard

    fleet = _fleet(args)
    spec = FleetFile.load(fleet.project)
    new = reshard(fleet, spec, args.shards, print)
    RunRecord(fleet.project).forget([s for s in spec.stacks if s not in new.stacks])
    print(f"fleet: {spec.shards} -> {new.shards} shards; run `up` to check (nothing to change)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    fleet = _fleet(args)
    spec = FleetFile.load(fleet.project)
    runs = RunRecord(fleet.project).load()
    print(f"{spec.shards} shards: {', '.join(spec.stacks)}")
    for operation, outcomes in sorted(runs.items()):
        cells = [f"{s}={outcomes[s]['result']}" for s in spec.stacks if s in outcomes]
        print(f"last {operation}: {' '.join(cells)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m motherduck_provider.fleet", description=__doc__.splitlines()[0]
    )
    top.add_argument("--cwd", default=".", help="the project directory (default: here)")
    top.add_argument("--pulumi", help="the pulumi executable, <root>/bin/pulumi (default: PATH)")
    sub = top.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create the shard stacks and the fleet file")
    init.add_argument("--shards", type=int, required=True)
    init.add_argument("--stack-prefix", default="shard")
    init.add_argument("--config", action="append", default=[], help="KEY=VALUE for every shard")
    init.add_argument(
        "--secret", action="append", default=[], help="KEY=ENVVAR: a secret from the environment"
    )
    init.set_defaults(run=cmd_init)
    for operation in OPERATIONS:
        op = sub.add_parser(operation, help=f"`pulumi {operation}` on every (selected) shard")
        op.add_argument("--shard", type=int, action="append", help="only shard K (repeatable)")
        op.add_argument("--failed", action="store_true", help="only shards whose last run failed")
        op.add_argument(
            "--parallel", type=int, help=f"shards at once (default {default_parallel()})"
        )
        op.add_argument("--expect-no-changes", action="store_true")
        op.set_defaults(run=cmd_run)
    outputs = sub.add_parser("outputs", help="every shard's outputs merged, as JSON")
    outputs.add_argument("--show-secrets", action="store_true")
    outputs.set_defaults(run=cmd_outputs)
    recover = sub.add_parser("recover", help="after a killed run: cancel + recover per shard")
    recover.add_argument("--shard", type=int, action="append")
    recover.add_argument("--failed", action="store_true", help="shards whose last `up` failed")
    recover.set_defaults(run=cmd_recover)
    move = sub.add_parser("move", help="move one account to another shard (never deletes)")
    move.add_argument("username")
    move.add_argument("--to", type=int, required=True)
    move.set_defaults(run=cmd_move)
    re_ = sub.add_parser("reshard", help="change the shard count (never deletes an account)")
    re_.add_argument("--shards", type=int, required=True)
    re_.set_defaults(run=cmd_reshard)
    sub.add_parser("status", help="shards and last outcomes").set_defaults(run=cmd_status)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "parallel", None) is not None and args.parallel < 1:
        print("--parallel: must be at least 1", file=sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except FleetError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return 2
