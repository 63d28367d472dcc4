"""The plugin's `ManagedAccount` and data functions: in the schema, documented, and the one
composition of the Python component (same names, order, wiring; only the child types differ)."""

from __future__ import annotations

import asyncio
import inspect
import textwrap
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.property_value import Computed, PropertyValue

from motherduck_provider import lookups
from motherduck_provider.component import INPUT_DOCS, ManagedAccount
from motherduck_provider.plugin import functions, schema
from motherduck_provider.plugin.component import (
    ComponentInputError,
    PluginManagedAccount,
    PluginResource,
    component_args,
)
from motherduck_provider.plugin.properties import camel
from tests.child import last_json, run_python


def test_managed_account_is_a_component_with_every_input_documented() -> None:
    spec = schema.package_schema()["resources"]["motherduck:index:ManagedAccount"]
    assert spec["isComponent"] is True
    python = [n for n in inspect.signature(ManagedAccount.__init__).parameters
              if n not in schema.NOT_INPUTS]  # fmt: skip
    assert list(spec["inputProperties"]) == [camel(n) for n in python]
    assert set(INPUT_DOCS) == set(python), "INPUT_DOCS and ManagedAccount's inputs differ"
    for name, prop in spec["inputProperties"].items():
        assert prop.get("description"), name
    assert spec["requiredInputs"] == ["username"]
    assert spec["properties"]["tokens"]["secret"] is True
    assert not spec["properties"]["tokenIds"].get("secret")
    types = schema.package_schema()["types"]
    token_spec = types["motherduck:index:TokenSpec"]
    assert spec["inputProperties"]["tokens"]["additionalProperties"]["$ref"].endswith("TokenSpec")
    for name, prop in token_spec["properties"].items():
        assert prop.get("description"), f"TokenSpec.{name}"
    ducklings = types["motherduck:index:DucklingSpec"]
    assert ducklings["required"] == ["readWrite", "readScaling"]
    assert ducklings["properties"]["readWrite"]["$ref"] == "#/types/motherduck:index:ReadWrite"


@pytest.mark.parametrize("name", sorted(functions.FUNCTIONS))
def test_each_data_function_is_in_the_schema_as_its_python_form(name: str) -> None:
    function = functions.FUNCTIONS[name]
    spec = schema.package_schema()["functions"][schema.token(name)]
    doc = inspect.cleandoc(function.python.__doc__ or "")
    assert spec["description"] == schema.described(schema.token(name), doc)
    args = functions.arguments(function)
    assert "connection" not in args
    assert list(spec.get("inputs", {}).get("properties", {})) == [camel(a) for a in args]
    for arg, prop in spec.get("inputs", {}).get("properties", {}).items():
        assert prop.get("description"), f"{name}.{arg}"
    result = inspect.signature(function.python).return_annotation
    import dataclasses

    fields = dataclasses.fields(getattr(lookups, result))
    assert list(spec["outputs"]["properties"]) == [camel(f.name) for f in fields]
    # The plugin and the Python function run one reader (`read_tokens` for `get_tokens`, ...).
    assert f"return {function.read.__name__}(" in inspect.getsource(function.python)


def test_token_metadata_type_is_an_array_item_with_no_secret() -> None:
    whole = schema.package_schema()
    tokens = whole["functions"]["motherduck:index:getTokens"]["outputs"]["properties"]["tokens"]
    assert tokens["type"] == "array" and tokens["description"]
    assert tokens["items"] == {"$ref": "#/types/motherduck:index:TokenMetadata"}
    metadata = whole["types"]["motherduck:index:TokenMetadata"]["properties"]
    assert not [name for name, prop in metadata.items() if "secret" in prop or name == "token"]


def test_kind_of_a_child_is_its_own_type() -> None:
    urn = (
        "urn:pulumi:dev::proj::motherduck:index:ManagedAccount$motherduck:index:AccessToken"
        "::team-ci"
    )
    assert schema.kind_of(urn) == "motherduck:index:AccessToken"
    assert schema.kind_of("urn:pulumi:dev::proj::motherduck:index:ServiceAccount::a") == (
        "motherduck:index:ServiceAccount"
    )


def test_component_args_keep_token_names_and_make_unknowns_outputs() -> None:
    async def run() -> dict[str, Any]:
        return component_args(
            {
                "username": PropertyValue("team"),
                "tokens": PropertyValue(
                    {
                        "ci_deploy": PropertyValue(
                            {
                                "tokenType": PropertyValue("read_write"),
                                "ttl": PropertyValue(60.0),
                                "rotationTrigger": PropertyValue(Computed()),
                            }
                        )
                    }
                ),
                "ducklings": PropertyValue(
                    {"readWrite": PropertyValue({"instanceSize": PropertyValue("pulse")})}
                ),
                "protect": PropertyValue(False),
                "adopt": PropertyValue(None),
            }
        )

    args = asyncio.run(run())
    assert args["username"] == "team" and args["protect"] is False and "adopt" not in args
    spec = args["tokens"]["ci_deploy"]  # the token's name is kept as written
    assert spec["token_type"] == "read_write" and spec["ttl"] == 60
    assert isinstance(spec["rotation_trigger"], pulumi.Output)
    assert args["ducklings"] == {"read_write": {"instance_size": "pulse"}}


@pytest.mark.parametrize(
    ("key", "value"),
    [("protect", PropertyValue(Computed())), ("tokens", PropertyValue(Computed()))],
)
def test_component_args_need_known_flags_and_token_names(key: str, value: PropertyValue) -> None:
    with pytest.raises(ComponentInputError, match=key):
        component_args({"username": PropertyValue("team"), key: value})


def test_plugin_component_changes_only_the_child_classes() -> None:
    assert PluginManagedAccount.__init__ is ManagedAccount.__init__
    assert PluginManagedAccount.children != ManagedAccount.children


# Both components under Pulumi's mocks, in a subprocess (mocks are process-wide): what each
# registers, in order, with its parent and the token's `owner`.
PROGRAM = textwrap.dedent(
    """
    import asyncio, json, sys
    import pulumi

    made = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            made.append([args.typ, args.name, args.inputs.get("owner")])
            return [args.name + "-id", args.inputs]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    if sys.argv[1] == "plugin":
        from motherduck_provider.plugin.component import PluginManagedAccount as Component
    else:
        from motherduck_provider.component import ManagedAccount as Component
    size = {"instance_size": "standard"}
    flock = {"instance_size": "standard", "flock_size": 1}
    team = Component(
        "team", username="team_svc", tokens={"ci": {"ttl": 3600}, "bi": {}},
        ducklings={"read_write": size, "read_scaling": flock},
    )
    children = [team.account, *team.tokens.values(), team.ducklings]
    urns = asyncio.get_event_loop().run_until_complete(
        asyncio.gather(*(r.urn.future() for r in [team, *children]))
    )
    print(json.dumps({"made": made, "urns": urns}))
    """
)


def registered(kind: str, program: str = PROGRAM) -> dict[str, Any]:
    """The JSON the program (run under mocks, in its own process) prints last."""
    found: dict[str, Any] = last_json(program, kind)
    return found


def test_plugin_children_are_named_and_wired_as_the_python_components() -> None:
    python, plugin = registered("python"), registered("plugin")
    assert len(plugin["made"]) == len(python["made"]) == 5  # the component, 4 children
    assert sorted(n for _, n, _ in plugin["made"]) == sorted(n for _, n, _ in python["made"])
    assert sorted(map(str, (o for *_, o in plugin["made"]))) == sorted(
        map(str, (o for *_, o in python["made"]))
    )  # the tokens' owners: what marks their MotherDuck names
    assert all(t.startswith("motherduck:index:") for t, *_ in plugin["made"]), plugin
    component = "$motherduck:index:ManagedAccount::team"
    assert python["urns"][0] == plugin["urns"][0] and python["urns"][0].endswith(component)
    parent = "motherduck:index:ManagedAccount$"
    assert [u.rsplit("::", 1)[1] for u in plugin["urns"]] == [
        u.rsplit("::", 1)[1] for u in python["urns"]
    ]
    assert all(parent in u for u in python["urns"][1:] + plugin["urns"][1:])


ONE_STEP = textwrap.dedent(
    """
    import asyncio, json
    import pulumi

    made = {}

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            made[args.typ] = args.inputs
            return [args.name + "-id", args.inputs]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    from motherduck_provider.plugin.component import PluginManagedAccount

    team = PluginManagedAccount(
        "team", username="team_svc", one_step=True,
        tokens={"Nightly_CI": {"ttl": 3600}, "ci_loader": {"token_type": "read_scaling"}},
    )
    asyncio.get_event_loop().run_until_complete(team.account.urn.future())
    print(json.dumps(made["motherduck:index:ServiceAccount"]))
    """
)


def test_one_step_children_get_token_names_as_given() -> None:
    """The SDK passes every dict key through `translate_input_property`: token names were
    respelled as properties (`Nightly_CI` -> `NightlyCI`). Only settings are respelled now."""
    inputs = registered("plugin", ONE_STEP)
    assert inputs["tokens"] == {
        "Nightly_CI": {"ttl": 3600},
        "ci_loader": {"tokenType": "read_scaling"},
    }


ONE_STEP_OUTPUTS = textwrap.dedent(
    """
    import asyncio, json
    import pulumi

    NAMES = ["readScaling", "tokenIds", "Nightly_CI", "ci_loader"]

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            if args.typ != "motherduck:index:ServiceAccount":
                return [args.name + "-id", args.inputs]
            # What the plugin's ServiceAccount answers: token names as the program gave them.
            return [args.name + "-id", {
                **args.inputs,
                "tokenIds": {n: "id-" + n for n in NAMES},
                "tokens": {n: "secret-" + n for n in NAMES},
                "tokenDetails": {n: {"tokenId": "id-" + n, "createdTs": "t"} for n in NAMES},
            }]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    from motherduck_provider.plugin.component import PluginManagedAccount

    team = PluginManagedAccount(
        "team", username="team_svc", one_step=True, tokens={n: {} for n in NAMES},
    )
    ids, secrets, details = asyncio.get_event_loop().run_until_complete(asyncio.gather(
        team.token_ids.future(), team.token_secrets.future(), team.account.token_details.future()
    ))
    print(json.dumps({"ids": ids, "secrets": secrets, "details": details}))
    """
)


def test_one_step_component_outputs_keep_token_names_that_are_property_names() -> None:
    """`readScaling` and `tokenIds` are also schema property names: the SDK passes a child's
    output keys through `translate_output_property`, which made them `read_scaling` and
    `token_ids` in the component's `tokenIds` (so `${team.tokenIds.readScaling}` was empty)."""
    names = {"readScaling", "tokenIds", "Nightly_CI", "ci_loader"}
    found = registered("plugin", ONE_STEP_OUTPUTS)
    assert set(found["ids"]) == set(found["secrets"]) == set(found["details"]) == names
    assert found["ids"]["readScaling"] == "id-readScaling"
    assert found["details"]["tokenIds"] == {"token_id": "id-tokenIds", "created_ts": "t"}


def test_token_names_the_component_cannot_tell_apart_are_refused() -> None:
    program = ONE_STEP_OUTPUTS.replace(
        'NAMES = ["readScaling", "tokenIds", "Nightly_CI", "ci_loader"]',
        'NAMES = ["readScaling", "read_scaling"]',
    )
    proc = run_python(program, "plugin")
    assert proc.returncode != 0
    assert "readScaling" in proc.stderr and "read_scaling" in proc.stderr, proc.stderr[-2000:]


def test_child_outputs_keep_token_names() -> None:
    account = PluginResource.__new__(PluginResource)
    assert account.translate_output_property("tokenIds") == "token_ids"
    assert account.translate_output_property("createdTs") == "created_ts"
    assert account.translate_output_property("Nightly_CI") == "Nightly_CI"
    assert account.translate_output_property("ci_loader") == "ci_loader"
