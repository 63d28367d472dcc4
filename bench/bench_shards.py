"""Sharding: N accounts as one stack, or as K stacks run side by side with the Automation API.

The engine rewrites a stack's whole state file after every step, so an `up` of one stack
costs more than linearly in its size; K stacks of N/K accounts each write K times smaller
files and run in parallel (one engine and one provider process per stack). This prints the
seconds of `up` and `destroy` for each K given, and the API calls (the same in total).

Run: `.venv/bin/python bench/bench_shards.py --accounts 300 --shards 1 3 [--latency 0.05]`.
The pattern to copy is `run_shards`: one `auto.Stack` per shard of the same project, each
with its own slice of the accounts (here: stack config `accounts` and `prefix`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pulumi import automation as auto

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from motherduck_provider.emulator import EmulatorServer  # noqa: E402
from tools.pulumi_env import install_pulumi, pulumi_environment  # noqa: E402

PROGRAM = REPO / "bench" / "stack"


def shard_stacks(
    root: Path, bin_dir: Path, server: EmulatorServer, accounts: int, shards: int
) -> list[auto.Stack]:
    """One stack per shard of the same project; shard k manages usernames `s<k>_<i>`."""
    project = root / "project"
    shutil.copytree(PROGRAM, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = pulumi_environment(root / "pulumi", bin_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)
    stacks = []
    for k in range(shards):
        size = accounts // shards + (1 if k < accounts % shards else 0)
        stack = auto.create_or_select_stack(
            stack_name=f"shard-{k}",
            work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(
                env_vars=env,
                pulumi_home=env["PULUMI_HOME"],
                pulumi_command=auto.PulumiCommand(root=str(bin_dir.parent)),
            ),
        )
        stack.set_all_config(
            {
                "accounts": auto.ConfigValue(str(size)),
                "prefix": auto.ConfigValue(f"s{k}"),
                "motherduck:apiUrl": auto.ConfigValue(server.url),
                "motherduck:token": auto.ConfigValue(server.admin_token, secret=True),
            }
        )
        stacks.append(stack)
    return stacks


def run_shards(stacks: list[auto.Stack], operation: str) -> float:
    """Run `up` or `destroy` on every shard at once; seconds until the last one finished."""
    start = time.perf_counter()
    with ThreadPoolExecutor(len(stacks)) as pool:
        if operation == "up":
            results = list(pool.map(lambda s: s.up(), stacks))
            failed = [r.summary.result for r in results if r.summary.result != "succeeded"]
        else:
            done = list(pool.map(lambda s: s.destroy(), stacks))
            failed = [r.summary.result for r in done if r.summary.result != "succeeded"]
    if failed:
        raise SystemExit(f"{operation} failed on {len(failed)} shard(s)")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    if not 1 <= args.accounts <= 3000 or any(not 1 <= k <= 16 for k in args.shards):
        parser.error("--accounts within 1..3000, --shards within 1..16")
    bin_dir = install_pulumi()
    print(f"{args.accounts} accounts (3 resources each), added API latency {args.latency}s")
    print(f"{'stacks':>6} {'up s':>8} {'destroy s':>10} {'calls':>7}")
    for shards in args.shards:
        with tempfile.TemporaryDirectory(prefix="md-shards-") as tmp, EmulatorServer() as server:
            server.store.faults.latency = args.latency
            stacks = shard_stacks(Path(tmp), bin_dir, server, args.accounts, shards)
            up = run_shards(stacks, "up")
            assert len(server.store.users) == args.accounts
            destroy = run_shards(stacks, "destroy")
            calls = len(server.store.requests)
            print(f"{shards:>6} {up:>8.1f} {destroy:>10.1f} {calls:>7}", flush=True)


if __name__ == "__main__":
    main()
