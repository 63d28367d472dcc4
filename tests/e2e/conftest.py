"""Fixtures for end-to-end tests that drive the real Pulumi CLI and engine.

* ``pulumi_bin`` (session): the bin dir from ``scripts/install-pulumi``
  (``pulumi``, ``pulumi-language-python``, ``pulumi-language-python-exec``,
  ``pulumi-resource-pulumi-python``). The first run builds the CLI from Go
  modules (minutes); later runs hit the cache. If the toolchain cannot be
  installed the requesting test fails (it never skips).
* ``pulumi_env``: the offline environment additions for one test's own work
  dir (file backend state, PULUMI_HOME, passphrase, PULUMI_PYTHON_CMD, PATH).
* ``run_pulumi``: runs ``pulumi <args>`` in a project dir with that env and
  fails the test, showing the output, on a non-zero exit.
* ``copy_project``: copies a project dir under ``tmp_path`` so stack files
  written by the CLI (``Pulumi.<stack>.yaml``) never land in the repo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.pulumi_env import install_pulumi, pulumi_environment

E2E_DIR = Path(__file__).resolve().parent

RunPulumi = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    """Install (or find) the Pulumi toolchain once per session; fail if impossible."""
    try:
        return install_pulumi()
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"the Pulumi toolchain could not be installed: {exc}", pytrace=False)


@pytest.fixture
def pulumi_work_dir(tmp_path: Path) -> Path:
    """This test's Pulumi work dir (state backend and PULUMI_HOME live here)."""
    work = tmp_path / "pulumi"
    work.mkdir()
    return work


@pytest.fixture
def pulumi_env(pulumi_bin: Path, pulumi_work_dir: Path) -> dict[str, str]:
    """Environment additions for running Pulumi offline in this test's work dir."""
    return pulumi_environment(pulumi_work_dir, pulumi_bin)


@pytest.fixture
def run_pulumi(pulumi_bin: Path, pulumi_env: dict[str, str]) -> RunPulumi:
    """Return ``run(project_dir, *args, check=True, env=None)`` for the real CLI."""

    def run(
        project_dir: Path,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **pulumi_env, **(env or {})}
        proc = subprocess.run(
            [str(pulumi_bin / "pulumi"), "--non-interactive", *args],
            cwd=project_dir,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"`pulumi {' '.join(args)}` exited {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}",
                pytrace=False,
            )
        return proc

    return run


@pytest.fixture
def copy_project(tmp_path: Path) -> Callable[[Path], Path]:
    """Return ``copy(src) -> dst``: a fresh copy of a project dir under tmp_path."""

    def copy(src: Path) -> Path:
        dst = tmp_path / "project" / src.name
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml"))
        return dst

    return copy
