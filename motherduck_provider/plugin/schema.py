"""The package schema, generated from the resource classes the Python programs use.

Inputs are the keyword parameters of each resource's `__init__` (name, type, required or not),
outputs its `pulumi.Output[...]` attributes, descriptions the class's and attributes'
docstrings; `token` and `previous_token` are secret outputs and the admin token a secret
provider input. So the schema cannot drift from the Python API: a new input there is a new
input here (`tests/unit/test_plugin_schema.py` checks it).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
import sys
import textwrap
import typing
from functools import cache
from typing import Any

from .. import config
from .._version import __version__
from ..resources import AccessToken, InstanceConfig, ServiceAccount
from .properties import SECRET_OUTPUTS, camel, snake

PACKAGE = "motherduck"
RESOURCES: tuple[type, ...] = (ServiceAccount, AccessToken, InstanceConfig)
# Parameters of a resource's __init__ that are not inputs: Pulumi's own, and the Python-only
# `connection` (another organization's token sources; the plugin form uses a provider
# resource with its own config instead).
NOT_INPUTS = ("self", "resource_name", "connection", "opts")
# Inputs that are not also outputs, so have no attribute docstring.
INPUT_ONLY_DOCS = {
    "allow_downsize": "Allow taking over an existing account's configuration with a smaller "
    "Duckling or flock than it has now (preview shows what changes).",
}
CONFIG_DOCS = {
    config.TOKEN_KEY: "The MotherDuck admin token (a read/write token of an Admin user); "
    f"else the environment variable {config.TOKEN_ENV[0]} or {config.TOKEN_ENV[1]}.",
    config.API_URL_KEY: "The Admin API base URL; else the environment variable "
    f"{config.API_URL_ENV}, else {config.DEFAULT_API_URL}. Plain http only on loopback.",
    config.TIMEOUT_KEY: f"Seconds one API request may take (default {config.DEFAULT_TIMEOUT:g}).",
    config.LATE_WAIT_KEY: "Seconds a create may wait for a request whose answer was lost and "
    f"which may still land (default {config.DEFAULT_LATE_WAIT:g}; 0: never wait).",
}
_SCALARS = {"str": "string", "bool": "boolean", "int": "integer", "float": "number"}


def token(name: str) -> str:
    """The type token of a resource or type: `motherduck:index:<name>`."""
    return f"{PACKAGE}:index:{name}"


def _doc(text: str | None) -> str:
    return inspect.cleandoc(text or "")


@cache
def attribute_docs(cls: type) -> dict[str, str]:
    """The docstrings written under a class's annotated attributes."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for node, after in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = _doc(after.value.value)
    return docs


def _members(node: ast.expr) -> list[ast.expr]:
    """The alternatives of `A | B | None`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _members(node.left) + _members(node.right)
    return [node]


def _unwrap(node: ast.expr) -> tuple[list[ast.expr], bool]:
    """`pulumi.Input[X] | None` or `pulumi.Output[X | None]` -> (X's alternatives, optional)."""
    found: list[ast.expr] = []
    optional = False
    for member in _members(node):
        if isinstance(member, ast.Subscript) and ast.unparse(member.value) in (
            "pulumi.Input",
            "pulumi.Output",
        ):
            inner, inner_optional = _unwrap(member.slice)
            found += inner
            optional = optional or inner_optional
        elif isinstance(member, ast.Constant) and member.value is None:
            optional = True
        else:
            found.append(member)
    return found, optional


def _type_spec(annotation: str, module: str, types: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(schema type spec, optional) of an annotation written in `module`; object types found
    on the way are added to `types`."""
    members, optional = _unwrap(ast.parse(annotation, mode="eval").body)
    namespace = vars(sys.modules[module])
    for member in members:
        text = ast.unparse(member)
        if text in _SCALARS:
            return {"type": _SCALARS[text]}, optional
        value = namespace.get(text)
        if typing.get_origin(value) is typing.Literal:
            allowed = ", ".join(str(v) for v in typing.get_args(value))
            return {"type": "string", "description": f"One of: {allowed}."}, optional
        if dataclasses.is_dataclass(value) and isinstance(value, type):
            name = text.removesuffix("Args")
            types[token(name)] = _object_type(value, module, types)
            return {"$ref": f"#/types/{token(name)}"}, optional
    return {"$ref": "pulumi.json#/Any"}, optional


def _object_type(cls: type, module: str, types: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    docs = attribute_docs(cls)
    for field in dataclasses.fields(cls):
        spec, optional = _type_spec(str(field.type), module, types)
        properties[camel(field.name)] = _described(spec, docs.get(field.name, ""))
        if not optional and field.default is dataclasses.MISSING:
            required.append(camel(field.name))
    return {
        "type": "object",
        "description": _doc(cls.__doc__),
        "properties": properties,
        "required": required,
    }


def _described(spec: dict[str, Any], text: str) -> dict[str, Any]:
    extra = spec.get("description", "")
    return {**spec, "description": " ".join(p for p in (text, extra) if p)}


def resource_inputs(cls: type) -> dict[str, inspect.Parameter]:
    """The inputs a Python program gives a resource: its `__init__`'s keyword parameters."""
    parameters = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return {name: p for name, p in parameters.items() if name not in NOT_INPUTS}


def resource_spec(cls: type, types: dict[str, Any]) -> dict[str, Any]:
    """One resource's schema: inputs, outputs (secret ones marked), descriptions."""
    module = cls.__module__
    docs = attribute_docs(cls)
    inputs: dict[str, Any] = {}
    required_inputs: list[str] = []
    for name, parameter in resource_inputs(cls).items():
        spec, optional = _type_spec(str(parameter.annotation), module, types)
        text = docs.get(name) or INPUT_ONLY_DOCS.get(name, "")
        inputs[camel(name)] = _described(spec, text)
        if parameter.default is inspect.Parameter.empty and not optional:
            required_inputs.append(camel(name))
    outputs: dict[str, Any] = {}
    required: list[str] = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if not str(annotation).startswith("pulumi.Output["):
            continue
        spec, optional = _type_spec(str(annotation), module, types)
        if camel(name) in inputs and "$ref" in inputs[camel(name)]:
            spec = {"$ref": inputs[camel(name)]["$ref"]}
        spec = _described(spec, docs.get(name, ""))
        if name in SECRET_OUTPUTS:
            spec["secret"] = True
        outputs[camel(name)] = spec
        if not optional:
            required.append(camel(name))
    return {
        "description": _doc(cls.__doc__),
        "inputProperties": inputs,
        "requiredInputs": required_inputs,
        "properties": outputs,
        "required": required,
    }


def _config_variables() -> dict[str, Any]:
    """`motherduck:<key>` settings, their Terraform aliases too; the token a secret."""
    found: dict[str, Any] = {}
    for key, text in CONFIG_DOCS.items():
        kind = "string" if key in (config.TOKEN_KEY, config.API_URL_KEY) else "number"
        spec: dict[str, Any] = {"type": kind, "description": text}
        if key == config.TOKEN_KEY:
            spec["secret"] = True
        found[key.split(":", 1)[1]] = spec
        alias = config.ALIASES.get(key)
        if alias:
            found[alias.split(":", 1)[1]] = {
                **spec,
                "description": f"The Terraform provider's name for `{key}`; set one of the two.",
            }
    return found


@cache
def package_schema() -> dict[str, Any]:
    """The whole package schema (Pulumi's schema format)."""
    types: dict[str, Any] = {}
    resources = {token(cls.__name__): resource_spec(cls, types) for cls in RESOURCES}
    variables = _config_variables()
    return {
        "name": PACKAGE,
        "displayName": "MotherDuck",
        "version": __version__,
        "description": "MotherDuck service accounts, access tokens and Duckling configuration "
        "through the MotherDuck Admin API.",
        "keywords": ["pulumi", "motherduck", "duckdb", "category/database"],
        "license": "Apache-2.0",
        "config": {"variables": variables},
        "provider": {
            "description": "The provider type for the motherduck package.",
            "inputProperties": variables,
        },
        "resources": resources,
        "types": types,
    }


def text() -> str:
    """The schema as JSON text (what GetSchema serves and `schema` writes)."""
    return json.dumps(package_schema(), indent=2, sort_keys=False) + "\n"


def _type_refs(spec: Any) -> set[str]:
    """The object types (`#/types/<token>`) a spec refers to, however deep."""
    if isinstance(spec, dict):
        ref = spec.get("$ref", "")
        found = {ref.removeprefix("#/types/")} if ref.startswith("#/types/") else set()
        return found.union(*(_type_refs(v) for v in spec.values()))
    if isinstance(spec, list):
        return set().union(*(_type_refs(v) for v in spec))
    return set()


@cache
def _spellings(kind: str) -> tuple[dict[str, str], re.Pattern[str] | None]:
    """The one map from the dynamic providers' names to the schema's, for resource `kind`:
    its properties and those of its object types (`rotate_before` -> `rotateBefore`)."""
    whole = package_schema()
    spec = whole["resources"].get(kind)
    if spec is None:
        return {}, None
    names = set(spec["inputProperties"]) | set(spec["properties"])
    for ref in _type_refs(spec):
        names |= set(whole["types"][ref]["properties"])
    found = {snake(name): name for name in names if snake(name) != name}
    words = "|".join(sorted(map(re.escape, found), key=len, reverse=True))
    return found, (re.compile(rf"\b(?:{words})\b") if found else None)


def in_schema_spelling(kind: str, text: str) -> str:
    """`text` (a check failure, error or warning of resource `kind`) with its property names
    spelled as the schema spells them; per resource, so a value such as the token type
    `read_write` is not taken for InstanceConfig's `readWrite`."""
    found, pattern = _spellings(kind)
    return pattern.sub(lambda m: found[m.group(0)], text) if pattern else text
