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


def test_token_type_default_is_described_not_declared() -> None:
    """check sets `read_write` only when `adoptTokenId` is unset: a schema `default` would make
    generated SDKs send it with `adoptTokenId` too, failing the adoption of a read_scaling
    token ("is a read_scaling token, not read_write")."""
    spec = schema.package_schema()["resources"][schema.token("AccessToken")]["inputProperties"]
    assert "default" not in spec["tokenType"]
    assert "read_write (the default" in spec["tokenType"]["description"]
