"""Errors through the real engine: one readable line per failing resource, no secret in any
of it, and what happens (and what to run) after the admin token is rotated.

The emulator's admin token is rotated with `emulator.rotate_admin_token()`, which makes the
token the stack was configured with a wrong one.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

PROGRAMS = Path(__file__).resolve().parent / "programs"
FLEET = PROGRAMS / "fleet"
ACCOUNT = PROGRAMS / "account"
PROVIDER_TYPE = "pulumi:providers:pulumi-python"

Proc = subprocess.CompletedProcess[str]
MakeStack = Callable[..., Any]


def output_of(proc: Proc) -> str:
    return proc.stdout + "\n" + proc.stderr


def diagnostics(proc: Proc) -> dict[str, list[str]]:
    """The `Diagnostics:` section: resource name -> its lines (indented, non-empty)."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in proc.stdout.split("\nDiagnostics:\n", 1)[1].splitlines():
        if line and not line.startswith(" "):
            break  # the next section (Outputs:, Resources:)
        header = re.match(r"^  \S+ \((.+)\):$", line)
        if header:
            current = header.group(1)
            found[current] = []
        elif line.strip():
            found[current].append(line.strip())
    return found


def test_a_wrong_token_gives_one_line_per_resource(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    """8 accounts, a refused token: each shows one actionable line; `-v` keeps the detail."""
    stack = emulator_stack(FLEET)
    emulator.rotate_admin_token()  # the configured token is wrong from now on
    up = stack.up("--continue-on-error", check=False)
    assert up.returncode != 0
    text = output_of(up)
    assert "Traceback" not in text and 'File "' not in text
    blocks = diagnostics(up)
    accounts = {name: lines for name, lines in blocks.items() if name.startswith("fleet-")}
    assert sorted(accounts) == [f"fleet-{i}" for i in range(8)]
    for lines in accounts.values():
        (line,) = lines  # one line: what failed, status and code, the API's words, a hint
        assert line.startswith(
            "error: creating ServiceAccount failed: MotherDuck API error 401 (UNAUTHORIZED): "
            "Invalid Credentials [POST /v1/users]. Hint: the admin token"
        )
        assert line.endswith("`pulumi config set --secret motherduck:token <token>`")
    # Before: 200 lines (tracebacks); see bench/bench_errors.py.
    assert len(text.splitlines()) <= 80, text

    # With the engine's verbose flags the provider logs the traceback behind each line.
    stack.run("config", "set", "count", "1")
    verbose = stack.up("-v=1", "--logflow", check=False)
    assert verbose.returncode != 0
    detail = diagnostics(verbose)["md-fleet-dev"]
    assert "Traceback (most recent call last):" in detail
    assert any("motherduck_provider.errors.UnauthorizedError" in line for line in detail)
    assert any("POST /v1/users -> 401" in line for line in detail)


def test_echoed_authorization_header_never_reaches_the_terminal(
    emulator: EmulatorServer, emulator_stack: MakeStack, run_pulumi: Any
) -> None:
    """A gateway page echoing `Authorization: Bearer ...`, the token only in the environment."""
    stack = emulator_stack(FLEET, {"count": "1"})
    stack.run("config", "rm", "motherduck:token")
    emulator.store.faults.error("users-createServiceAccount", 502, echo_headers=True)
    env = {"MOTHERDUCK_ADMIN_TOKEN": emulator.admin_token}
    up = run_pulumi(stack.project, "up", "--yes", "--skip-preview", env=env, check=False)
    assert up.returncode != 0
    text = output_of(up)
    (line,) = diagnostics(up)["fleet-0"]
    assert line.startswith("error: creating ServiceAccount failed: ")
    assert "MotherDuck API error 502 (HTTP_502): 502 Bad Gateway" in line
    assert "Authorization: Bearer [redacted]" in line
    assert emulator.admin_token not in text
    assert emulator.admin_token not in stack.state_text()


def test_admin_token_rotation(emulator: EmulatorServer, emulator_stack: MakeStack) -> None:
    """The token is saved (encrypted) as the default provider's input; refresh and destroy use
    the saved one, fail naming the command that fixes it, and that command works."""
    stack = emulator_stack(ACCOUNT)
    first = emulator.admin_token
    stack.up()
    (provider,) = stack.resources(PROVIDER_TYPE)
    assert "ciphertext" in provider["inputs"]["motherduck:token"]  # saved, encrypted
    assert first not in stack.state_text()

    second = emulator.rotate_admin_token()
    stack.run("config", "set", "--secret", "motherduck:token", second)
    refresh = stack.refresh(check=False)
    assert refresh.returncode != 0
    text = output_of(refresh)
    assert "Traceback" not in text and first not in text and second not in text
    for line in diagnostics(refresh)["account"]:
        assert "401 (UNAUTHORIZED)" in line and "`pulumi refresh --run-program`" in line

    stack.refresh("--run-program")  # the named command works, and saves the new token ...
    stack.refresh()  # ... so plain refresh works again
    assert second not in stack.state_text()

    third = emulator.rotate_admin_token()
    stack.run("config", "set", "--secret", "motherduck:token", third)
    destroy = stack.run("destroy", "--yes", "--skip-preview", check=False)
    assert destroy.returncode != 0
    (failed,) = diagnostics(destroy)["token"]  # the token goes first, so it meets the 401
    assert "401 (UNAUTHORIZED)" in failed and "`pulumi destroy --run-program`" in failed
    stack.run("destroy", "--yes", "--skip-preview", "--run-program")
    assert emulator.store.users == {}
    assert stack.resources("motherduck:ServiceAccount") == []
