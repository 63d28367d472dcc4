"""`Connection`: resources and data functions of a second organization (a second emulator),
with only the names of the token's sources in the pickled provider."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime.config import CONFIG

from motherduck_provider import Connection, lookups
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.errors import ConfigurationError
from motherduck_provider.resources import AccessTokenProvider, ServiceAccountProvider
from motherduck_provider.resources._base import ProviderBase
from tests.conftest import contract_problems
from tests.contract.oracle import Contract

OTHER_TOKEN = "md-second-organization-admin-token"


@pytest.fixture
def other(contract: Contract) -> Iterator[EmulatorServer]:
    """A second organization: its own emulator and admin token, held to the contract too."""
    with EmulatorServer(admin_token=OTHER_TOKEN) as server:
        yield server
        problems = contract_problems(server, contract)
    assert not problems, "traffic drifted from the contract:\n" + "\n".join(problems)


def pickled(provider: ProviderBase) -> str:
    """The provider as Pulumi stores it in state (base64 of its dill pickle)."""
    return base64.b64encode(dill.dumps(provider, recurse=True)).decode()


def configured(provider: ProviderBase, config: dict[str, Any]) -> ProviderBase:
    """`provider` as the provider process has it: unpickled from state, then configured."""
    restored: ProviderBase = dill.loads(base64.b64decode(pickled(provider)))
    restored.configure(ConfigureRequest(Config(config, "test")))
    return restored


def test_resources_go_to_the_connections_organization(
    emulator: EmulatorServer, other: EmulatorServer
) -> None:
    connection = Connection(token_config="second:token", api_url=other.url)
    stack_config = {
        "motherduck:apiUrl": emulator.url,
        "motherduck:token": emulator.admin_token,
        "second:token": OTHER_TOKEN,
    }
    ours = configured(ServiceAccountProvider(), stack_config)
    theirs = configured(ServiceAccountProvider(connection), stack_config)
    ours.create({"username": "etl"})
    theirs.create({"username": "bi"})
    configured(AccessTokenProvider(connection), stack_config).create(
        {"username": "bi", "name": "dash", "token_type": "read_scaling"}
    )
    assert list(emulator.store.users) == ["etl"]
    assert list(other.store.users) == ["bi"]
    assert [t.name for t in other.store.list_tokens("bi")][0].startswith("dash")


def test_only_names_are_pickled_and_the_default_pickle_is_unchanged(
    monkeypatch: pytest.MonkeyPatch, other: EmulatorServer
) -> None:
    connection = Connection(token_env="SECOND_MD_TOKEN", api_url=other.url)
    monkeypatch.setenv("SECOND_MD_TOKEN", OTHER_TOKEN)
    text = base64.b64decode(pickled(ServiceAccountProvider(connection)))
    assert b"SECOND_MD_TOKEN" in text and other.url.encode() in text
    assert OTHER_TOKEN.encode() not in text
    assert b"motherduck_provider.connection" not in text, "names only, no class reference"
    assert dill.loads(text)._connection == connection
    assert ServiceAccountProvider().__getstate__() == {}
    configured(ServiceAccountProvider(connection), {}).create({"username": "from_env"})
    assert list(other.store.users) == ["from_env"]


def test_a_missing_token_names_its_sources_at_the_first_call(other: EmulatorServer) -> None:
    connection = Connection(token_config="second:token", token_env="SECOND_MD_TOKEN")
    provider = configured(ServiceAccountProvider(connection), {})
    with pytest.raises(ConfigurationError) as caught:
        provider.create({"username": "bi"})
    message = str(caught.value)
    assert "pulumi config set --secret second:token" in message
    assert "SECOND_MD_TOKEN" in message and "https://api.motherduck.com" in message


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "needs token_config"),
        ({"token_config": "eyJhbGciOiJIUzI1NiJ9.e30.sig"}, "the name, never the token"),
        ({"token_env": "md token"}, "the name, never the token"),
        ({"token_env": "T", "api_url": "http://example.com"}, "only https is allowed"),
    ],
)
def test_connection_rules(arguments: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        Connection(**arguments)


def test_data_functions_take_a_connection(
    emulator: EmulatorServer, other: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    other.store.create_user("bi")
    other.store.set_duckling_status("bi", "rw", "active")
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    token = CONFIG.set({"second:token": OTHER_TOKEN, "motherduck:token": "unused"})
    try:
        connection = Connection(token_config="second:token", api_url=other.url)
        assert lookups.get_tokens("bi", connection=connection).tokens == ()
        (account,) = lookups.get_active_accounts(connection).accounts
        assert account.username == "bi"
    finally:
        CONFIG.reset(token)
    # Only this test's own paths count: the session's shared emulator can still receive a
    # request an earlier test let time out (a held `slow` fault lands after the client gave up).
    assert [r.path for r in emulator.store.requests if "/bi/" in r.path or "active" in r.path] == []
