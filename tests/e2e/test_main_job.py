"""The README's first command from a clean copy of the project: `scripts/up`, again, `scripts/down`,
on a machine whose `python3` is not a supported Python (bootstrap must take another one).

The copy holds exactly what a clone would (tracked and unignored files), so a missing install
step or a path that only works in a developer's checkout fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]


def clean_copy(dst: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = REPO_ROOT / name
        if source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)
    return dst


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(project: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["bash", f"scripts/{script}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"scripts/{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def unsupported_python3(where: Path) -> Path:
    """A directory whose `python3` is a Python this project does not support (3.10 when the
    machine has one, else one that does not run), to put first on PATH."""
    where.mkdir()
    found = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "find-python"), "3.10"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if found:
        (where / "python3").symlink_to(found)
    else:
        (where / "python3").write_text("#!/bin/sh\nexit 1\n")
        (where / "python3").chmod(0o755)
    return where


def test_up_again_and_down_from_a_clean_copy(tmp_path: Path, pulumi_bin: Path) -> None:
    project = clean_copy(tmp_path / "clone")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MOTHERDUCK_", "PULUMI_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["MOTHERDUCK_EMULATOR_PORT"] = str(port)
    # A machine whose python3 is too old: bootstrap takes a supported one and says which.
    env["PATH"] = f"{unsupported_python3(tmp_path / 'old-python')}{os.pathsep}{env['PATH']}"

    first = run(project, "up", env)
    out = first.stdout + first.stderr
    took = re.search(r"find-python: python3 \(.*\) is .*; took (\S+) \(Python (3\.1[1-3])\)", out)
    assert took, out
    venv_python = project / ".venv" / "bin" / "python"
    version = subprocess.run(
        [str(venv_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == took.group(2)
    assert "+ 9 created" in out
    for expected in ("etl_writer", "bi_reader", "[secret]", "Pulumi state:", "emulator.log"):
        assert expected in out
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/state") as answer:
        state = json.load(answer)
    users = {u["username"]: u for u in state["users"]}
    assert set(users) == {"etl_writer", "bi_reader"}
    assert len(users["bi_reader"]["tokens"]) == 1
    assert users["bi_reader"]["config"]["read_scaling"]["flock_size"] == 4
    admin_token = (project / ".work" / "emulator-admin-token").read_text().strip()
    assert admin_token not in out

    second = run(project, "up", env)
    assert "9 unchanged" in second.stdout

    run(project, "down", env)
    assert not (project / ".work" / "emulator-state.json").exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=2)
