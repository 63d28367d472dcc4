"""Fleet benchmark: N accounts over K shard stacks, run by the fleet runner, against the emulator.

For each phase (up, preview, no-op up, refresh, destroy) it prints the fleet's wall seconds, the
API calls (the emulator's count; the runner's call logs must agree), the call floor, and the
seconds of the same fleet with a provider that makes no calls (`null_provider.py`: the engines'
own cost). Both fleets run phase by phase, interleaved, so machine load hits both alike.

Run: `.venv/bin/python bench/bench_fleet.py --accounts 1000 --shards 20 [--parallel P]
[--latency 0.05] [--no-null] [--onestep] [--phases up destroy] [--json out.json]
[--python user|dev]`. Loopback only; the emulator runs in this process. Figures, not a test:
the machine's load moves them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pulumi import automation as auto

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cpu_meter import CpuMeter  # noqa: E402  (bench/ is this script's directory)
from user_python import add_python_argument, python_env  # noqa: E402  (bench/)

from motherduck_provider.emulator import EmulatorServer  # noqa: E402
from motherduck_provider.fleet.layout import FleetFile  # noqa: E402
from motherduck_provider.fleet.runner import Fleet, default_parallel, run_fleet  # noqa: E402
from motherduck_provider.fleet.shards import create_stacks  # noqa: E402
from tools.pulumi_env import install_pulumi, pulumi_environment  # noqa: E402

BENCH = REPO / "bench"
PROGRAM = BENCH / "fleet"
PHASES = (
    ("up", "up", False),
    ("preview", "preview", True),
    ("no-op up", "up", True),
    ("refresh", "refresh", True),
    ("destroy", "destroy", False),
)


def floor(phase: str, accounts: int, onestep: bool = False) -> int:
    # The one-step form deletes the account alone (its token goes with it).
    deletes = accounts if onestep else 2 * accounts
    return {"up": 3 * accounts, "refresh": 2 * accounts, "destroy": deletes}.get(phase, 0)


def make_fleet(
    root: Path,
    mode: str,
    bin_dir: Path,
    server: EmulatorServer,
    accounts: int,
    shards: int,
    onestep: bool = False,
    python: str = "user",
) -> tuple[Fleet, FleetFile]:
    project = root / mode
    shutil.copytree(PROGRAM, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**pulumi_environment(root / f"{mode}-pulumi", bin_dir), **python_env(python)}
    fleet = Fleet(project, auto.PulumiCommand(root=str(bin_dir.parent)), env)
    spec = FleetFile("shard", shards)
    values = {
        "accounts": auto.ConfigValue(str(accounts)),
        "mode": auto.ConfigValue(mode),
        "onestep": auto.ConfigValue(str(onestep).lower()),
        "motherduck:apiUrl": auto.ConfigValue(server.url),
        "motherduck:token": auto.ConfigValue(server.admin_token, secret=True),
    }
    create_stacks(fleet, spec.stacks, shards, values)
    spec.save(project)
    return fleet, spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--parallel", type=int, help="shards at once (default: the runner's)")
    parser.add_argument("--latency", type=float, default=0.05, help="added seconds per API call")
    parser.add_argument("--no-null", action="store_true", help="skip the no-call provider")
    parser.add_argument(
        "--onestep",
        action="store_true",
        help="one ServiceAccount per account holding its token and config (one resource)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also print each phase's CPU-seconds by process (ours only): engine, program, "
        "provider, emulator (with the runner: this process), other (Linux)",
    )
    parser.add_argument(
        "--phases",
        nargs="+",
        choices=[p[0] for p in PHASES],
        help="run only these (in the usual order; `up` and `destroy` always run)",
    )
    add_python_argument(parser)
    args = parser.parse_args()
    if not 1 <= args.accounts <= 20000 or not 1 <= args.shards <= 200:
        parser.error("--accounts within 1..20000, --shards within 1..200")
    parallel = args.parallel or default_parallel()
    bin_dir = install_pulumi()
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="md-fleet-bench-") as tmp,
        EmulatorServer() as server,
    ):
        server.store.faults.latency = args.latency
        modes = ("motherduck",) if args.no_null else ("motherduck", "null")
        fleets = {
            m: make_fleet(
                Path(tmp), m, bin_dir, server, args.accounts, args.shards, args.onestep, args.python
            )
            for m in modes
        }
        print(
            f"{args.accounts} accounts x {1 if args.onestep else 3} resource(s) over "
            f"{args.shards} shards, {parallel} at "
            f"once; {os.cpu_count()} cores; added API latency {args.latency * 1000:.0f} ms; "
            f"python {args.python}; "
            f"{time.strftime('%Y-%m-%d')}",
            flush=True,
        )
        print(f"{'phase':<10} {'seconds':>8} {'calls':>7} {'floor':>7} {'null s':>8}")
        wanted = set(args.phases or [p[0] for p in PHASES]) | {"up", "destroy"}
        for name, operation, no_changes in (p for p in PHASES if p[0] in wanted):
            row: dict[str, object] = {"phase": name}
            for mode, (fleet, spec) in fleets.items():
                before = len(server.store.requests)
                metered = args.cpu and mode == "motherduck"
                with CpuMeter() if metered else contextlib.nullcontext() as meter:
                    start = time.perf_counter()
                    outcomes = run_fleet(
                        fleet, spec.stacks, operation, parallel, lambda _: None, no_changes
                    )
                    seconds = time.perf_counter() - start
                if meter:
                    cpu = row["cpu"] = meter.seconds
                calls = len(server.store.requests) - before
                logged = sum(o.calls for o in outcomes)
                failed = [o.stack for o in outcomes if o.result != "succeeded"]
                if failed:
                    errors = "; ".join(e for o in outcomes for e in o.errors)[:2000]
                    raise SystemExit(f"[{mode}] {name} failed on {failed}: {errors}")
                if mode == "motherduck":
                    assert logged == calls, f"call logs say {logged}, the emulator {calls}"
                    if name == "up":
                        assert len(server.store.users) == args.accounts
                    row.update(seconds=round(seconds, 1), calls=calls)
                else:
                    assert calls == 0, "the null provider called the API"
                    row["null_seconds"] = round(seconds, 1)
            print(
                f"{name:<10} {row['seconds']:>8} {row['calls']:>7} "
                f"{floor(name, args.accounts, args.onestep):>7} {row.get('null_seconds', '-'):>8}",
                flush=True,
            )
            if "cpu" in row:
                print(f"{'':<10} {CpuMeter.format(cpu)}", flush=True)
            rows.append(row)
        assert not server.store.users, "destroy left accounts behind"
    if args.json:
        result = {
            "accounts": args.accounts,
            "shards": args.shards,
            "parallel": parallel,
            "onestep": args.onestep,
            "python": args.python,
            "latency": args.latency,
            "cores": os.cpu_count(),
            "phases": rows,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
