"""CPU-seconds of one benchmark phase, by process: what the engine, the program, the provider
and the emulator each cost.

Wall seconds on 2 cores say how long a user waits, not who keeps the cores busy. This meter
polls the benchmark's process tree (`/proc/<pid>/task/<tid>/children`, Linux only) and keeps
each process's last user + system time, sorted by what the process is (`kind`). The exact
total comes from `getrusage`: the reaped descendants plus this process (the emulator runs here,
as does the poller, whose own cost is under a percent). What the polling misses (CPU spent after
a process's last sample) is printed as `unseen`.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections import defaultdict
from pathlib import Path

KINDS = ("engine", "program", "provider", "emulator", "other", "unseen")
_TICK = os.sysconf("SC_CLK_TCK")


def kind(argv: list[str]) -> str:
    """What a process is, from its command line.

    `engine`: the `pulumi` CLI and its Go plugins (language hosts). `program`: the Python
    program the language host runs. `provider`: Pulumi's dynamic-provider server or our
    provider plugin. `other`: the rest (the language host's `pip --version`, a `python -c`).
    """
    if not argv:
        return "other"
    joined = " ".join(argv)
    if "pulumi-language-python-exec" in joined:
        return "program"
    if "pulumi.dynamic" in argv or "motherduck_provider.plugin" in joined:
        return "provider"
    if "pulumi-resource-motherduck" in joined:
        return "provider"
    name = Path(argv[0]).name
    if name == "pulumi" or name.startswith(("pulumi-language-", "pulumi-resource-")):
        return "engine"
    return "other"


def update(previous: tuple[str, float] | None, cpu: float, argv: list[str]) -> tuple[str, float]:
    """A process's kind and CPU after one more sample.

    The kind follows the latest command line: a child is sampled between `fork` and `exec`
    with its parent's (this benchmark's), and a zombie has none (then the last kind stays).
    """
    name = kind(argv) if argv else (previous[0] if previous else "other")
    return name, max(cpu, previous[1] if previous else 0.0)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def _sample(pid: int) -> tuple[float, list[str]] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK, argv


class CpuMeter:
    """Use as `with CpuMeter() as meter: ...`; then `meter.seconds` maps each kind to its CPU-s."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.seconds: dict[str, float] = {}
        self._seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> CpuMeter:
        self._own = time.process_time()
        self._reaped = self._children_cpu()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        own = time.process_time() - self._own
        reaped = self._children_cpu() - self._reaped
        by_kind: dict[str, float] = defaultdict(float)
        for name, cpu in self._seen.values():
            by_kind[name] += cpu
        seen = sum(by_kind.values())
        self.seconds = {k: round(by_kind.get(k, 0.0), 2) for k in KINDS[:3]}
        self.seconds["emulator"] = round(own, 2)
        self.seconds["other"] = round(by_kind.get("other", 0.0), 2)
        self.seconds["unseen"] = round(max(reaped - seen, 0.0), 2)

    @staticmethod
    def _children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def _poll(self) -> None:
        root = os.getpid()
        while not self._stop.is_set():
            stack = _children(root)
            while stack:
                pid = stack.pop()
                sample = _sample(pid)
                if sample is None:
                    continue
                self._seen[pid] = update(self._seen.get(pid), *sample)
                stack.extend(_children(pid))
            self._stop.wait(self.interval)

    @staticmethod
    def format(seconds: dict[str, float]) -> str:
        """One line: each kind's CPU-seconds and their total."""
        parts = " ".join(f"{k} {v:.1f}" for k, v in seconds.items())
        return f"cpu-s: {parts} = {sum(seconds.values()):.1f}"
