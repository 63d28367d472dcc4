"""The Pulumi program that declares the converted objects, in Python or Pulumi YAML.

It declares exactly what the recorded state holds, so `pulumi preview` has nothing to do:
no `rotate_before`, no protection (Terraform's state does not say whether its configuration
had `prevent_destroy`); add those afterwards like any change.
"""

from __future__ import annotations

import json
from typing import Any

from .layout import Layout
from .plan import Config, Conversion, Side, Token, python_name

YAML_TYPES = {
    "account": "motherduck:index:ServiceAccount",
    "token": "motherduck:index:AccessToken",
    "config": "motherduck:index:InstanceConfig",
}


def _username_py(username: str, account: str | None) -> str:
    return f"{python_name(account)}.username" if account else json.dumps(username)


def _side_py(side: Side) -> str:
    return (
        "{"
        + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in side.declared().items())
        + "}"
    )


def _token_py(t: Token) -> str:
    args = [
        json.dumps(t.name),
        f"username={_username_py(t.username, t.account)}",
        f"name={json.dumps(t.token_name)}",
    ]
    if t.ttl is not None:
        args.append(f"ttl={t.ttl}")
    if t.token_type != "read_write":
        args.append(f"token_type={json.dumps(t.token_type)}")
    return f"{python_name(t.name)} = AccessToken(\n    " + ",\n    ".join(args) + ",\n)"


def _config_py(c: Config) -> str:
    args = [
        json.dumps(c.name),
        f"username={_username_py(c.username, c.account)}",
        f"read_write={_side_py(c.read_write)}",
        f"read_scaling={_side_py(c.read_scaling)}",
    ]
    return f"{python_name(c.name)} = InstanceConfig(\n    " + ",\n    ".join(args) + ",\n)"


def _managed_py(conversion: Conversion, name: str, placed: Layout) -> str:
    account = placed.components[name]
    tokens = [t for t in conversion.tokens if t.account == name]
    configs = [c for c in conversion.configs if c.account == name]
    args = [json.dumps(name), f"username={json.dumps(account.username)}"]
    if tokens:
        specs = []
        for t in tokens:
            spec: dict[str, Any] = {"ttl": t.ttl} if t.ttl is not None else {}
            if t.token_type != "read_write":
                spec["token_type"] = t.token_type
            specs.append(f"        {json.dumps(t.token_name)}: {json.dumps(spec)},  # {t.address}")
        args.append("tokens={\n" + "\n".join(specs) + "\n    }")
    for c in configs:
        args.append(
            f"ducklings={{  # {c.address}\n"
            f'        "read_write": {_side_py(c.read_write)},\n'
            f'        "read_scaling": {_side_py(c.read_scaling)},\n'
            "    }"
        )
    return f"{python_name(name)} = ManagedAccount(\n    " + ",\n    ".join(args) + ",\n)"


def python_program(conversion: Conversion, source: str, placed: Layout | None = None) -> str:
    """`__main__.py` declaring `conversion`: ServiceAccount, AccessToken, InstanceConfig, and
    ManagedAccount for the accounts `placed` makes components."""
    placed = placed or Layout()
    alone_tokens = [t for t in conversion.tokens if placed.parent(t) is None]
    alone_configs = [c for c in conversion.configs if placed.parent(c) is None]
    used = (
        ("ManagedAccount", placed.components),
        ("ServiceAccount", [a for a in conversion.accounts if a.name not in placed.components]),
        ("AccessToken", alone_tokens),
        ("InstanceConfig", alone_configs),
    )
    kinds = sorted(kind for kind, objects in used if objects)
    lines = [
        f'"""Converted from the Terraform state {source} by',
        "`python -m motherduck_provider.from_terraform`: each resource is named after its",
        'Terraform address; the stack state holds every object, token secrets included."""',
        "",
        "import pulumi",
        "",
        f"from motherduck_provider import {', '.join(kinds)}" if kinds else "",
        "",
    ]
    for a in conversion.accounts:
        if a.name in placed.components:
            lines += [f"# {a.address}", _managed_py(conversion, a.name, placed)]
            continue
        lines.append(f"# {a.address}")
        lines.append(
            f"{python_name(a.name)} = ServiceAccount({json.dumps(a.name)}, "
            f"username={json.dumps(a.username)})"
        )
    for t in alone_tokens:
        lines += [f"# {t.address}", _token_py(t)]
    for c in alone_configs:
        lines += [f"# {c.address}", _config_py(c)]
    if conversion.exports:
        lines.append("")
    tokens = {t.name: t for t in conversion.tokens}
    for e in conversion.exports:
        token = tokens.get(e.resource)
        parent = placed.parent(token) if token else None
        if token and parent:
            held = f"{python_name(parent)}.tokens[{json.dumps(token.token_name)}]"
        else:
            held = python_name(e.resource)
        lines.append(f"pulumi.export({json.dumps(e.name)}, {held}.{e.attribute})")
    return "\n".join(lines) + "\n"


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


def _yaml_value(value: Any) -> str:
    return json.dumps(value)  # JSON scalars are YAML scalars


def _username_yaml(username: str, account: str | None) -> str:
    return f"${{{account}.username}}" if account else _yaml_value(username)


def yaml_program(conversion: Conversion, project: str, source: str) -> str:
    """`Pulumi.yaml` declaring `conversion` with the provider plugin's types."""
    lines = [
        f"# Converted from the Terraform state {source} by",
        "# `python -m motherduck_provider.from_terraform --language yaml`.",
        f"name: {project}",
        "runtime: yaml",
        "resources:",
    ]

    def resource(name: str, address: str, kind: str, props: list[tuple[str, str]]) -> None:
        lines.extend([f"  # {address}", f"  {name}:", f"    type: {YAML_TYPES[kind]}"])
        lines.append("    properties:")
        lines.extend(f"      {k}: {v}" for k, v in props)

    for a in conversion.accounts:
        resource(a.name, a.address, "account", [("username", _yaml_value(a.username))])
    for t in conversion.tokens:
        props = [
            ("username", _username_yaml(t.username, t.account)),
            ("name", _yaml_value(t.token_name)),
        ]
        if t.ttl is not None:
            props.append(("ttl", str(t.ttl)))
        if t.token_type != "read_write":
            props.append(("tokenType", _yaml_value(t.token_type)))
        resource(t.name, t.address, "token", props)
    for c in conversion.configs:
        props = [("username", _username_yaml(c.username, c.account))]
        for side_name, side in (("read_write", c.read_write), ("read_scaling", c.read_scaling)):
            inner = ", ".join(f"{_camel(k)}: {_yaml_value(v)}" for k, v in side.declared().items())
            props.append((_camel(side_name), "{" + inner + "}"))
        resource(c.name, c.address, "config", props)
    if conversion.exports:
        lines.append("outputs:")
        for e in conversion.exports:
            lines.append(f"  {e.name}: ${{{e.resource}.{_camel(e.attribute)}}}")
    return "\n".join(lines) + "\n"
