"""The plugin's provider: names, secrets and unknowns at the boundary; delegation to the
dynamic providers' rules (no API call: check only)."""

from __future__ import annotations

import asyncio

from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from motherduck_provider.plugin.properties import camel, from_plain, secret_keys, snake, to_plain
from motherduck_provider.plugin.provider import MotherDuckProvider, settings_config
from motherduck_provider.plugin.schema import in_schema_spelling, token
from motherduck_provider.resources.access_token import owner_of

URN = "urn:pulumi:dev::proj::motherduck:index:{}::{}"


def test_names_round_trip() -> None:
    for name in ("username", "token_type", "keep_previous_for", "read_write", "cooldown_seconds"):
        assert snake(camel(name)) == name


def test_values_cross_the_boundary_with_secrets_and_unknowns() -> None:
    props = {
        "readWrite": PropertyValue({"instanceSize": PropertyValue("pulse")}),
        "ttl": PropertyValue(3600.0),
        "username": PropertyValue("svc", is_secret=True),
        "name": PropertyValue(Computed()),
    }
    plain = to_plain(props)
    assert plain == {
        "read_write": {"instance_size": "pulse"},
        "ttl": 3600,
        "username": "svc",
        "name": UNKNOWN,
    }
    back = from_plain({**plain, "token": "s3cr3t", "previous_token": None}, secret_keys(props))
    assert back["username"].is_secret and back["token"].is_secret
    assert not back["ttl"].is_secret and back["ttl"].value == 3600.0
    assert back["previousToken"].value is None
    assert back["readWrite"].value["instanceSize"].value == "pulse"  # type: ignore[index]


def test_settings_from_configure_keep_config_key_names() -> None:
    found = settings_config(
        {"motherduck:config:apiUrl": "http://127.0.0.1:1", "other:config:x": "y"},
        {"token": PropertyValue("t", is_secret=True), "requestTimeout": PropertyValue(5.0)},
    )
    assert found == {
        "motherduck:apiUrl": "http://127.0.0.1:1",
        "motherduck:token": "t",
        "motherduck:requestTimeout": 5,
    }


def check(kind: str, name: str, news: dict[str, PropertyValue]) -> rpc.CheckResponse:
    request = rpc.CheckRequest(URN.format(kind, name), {}, news, b"")
    return asyncio.run(MotherDuckProvider().check(request))


def test_check_uses_the_dynamic_providers_rules_with_schema_names() -> None:
    result = check(
        "AccessToken",
        "tok",
        {
            "username": PropertyValue("svc"),
            "name": PropertyValue("ci"),
            "rotateBefore": PropertyValue(60.0),
        },
    )
    assert [f.property for f in result.failures or []] == ["rotateBefore"]
    assert (result.failures or [])[0].reason.startswith("rotateBefore: needs ttl")


def test_check_failures_name_nested_properties_as_the_schema_does() -> None:
    result = check(
        "InstanceConfig",
        "cfg",
        {
            "username": PropertyValue("svc"),
            "readWrite": PropertyValue({"instanceSize": PropertyValue("huge")}),
        },
    )
    reasons = {f.property: f.reason for f in result.failures or []}
    assert reasons["readWrite"].startswith("readWrite: instanceSize: 'huge' is not one of")
    assert reasons["readScaling"].startswith("readScaling: is required")


def test_schema_spelling_is_per_resource() -> None:
    """`read_write` is InstanceConfig's `readWrite` but an AccessToken's token type value."""
    text = "token t is a read_scaling token, not read_write; fix token_type"
    assert (
        in_schema_spelling(token("AccessToken"), text)
        == "token t is a read_scaling token, not read_write; fix tokenType"
    )
    assert in_schema_spelling(token("InstanceConfig"), "read_write: x") == "readWrite: x"
    assert in_schema_spelling("", "token_type") == "token_type"


def test_check_gives_a_token_the_owner_a_python_program_would() -> None:
    result = check(
        "AccessToken", "tok", {"username": PropertyValue("svc"), "name": PropertyValue("ci")}
    )
    assert not result.failures
    inputs = result.inputs or {}
    assert inputs["owner"].value == owner_of("proj", "dev", "", "tok")
    assert inputs["tokenType"].value == "read_write"


def test_check_of_a_bad_username_names_the_field() -> None:
    result = check("ServiceAccount", "sa", {"username": PropertyValue("bad name!")})
    assert [f.property for f in result.failures or []] == ["username"]


def test_previews_of_create_and_update_make_no_call_and_leave_a_new_account_unknown() -> None:
    """The provider answers previews itself (no settings, so any API call would fail): a
    create shows its inputs, an account's `username` unknown (an invoke on it waits for
    `up`); an update shows its new inputs."""
    provider = MotherDuckProvider()
    inputs = {"username": PropertyValue("svc"), "adopt": PropertyValue(None)}
    account = URN.format("ServiceAccount", "svc")
    created = asyncio.run(provider.create(rpc.CreateRequest(account, inputs, 0, True)))
    assert created.resource_id in ("", None)
    assert created.properties is not None and created.properties["username"].value == UNKNOWN
    assert created.properties["adopt"].value is None

    token = URN.format("AccessToken", "ci")
    news = {"username": PropertyValue("svc"), "ttl": PropertyValue(60.0, is_secret=True)}
    made = asyncio.run(provider.create(rpc.CreateRequest(token, news, 0, True)))
    assert made.properties is not None and made.properties["username"].value == "svc"
    request = rpc.UpdateRequest(token, "svc/t1", {}, news, timeout=0, ignore_changes=[],
                                preview=True)  # fmt: skip
    updated = asyncio.run(provider.update(request))
    assert updated.properties is not None and updated.properties["ttl"].is_secret
    assert updated.properties["username"].value == "svc"
