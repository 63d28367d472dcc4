"""Figures for how much a person must read when `pulumi up` fails: lines of CLI output.

Runs the real engine on `tests/e2e/programs/fleet` (independent service accounts) against the
emulator, once with the package as it was before errors were rendered as one line (commit
a78f0ff, extracted with `git archive`) and once with this working tree:

* a wrong admin token across 8 accounts (`--continue-on-error`, so all 8 fail every time);
* a dropped connection on the one account's create.

Run: `.venv/bin/python bench/bench_errors.py [--before COMMIT]`. Needs the Pulumi toolchain
(`bash scripts/install-pulumi`) and git; about 20 s. Loopback only.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from motherduck_provider.emulator import EmulatorServer  # noqa: E402
from tools.pulumi_env import install_pulumi, pulumi_environment  # noqa: E402

FLEET = REPO / "tests" / "e2e" / "programs" / "fleet"
BASELINE = "a78f0ff"


def extract(commit: str, into: Path) -> Path:
    """The package as of `commit`, unpacked under `into` (read-only use of the repository)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "motherduck_provider"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_up(
    bin_dir: Path, work: Path, url: str, token: str, count: int, pythonpath: Path | None
) -> tuple[int, str]:
    """`pulumi up` of `count` accounts; (exit code, all output)."""
    project = work / "fleet"
    shutil.copytree(FLEET, project)
    env = {**os.environ, **pulumi_environment(work / "pulumi", bin_dir)}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / "pulumi"), "--non-interactive", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    for args in (
        ("stack", "init", "dev"),
        ("config", "set", "motherduck:apiUrl", url),
        ("config", "set", "--secret", "motherduck:token", token),
        ("config", "set", "count", str(count)),
    ):
        pulumi(*args).check_returncode()
    proc = pulumi("up", "--yes", "--skip-preview", "--continue-on-error")
    return proc.returncode, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default=BASELINE, help="commit to compare with")
    before_commit = parser.parse_args().before
    bin_dir = install_pulumi()
    print(f"{'scenario':<42} {'before':>8} {'after':>8}   (lines of `pulumi up` output)")
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(admin_token="bench-admin") as emu:
        before = extract(before_commit, Path(tmp) / "before")
        scenarios = [("wrong admin token, 8 accounts", 8, False), ("dropped connection", 1, True)]
        for label, count, drop in scenarios:
            figures = []
            for name, pythonpath in (("before", before), ("after", None)):
                emu.store.reset()
                token = "not-the-admin-token"
                if drop:
                    token = emu.admin_token
                    emu.store.faults.drop("users-createServiceAccount")
                work = Path(tmp) / f"{name}-{count}"
                code, out = run_up(bin_dir, work, emu.url, token, count, pythonpath)
                assert code != 0, out
                figures.append(len(out.splitlines()))
            print(f"{label:<42} {figures[0]:>8} {figures[1]:>8}")


if __name__ == "__main__":
    main()
