"""Typos in sizes and token types fail the type checker, as they would in a user's IDE.

Runs mypy on small programs; with the project's mypy cache (warm after the lint gate) that
takes about a second.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from motherduck_provider import InstanceSize, TokenType
from motherduck_provider.rules import INSTANCE_SIZES, TOKEN_TYPES

REPO_ROOT = Path(__file__).resolve().parents[2]

TYPOS = """
from motherduck_provider import AccessToken, InstanceConfig, ManagedAccount, ReadScalingArgs

InstanceConfig(
    "a",
    username="etl",
    read_write={"instance_size": "standrad"},
    read_scaling={"instance_size": "pulse", "flock_size": 0},
)
InstanceConfig(
    "b",
    username="etl",
    read_write={"instance_size": "standard"},
    read_scaling=ReadScalingArgs(instance_size="jumob", flock_size=1),
)
AccessToken("c", username="etl", name="ci", token_type="readwrite")
ManagedAccount("d", username="etl", tokens={"ci": {"token_type": "read-only"}})
"""

CORRECT = """
import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ManagedAccount, ReadWriteArgs

size = pulumi.Config().require("size")
InstanceConfig(
    "a",
    username="etl",
    read_write=ReadWriteArgs(instance_size="mega", cooldown_seconds=300),
    read_scaling={"instance_size": "pulse", "flock_size": 0},
    allow_downsize=True,
)
AccessToken("c", username="etl", name="ci", token_type="read_scaling")
ManagedAccount("d", username="etl", tokens={"ci": {"token_type": "read_write", "ttl": 3600}})
"""


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.py"
    program.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(program)],
        cwd=REPO_ROOT,  # its pyproject.toml and .mypy_cache
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_typos_in_sizes_and_token_types_are_type_errors(tmp_path: Path) -> None:
    proc = mypy(tmp_path, TYPOS)
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = sorted(int(line.split(":")[1]) for line in errors)
    # One error per typo, on the line that holds it (the call or the dict literal).
    assert len(errors) == 4, proc.stdout
    assert lines[0] in (5, 6, 7) and lines[1] in (10, 13, 14), proc.stdout
    assert "'readwrite'" in proc.stdout and "'jumob'" in proc.stdout


def test_correct_programs_type_check(tmp_path: Path) -> None:
    proc = mypy(tmp_path, CORRECT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_literals_are_the_rules() -> None:
    from typing import get_args

    assert get_args(InstanceSize) == INSTANCE_SIZES
    assert get_args(TokenType) == TOKEN_TYPES
