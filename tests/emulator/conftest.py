"""Fixtures for the emulator's own tests: an admin HTTP client bound to the `emulator`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from motherduck_provider.emulator import EmulatorServer


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client with the emulator's admin token."""
    headers = {"Authorization": f"Bearer {emulator.admin_token}", "User-Agent": "emulator-tests/1"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as http:
        yield http


@pytest.fixture
def alice(emulator: EmulatorServer) -> str:
    """A service account named `alice`, created directly in the store."""
    return emulator.store.create_user("alice").username
