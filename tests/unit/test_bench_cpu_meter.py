"""bench/cpu_meter.py: which process is which, and that a child's CPU is counted once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from cpu_meter import CpuMeter, kind, update  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/x/bin/pulumi", "--non-interactive", "up"], "engine"),
        (["/x/bin/pulumi-language-python", "127.0.0.1:1"], "engine"),
        (["/v/bin/python", "/x/bin/pulumi-language-python-exec", "--monitor", "m"], "program"),
        (["/v/bin/python", "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"], "provider"),
        (["/v/bin/python", "-m", "motherduck_provider.plugin", "serve"], "provider"),
        (["/x/bin/pulumi-resource-motherduck"], "provider"),
        (["/v/bin/python", "-m", "pip", "--version"], "other"),
        ([], "other"),
    ],
)
def test_kinds(argv: list[str], expected: str) -> None:
    assert kind(argv) == expected


def test_a_process_takes_the_kind_of_its_latest_command_line() -> None:
    """Sampled between fork and exec it ran the benchmark's Python; then it is the engine."""
    forked = update(None, 0.01, ["/v/bin/python", "bench/bench_stack.py"])
    assert forked == ("other", 0.01)
    assert update(forked, 2.5, ["/x/bin/pulumi", "up"]) == ("engine", 2.5)
    assert update(("engine", 2.5), 0.0, []) == ("engine", 2.5)  # a zombie: kind and CPU stay


def test_a_grandchild_is_counted_once() -> None:
    """A child that runs a grandchild burning 0.3 CPU-seconds: 0.3 s in all, none twice."""
    burn = "import time\nwhile time.process_time() < 0.3: pass"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}], check=True)"
    with CpuMeter(interval=0.02) as meter:
        subprocess.run([sys.executable, "-c", child], check=True)
    counted = meter.seconds["other"] + meter.seconds["unseen"]
    assert set(meter.seconds) == {"engine", "program", "provider", "emulator", "other", "unseen"}
    # Both interpreters' start-up comes on top of the 0.3 s; the sum holds each once.
    assert 0.3 <= counted < 1.5, meter.seconds
    assert meter.seconds["other"] >= 0.2, meter.seconds  # seen while it ran, not only after
