"""Recovery when the kill also hit the file backend, and after Pulumi's own hint ran first.

`pulumi up` is killed (with every process it started) while the emulator holds the account
POST, which then lands. The file backend writes the stack file as: the `.bak` copy (tmp file,
its `.attrs` sidecar written in place, rename), then the stack file the same way. Each partial
state of that write is made by editing the files as the kill would have left them; then the
README's sequence runs: `python -m motherduck_provider.recover --cancel`, `pulumi up`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.test_crash import CREATE_ACCOUNT, up_killed_while_held
from tests.e2e.test_faults import ACCOUNT, assert_matches_state

pytestmark = pytest.mark.e2e

MakeStack = Callable[..., Any]


def stack_file(stack: Any, suffix: str = "") -> Path:
    return stack.work_dir / "state" / ".pulumi" / "stacks" / "md-account" / f"dev.json{suffix}"


def sidecar(stack: Any, suffix: str = "") -> Path:
    return Path(f"{stack_file(stack, suffix)}.attrs")


def empty_sidecar(stack: Any) -> None:
    """Killed between creating and writing the stack file's sidecar (the new file in tmp)."""
    stack_file(stack, ".18d0c0ffee.tmp").write_bytes(stack_file(stack).read_bytes())
    sidecar(stack).write_bytes(b"")


def undecodable_sidecar(stack: Any) -> None:
    """Killed in the middle of writing the sidecar (a disk that kept part of it)."""
    sidecar(stack).write_bytes(sidecar(stack).read_bytes()[:40])


def truncated_tmp(stack: Any) -> None:
    """Killed while writing the tmp files of the `.bak` and of the stack file."""
    text = stack_file(stack).read_bytes()
    stack_file(stack, ".bak.18d0c0ffe1.tmp").write_bytes(text[: len(text) // 2])
    stack_file(stack, ".18d0c0ffe2.tmp").write_bytes(text[:100])


def bak_removed(stack: Any) -> None:
    """Killed before the `.bak` was renamed into place, its sidecar still being written."""
    stack_file(stack, ".bak").unlink(missing_ok=True)
    sidecar(stack, ".bak").write_bytes(b"")


def bak_sidecar_empty(stack: Any) -> None:
    """Killed while writing the `.bak`'s sidecar: the `.bak` is the one before."""
    sidecar(stack, ".bak").write_bytes(b"")


def truncated_lock_tmp(stack: Any) -> None:
    """Killed while taking the lock: a cut-short lock file that `pulumi up` reads as a lock."""
    locks = stack.work_dir / "state" / ".pulumi" / "locks" / "organization" / "md-account" / "dev"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "0b5e7f1c.json.18d0c0ffe3.tmp").write_bytes(b'{"pid":12')


PARTIAL_STATES = {
    "empty-sidecar": (empty_sidecar, True),
    "undecodable-sidecar": (undecodable_sidecar, True),
    "truncated-tmp": (truncated_tmp, False),
    "bak-removed": (bak_removed, False),
    "bak-sidecar-empty": (bak_sidecar_empty, False),
    "truncated-lock-tmp": (truncated_lock_tmp, False),
}


def program_digest(stack: Any) -> str:
    files = sorted(p for p in stack.project.rglob("*") if p.is_file() and p.suffix != ".log")
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def recover(
    stack: Any, env: dict[str, str], pulumi: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motherduck_provider.recover", "--pulumi", str(pulumi), *args],
        cwd=stack.project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def killed_create(
    emulator: EmulatorServer,
    emulator_stack: MakeStack,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> Any:
    """A stack whose first `up` was killed with the account POST held; the POST then landed."""
    stack = emulator_stack(ACCOUNT, {"ttl": "3600"})
    up_killed_while_held(emulator, stack, pulumi_env, pulumi_bin / "pulumi", CREATE_ACCOUNT, 1)
    return stack


def up_after_adopting(
    emulator: EmulatorServer, stack: Any, done: subprocess.CompletedProcess[str]
) -> None:
    """`recover` adopted the account the killed run made; one `up` makes the rest."""
    assert "adopting" in done.stdout
    up = stack.up()
    assert "+ 2 created" in up.stdout  # the token and the config; the account was adopted
    assert emulator.store.count(operation=CREATE_ACCOUNT) == 1
    assert_matches_state(emulator, stack)


@pytest.mark.parametrize("state", sorted(PARTIAL_STATES))
def test_killed_during_a_checkpoint_write(
    state: str,
    emulator: EmulatorServer,
    killed_create: Any,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    stack, pulumi = killed_create, pulumi_bin / "pulumi"
    program = program_digest(stack)
    damage, unloadable = PARTIAL_STATES[state]
    damage(stack)
    export = stack.run("stack", "export", check=False)
    if unloadable:
        assert "failed to load checkpoint" in export.stderr
        assert "failed to load checkpoint" in stack.run("cancel", "--yes", check=False).stderr
    else:
        assert export.returncode == 0, export.stderr

    done = recover(stack, pulumi_env, pulumi, "--cancel")
    assert done.returncode == 0, done.stdout + done.stderr
    moved = [line for line in done.stdout.splitlines() if line.startswith("storage: moved")]
    assert len(moved) == (1 if unloadable or state == "bak-sidecar-empty" else 0), done.stdout
    saved = stack.work_dir / "state" / ".motherduck-recover"
    assert len([p for p in saved.rglob("*.attrs")]) == len(moved)
    up_after_adopting(emulator, stack, done)
    assert program_digest(stack) == program


def test_unparsable_stack_file_is_refused(
    emulator: EmulatorServer,
    emulator_stack: MakeStack,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    """A stack file that does not parse: nothing is touched, the message names the .bak."""
    stack = emulator_stack(ACCOUNT, {"ttl": "3600", "withToken": "false"})
    stack.up()
    text = stack_file(stack).read_bytes()
    stack_file(stack).write_bytes(text[: len(text) // 2])
    sidecar(stack).write_bytes(b"")
    done = recover(stack, pulumi_env, pulumi_bin / "pulumi", "--cancel")
    assert done.returncode == 2
    assert "does not parse" in done.stderr and f"cp {stack_file(stack, '.bak')}" in done.stderr
    assert sidecar(stack).read_bytes() == b""  # untouched


def test_adopt_after_pulumis_own_hint(
    emulator: EmulatorServer,
    killed_create: Any,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    """`pulumi refresh --clear-pending-creates` ran first: `--adopt` is the way back."""
    stack, pulumi = killed_create, pulumi_bin / "pulumi"
    program = program_digest(stack)
    stack.run("cancel", "--yes")
    stack.refresh("--clear-pending-creates")
    failed = stack.up(check=False)
    command = "python -m motherduck_provider.recover --adopt etl_writer"
    assert failed.returncode != 0 and f"`{command}`, then `pulumi up`" in failed.stdout

    wrong = recover(stack, pulumi_env, pulumi, "--adopt", "someone_else")
    assert wrong.returncode == 2 and "no ServiceAccount of this program declares" in wrong.stderr
    done = recover(stack, pulumi_env, pulumi, "--adopt", "etl_writer")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "adopting" in done.stdout
    again = recover(stack, pulumi_env, pulumi, "--adopt", "ETL_WRITER")
    assert again.returncode == 2 and "state already holds it" in again.stderr

    up = stack.up()
    assert "+ 2 created" in up.stdout
    assert emulator.store.count(operation=CREATE_ACCOUNT) == 2  # the killed run's, the refused one
    assert_matches_state(emulator, stack)  # tokens: exactly those state holds
    assert program_digest(stack) == program
