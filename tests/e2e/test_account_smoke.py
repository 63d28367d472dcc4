"""One account through the real engine: `up`, `refresh`, a refused token, `destroy`.

Small on purpose: `scripts/matrix smoke-floor` runs it on the oldest Pulumi SDK we support (and
`scripts/matrix cli-floor` on the oldest CLI), where pulumi 3.200 crashed on every refresh and
printed tracebacks for errors. It runs in the main job too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

ACCOUNT = Path(__file__).resolve().parent / "programs" / "account"
ONE_ACCOUNT = {"withConfig": "false", "ttl": "3600"}


def resources_line(proc: subprocess.CompletedProcess[str]) -> str:
    text = proc.stdout
    assert "Resources:" in text, text + proc.stderr
    return " ".join(text.split("Resources:", 1)[1].split("Duration:", 1)[0].split())


def test_up_refresh_destroy_one_account(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    store = emulator.store
    stack = emulator_stack(ACCOUNT, ONE_ACCOUNT)

    up = stack.up()
    assert resources_line(up) == "+ 3 created"  # the stack, the account, its token
    (token,) = store.list_tokens("etl_writer")
    assert [r["id"] for r in stack.resources("ServiceAccount")] == ["etl_writer"]
    assert [r["id"] for r in stack.resources("AccessToken")] == [f"etl_writer/{token.id}"]

    writes = store.write_count
    stack.refresh("--expect-no-changes")  # every provider's read, through this SDK's server
    stack.preview("--expect-no-changes")
    assert store.write_count == writes

    emulator.rotate_admin_token()  # the configured token is refused from now on
    refused = stack.refresh(check=False)
    assert refused.returncode != 0
    text = refused.stdout + refused.stderr
    assert "Traceback" not in text and 'File "' not in text
    errors = [line.strip() for line in text.splitlines() if "MotherDuck API error 401" in line]
    assert errors, text
    # One line per resource (the progress display repeats it): what failed, status, hint.
    assert all(
        "error: refreshing " in line and line.endswith("motherduck:token <token>`")
        for line in errors
    ), errors
    assert any(line.startswith("error: refreshing ServiceAccount 'etl_writer'") for line in errors)
    stack.run("config", "set", "--secret", "motherduck:token", emulator.admin_token)

    # destroy, like refresh, uses the token saved in state unless it runs the program
    destroy = stack.destroy("--run-program")
    assert resources_line(destroy).startswith("- 3 deleted")
    assert store.users == {}
    assert stack.resources() == []
