"""The generated reference pages and diagrams match the code, and nothing ships undocumented."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from motherduck_provider import config, connection, lookups
from motherduck_provider.component import ManagedAccount
from motherduck_provider.plugin import schema
from motherduck_provider.resources import AccessToken, InstanceConfig, ServiceAccount
from tools import docs_reference
from tools.docs_reference import facts, pictures
from tools.docs_reference.pages import EXAMPLES, PAGES, SETTINGS

GENERATED = docs_reference.render()
RESOURCES = (ServiceAccount, AccessToken, InstanceConfig)
FUNCTIONS = (
    (lookups.get_tokens, lookups.get_tokens_output),
    (lookups.get_duckling_config, lookups.get_duckling_config_output),
    (lookups.get_active_accounts, lookups.get_active_accounts_output),
    (lookups.create_dive_embed_session, lookups.create_dive_embed_session_output),
)


@pytest.mark.parametrize("path", sorted(GENERATED), ids=str)
def test_committed_page_is_what_the_code_generates(path: Path) -> None:
    committed = docs_reference.ROOT / path
    assert committed.exists(), f"{path} is missing; run `{docs_reference.COMMAND}` and commit it"
    assert committed.read_text() == GENERATED[path], (
        f"{path} differs from the code; run `{docs_reference.COMMAND}` and commit the result"
    )


def test_every_page_the_brief_names_is_generated() -> None:
    assert set(PAGES) == {
        "service-account.md",
        "access-token.md",
        "instance-config.md",
        "managed-account.md",
        "connection.md",
        "get-tokens.md",
        "get-duckling-config.md",
        "get-active-accounts.md",
        "create-dive-embed-session.md",
        "settings.md",
    }


@pytest.mark.parametrize("cls", RESOURCES, ids=lambda c: c.__name__)
def test_every_resource_input_and_output_is_described_with_its_rule(cls: type) -> None:
    assert facts.resource_inputs(cls) and facts.resource_outputs(cls)
    assert facts.undocumented_resource(cls) == []


def test_component_and_functions_describe_every_input_and_output() -> None:
    found = facts.undocumented_parameters(ManagedAccount.__init__, "ManagedAccount")
    docs = schema.attribute_docs(ManagedAccount)
    found += [f"ManagedAccount.{n}" for n in ManagedAccount.__annotations__ if not docs.get(n)]
    for fn, output in FUNCTIONS:
        found += facts.undocumented_parameters(fn, fn.__name__)
        # The `_output` form takes the same parameters, documented once on the plain form.
        assert list(inspect.signature(output).parameters) == list(inspect.signature(fn).parameters)
        result = getattr(lookups, str(inspect.signature(fn).return_annotation))
        for kind in facts.result_types(result):
            found += facts.undocumented_fields(kind)
    found += facts.undocumented_fields(connection.Connection)
    assert found == []


def test_every_setting_is_on_the_settings_page_with_its_rule() -> None:
    keys = {k for k in config.CONFIG_KEYS if k not in config.ALIASES.values()}
    assert keys == set(SETTINGS)
    for key in SETTINGS:
        assert schema.CONFIG_DOCS[key] and config.RULES[key]


def test_an_input_added_without_docs_or_rule_is_reported() -> None:
    class Widened(ServiceAccount):  # type: ignore[misc]
        def __init__(
            self, resource_name: str, *, username: str, extra_knob: int | None = None
        ) -> None:
            raise NotImplementedError

    found = facts.undocumented_resource(Widened)
    assert "Widened input extra_knob: no description" in found
    assert "Widened input extra_knob: no rule in INPUT_RULES" in found


def test_a_function_parameter_without_docs_is_reported() -> None:
    def get_things(username: str, limit: int = 10) -> None:
        """Things.

        Args:
            username: Whose things.
        """

    assert facts.undocumented_parameters(get_things, "get_things") == [
        "get_things input limit: not in Args:"
    ]


def _python_calls(path: Path) -> list[tuple[str, set[str]]]:
    tree = ast.parse(path.read_text())
    return [
        (node.func.id, {k.arg for k in node.keywords if k.arg})
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_python_examples_use_only_real_parameters(path: Path) -> None:
    known = {
        cls.__name__: cls
        for cls in (*RESOURCES, ManagedAccount, connection.Connection, lookups.GetTokensResult)
    }
    known.update({fn.__name__: fn for pair in FUNCTIONS for fn in pair})
    seen = 0
    for name, keywords in _python_calls(path):
        target = known.get(name)
        if target is None:
            continue
        seen += 1
        if dataclasses.is_dataclass(target):
            allowed = {f.name for f in dataclasses.fields(target)}
        else:
            call = target.__init__ if isinstance(target, type) else target
            allowed = set(inspect.signature(call).parameters)
        assert keywords <= allowed, f"{path.name}: {name} has no {sorted(keywords - allowed)}"
    assert seen, f"{path.name} calls nothing of the package"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_yaml_examples_use_only_schema_inputs(path: Path) -> None:
    whole = schema.package_schema()
    program = yaml.safe_load(path.read_text())
    for name, spec in program.get("resources", {}).items():
        inputs = whole["resources"][spec["type"]]["inputProperties"]
        unknown = set(spec.get("properties", {})) - set(inputs)
        assert not unknown, f"{path.name}: {name} has no inputs {sorted(unknown)}"
    for name, spec in program.get("variables", {}).items():
        call = spec["fn::invoke"]
        inputs = whole["functions"][call["function"]].get("inputs", {}).get("properties", {})
        unknown = set(call.get("arguments", {})) - set(inputs)
        assert not unknown, f"{path.name}: {name} has no arguments {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(pictures.PICTURES))
def test_pictures_are_well_formed_svg(name: str) -> None:
    root = ET.fromstring(pictures.PICTURES[name]())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_rotation_picture_follows_the_providers_rules() -> None:
    run = pictures.simulate()
    assert run.rotates_at == run.expires - timedelta(seconds=pictures.ROTATE_BEFORE)
    assert run.rotated == min(up for up in run.ups if up >= run.rotates_at)
    assert run.kept_until == run.rotated + timedelta(seconds=pictures.KEEP_PREVIOUS_FOR)
    assert run.revoked == min(up for up in run.ups if up >= run.kept_until)
