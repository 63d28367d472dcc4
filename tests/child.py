"""Run a Python program in a child interpreter and read the JSON it prints last.

For tests of code that installs process-wide state (Pulumi's mocks, the SDK workarounds, the
modules a process has imported), so that nothing leaks into the other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_python(
    program: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -c program args...` in the repository, its output captured."""
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=None if env is None else dict(env),
    )


def last_json(program: str, *args: str, env: Mapping[str, str] | None = None) -> Any:
    """The JSON on the last line the program prints; it must succeed."""
    proc = run_python(program, *args, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
