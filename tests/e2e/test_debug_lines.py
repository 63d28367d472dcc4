"""The SDK's debug lines about our registrations through the real engine
(`resources/_debug_lines.py`): `pulumi up --debug` shows the SDK's lines for the Stack and
none for our ServiceAccount; with `MOTHERDUCK_LOG=debug` it shows them for ours too. The
unit tests (tests/unit/test_registration_chatter.py) count each line under Pulumi's mocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

ONESTEP = Path(__file__).resolve().parent / "programs" / "onestep"
OURS = "registering resource: ty=pulumi-python:dynamic/motherduck:ServiceAccount"
STACK = "registering resource: ty=pulumi:pulumi:Stack"


def test_up_debug_shows_no_sdk_lines_about_ours_unless_asked(
    emulator: EmulatorServer, emulator_stack: Any
) -> None:
    stack = emulator_stack(ONESTEP)
    quiet = stack.up("--debug")
    assert STACK in quiet.stdout  # the SDK's debug lines are shown ...
    assert OURS not in quiet.stdout  # ... but none about our resources
    stack.destroy()

    asked = stack.up("--debug", env={"MOTHERDUCK_LOG": "debug"})
    assert STACK in asked.stdout
    assert OURS in asked.stdout
    stack.destroy()
    assert not emulator.store.has_user("onestep")
