"""Move a stack of the Python form to the plugin form, in state only: nothing is recreated.

    python -m motherduck_provider.plugin migrate [--stack NAME] [--dry-run] [--provider-version V]

Why a state rewrite: the engine does take a dynamic resource over by alias without a replace
(a provider change asks the new provider's DiffConfig, which reports none), but every program
must carry an alias per resource (YAML: the literal URN, stack name included), and state
keeps the Python form's outputs (`token_id`, `__provider`) until a refresh, so the program
reads `tokenId` as null until then; `pulumi import` cannot bring a token's secret back. So
this command rewrites the exported deployment (`pulumi stack export`, backed up first, then
`pulumi stack import`):

* the types `pulumi-python:dynamic/motherduck:<Name>` become `motherduck:index:<Name>`, in
  every URN and every reference to one (parent, dependencies, property dependencies, ...);
* the Python provider `pulumi:providers:pulumi-python::default` becomes the plugin's default
  provider `pulumi:providers:motherduck::default` with the `motherduck:*` settings it held
  (the engine's own inputs for that provider: its config, without the `motherduck:` prefix);
* property names become the schema's (`token_type` -> `tokenType`, `properties.state_names`),
  the hidden inputs (`__provider`, ...) are dropped; secrets keep their ciphertext.

* a `ManagedAccount` component keeps its type token (the Python component's is already
  `motherduck:index:ManagedAccount`) and URN; its children's URNs take their new types (the
  qualified `motherduck:index:ManagedAccount$motherduck:index:AccessToken`), its outputs the
  schema's names.

It refuses, changing nothing, a stack with pending operations, resources pending deletion, or
resources of any other type (another provider's, another component), naming them.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..state_edits import TYPE_PREFIX
from ..state_file import PulumiFailed, import_state, run_pulumi, save_backup
from . import schema
from .properties import camel, state_names

NAMES = ("ServiceAccount", "AccessToken", "InstanceConfig")
TYPES = {TYPE_PREFIX + name: schema.token(name) for name in NAMES}
PYTHON_PROVIDER = "pulumi:providers:pulumi-python"
PLUGIN_PROVIDER = f"pulumi:providers:{schema.PACKAGE}"
STACK = "pulumi:pulumi:Stack"
COMPONENT = schema.token("ManagedAccount")
"""The component's type token, the same in both forms: only its children's types change."""
CONFIG_PREFIX = f"{schema.PACKAGE}:"
# Resource fields that hold URNs, alone or in a list.
URN_FIELDS = ("urn", "parent", "deletedWith")
URN_LIST_FIELDS = ("dependencies", "replaceWith", "aliases")
# Resource fields that list property names.
NAME_LIST_FIELDS = ("additionalSecretOutputs", "ignoreChanges", "replaceOnChanges", "hideDiff")


class MigrationRefused(ValueError):
    """The stack holds something the move cannot carry over; nothing was changed."""


@dataclass
class Migration:
    """What the move changed in one exported deployment."""

    moved: list[tuple[str, str]] = field(default_factory=list)
    """(old URN, new URN) of each resource, providers included."""


def _urn_parts(urn: str) -> list[str]:
    """`urn:pulumi:<stack>::<project>::<qualified type>::<name>` split at its `::`."""
    parts = urn.split("::", 3)
    if len(parts) != 4:
        raise MigrationRefused(f"not a resource URN: {urn!r}")
    return parts


def _provider_name(name: str, version: str | None) -> str:
    """The engine's name for a default provider: `default`, or `default_1_2_3` with a version."""
    if name != "default" or not version:
        return name
    return "default_" + version.replace(".", "_").replace("-", "_").replace("+", "_")


def _new_urn(urn: str, version: str | None) -> str:
    head, project, qualified, name = _urn_parts(urn)
    kinds = [TYPES.get(kind, kind) for kind in qualified.split("$")]
    if kinds[-1] == PYTHON_PROVIDER:
        kinds[-1], name = PLUGIN_PROVIDER, _provider_name(name, version)
    return "::".join((head, project, "$".join(kinds), name))


def _properties(values: Any) -> dict[str, Any]:
    """Inputs or outputs with the schema's names; hidden inputs (`__provider`, ...) dropped."""
    kept = {k: v for k, v in (values or {}).items() if not str(k).startswith("__")}
    return dict(state_names(kept))


def _settings(values: Any, version: str | None) -> dict[str, Any]:
    """The Python provider's `motherduck:<key>` settings as the plugin provider's inputs."""
    found = {
        str(k).removeprefix(CONFIG_PREFIX): v
        for k, v in (values or {}).items()
        if str(k).startswith(CONFIG_PREFIX)
    }
    if version:
        found["version"] = version
    return found


def _check(resources: list[dict[str, Any]], pending: list[dict[str, Any]]) -> None:
    """Refuse what `pulumi stack import` would lose or this move cannot carry over."""
    if pending:
        urns = ", ".join(
            f"{op.get('type')} {(op.get('resource') or {}).get('urn')}" for op in pending
        )
        raise MigrationRefused(
            f"the stack has {len(pending)} pending operation(s) ({urns}): finish them first "
            "(`python -m motherduck_provider.recover --cancel`, then `pulumi up` with the Python "
            "program); nothing was changed"
        )
    known = {STACK, PYTHON_PROVIDER, PLUGIN_PROVIDER, COMPONENT, *TYPES, *TYPES.values()}
    unknown = [str(r.get("urn")) for r in resources if r.get("type") not in known]
    if unknown:
        raise MigrationRefused(
            "the stack holds resources this command does not move (only the stack, the Python "
            "provider, ServiceAccount, AccessToken, InstanceConfig and ManagedAccount can be "
            f"moved): {', '.join(unknown)}; nothing was changed"
        )
    deleting = [str(r.get("urn")) for r in resources if r.get("delete")]
    if deleting:
        raise MigrationRefused(
            f"resources pending deletion: {', '.join(deleting)}; run `pulumi up` with the "
            "Python program first; nothing was changed"
        )


def migrate_deployment(
    deployment: dict[str, Any],
    version: str | None = None,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> tuple[dict[str, Any], Migration]:
    """`deployment` (of `pulumi stack export`) in the plugin form, and what moved.

    `version`: the plugin version the new program asks for, if it asks for one (generated SDKs
    do; Pulumi YAML without a `version` option does not), which names the default provider.
    Raises `MigrationRefused` (see the module docstring) before changing anything.
    """
    resources: list[dict[str, Any]] = deployment.get("resources") or []
    _check(resources, deployment.get("pending_operations") or [])
    migration = Migration()
    if not any(r.get("type") in TYPES for r in resources):
        return deployment, migration
    taken = [str(r.get("urn")) for r in resources if r.get("type") == PLUGIN_PROVIDER]
    if taken:
        raise MigrationRefused(
            f"the stack holds both forms (the plugin's provider {', '.join(taken)}); move "
            "the rest by hand or from a backup; nothing was changed"
        )
    result = copy.deepcopy(deployment)
    urns: dict[str, str] = {}
    refs: dict[str, str] = {}
    for resource in result["resources"]:
        old = str(resource["urn"])
        if resource.get("type") in TYPES or resource.get("type") == PYTHON_PROVIDER:
            urns[old] = _new_urn(old, version)
            migration.moved.append((old, urns[old]))
        elif resource.get("type") == COMPONENT:
            migration.moved.append((old, old))  # its children's URNs change, not its own
        if resource.get("type") == PYTHON_PROVIDER:
            fresh = new_id()
            refs[f"{old}::{resource.get('id')}"] = f"{urns[old]}::{fresh}"
            resource["id"] = fresh
            resource["type"] = PLUGIN_PROVIDER
            resource["inputs"] = _settings(resource.get("inputs"), version)
            resource["outputs"] = _settings(resource.get("outputs"), version)
        elif resource.get("type") == COMPONENT:
            resource["outputs"] = _properties(resource.get("outputs"))
        elif resource.get("type") in TYPES:
            resource["type"] = TYPES[resource["type"]]
            resource["inputs"] = _properties(resource.get("inputs"))
            resource["outputs"] = _properties(resource.get("outputs"))
            deps = resource.get("propertyDependencies")
            if deps is not None:
                resource["propertyDependencies"] = {
                    camel(k): v for k, v in deps.items() if not k.startswith("__")
                }
            for key in NAME_LIST_FIELDS:
                if resource.get(key) is not None:
                    resource[key] = [camel(n) for n in resource[key] if not n.startswith("__")]
    for resource in result["resources"]:
        for key in URN_FIELDS:
            if resource.get(key) in urns:
                resource[key] = urns[resource[key]]
        for key in URN_LIST_FIELDS:
            if resource.get(key):
                resource[key] = [urns.get(u, u) for u in resource[key]]
        if resource.get("propertyDependencies"):
            resource["propertyDependencies"] = {
                k: [urns.get(u, u) for u in v or []]
                for k, v in resource["propertyDependencies"].items()
            }
        if resource.get("provider") in refs:
            resource["provider"] = refs[resource["provider"]]
        elif resource.get("provider"):
            raise MigrationRefused(
                f"{resource['urn']}: its provider {resource['provider']} is not in state; "
                "nothing was changed"
            )
    return result, migration


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motherduck_provider.plugin migrate",
        description="Move the stack's ServiceAccount, AccessToken, InstanceConfig and "
        "ManagedAccount from the Python form (dynamic providers) to the provider plugin's "
        "types, in state only: "
        "nothing in MotherDuck is touched, every token keeps its secret. The original state "
        "is saved first. Then run your new program with `pulumi preview --expect-no-changes`.",
    )
    parser.add_argument("--stack", help="the stack (default: the selected one)")
    parser.add_argument("--cwd", default=None, help="the project directory (default: here)")
    parser.add_argument("--pulumi", default="pulumi", help="the pulumi executable")
    parser.add_argument(
        "--provider-version",
        default=None,
        help="the plugin version your new program asks for, if it names one (generated SDKs "
        "do; Pulumi YAML without a `version` option does not)",
    )
    parser.add_argument(
        "--backup",
        type=Path,
        default=None,
        help="where to save the original state (default: "
        "motherduck-migrate-<stack>-<UTC time>.json in the project directory)",
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would move, only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """0 when moved (or nothing to move), 1 when a `pulumi` command failed, 2 when refused."""
    options = _parser().parse_args(argv)
    try:
        text = run_pulumi(options, "stack", "export")
        exported = json.loads(text)
        migrated, migration = migrate_deployment(exported["deployment"], options.provider_version)
    except MigrationRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    except PulumiFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if not migration.moved:
        print("nothing to move: the stack holds no resource of the Python form")
        return 0
    for old, new in migration.moved:
        print(f"{old}\n  -> {new}")
    if options.dry_run:
        return 0
    stack = options.stack or _urn_parts(migration.moved[0][0])[0].removeprefix("urn:pulumi:")
    backup = save_backup(options, text, "migrate", stack)
    if not import_state(options, exported, migrated, backup):
        return 1
    print(
        f"moved {len(migration.moved)} resources to the plugin form; now run your new program: "
        "`pulumi preview --expect-no-changes`"
    )
    return 0
