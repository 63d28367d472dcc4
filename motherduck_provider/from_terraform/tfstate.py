"""Read a Terraform state: a `.tfstate` file (format 4) or `terraform show -json` output.

Only reading: the file is opened once and never written. The result lists every managed
resource instance with its address, type, attributes and provider configuration, and what is
left alone (data sources are not objects to move). Secrets stay in the attribute values; no
function here prints them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVIDER_SOURCE = "motherduckdb/motherduck"
ACCOUNT = "motherduck_service_account"
TOKEN = "motherduck_access_token"
CONFIG = "motherduck_duckling_config"
KINDS = (ACCOUNT, TOKEN, CONFIG)


class StateUnreadable(ValueError):
    """The file is not a Terraform state this command can read; nothing was written."""


@dataclass(frozen=True)
class Instance:
    """One managed resource instance of the state."""

    address: str
    """As Terraform prints it: `module.a.motherduck_access_token.ci["x"]`."""
    type: str
    name: str
    module: tuple[str, ...]
    """Module path, outermost first (`module.a.module.b` -> ("a", "b")); () at the root."""
    index_key: str | int | None
    """The `count` index or `for_each` key; None without either."""
    provider: str
    """The provider configuration (`provider["registry.terraform.io/motherduckdb/motherduck"]`,
    an alias as `...].other`); from `show -json`, only the source (aliases are not shown)."""
    values: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()

    @property
    def ours(self) -> bool:
        """One of the three objects the MotherDuck provider of Terraform manages over REST."""
        return self.type in KINDS and PROVIDER_SOURCE in self.provider


@dataclass
class TerraformState:
    """What the state holds: managed instances, Terraform outputs, what is ignored."""

    source: str
    instances: list[Instance] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """Output name -> value (sensitive ones too: the caller decides what to keep)."""
    data_sources: list[str] = field(default_factory=list)


def _key_text(key: str | int | None) -> str:
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


def _module_path(module: str) -> tuple[str, ...]:
    """`module.a.module.b["k"]` -> ("a", "b[\"k\"]"): each module call with its key."""
    if not module:
        return ()
    parts: list[str] = []
    rest = module
    while rest.startswith("module."):
        rest = rest[len("module.") :]
        end = rest.find(".module.")
        parts.append(rest if end < 0 else rest[:end])
        rest = "" if end < 0 else rest[end + 1 :]
    return tuple(parts)


def _from_tfstate(data: Mapping[str, Any], source: str) -> TerraformState:
    state = TerraformState(source)
    for resource in data.get("resources") or []:
        module = str(resource.get("module") or "")
        prefix = f"{module}." if module else ""
        base = f"{resource.get('type')}.{resource.get('name')}"
        if resource.get("mode") == "data":
            state.data_sources.append(f"{prefix}data.{base}")
            continue
        for instance in resource.get("instances") or []:
            key = instance.get("index_key")
            state.instances.append(
                Instance(
                    address=prefix + base + _key_text(key),
                    type=str(resource.get("type")),
                    name=str(resource.get("name")),
                    module=_module_path(module),
                    index_key=key,
                    provider=str(resource.get("provider") or ""),
                    values=dict(instance.get("attributes") or {}),
                    depends_on=tuple(instance.get("dependencies") or ()),
                )
            )
    state.outputs = {k: (v or {}).get("value") for k, v in (data.get("outputs") or {}).items()}
    return state


def _modules(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield module
    for child in module.get("child_modules") or []:
        yield from _modules(child)


def _from_show(data: Mapping[str, Any], source: str) -> TerraformState:
    state = TerraformState(source)
    values = data.get("values") or {}
    for module in _modules(values.get("root_module") or {}):
        path = str(module.get("address") or "")
        for resource in module.get("resources") or []:
            address = str(resource.get("address"))
            if resource.get("mode") == "data":
                state.data_sources.append(address)
                continue
            state.instances.append(
                Instance(
                    address=address,
                    type=str(resource.get("type")),
                    name=str(resource.get("name")),
                    module=_module_path(path),
                    index_key=resource.get("index"),
                    provider=str(resource.get("provider_name") or ""),
                    values=dict(resource.get("values") or {}),
                    depends_on=tuple(resource.get("depends_on") or ()),
                )
            )
    state.outputs = {k: (v or {}).get("value") for k, v in (values.get("outputs") or {}).items()}
    return state


def parse_state(data: Any, source: str = "<state>") -> TerraformState:
    """A state from the decoded JSON of either form; `StateUnreadable` names what is wrong."""
    if not isinstance(data, Mapping):
        raise StateUnreadable(f"{source}: not a JSON object")
    if "format_version" in data:
        return _from_show(data, source)
    version = data.get("version")
    if version == 4:
        return _from_tfstate(data, source)
    if version is not None:
        raise StateUnreadable(
            f"{source}: Terraform state format {version!r} (only 4, written by Terraform 0.12 "
            "and later, is read); run `terraform show -json > state.json` and pass that"
        )
    raise StateUnreadable(
        f"{source}: neither a .tfstate file (`version: 4`) nor `terraform show -json` output "
        "(`format_version`)"
    )


def read_state(path: Path) -> TerraformState:
    """The state in `path` (read only)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateUnreadable(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateUnreadable(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from exc
    return parse_state(data, str(path))
