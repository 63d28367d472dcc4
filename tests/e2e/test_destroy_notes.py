"""One message per real problem on destroy: "keeps its Duckling configuration" only when true.

The engine deletes an InstanceConfig before its ServiceAccount, so the warning is held by the
provider process and printed when the engine shuts it down (`resources/_held.py`), unless the
account's delete in the same run made it moot. These tests hold the engine to both halves:
what is printed at shutdown reaches the output, and nothing is printed for a deleted account.
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
KEEPS = "keeps its current Duckling configuration"
MakeStack = Callable[..., Any]


def text_of(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join((proc.stdout + "\n" + proc.stderr).split())


def diagnostics(proc: subprocess.CompletedProcess[str]) -> str:
    """The `Diagnostics:` section, where the CLI lists each warning once."""
    text = proc.stdout.split("Diagnostics:", 1)[1] if "Diagnostics:" in proc.stdout else ""
    return " ".join(text.split("Resources:", 1)[0].split())


def config_urn(stack: Any) -> str:
    (config,) = stack.resources(":InstanceConfig")
    return str(config["urn"])


def test_destroy_of_accounts_with_configs_says_nothing_about_configs(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(ACCOUNT, {"withToken": "false"})
    stack.up()
    destroy = stack.destroy()
    assert KEEPS not in text_of(destroy)
    assert emulator.store.users == {}
    assert stack.resources() == []


def test_up_dropping_only_the_config_says_it_once(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(ACCOUNT, {"withToken": "false", "rwSize": "jumbo"})
    stack.up()
    stack.run("config", "set", "withConfig", "false")
    up = stack.up()
    assert diagnostics(up).count(KEEPS) == 1, up.stdout
    assert "InstanceConfig for 'etl_writer' removed from the stack" in text_of(up)
    assert emulator.store.has_user("etl_writer")
    assert emulator.store.get_config("etl_writer")["read_write"]["instance_size"] == "jumbo"


def test_destroy_target_of_the_config_only_says_it_once(
    emulator: EmulatorServer, emulator_stack: MakeStack
) -> None:
    stack = emulator_stack(ACCOUNT, {"withToken": "false"})
    stack.up()
    destroy = stack.run("destroy", "--yes", "--skip-preview", "--target", config_urn(stack))
    assert diagnostics(destroy).count(KEEPS) == 1, destroy.stdout
    assert emulator.store.has_user("etl_writer")
    assert len(stack.resources(":ServiceAccount")) == 1
