"""A pytest plugin: the MotherDuck Admin API emulator as a fixture for your own test suite.

Installing `motherduck-pulumi[emulator]` registers it (entry point `pytest11`), so any test
may ask for `motherduck_emulator`: an emulator on a free loopback port with empty state, its
URL, admin token and a control client (seed accounts, inject faults, move the clock, start
Ducklings, read the request log). One server runs per session and is reset for each test.

    def test_program(motherduck_emulator):
        motherduck_emulator.control.seed([{"username": "legacy"}])
        env = motherduck_emulator.env   # MOTHERDUCK_API_BASE_URL, MOTHERDUCK_ADMIN_TOKEN
        ...                             # run the Pulumi program with env (Automation API)
        assert motherduck_emulator.control.usernames() == ["legacy", "etl"]

Nothing heavy is imported until a test asks for the fixture: pytest loads this module in
every run of every suite in an environment where the package is installed.
"""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .emulator.control import EmulatorControl
    from .emulator.server import EmulatorServer

__all__ = ["MotherDuckEmulator", "motherduck_emulator", "motherduck_emulator_server"]

INSTALL_HINT = "pip install 'motherduck-pulumi[emulator]'"
EXTRA_MODULES = ("starlette", "uvicorn")


@dataclass(frozen=True)
class MotherDuckEmulator:
    """What a test gets: where the emulator is, its admin token, and ways to drive it."""

    url: str
    admin_token: str
    control: EmulatorControl
    """Client for the control endpoints (works from any process)."""
    server: EmulatorServer
    """The in-process server; `server.store` gives direct access to its state."""

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point the providers and data functions here.

        Stack config (`motherduck:apiUrl`, `motherduck:token`) wins over them, so a test
        stack must not set those.
        """
        return {"MOTHERDUCK_API_BASE_URL": self.url, "MOTHERDUCK_ADMIN_TOKEN": self.admin_token}


@pytest.fixture(scope="session")
def motherduck_emulator_server() -> Iterator[EmulatorServer]:
    """The session's emulator: one uvicorn server, started once (about 0.2 s)."""
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(
            f"the MotherDuck emulator needs the `emulator` extra ({', '.join(missing)} "
            f"missing): {INSTALL_HINT}",
            pytrace=False,
        )
    from .emulator.server import EmulatorServer

    with EmulatorServer(admin_token="md-test-" + secrets.token_urlsafe(16)) as server:
        yield server


@pytest.fixture
def motherduck_emulator(
    motherduck_emulator_server: EmulatorServer,
) -> Iterator[MotherDuckEmulator]:
    """An emulator with no accounts, logs or faults and the system clock, for this test."""
    from .emulator.control import EmulatorControl

    server = motherduck_emulator_server
    server.store.reset()
    with EmulatorControl(server.url) as control:
        yield MotherDuckEmulator(server.url, server.admin_token, control, server)
