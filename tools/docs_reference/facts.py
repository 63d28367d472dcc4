"""What the reference pages say, read from the code: signatures, docstrings, the plugin's
package schema, and the constants `check` and `diff` use (rules, replace keys, defaults).

Nothing here states a rule of its own: a row is built from the resource module's
`INPUT_RULES`, `REPLACE_ON_CHANGE`, `INPUT_DEFAULTS` and `ID_FORM`, so changing one of them
changes the page, and the drift test fails until the page is regenerated.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from motherduck_provider.plugin import schema
from motherduck_provider.plugin.properties import SECRET_OUTPUTS, camel

UNSET = "—"
# Parameters of a component or function that are not inputs.
NOT_PARAMETERS = ("self", "resource_name", "opts")


@dataclass(frozen=True)
class Field:
    """One row of an inputs or outputs table."""

    python: str
    schema: str
    type: str
    description: str
    required: bool = False
    default: str = UNSET
    on_change: str = ""
    rule: str = ""
    secret: bool = False


def module_of(obj: Any) -> ModuleType:
    return sys.modules[obj.__module__]


def docstring(obj: Any) -> str:
    """A docstring without its `Args:` section (that one becomes the inputs table)."""
    text = inspect.getdoc(obj) or ""
    return text.split("\nArgs:\n", 1)[0].strip()


def arg_docs(fn: Callable[..., Any]) -> dict[str, str]:
    """The `Args:` section of a docstring: parameter -> description (continuations joined)."""
    text = inspect.getdoc(fn) or ""
    _, found, section = text.partition("\nArgs:\n")
    docs: dict[str, str] = {}
    name = ""
    for line in section.splitlines() if found else []:
        entry = re.match(r"^ {4}(\w+): (.*)$", line)
        if entry:
            name = entry[1]
            docs[name] = entry[2].strip()
        elif line.startswith(" " * 8) and name:
            docs[name] += " " + line.strip()
        else:
            break
    return docs


def type_text(annotation: str, module: ModuleType, none: bool = False) -> str:
    """An annotation as users write the value: Inputs/Outputs unwrapped, Literal choices shown;
    `none`: say `or None` when the value may be None (outputs and results)."""
    members, optional = schema._unwrap(ast.parse(annotation, mode="eval").body)
    shown = []
    for member in members:
        text = ast.unparse(member)
        value = vars(module).get(text)
        if typing.get_origin(value) is typing.Literal:
            shown.append(" or ".join(f'"{v}"' for v in typing.get_args(value)))
        else:
            shown.append(text)
    text = " or ".join(dict.fromkeys(shown)) or "Any"
    return f"{text} or None" if none and optional else text


def _is_bool(annotation: str) -> bool:
    members, _ = schema._unwrap(ast.parse(annotation, mode="eval").body)
    return [ast.unparse(m) for m in members] == ["bool"]


def _default(name: str, annotation: str, module: ModuleType, required: bool) -> str:
    defaults: dict[str, Any] = getattr(module, "INPUT_DEFAULTS", {})
    if name in defaults:
        return f"`{defaults[name]}`"
    if required:
        return UNSET
    return "`false`" if _is_bool(annotation) else "unset"


def resource_inputs(cls: type) -> list[Field]:
    """A resource's inputs: its `__init__` keywords, as the package schema describes them."""
    module = module_of(cls)
    spec = schema.resource_spec(cls, {})
    docs = schema.attribute_docs(cls)
    rules: dict[str, str] = getattr(module, "INPUT_RULES", {})
    replace: tuple[str, ...] = getattr(module, "REPLACE_ON_CHANGE", ())
    rows = []
    for name, parameter in schema.resource_inputs(cls).items():
        annotation = str(parameter.annotation)
        required = camel(name) in spec["requiredInputs"]
        rows.append(
            Field(
                python=name,
                schema=camel(name),
                type=type_text(annotation, module),
                description=docs.get(name) or schema.INPUT_ONLY_DOCS.get(name, ""),
                required=required,
                default=_default(name, annotation, module, required),
                on_change="**replace**" if name in replace else "update in place",
                rule=rules.get(name, ""),
            )
        )
    return rows


def resource_outputs(cls: type) -> list[Field]:
    """A resource's outputs: its `pulumi.Output[...]` attributes; secret ones marked."""
    module = module_of(cls)
    spec = schema.resource_spec(cls, {})
    rows = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if not str(annotation).startswith("pulumi.Output["):
            continue
        rows.append(
            Field(
                python=name,
                schema=camel(name),
                type=type_text(str(annotation), module, none=True),
                description=spec["properties"][camel(name)].get("description", ""),
                secret=name in SECRET_OUTPUTS,
            )
        )
    return rows


def object_types(cls: type) -> list[type]:
    """The args dataclasses (`ReadWriteArgs`, ...) a resource's inputs take; they live in
    `instance_config` (the ServiceAccount imports them only for type checking)."""
    from motherduck_provider.resources import instance_config

    namespace = {**vars(instance_config), **vars(module_of(cls))}
    found: list[type] = []
    for parameter in schema.resource_inputs(cls).values():
        members, _ = schema._unwrap(ast.parse(str(parameter.annotation), mode="eval").body)
        for member in members:
            value = namespace.get(ast.unparse(member))
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value not in found:
                found.append(value)
    return found


def dataclass_fields(
    cls: type,
    rules: dict[str, str] | None = None,
    defaults: dict[str, str] | None = None,
    result: bool = False,
) -> list[Field]:
    """The fields of a dataclass (args, or a data function's `result`), with their docstrings."""
    module = module_of(cls)
    docs = schema.attribute_docs(cls)
    rows = []
    for field in dataclasses.fields(cls):
        annotation = str(field.type)
        required = field.default is dataclasses.MISSING
        default = (defaults or {}).get(field.name, UNSET if required else "unset")
        rows.append(
            Field(
                python=field.name,
                schema=camel(field.name),
                type=type_text(annotation, module, none=result),
                description=docs.get(field.name, ""),
                required=required,
                default=default,
                rule=(rules or {}).get(field.name, ""),
            )
        )
    return rows


def parameters(fn: Callable[..., Any]) -> list[Field]:
    """A component's or function's parameters, described by its docstring's `Args:`."""
    docs = arg_docs(fn)
    module = module_of(fn)
    rows = []
    for name, parameter in inspect.signature(fn).parameters.items():
        if name in NOT_PARAMETERS:
            continue
        required = parameter.default is inspect.Parameter.empty
        default = UNSET if required else f"`{parameter.default!r}`"
        rows.append(
            Field(
                python=name,
                schema=camel(name),
                type=type_text(str(parameter.annotation), module),
                description=docs.get(name, ""),
                required=required,
                default=default,
            )
        )
    return rows


def result_types(cls: type) -> list[type]:
    """A result dataclass and every dataclass its fields hold, depth first, each once."""
    found = [cls]
    module = module_of(cls)
    for field in dataclasses.fields(cls):
        for name in re.findall(r"\w+", str(field.type)):
            value = vars(module).get(name)
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value not in found
                and value is not cls
            ):
                found += [t for t in result_types(value) if t not in found]
    return found


def undocumented_resource(cls: type) -> list[str]:
    """What a resource's page would lack: an input without a description or a `check` rule
    in words (`INPUT_RULES`), an output or args field without a description or rule."""
    found = []
    for row in resource_inputs(cls):
        if not row.description:
            found.append(f"{cls.__name__} input {row.python}: no description")
        if not row.rule:
            found.append(f"{cls.__name__} input {row.python}: no rule in INPUT_RULES")
    for row in resource_outputs(cls):
        if not row.description:
            found.append(f"{cls.__name__} output {row.python}: no description")
    from motherduck_provider.resources.instance_config import SETTING_RULES

    for kind in object_types(cls):
        for row in dataclass_fields(kind, SETTING_RULES):
            if not row.description or not row.rule:
                found.append(f"{kind.__name__} field {row.python}: no description or rule")
    return found


def undocumented_parameters(fn: Callable[..., Any], label: str) -> list[str]:
    """Parameters of a component or function missing from its docstring's `Args:`."""
    return [
        f"{label} input {row.python}: not in Args:" for row in parameters(fn) if not row.description
    ]


def undocumented_fields(cls: type) -> list[str]:
    """Fields (of a result or a `Connection`) without a docstring under them."""
    return [
        f"{cls.__name__} field {row.python}: no docstring"
        for row in dataclass_fields(cls)
        if not row.description
    ]
