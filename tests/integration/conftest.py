"""Fixtures wiring the client and the providers to a per-test emulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from motherduck_provider.client import AdminClient, api
from motherduck_provider.config import Secret, Settings
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources._base import ProviderBase


@pytest.fixture(autouse=True)
def _fresh_shared_reads() -> None:
    """Each test starts as a new provider process would: the shared client outlives tests."""
    for shared in list(api._shared.values()):
        shared.forget()


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[AdminClient]:
    """Our real client against the emulator, with retries that do not sleep."""
    settings = Settings(api_url=emulator.url, token=Secret(emulator.admin_token), timeout=5)
    with AdminClient(settings, sleep=lambda _: None) as admin:
        yield admin


@pytest.fixture
def configure(emulator: EmulatorServer) -> object:
    """Return `configure(provider)`: point a provider at the emulator as the engine would."""

    def apply(provider: ProviderBase) -> ProviderBase:
        config = {"motherduck:apiUrl": emulator.url, "motherduck:token": emulator.admin_token}
        provider.configure(ConfigureRequest(Config(config, "test")))
        return provider

    return apply
