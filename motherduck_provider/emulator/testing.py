"""A pytest fixture for tests that need a running emulator.

Add it to a `conftest.py` with::

    from motherduck_provider.emulator.testing import emulator as emulator

Each test using `emulator` gets a fresh `EmulatorServer` on a free loopback port, stopped
after the test. Point the code under test at `emulator.url` with `emulator.admin_token`.
Installed with the `emulator` extra, the pytest plugin (`motherduck_provider.pytest_plugin`)
also gives every suite `motherduck_emulator`, with no conftest line at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import EmulatorServer

__all__ = ["emulator"]


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A started emulator on a free port, with empty state and the default admin token."""
    with EmulatorServer(admin_token="md-emulator-test-admin-token") as server:
        yield server
