"""The plugin's provider: names, secrets and unknowns at the boundary; delegation to the
dynamic providers' rules (no API call: check only)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from motherduck_provider.plugin.properties import (
    camel,
    from_plain,
    legacy_names,
    secret_keys,
    snake,
    to_plain,
)
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


def test_a_one_step_accounts_token_settings_are_not_secret() -> None:
    """`tokens` is a secret output (the secrets) but a plain input (the settings), as in the
    Python form: a secret input hid which setting changes in preview and made
    `recover --adopt` refuse the plugin's account (tests/e2e/test_kill_every_step_plugin.py)."""
    news = {
        "username": PropertyValue("svc"),
        "tokens": PropertyValue({"ci": PropertyValue({"ttl": PropertyValue(3600.0)})}),
    }
    result = check("ServiceAccount", "one", news)
    assert not result.failures
    inputs = result.inputs or {}
    assert not inputs["tokens"].contains_secret(), inputs["tokens"]
    hidden = {**news, "tokens": PropertyValue(news["tokens"].value, is_secret=True)}
    kept = check("ServiceAccount", "one", hidden).inputs or {}
    assert kept["tokens"].is_secret  # a program's own secret stays one


def diff(kind: str, olds: dict[str, object], news: dict[str, object]) -> rpc.DiffResponse:
    request = rpc.DiffRequest(
        URN.format(kind, "r"), "svc", from_plain(olds), from_plain(news, outputs=False), []
    )
    return asyncio.run(MotherDuckProvider().diff(request))


def kinds(response: rpc.DiffResponse) -> dict[str, str]:
    return {k: v.kind.name for k, v in response.detailed_diff.items() if v.input_diff}


def test_preview_names_what_changes_by_path() -> None:
    """Pulumi's server always marks the diff detailed: an empty one showed `~ update` with no
    property changed (tests/e2e/test_plugin_yaml.py, the rotation's `preview --diff`)."""
    token = {"username": "svc", "name": "ci", "token_type": "read_write", "owner": "0123456789ab"}
    state = {**token, "rotation_trigger": "a", "token_id": "t1", "mark": "abcdef0123"}
    rotated = diff("AccessToken", state, {**token, "rotation_trigger": "b"})
    assert rotated.changes and kinds(rotated) == {"rotationTrigger": "UPDATE"}
    renamed = diff("AccessToken", state, {**token, "rotation_trigger": "a", "username": "x"})
    assert kinds(renamed)["username"] == "UPDATE_REPLACE"
    assert diff("AccessToken", state, {**token, "rotation_trigger": "a"}).detailed_diff == {}

    account = {"username": "svc", "owner": "0123456789ab"}
    held = {"ci": {"token_type": "read_write", "rotation_trigger": "a"}}
    recorded = {"ci": {**held["ci"], "token_id": "t1", "mark": "abcdef0123", "owner": "o"}}
    olds = {**account, "adopt": False, "token_details": recorded, "token_ids": {"ci": "t1"}}
    news = {**account, "tokens": {"ci": {**held["ci"], "rotation_trigger": "b"}}}
    one_step = diff("ServiceAccount", olds, news)
    assert one_step.changes and kinds(one_step) == {"tokens.ci": "UPDATE"}


NAMES = ("CI", "ci_loader", "ciLoader2", "my token")


def test_token_names_cross_the_boundary_as_given() -> None:
    """Token names are the user's, not property names: `CI` stayed `CI` in state but reached
    MotherDuck as `_c_i`, and `ci_loader` came back as `ciLoader` (so `${one.tokenIds.ci_loader}`
    found nothing). Only property names change spelling, inside each token's settings too."""
    settings = {"tokenType": PropertyValue("read_write")}
    news = {
        "username": PropertyValue("svc"),
        "tokens": PropertyValue({n: PropertyValue(settings) for n in NAMES}),
    }
    plain = to_plain(news)
    assert set(plain["tokens"]) == set(NAMES)
    assert {spec["token_type"] for spec in plain["tokens"].values()} == {"read_write"}
    inputs = check("ServiceAccount", "one", news).inputs or {}
    tokens = inputs["tokens"].value
    assert isinstance(tokens, Mapping) and set(tokens) == set(NAMES)
    outs = {
        "token_ids": dict.fromkeys(NAMES, "t"),
        "token_details": {n: {"token_type": "read_write", "created_ts": "x"} for n in NAMES},
        "previous_tokens": dict.fromkeys(NAMES),
    }
    engine = from_plain(outs)
    details = engine["tokenDetails"].value
    assert isinstance(details, Mapping) and set(details) == set(NAMES)
    assert set(details["CI"].value) == {"tokenType", "createdTs"}  # type: ignore[arg-type]
    assert set(engine["tokenIds"].value) == set(NAMES)  # type: ignore[arg-type]
    assert to_plain(engine) == outs


def test_names_an_earlier_plugin_wrote_in_camel_case_still_match() -> None:
    """Before, state held `ciLoader` for the program's `ci_loader` (and MotherDuck had
    `ci_loader`): diff must see the same token, not remove one and add another."""
    token = {"token_type": "read_write", "token_id": "t1", "mark": "abcdef0123", "owner": "o"}
    olds = {
        "username": "svc",
        "owner": "0123456789ab",
        "adopt": False,
        "token_details": {"ciLoader": token},
        "token_ids": {"ciLoader": "t1"},
    }
    news = {
        "username": "svc",
        "owner": "0123456789ab",
        "tokens": {"ci_loader": {"token_type": "read_write"}},
    }
    result = diff("ServiceAccount", olds, news)
    assert not result.changes, kinds(result)

    # A ManagedAccount's one-step child: `Nightly_CI` was written as `NightlyCI`.
    child = {**olds, "token_details": {"NightlyCI": token}, "token_ids": {"NightlyCI": "t1"}}
    wanted = {**news, "tokens": {"Nightly_CI": {"token_type": "read_write"}}}
    assert not diff("ServiceAccount", child, wanted).changes
    assert legacy_names({"token_ids": {"CI": "t"}}, {"tokens": {"CI": {}}}) == {
        "token_ids": {"CI": "t"}
    }


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
