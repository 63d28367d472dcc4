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
import importlib
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
from ..component import INPUT_DOCS, DucklingSpec, ManagedAccount, TokenSpec
from ..resources import AccessToken, InstanceConfig, ServiceAccount
from .functions import FUNCTIONS, Function, arguments
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
    config.RATE_LIMIT_WAIT_KEY: "Seconds one API request may spend waiting out rate-limit "
    f"answers (429) before it fails (default {config.DEFAULT_RATE_LIMIT_WAIT:g}; 0: never wait).",
}
_SCALARS = {"str": "string", "bool": "boolean", "int": "integer", "float": "number"}
_ARRAYS = ("tuple", "list", "Sequence")
_MAPS = ("Mapping", "dict")
DOCS_FROM: dict[type, type] = {TokenSpec: AccessToken, DucklingSpec: InstanceConfig}
"""Where an input type's undocumented fields take their descriptions (same names)."""
COMPONENT_OUTPUTS = {
    "username": {"type": "string", "description": "The service account's username."},
    "tokenIds": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "Each token's id (`AccessToken.tokenId`) by token name.",
    },
    "tokens": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "secret": True,
        "description": "Each token's secret by token name (a secret output; null for an adopted "
        "token, whose secret Pulumi never sees).",
    },
}


def token(name: str) -> str:
    """The type token of a resource or type: `motherduck:index:<name>`."""
    return f"{PACKAGE}:index:{name}"


def kind_of(urn: str) -> str:
    """The type token of the resource `urn` names, without its parents' types (a child of
    a component has `motherduck:index:ManagedAccount$motherduck:index:AccessToken`)."""
    return urn.split("::")[2].rsplit("$", 1)[-1] if urn.count("::") >= 3 else ""


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


@cache
def _namespace(module: str) -> dict[str, Any]:
    """The names an annotation in `module` may use: its globals and what it imports only
    `if TYPE_CHECKING:` (to break an import cycle), e.g. ServiceAccount's `ReadWriteArgs`."""
    found = dict(vars(sys.modules[module]))
    for node in ast.parse(inspect.getsource(sys.modules[module])).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imported in node.body:
                if isinstance(imported, ast.ImportFrom):
                    package = sys.modules[module].__package__
                    source = "." * imported.level + (imported.module or "")
                    loaded = vars(importlib.import_module(source, package))
                    found.update({a.asname or a.name: loaded[a.name] for a in imported.names})
    return found


def _type_spec(annotation: str, module: str, types: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(schema type spec, optional) of an annotation written in `module`; object types found
    on the way are added to `types`."""
    members, optional = _unwrap(ast.parse(annotation, mode="eval").body)
    namespace = _namespace(module)
    for member in members:
        text = ast.unparse(member)
        if text in _SCALARS:
            return {"type": _SCALARS[text]}, optional
        if isinstance(member, ast.Subscript):  # tuple[X, ...] or Mapping[str, X]
            container = ast.unparse(member.value)
            args = member.slice.elts if isinstance(member.slice, ast.Tuple) else [member.slice]
            item, _ = _type_spec(
                ast.unparse(args[0 if container == "tuple" else -1]), module, types
            )
            if container in _ARRAYS:
                return {"type": "array", "items": item}, optional
            if container in _MAPS:
                return {"type": "object", "additionalProperties": item}, optional
        value = namespace.get(text)
        if typing.get_origin(value) is typing.Literal:
            allowed = ", ".join(str(v) for v in typing.get_args(value))
            return {"type": "string", "description": f"One of: {allowed}."}, optional
        if isinstance(value, type) and (
            dataclasses.is_dataclass(value) or typing.is_typeddict(value)
        ):
            name = text.removesuffix("ArgsDict").removesuffix("Args")  # the SDKs add "Args"
            if token(name) not in types:
                types[token(name)] = _object_type(value, value.__module__, types)
            return {"$ref": f"#/types/{token(name)}"}, optional
    return {"$ref": "pulumi.json#/Any"}, optional


def _fields(cls: type) -> list[tuple[str, str, bool]]:
    """(name, annotation, required) of a dataclass's or TypedDict's fields."""
    if dataclasses.is_dataclass(cls):
        return [
            (f.name, str(f.type), f.default is dataclasses.MISSING) for f in dataclasses.fields(cls)
        ]
    hints = cls.__annotations__
    return [
        (name, getattr(hint, "__forward_arg__", str(hint)), name in cls.__required_keys__)  # type: ignore[attr-defined]
        for name, hint in hints.items()
    ]


def _object_type(cls: type, module: str, types: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    docs = {**attribute_docs(DOCS_FROM.get(cls, cls)), **attribute_docs(cls)}
    for name, annotation, needed in _fields(cls):
        spec, optional = _type_spec(annotation, module, types)
        properties[camel(name)] = _described(spec, docs.get(name, "")) if docs.get(name) else spec
        if not optional and needed:
            required.append(camel(name))
    found = {"type": "object", "description": _doc(cls.__doc__), "properties": properties}
    return {**found, "required": required} if required else found  # as Pulumi writes it


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


def component_spec(types: dict[str, Any]) -> dict[str, Any]:
    """`ManagedAccount` as a component: the Python component's inputs, its outputs for
    another language (the token secrets among them, secret)."""
    inputs: dict[str, Any] = {}
    required: list[str] = []
    for name, parameter in resource_inputs(ManagedAccount).items():
        spec, optional = _type_spec(str(parameter.annotation), ManagedAccount.__module__, types)
        inputs[camel(name)] = _described(spec, INPUT_DOCS.get(name, ""))
        if parameter.default is inspect.Parameter.empty and not optional:
            required.append(camel(name))
    return {
        "isComponent": True,
        "description": _doc(ManagedAccount.__doc__),
        "inputProperties": inputs,
        "requiredInputs": required,
        "properties": COMPONENT_OUTPUTS,
        "required": list(COMPONENT_OUTPUTS),
    }


def function_spec(function: Function, types: dict[str, Any]) -> dict[str, Any]:
    """A data function from its Python form: arguments, result type and docstring."""
    module = function.python.__module__
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, parameter in arguments(function).items():
        spec, optional = _type_spec(str(parameter.annotation), module, types)
        properties[camel(name)] = _described(spec, FUNCTION_ARG_DOCS.get(name, ""))
        if parameter.default is inspect.Parameter.empty and not optional:
            required.append(camel(name))
    result = inspect.signature(function.python).return_annotation
    out = _object_type(_namespace(module)[str(result)], module, types)
    for name in function.secrets:
        out["properties"][camel(name)]["secret"] = True
    found: dict[str, Any] = {"description": _doc(function.python.__doc__), "outputs": out}
    if properties:
        found["inputs"] = {"properties": properties, "required": required}
    return found


FUNCTION_ARG_DOCS = {
    "username": "The service account's username.",
    "dive_id": "The Dive's id (a UUID, as in its URL).",
    "session_hint": "Reuse the same read-scaling session across embed requests with this hint.",
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


# Where the project lives (no public home yet: pyproject.toml's [project.urls] says so); the
# generated SDKs' package names and Go import path derive from it.
REPOSITORY = "github.com/motherduck-pulumi/motherduck-pulumi"
LANGUAGE = {
    "nodejs": {"packageName": "@motherduck-pulumi/motherduck"},
    "go": {
        "importBasePath": f"{REPOSITORY}/sdk/go/{PACKAGE}",
        "generateResourceContainerTypes": True,
    },
    "python": {"packageName": f"pulumi_{PACKAGE}"},
}


@cache
def package_schema() -> dict[str, Any]:
    """The whole package schema (Pulumi's schema format), descriptions in its spelling."""
    return _spelled(_python_schema())


@cache
def _python_schema() -> dict[str, Any]:
    """The schema with descriptions as the Python docstrings write them."""
    types: dict[str, Any] = {}
    resources = {token(cls.__name__): resource_spec(cls, types) for cls in RESOURCES}
    resources[token(ManagedAccount.__name__)] = component_spec(types)
    functions = {token(name): function_spec(f, types) for name, f in FUNCTIONS.items()}
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
        "functions": functions,
        "types": types,
        "language": LANGUAGE,
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


def _spec_of(kind: str) -> dict[str, Any] | None:
    """The resource, function or type `kind` names, in the Python-spelled schema."""
    whole = _python_schema()
    for section in ("resources", "functions", "types"):
        if kind in whole[section]:
            found: dict[str, Any] = whole[section][kind]
            return found
    return None


@cache
def property_names() -> frozenset[str]:
    """Every property name of the package as the schema spells it (`tokenIds`, `createdTs`):
    resources, object types, and the fields of a token's `tokenDetails`."""
    from ..resources._props import TOKEN_KEYS

    whole = package_schema()
    names = {camel(key) for key in TOKEN_KEYS}
    for section in ("resources", "types"):
        for spec in whole[section].values():
            names |= set(spec.get("inputProperties", {})) | set(spec.get("properties", {}))
    return frozenset(names)


def _property_names(spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for part in (spec, spec.get("inputs", {}), spec.get("outputs", {})):
        names |= set(part.get("inputProperties", {})) | set(part.get("properties", {}))
    return names


@cache
def _spellings(kind: str) -> tuple[dict[str, str], re.Pattern[str] | None]:
    """The one map from the dynamic providers' names to the schema's, for `kind` (a
    resource, function or type): its properties and those of its object types
    (`rotate_before` -> `rotateBefore`); for an object type, also those of the resources and
    functions that use it (its fields' docs name their inputs, e.g. `allow_downsize`)."""
    spec = _spec_of(kind)
    if spec is None:
        return {}, None
    whole = _python_schema()
    names = _property_names(spec)
    for ref in _type_refs(spec):
        names |= _property_names(whole["types"][ref])
    if kind in whole["types"]:
        for section in ("resources", "functions"):
            for user in whole[section].values():
                if kind in _type_refs(user):
                    names |= _property_names(user)
    found = {snake(name): name for name in names if snake(name) != name}
    words = "|".join(sorted(map(re.escape, found), key=len, reverse=True))
    return found, (re.compile(rf"\b(?:{words})\b") if found else None)


def in_schema_spelling(kind: str, text: str) -> str:
    """`text` (a check failure, error, warning or description of `kind`) with its property
    names spelled as the schema spells them; per resource, so a value such as the token type
    `read_write` is not taken for InstanceConfig's `readWrite`. A name another resource
    qualifies (`InstanceConfig.read_write`, `AccessToken(adopt_token_id=...)`) takes that
    resource's spelling."""

    def qualified(m: re.Match[str]) -> str:
        return m.group(1) + in_schema_spelling(token(m.group(1)), m.group(2))

    text = _QUALIFIED.sub(qualified, text)
    found, pattern = _spellings(kind)
    return pattern.sub(lambda m: found[m.group(0)], text) if pattern else text


_QUALIFIED = re.compile(rf"\b({'|'.join(c.__name__ for c in RESOURCES)})([.(]\w+)")
PYTHON_ONLY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"`opts=pulumi\.ResourceOptions\((\w+)=True\)`"), r"the `\1` resource option"),
    (re.compile(r"\s*[^.]*`connection`[^.]*\."), ""),  # the plugin form has no `connection`
    (re.compile(r"`NotFoundError`"), "An error"),
    (re.compile(r"`(\w+)\((\w+)=\.\.\.\)`"), r"`\1.\2`"),  # `AccessToken(adopt_token_id=...)`
    (re.compile(r"\bNone\b"), "null"),
    (re.compile(r"`(\w+)=True`"), r"`\1: true`"),
    (re.compile(r"`(\w+)=False`"), r"`\1: false`"),
)
"""Python-only wording in docstrings, as another language's user reads it."""


def described(kind: str, text: str) -> str:
    """A docstring of `kind` as its schema description: Python-only wording rewritten
    (`PYTHON_ONLY`), property names in the schema's spelling (`in_schema_spelling`)."""
    for pattern, replacement in PYTHON_ONLY:
        text = pattern.sub(replacement, text)
    return in_schema_spelling(kind, text)


def _spelled(whole: dict[str, Any]) -> dict[str, Any]:
    """The schema with every description in its own spelling, per resource, function or
    type (`in_schema_spelling`), Python-only wording rewritten (`PYTHON_ONLY`)."""

    def walk(value: Any, kind: str) -> Any:
        if isinstance(value, dict):
            return {k: describe(v, kind) if k == "description" else walk(v, kind)
                    for k, v in value.items()}  # fmt: skip
        if isinstance(value, list):
            return [walk(v, kind) for v in value]
        return value

    def describe(text: Any, kind: str) -> Any:
        if not isinstance(text, str):
            return walk(text, kind)  # a property named `description`
        return described(kind, text)

    spelled = dict(whole)
    for section in ("resources", "functions", "types"):
        spelled[section] = {kind: walk(spec, kind) for kind, spec in whole[section].items()}
    return spelled
