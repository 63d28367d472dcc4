"""Rate-limit benchmark: a fleet under one shared limit per admin token, run by the fleet runner.

The emulator limits the admin token every shard uses to `--limit` requests per second (burst:
the same), answering 429 with `Retry-After` beyond it. The fleet runs `up` then `destroy`, first
4 shards at once, then all of them. For each it prints the wall seconds, the API calls that got
through, the floor those calls need at the limit (calls / limit), the 429s sent, and the
requests sent before their `Retry-After` had passed, which must be 0 (the run fails otherwise),
as must be failed shards: under a shared limit a fleet is slower, never broken.

With `--baseline` each run is preceded by the same one with no limit (`limit` column `-`), so
the cost of the limit stands beside the engines' own.

Run: `.venv/bin/python bench/bench_rate_limit.py --accounts 1000 --shards 20` (the documented
full run; `--accounts 150 --shards 6` takes a few minutes) `[--limit 20] [--latency 0.02]
[--baseline] [--json out.json]`. Loopback only; the emulator runs in this process. Figures, not
a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench_fleet import make_fleet

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from motherduck_provider.emulator import EmulatorServer  # noqa: E402
from motherduck_provider.fleet.runner import run_fleet  # noqa: E402
from tools.pulumi_env import install_pulumi  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=20)
    parser.add_argument("--limit", type=float, default=20.0, help="requests per second per token")
    parser.add_argument("--latency", type=float, default=0.02, help="added seconds per API call")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--baseline", action="store_true", help="also run with no limit")
    parser.add_argument(
        "--onestep",
        action="store_true",
        help="one ServiceAccount per account holding its token and config (one resource)",
    )
    args = parser.parse_args()
    if not 1 <= args.accounts <= 20000 or not 1 <= args.shards <= 200 or args.limit <= 0:
        parser.error("--accounts within 1..20000, --shards within 1..200, --limit above 0")
    bin_dir = install_pulumi()
    rows: list[dict[str, object]] = []
    with (
        tempfile.TemporaryDirectory(prefix="md-limit-bench-") as tmp,
        EmulatorServer() as server,
    ):
        server.store.faults.latency = args.latency
        fleet, spec = make_fleet(
            Path(tmp), "motherduck", bin_dir, server, args.accounts, args.shards, args.onestep
        )
        print(
            f"{args.accounts} accounts x {1 if args.onestep else 3} resource(s) over "
            f"{args.shards} shards; limit "
            f"{args.limit:g} requests/s per token (burst {args.limit:g}); {os.cpu_count()} cores; "
            f"added API latency {args.latency * 1000:.0f} ms; {time.strftime('%Y-%m-%d')}",
            flush=True,
        )
        print(
            f"{'at once':>7} {'limit':>5} {'phase':<8} {'seconds':>8} {'calls':>6} "
            f"{'floor s':>8} {'429s':>6} {'early':>6}"
        )
        limits = (None, args.limit) if args.baseline else (args.limit,)
        runs = [
            (parallel, limit, operation)
            for parallel in sorted({min(4, args.shards), args.shards})
            for limit in limits
            for operation in ("up", "destroy")
        ]
        for parallel, limit, operation in runs:
            if limit is None:
                server.store.faults.limit.set(1e9)  # counts, never refuses
            else:
                server.store.faults.limit.set(limit)  # counters start afresh
            before = len(server.store.requests)
            start = time.perf_counter()
            outcomes = run_fleet(fleet, spec.stacks, operation, parallel, lambda _: None)
            seconds = time.perf_counter() - start
            stats = server.store.faults.limit.stats
            requests = len(server.store.requests) - before
            logged = sum(o.calls for o in outcomes)
            failed = [f"{o.stack}: {o.errors[0]}" for o in outcomes if o.result != "succeeded"]
            if failed:
                raise SystemExit(f"{operation} at {parallel} failed: " + "; ".join(failed))
            assert logged == requests, f"call logs say {logged}, the emulator {requests}"
            assert stats.admitted + stats.limited == requests
            calls = stats.admitted
            floor = round(calls / limit, 1) if limit is not None else None
            row = {
                "parallel": parallel,
                "limit": limit,
                "phase": operation,
                "seconds": round(seconds, 1),
                "calls": calls,
                "floor_seconds": floor,
                "limited": stats.limited,
                "early": stats.early,
            }
            print(
                f"{parallel:>7} {f'{limit:g}' if limit is not None else '-':>5} {operation:<8} "
                f"{row['seconds']:>8} {calls:>6} {floor if floor is not None else '-':>8} "
                f"{stats.limited:>6} {stats.early:>6}",
                flush=True,
            )
            rows.append(row)
            if stats.early:
                raise SystemExit(f"{stats.early} request(s) sent before their Retry-After")
        server.store.faults.limit.clear()
        assert not server.store.users, "destroy left accounts behind"
    if args.json:
        result = {
            "accounts": args.accounts,
            "shards": args.shards,
            "limit": args.limit,
            "latency": args.latency,
            "onestep": args.onestep,
            "cores": os.cpu_count(),
            "runs": rows,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
