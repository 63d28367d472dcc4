"""Whole-stack benchmark: N accounts through the real `pulumi` CLI against the emulator.

For each phase (up, preview, no-op up, refresh, destroy) it prints the seconds, the API calls,
the call floor (the fewest calls that phase can make: 2 + tokens per new account, 2 reads per
account on refresh, tokens + 1 deletes per account, none in a preview or a no-op up), their
ratio, the average number of calls in flight, and the seconds of the same program run with a
provider that makes no calls (`null_provider.py`: the engine's own cost). Both stacks run phase
by phase, interleaved, so machine load hits both alike.

Run: `.venv/bin/python bench/bench_stack.py --accounts 10 100 [--latency 0.05] [--tokens 1]
[--parallel P] [--env PULUMI_DIY_BACKEND_GZIP=true] [--compact | --onestep] [--cpu]
[--backend-query metadata=skip] [--python user|dev]`. `--cpu` adds each phase's CPU-seconds by
process (`cpu_meter.py`): wall seconds on 2 cores do not say who keeps them busy. Loopback
only; the emulator runs in this process. Figures, not a test: the machine's load moves them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cpu_meter import CpuMeter  # noqa: E402  (bench/ is this script's directory)
from user_python import add_python_argument, python_env  # noqa: E402  (bench/)

from motherduck_provider.emulator import EmulatorServer  # noqa: E402
from tools.pulumi_env import install_pulumi, pulumi_environment  # noqa: E402

BENCH = REPO / "bench"
PROGRAM = BENCH / "stack"
ADMIN_TOKEN = "bench-admin-token"


@dataclass(frozen=True)
class Phase:
    name: str
    args: tuple[str, ...]

    def floor(self, accounts: int, tokens: int, onestep: bool = False) -> int:
        # The one-step form deletes the account alone: its tokens go with it.
        return {
            "up": accounts * (2 + tokens),
            "refresh": 2 * accounts,
            "destroy": accounts * (1 if onestep else 1 + tokens),
        }.get(self.name, 0)


PHASES = (
    Phase("up", ("up", "--yes", "--skip-preview")),
    Phase("preview", ("preview", "--expect-no-changes")),
    Phase("no-op up", ("up", "--yes", "--skip-preview", "--expect-no-changes")),
    Phase("refresh", ("refresh", "--yes", "--skip-preview")),
    Phase("destroy", ("destroy", "--yes", "--skip-preview")),
)


@dataclass
class Result:
    seconds: float
    calls: int
    busy: float  # sum of the emulator's request durations
    cpu: dict[str, float] | None = None  # CPU-seconds by process kind (`--cpu`)


class Stack:
    """A copy of bench/stack with its own state backend, in `mode` motherduck or null."""

    def __init__(
        self,
        root: Path,
        mode: str,
        bin_dir: Path,
        server: EmulatorServer,
        accounts: int,
        tokens: int,
        parallel: int | None,
        extra_env: dict[str, str],
        timeout: float,
        compact: bool = False,
        onestep: bool = False,
        backend_query: str = "",
        python: dict[str, str] | None = None,
    ) -> None:
        self.mode = mode
        self.project = root / mode / "project"
        shutil.copytree(PROGRAM, self.project, ignore=shutil.ignore_patterns("__pycache__"))
        self.env = {
            **os.environ,
            **pulumi_environment(root / mode / "pulumi", bin_dir),
            **(python or python_env("dev")),
            **extra_env,
        }
        if backend_query:
            self.env["PULUMI_BACKEND_URL"] += "?" + backend_query
        self.parallel = parallel
        self.timeout = timeout
        self.run("stack", "init", "bench")
        settings = {
            "accounts": str(accounts),
            "tokens": str(tokens),
            "mode": mode,
            "prefix": mode[:4],
            "motherduck:apiUrl": server.url,
            "compact": str(compact).lower(),
            "onestep": str(onestep).lower(),
        }
        for key, value in settings.items():
            self.run("config", "set", "--plaintext", key, value)
        self.run("config", "set", "--secret", "motherduck:token", server.admin_token)

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        extra = (
            ("--parallel", str(self.parallel))
            if self.parallel
            and args[0]
            in (
                "up",
                "preview",
                "refresh",
                "destroy",
            )
            else ()
        )
        proc = subprocess.run(
            ["pulumi", "--non-interactive", *args, *extra],
            cwd=self.project,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(
                f"[{self.mode}] pulumi {' '.join(args)} exited {proc.returncode}\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc

    def measure(
        self,
        phase: Phase,
        server: EmulatorServer,
        env: dict[str, str] | None = None,
        cpu: bool = False,
    ) -> Result:
        before = len(server.store.requests)
        with CpuMeter() if cpu else contextlib.nullcontext() as meter:
            start = time.perf_counter()
            self.run(*phase.args, env=env)
            seconds = time.perf_counter() - start
        new = server.store.requests[before:]
        return Result(
            seconds, len(new), sum(r.duration for r in new), meter.seconds if meter else None
        )


def bench(
    accounts: int,
    tokens: int,
    latency: float,
    parallel: int | None,
    extra_env: dict[str, str],
    timeout: float,
    bin_dir: Path,
    phases: tuple[Phase, ...] = PHASES,
    with_null: bool = True,
    fast_up: bool = False,
    compact: bool = False,
    onestep: bool = False,
    cpu: bool = False,
    backend_query: str = "",
    python: str = "user",
) -> dict[str, object]:
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="md-bench-") as tmp,
        EmulatorServer(admin_token=ADMIN_TOKEN) as server,
    ):
        server.store.faults.latency = latency
        interpreter = python_env(python)
        ours, null = (
            Stack(
                Path(tmp),
                mode,
                bin_dir,
                server,
                accounts,
                tokens,
                parallel,
                extra_env,
                timeout,
                compact,
                onestep,
                backend_query,
                interpreter,
            )
            if mode == "motherduck" or with_null
            else None
            for mode in ("motherduck", "null")
        )
        assert ours is not None
        per_account = 1 if onestep else 1 + tokens + (not compact)
        form = (
            " (tokens and config in the account)"
            if onestep
            else " (config in the account)"
            if compact
            else " + 1 config"
        )
        print(
            f"\nN={accounts} accounts x (1 account + {tokens} token{form}) = "
            f"{accounts * per_account} resources; "
            f"added API latency {latency * 1000:.0f} ms; "
            f"--parallel {parallel or 'default (4 x CPUs)'}; "
            f"env {' '.join(f'{k}={v}' for k, v in extra_env.items()) or '-'}; "
            f"python {python}" + (f"; backend file://...?{backend_query}" if backend_query else ""),
            flush=True,
        )
        print(
            f"{'phase':<10} {'seconds':>8} {'calls':>6} {'floor':>6} {'ratio':>6} "
            f"{'in flight':>9} {'null s':>8} {'ours - null':>11}",
            flush=True,
        )
        for phase in phases:
            # Unsafe for real use (state is written only at the end); here it only makes
            # the setup of the later phases quick.
            env = {"PULUMI_SKIP_CHECKPOINTS": "true"} if fast_up and phase.name == "up" else None
            mine = ours.measure(phase, server, env, cpu)
            engine = null.measure(phase, server, env) if null else Result(float("nan"), 0, 0.0)
            assert engine.calls == 0, "the null provider called the API"
            floor = phase.floor(accounts, tokens, onestep)
            ratio = f"{mine.calls / floor:.2f}" if floor else ("1.00" if not mine.calls else "inf")
            in_flight = mine.busy / mine.seconds if mine.seconds else 0.0
            print(
                f"{phase.name:<10} {mine.seconds:>8.1f} {mine.calls:>6} {floor:>6} {ratio:>6} "
                f"{in_flight:>9.2f} {engine.seconds:>8.1f} {mine.seconds - engine.seconds:>11.1f}",
                flush=True,
            )
            if mine.cpu is not None:
                print(f"{'':<10} {CpuMeter.format(mine.cpu)}", flush=True)
            rows.append(
                {
                    "phase": phase.name,
                    "seconds": round(mine.seconds, 2),
                    "calls": mine.calls,
                    "floor": floor,
                    "in_flight": round(in_flight, 2),
                    "null_seconds": round(engine.seconds, 2),
                    **({"cpu": mine.cpu} if mine.cpu is not None else {}),
                }
            )
    return {
        "accounts": accounts,
        "tokens": tokens,
        "latency": latency,
        "parallel": parallel,
        "env": extra_env,
        "compact": compact,
        "onestep": onestep,
        "python": python,
        **({"backend_query": backend_query} if backend_query else {}),
        "phases": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--tokens", type=int, default=1, help="tokens per account")
    parser.add_argument("--latency", type=float, default=0.05, help="added seconds per API call")
    parser.add_argument("--parallel", type=int, help="pulumi --parallel (default: engine's)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for pulumi")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per phase")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--phases",
        nargs="+",
        choices=[p.name for p in PHASES],
        help="run only these (in the usual order; `up` always runs)",
    )
    parser.add_argument("--no-null", action="store_true", help="skip the no-call provider")
    parser.add_argument(
        "--compact", action="store_true", help="the account holds its config (no InstanceConfig)"
    )
    parser.add_argument(
        "--onestep",
        action="store_true",
        help="one ServiceAccount per account holding its tokens and config (one resource)",
    )
    parser.add_argument(
        "--fast-up",
        action="store_true",
        help="run `up` with PULUMI_SKIP_CHECKPOINTS=true, to measure the later phases sooner",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also print each phase's CPU-seconds by process: engine, program, provider, "
        "emulator (Linux)",
    )
    parser.add_argument(
        "--backend-query",
        default="",
        help="append ?QUERY to the file backend's URL: metadata=skip writes no .attrs sidecars",
    )
    add_python_argument(parser)
    args = parser.parse_args()
    wanted = set(args.phases or [p.name for p in PHASES]) | {"up"}
    chosen = tuple(p for p in PHASES if p.name in wanted)
    if any(n < 1 or n > 5000 for n in args.accounts):
        parser.error("--accounts must be within 1..5000")
    extra_env = dict(item.split("=", 1) for item in args.env)
    bin_dir = install_pulumi()
    results = [
        bench(
            n,
            args.tokens,
            args.latency,
            args.parallel,
            extra_env,
            args.timeout,
            bin_dir,
            chosen,
            not args.no_null,
            args.fast_up,
            args.compact,
            args.onestep,
            args.cpu,
            args.backend_query,
            args.python,
        )
        for n in args.accounts
    ]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
