"""The plugin's package schema follows the Python resource classes it is generated from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from motherduck_provider import config
from motherduck_provider.plugin import schema
from motherduck_provider.plugin.__main__ import main
from motherduck_provider.plugin.properties import camel

RESOURCES = {cls.__name__: cls for cls in schema.RESOURCES}


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_every_input_of_the_python_resource_is_in_the_schema(kind: str) -> None:
    spec = schema.package_schema()["resources"][schema.token(kind)]
    inputs = schema.resource_inputs(RESOURCES[kind])
    assert inputs, kind
    missing = [name for name in inputs if camel(name) not in spec["inputProperties"]]
    assert not missing, f"{kind} inputs missing from the schema: {missing}"
    assert set(spec["inputProperties"]) == {camel(n) for n in inputs}
    for name, prop in spec["inputProperties"].items():
        assert prop.get("description"), f"{kind}.{name} has no description"


def test_an_input_added_to_a_resource_shows_up_in_the_schema() -> None:
    """The schema is read from `__init__`: a new keyword parameter is a new input."""

    class Widened(schema.ServiceAccount):  # type: ignore[misc]
        def __init__(
            self, resource_name: str, *, username: str, extra_knob: int | None = None
        ) -> None:
            raise NotImplementedError

    spec = schema.resource_spec(Widened, {})
    assert spec["inputProperties"]["extraKnob"]["type"] == "integer"
    assert spec["requiredInputs"] == ["username"]


def test_required_inputs_types_and_secret_outputs() -> None:
    resources = schema.package_schema()["resources"]
    token = resources["motherduck:index:AccessToken"]
    assert token["requiredInputs"] == ["username", "name"]
    assert token["inputProperties"]["ttl"]["type"] == "integer"
    assert "read_scaling" in token["inputProperties"]["tokenType"]["description"]
    assert token["properties"]["token"]["secret"] is True
    assert token["properties"]["previousToken"]["secret"] is True
    assert not token["properties"]["tokenId"].get("secret")
    config_spec = resources["motherduck:index:InstanceConfig"]
    ref = config_spec["inputProperties"]["readWrite"]["$ref"]
    assert ref == "#/types/motherduck:index:ReadWrite"
    types = schema.package_schema()["types"]
    assert types["motherduck:index:ReadScaling"]["required"] == ["instanceSize", "flockSize"]
    assert config_spec["properties"]["readWrite"]["$ref"] == ref


def test_provider_config_has_every_setting_and_alias_with_the_token_secret() -> None:
    variables = schema.package_schema()["config"]["variables"]
    for key in config.CONFIG_KEYS:
        assert key.split(":", 1)[1] in variables, key
    assert variables["token"]["secret"] is True
    assert variables["adminToken"]["secret"] is True
    assert schema.package_schema()["provider"]["inputProperties"] == variables


def test_schema_command_writes_what_get_schema_serves(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(schema.text())
    assert json.loads(schema.text())["name"] == "motherduck"


def test_the_committed_schema_is_what_the_plugin_serves() -> None:
    """tools/schema-motherduck.json (for readers and SDK generation without the plugin) is
    `python -m motherduck_provider.plugin schema --out tools/schema-motherduck.json`."""
    committed = Path(__file__).resolve().parents[2] / "tools" / "schema-motherduck.json"
    assert json.loads(committed.read_text()) == json.loads(schema.text()), (
        "tools/schema-motherduck.json is stale: run `python -m motherduck_provider.plugin "
        "schema --out tools/schema-motherduck.json`"
    )
    resources = json.loads(schema.text())["resources"]
    account = resources["motherduck:index:ServiceAccount"]
    assert {"tokens"} <= set(account["inputProperties"])
    assert {"tokens", "tokenIds", "tokenDetails", "previousTokens"} <= set(account["properties"])
    assert "oneStep" in resources["motherduck:index:ManagedAccount"]["inputProperties"]


def test_token_type_default_is_described_not_declared() -> None:
    """check sets `read_write` only when `adoptTokenId` is unset: a schema `default` would make
    generated SDKs send it with `adoptTokenId` too, failing the adoption of a read_scaling
    token ("is a read_scaling token, not read_write")."""
    spec = schema.package_schema()["resources"][schema.token("AccessToken")]["inputProperties"]
    assert "default" not in spec["tokenType"]
    assert "read_write (the default" in spec["tokenType"]["description"]


def test_service_account_duckling_inputs_are_instance_configs_types() -> None:
    """One definition of the Duckling types: an account holding its configuration takes the
    same typed objects as an InstanceConfig, in inputs and outputs."""
    resources = schema.package_schema()["resources"]
    account = resources[schema.token("ServiceAccount")]
    instance = resources[schema.token("InstanceConfig")]
    for name in ("readWrite", "readScaling"):
        ref = instance["inputProperties"][name]["$ref"]
        assert account["inputProperties"][name]["$ref"] == ref
        assert account["properties"][name]["$ref"] == ref
    assert "readWrite" not in account["requiredInputs"]


def test_descriptions_use_the_schemas_names_not_pythons() -> None:
    """Each description names properties as the schema does (`rotateBefore`, also when another
    resource qualifies them: `InstanceConfig.readWrite`), with no Python-only syntax; values
    such as the token type `read_write` are kept."""
    whole = schema.package_schema()
    texts: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "description" and isinstance(item, str):
                    texts.append(item)
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for section in ("resources", "functions", "types"):
        collect(whole[section])
    names = {name for spec in whole["resources"].values()
             for name in (*spec["inputProperties"], *spec["properties"])}  # fmt: skip
    snake_names = {schema.snake(n) for n in names} - names - {"read_write", "read_scaling"}
    joined = "\n".join(texts)
    for name in snake_names:
        assert f"`{name}`" not in joined and f".{name}" not in joined, name
    for python in ("opts=", "pulumi.ResourceOptions", "=True", "NotFoundError", "None"):
        assert python not in joined, python
    token = whole["resources"][schema.token("AccessToken")]
    assert "`rotateBefore` to rotate it" in token["description"]
    assert (
        "`InstanceConfig.readWrite`"
        in whole["types"]["motherduck:index:ReadWriteSettings"]["description"]
    )
    assert (
        "read_write (the default, unless adoptTokenId"
        in token["properties"]["tokenType"]["description"]
    )


def test_generated_sdks_get_the_projects_names() -> None:
    language = schema.package_schema()["language"]
    assert language["nodejs"]["packageName"] == "@motherduck-pulumi/motherduck"
    assert language["python"]["packageName"] == "pulumi_motherduck"
    assert language["go"]["importBasePath"].startswith(schema.REPOSITORY)


def test_create_dive_embed_session_is_a_function_with_a_secret_session() -> None:
    spec = schema.package_schema()["functions"]["motherduck:index:createDiveEmbedSession"]
    assert spec["inputs"]["required"] == ["diveId", "username"]
    assert set(spec["inputs"]["properties"]) == {"diveId", "username", "sessionHint"}
    outputs = spec["outputs"]["properties"]
    assert outputs["session"]["secret"] is True
    assert not any(outputs[name].get("secret") for name in ("diveId", "username"))
    assert "every run" in spec["description"]
