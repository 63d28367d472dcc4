"""The plugin's data functions (invokes) against the emulator: the provider's settings, the
same results as the Python functions (one reader), one-line errors that hold no secret."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import PropertyValue

from motherduck_provider import lookups
from motherduck_provider.client import shared_client
from motherduck_provider.config import resolve_settings
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.plugin.properties import camel
from motherduck_provider.plugin.provider import MotherDuckProvider, PluginError

ENV = ("MOTHERDUCK_ADMIN_TOKEN", "MOTHERDUCK_TOKEN", "MOTHERDUCK_API_BASE_URL")


def configured(emulator: EmulatorServer, token: str | None = None) -> MotherDuckProvider:
    provider = MotherDuckProvider()
    args = {
        "apiUrl": PropertyValue(emulator.url),
        "token": PropertyValue(token or emulator.admin_token, is_secret=True),
    }
    asyncio.run(provider.configure(rpc.ConfigureRequest({}, args, True, False)))
    return provider


def invoke(provider: MotherDuckProvider, name: str, **args: Any) -> dict[str, Any]:
    request = rpc.InvokeRequest(
        f"motherduck:index:{name}", {k: PropertyValue(v) for k, v in args.items()}
    )
    response = asyncio.run(provider.invoke(request))
    return {k: v for k, v in (response.return_value or {}).items()}


def plain(value: Any) -> Any:
    """An engine value as JSON-like data (to compare with a Python result)."""
    inner = value.value if isinstance(value, PropertyValue) else value
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, list | tuple):
        return [plain(v) for v in inner]
    return inner


def camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k): camel_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [camel_keys(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_invokes_return_what_the_python_functions_read(emulator: EmulatorServer) -> None:
    store = emulator.store
    store.create_user("fleet", config={"read_write": {"instance_size": "mega"},
                                       "read_scaling": {"instance_size": "standard",
                                                        "flock_size": 2}})  # fmt: skip
    created = store.create_token("fleet", "deploy", ttl=3600)
    store.set_duckling_status("fleet", "rw", "active")
    provider = configured(emulator)
    client = shared_client(
        resolve_settings(
            {"motherduck:apiUrl": emulator.url, "motherduck:token": emulator.admin_token}, {}
        )  # fmt: skip
    )
    readers = {
        "getTokens": lambda: lookups.read_tokens(client, "fleet"),
        "getDucklingConfig": lambda: lookups.read_duckling_config(client, "fleet"),
        "getActiveAccounts": lambda: lookups.read_active_accounts(client),
    }
    for name, read in readers.items():
        args = {} if name == "getActiveAccounts" else {"username": "fleet"}
        got = plain(invoke(provider, name, **args))
        assert got == camel_keys(dataclasses.asdict(read())), name
    tokens = plain(invoke(provider, "getTokens", username="fleet"))["tokens"]
    assert [t["id"] for t in tokens] == [created.record.id]
    assert created.secret not in repr(tokens)
    assert not [r for r in store.requests if r.write], "an invoke wrote"


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("getTokens", {"username": "nobody"}, "not found"),
        ("getDucklingConfig", {}, "get_duckling_config: username must be a string"),
        ("getTokens", {"username": "x", "owner": "y"}, "getTokens: unknown argument(s) ['owner']"),
    ],
)
def test_invoke_errors_are_one_line(
    emulator: EmulatorServer, name: str, args: dict[str, Any], expected: str
) -> None:
    provider = configured(emulator)
    with pytest.raises(PluginError) as caught:
        invoke(provider, name, **args)
    text = str(caught.value)
    assert expected in text.lower() if expected == "not found" else expected in text
    assert "\n" not in text and emulator.admin_token not in text


def test_invoke_with_a_wrong_token_names_no_secret(emulator: EmulatorServer) -> None:
    provider = configured(emulator, token="not-the-admin-token-0123456789")
    with pytest.raises(PluginError) as caught:
        invoke(provider, "getActiveAccounts")
    text = str(caught.value)
    assert "\n" not in text and "not-the-admin-token-0123456789" not in text
    assert "401" in text or "unauthorized" in text.lower(), text


def test_create_dive_embed_session_invoke_returns_a_secret_session(
    emulator: EmulatorServer,
) -> None:
    dive = emulator.store.create_dive()
    emulator.store.create_user("viewer")
    provider = configured(emulator)
    answer = invoke(provider, "createDiveEmbedSession", diveId=dive, username="viewer")
    assert answer["session"].is_secret and isinstance(answer["session"].value, str)
    assert not answer["username"].is_secret
    assert plain(answer)["diveId"] == dive
    hinted = invoke(
        provider, "createDiveEmbedSession", diveId=dive, username="viewer", sessionHint="h"
    )
    assert plain(hinted)["session"] != plain(answer)["session"]
    with pytest.raises(PluginError) as caught:
        invoke(provider, "createDiveEmbedSession", diveId="nope", username="viewer")
    assert "dive_id" in str(caught.value) and "\n" not in str(caught.value)


def test_plugin_import_suggests_no_adopt_and_leaves_no_diff(emulator: EmulatorServer) -> None:
    """`pulumi import` of a ServiceAccount through the plugin: the inputs read (the code
    the CLI suggests) carry no `adopt: false`, and a program without `adopt` has no diff."""
    emulator.store.create_user("legacy_etl")
    provider = configured(emulator)
    urn = "urn:pulumi:dev::proj::motherduck:index:ServiceAccount::legacy"
    read = asyncio.run(provider.read(rpc.ReadRequest(urn, "legacy_etl", {}, {})))
    assert plain(read.inputs) == {"username": "legacy_etl"}
    assert plain(read.properties) == {"username": "legacy_etl", "adopt": False}
    diff = asyncio.run(
        provider.diff(
            rpc.DiffRequest(urn, "legacy_etl", read.properties or {}, read.inputs or {}, [])
        )
    )
    assert not diff.changes
