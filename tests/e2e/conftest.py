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
* ``object_store`` (session): a MinIO server on loopback with a bucket, built once by
  ``tools/minio.py`` (a build another process started is waited for, not repeated);
  ``object_store_env(server, name)`` gives a test its own backend in it (a prefix of the
  bucket) in place of the file backend of ``pulumi_env``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.minio import Server, install_minio, serve
from tools.pulumi_env import install_pulumi, pulumi_environment

E2E_DIR = Path(__file__).resolve().parent

RunPulumi = Callable[..., subprocess.CompletedProcess[str]]

# The order the e2e files start in, longest first (pytest-xdist's `--dist loadfile` hands a
# worker a whole file, so long files started last leave the other workers idle at the end):
# file totals measured in CI on 2 cores, 2026-12-07. Files not named keep their order, after
# these; the object store's last, once `scripts/test`'s background MinIO build is done.
LONGEST_FIRST = (
    "test_kill_every_step.py",
    "test_kill_every_step_rotate.py",
    "test_examples.py",
    "test_kill_every_step_create.py",
    "test_resources.py",
    "test_kill_every_step_onestep.py",
    "test_release.py",
    "test_plugin_languages.py",
    "test_recover_storage.py",
    "test_fleet.py",
    "test_plugin_sdks.py",
    "test_main_job.py",
    "test_packaging.py",
    "test_move_form.py",
    "test_scale.py",
)
STARTED_LAST = ("test_object_store.py",)


def start_rank(item: pytest.Item) -> int:
    path = Path(str(item.fspath))
    if path.parent != E2E_DIR:
        return len(LONGEST_FIRST)
    if path.name in STARTED_LAST:
        return len(LONGEST_FIRST) + 1
    if path.name in LONGEST_FIRST:
        return LONGEST_FIRST.index(path.name)
    return len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the longest e2e files first (stable: tests keep their order within a file).

    `scripts/test` passes `--no-loadscope-reorder` so that xdist keeps this order instead of
    sorting files by their number of tests."""
    items.sort(key=start_rank)


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    """Install (or find) the Pulumi toolchain once per session; fail if impossible."""
    try:
        return install_pulumi()
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"the Pulumi toolchain could not be installed: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """MinIO on a free loopback port with a bucket, for the session; fails if it cannot start."""
    try:
        install_minio()  # waits for a build another process (scripts/test) has started
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"the MinIO server could not be built: {exc}", pytrace=False)
    with serve(tmp_path_factory.mktemp("minio")) as server:
        yield server


def object_store_env(server: Server, name: str) -> dict[str, str]:
    """Environment additions that put a test's state in its own prefix of the bucket."""
    prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60]
    return {**server.env(), "PULUMI_BACKEND_URL": server.url(prefix)}


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
        skip = shutil.ignore_patterns(
            "__pycache__",
            "Pulumi.*.yaml",
            ".venv",
            ".git",
            ".work",
            "tests",
            "*_cache",
            "*.egg-info",
        )
        shutil.copytree(src, dst, ignore=skip)
        return dst

    return copy


REPO_ROOT = E2E_DIR.parent.parent


class EmulatorStack:
    """A copied Pulumi.yaml project whose `dev` stack talks to a per-test emulator.

    The admin token goes in as a secret config value (`motherduck:token`), exactly as a user
    would set it; every method runs the real CLI and fails the test on a non-zero exit
    unless `check=False`.
    """

    def __init__(self, project: Path, run: RunPulumi, work_dir: Path) -> None:
        self.project = project
        self.work_dir = work_dir
        self._run = run

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`pulumi <args>` in the project dir against the `dev` stack (`env` added)."""
        return self._run(self.project, *args, check=check, env=env)

    def up(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", *args, check=check, env=env)

    def preview(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run("preview", *args, check=check, env=env)

    def refresh(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run("refresh", "--yes", "--skip-preview", *args, check=check, env=env)

    def destroy(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Lift `protect` (examples protect accounts) and destroy everything."""
        self.run("state", "unprotect", "--all", "--yes", check=False)
        return self.run("destroy", "--yes", "--skip-preview", *args, check=check, env=env)

    def outputs(self, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json"] + (["--show-secrets"] if show_secrets else [])
        return dict(json.loads(self.run(*args).stdout))

    def export(self) -> dict[str, Any]:
        """`pulumi stack export` (secrets stay encrypted)."""
        return dict(json.loads(self.run("stack", "export").stdout))

    def resources(self, type_suffix: str = "") -> list[dict[str, Any]]:
        """The stack's resources whose type ends with `type_suffix`."""
        found = self.export()["deployment"].get("resources") or []
        return [r for r in found if str(r["type"]).endswith(type_suffix)]

    def state_text(self) -> str:
        """Every file of the local backend, as text (for scanning for secrets)."""
        return "\n".join(
            p.read_text(errors="replace")
            for p in (self.work_dir / "state").rglob("*")
            if p.is_file()
        )


@pytest.fixture
def emulator_stack(
    emulator: Any,
    copy_project: Callable[[Path], Path],
    run_pulumi: RunPulumi,
    pulumi_work_dir: Path,
) -> Callable[..., EmulatorStack]:
    """Return `make(project_src, config=None) -> EmulatorStack`, stack `dev` initialised.

    The project's `virtualenv` option (if any) is pointed at the running interpreter's venv,
    since a copy under tmp has no `.venv` of its own.
    """

    def make(project_src: Path, config: dict[str, str] | None = None) -> EmulatorStack:
        project = copy_project(project_src)
        manifest = project / "Pulumi.yaml"
        text = manifest.read_text()
        if "virtualenv:" in text:
            lines = [
                (line.split("virtualenv:")[0] + f"virtualenv: {sys.prefix}")
                if "virtualenv:" in line
                else line
                for line in text.splitlines()
            ]
            manifest.write_text("\n".join(lines) + "\n")
        run_pulumi(project, "stack", "init", "dev")
        # One command for all of it: each `pulumi` command that opens the stack's secrets pays
        # the passphrase's key derivation (about 0.3 CPU-seconds), and the e2e layer is bound
        # by CPU on CI's two cores.
        values = {"motherduck:apiUrl": emulator.url, **(config or {})}
        plain = [f"--plaintext={key}={value}" for key, value in values.items()]
        secret = f"--secret=motherduck:token={emulator.admin_token}"
        run_pulumi(project, "config", "set-all", *plain, secret)
        return EmulatorStack(project, run_pulumi, pulumi_work_dir)

    return make


@pytest.fixture
def inline_stack(
    pulumi_bin: Path, pulumi_env: dict[str, str], tmp_path: Path
) -> Callable[..., Any]:
    """Return `make(project_name, program, pythonpath) -> automation.Stack` (stack `dev`).

    An inline program runs in this process, but its dynamic providers run in a process the
    engine spawns, which must import the provider's module: `pythonpath` makes it importable.
    """
    from pulumi import automation as auto

    def make(project_name: str, program: Callable[[], None], pythonpath: Path) -> Any:
        env = {**pulumi_env, "PYTHONPATH": str(pythonpath)}
        workspace = tmp_path / "workspace"
        workspace.mkdir(exist_ok=True)
        assert pulumi_bin.name == "bin", "PulumiCommand(root=...) expects <root>/bin/pulumi"
        opts = auto.LocalWorkspaceOptions(
            work_dir=str(workspace),
            pulumi_home=env["PULUMI_HOME"],
            env_vars=env,
            pulumi_command=auto.PulumiCommand(root=str(pulumi_bin.parent)),
            project_settings=auto.ProjectSettings(
                name=project_name,
                runtime="python",
                backend=auto.ProjectBackend(url=env["PULUMI_BACKEND_URL"]),
            ),
        )
        return auto.create_or_select_stack(
            stack_name="dev", project_name=project_name, program=program, opts=opts
        )

    return make


@pytest.fixture
def stepped(
    emulator: Any,
    emulator_stack: Callable[..., EmulatorStack],
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> Callable[[str], Any]:
    """`make(phase)`: a kill-at-every-step phase's stack, ready to step (tests/e2e/killsteps.py)."""
    from tests.e2e.killsteps import stepped_factory

    return stepped_factory(emulator, emulator_stack, pulumi_env, pulumi_bin)
