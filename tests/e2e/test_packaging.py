"""The package as users get it: `python -m build` makes an sdist and a wheel that pass
`twine check`; the wheel, installed into a fresh virtualenv outside the repository, runs a
Pulumi project of its own through preview, up, refresh and destroy against the emulator.

The project's test is the user's own pytest file: the `motherduck_emulator` fixture comes
from the installed wheel's pytest plugin, and the stack runs through the Automation API.

Dependencies come from a wheelhouse in the toolchain cache, filled once from the registry
with the versions this repository's virtualenv runs (the registry sends nothing pip may cache,
and downloading them takes about a minute); later runs install offline from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).resolve().parent / "programs" / "installed"
CACHE_ROOT = Path(
    os.environ.get("MOTHERDUCK_PULUMI_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "motherduck-pulumi"
)
# What the build backend and the user's environment need, besides the wheel's own requirements.
BUILD_REQUIREMENTS = ("setuptools>=77", "wheel")
USER_EXTRAS = ("pytest",)


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(str(a) for a in args)}` exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}",
            pytrace=False,
        )
    return proc.stdout


def constraints(tmp_path: Path) -> Path:
    """This virtualenv's versions, so the fresh one runs the combination the suite tests."""
    pinned = run(sys.executable, "-m", "pip", "freeze", "--exclude-editable")
    lines = [line for line in pinned.splitlines() if not line.startswith("motherduck-pulumi")]
    path = tmp_path / "constraints.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def wheelhouse(requirements: list[str], pins: Path) -> Path:
    """A directory of wheels for `requirements` under `pins`, downloaded once.

    It appears complete or not at all (renamed into place), so concurrent runs are safe.
    """
    key = hashlib.sha256("\n".join([*requirements, pins.read_text()]).encode()).hexdigest()
    house = CACHE_ROOT / f"wheelhouse-{key[:16]}"
    if not house.is_dir():
        partial = house.with_name(f"{house.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        run(sys.executable, "-m", "pip", "download", "-q", "-d", partial, "-c", pins,
            *requirements)  # fmt: skip
        try:
            partial.rename(house)
        except OSError:  # another run got there first
            shutil.rmtree(partial, ignore_errors=True)
    return house


def offline_pip(house: Path) -> dict[str, str]:
    """Environment that makes every pip (also build's isolated one) use only `house`."""
    return {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(house)}


def test_built_wheel_runs_a_project_of_its_own(tmp_path: Path, pulumi_env: dict[str, str]) -> None:
    pins = constraints(tmp_path)
    house = wheelhouse([*BUILD_REQUIREMENTS, f"{REPO_ROOT}[emulator]", *USER_EXTRAS], pins)

    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist, REPO_ROOT, env=offline_pip(house))
    (sdist,) = dist.glob("motherduck_pulumi-*.tar.gz")
    (wheel,) = dist.glob("motherduck_pulumi-*-py3-none-any.whl")
    assert "PASSED" in run(sys.executable, "-m", "twine", "check", "--strict", sdist, wheel)

    venv = tmp_path / "user-venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "-c", pins, f"{wheel}[emulator]", *USER_EXTRAS,
        env=offline_pip(house))  # fmt: skip

    project = tmp_path / "user-project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "check_stack.py").rename(project / "test_stack.py")
    (project / "Pulumi.yaml").write_text(
        f"name: user-project\nruntime:\n  name: python\n  options:\n    virtualenv: {venv}\n"
    )
    env = {**os.environ, **pulumi_env, "PULUMI_PYTHON_CMD": str(python)}
    env.pop("PYTHONPATH", None)
    assert not project.is_relative_to(REPO_ROOT) and not venv.is_relative_to(REPO_ROOT)
    report = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env)
    assert "1 passed" in report, report
