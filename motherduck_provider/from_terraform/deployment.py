"""The stack's state for the converted objects, as our providers would have recorded them.

Each object is recorded as if this stack had created it: the same id, inputs (the checked
ones, hidden inputs included: `owner`, the serialized provider) and outputs our providers
return from `create`, so the program's `pulumi preview` has nothing to do. Why not run the
program and import? `pulumi import` cannot bring a token's secret, and running creates would
call the API. The pickled providers come from the SDK's own `serialize_provider`, the call
`pulumi.dynamic.Resource` makes (an SDK internal, `pulumi/dynamic/dynamic.py`: should it move
or change its output, tests/e2e/test_from_terraform.py's no-change preview fails).

A Terraform token has no `[pulumi:<mark>]` suffix in its name: it is recorded as a token of
this stack with `mark` None. Read, diff and delete use its id, so nothing changes until it is
rotated; a rotation then creates a marked token (the mark computed from the inputs, as for
any token) and revokes the Terraform one. Token secrets go into the deployment as secret
values in plain text, which `pulumi stack import` encrypts with the stack's own secrets
provider; the deployment is only ever passed on a pipe.

The plugin form (Pulumi YAML and other languages) is the same deployment moved as
`python -m motherduck_provider.plugin migrate` moves a stack: one conversion, two faces.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pulumi.dynamic.dynamic import serialize_provider

from ..plugin.migrate import migrate_deployment
from ..resources._pickle_guard import pickler_restored
from ..resources.access_token import AccessTokenProvider, owner_of
from ..resources.instance_config import InstanceConfigProvider
from ..resources.service_account import ServiceAccountProvider
from ..state_edits import PROVIDER_KEY, TYPE_PREFIX
from .layout import COMPONENT, Layout
from .plan import Account, Config, Conversion, Token

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE = "pulumi:providers:pulumi-python"


def secret(value: Any) -> dict[str, Any]:
    """A secret as `pulumi stack import` takes it in plain text (it encrypts it)."""
    return {SECRET_SIG: SECRET_VALUE, "plaintext": json.dumps(value)}


def pickled_providers() -> dict[str, str]:
    """Kind -> the serialized provider a program without a Connection records."""
    with pickler_restored():
        return {
            "ServiceAccount": serialize_provider(ServiceAccountProvider()),
            "AccessToken": serialize_provider(AccessTokenProvider()),
            "InstanceConfig": serialize_provider(InstanceConfigProvider()),
        }


class Urns:
    """The URNs of one stack of one project."""

    def __init__(self, project: str, stack: str) -> None:
        self.project = project
        self.stack = stack.rsplit("/", 1)[-1]  # `org/project/stack` names: the URN has the last

    def of(self, kind: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{kind}::{name}"

    def stack_urn(self) -> str:
        return self.of(STACK_TYPE, f"{self.project}-{self.stack}")


def python_resources(
    conversion: Conversion,
    urns: Urns,
    settings: dict[str, Any] | None = None,
    placed: Layout | None = None,
    now: datetime | None = None,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[dict[str, Any]]:
    """The Stack, the Python provider and every object, in the Python form.

    `placed`: which accounts are ManagedAccounts (their children recorded under them).
    `settings`: the stack's config, which the engine records as the provider's inputs (secret
    values as `secret(...)`); a refresh, which runs no program, configures the provider from
    them.
    """
    stamp = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    pickles = pickled_providers()
    stack_urn = urns.stack_urn()
    provider = urns.of(PROVIDER_TYPE, "default")
    provider_id = new_id()
    outputs: dict[str, Any] = {}
    values: dict[tuple[str, str], Any] = {}
    resources: list[dict[str, Any]] = [
        {"urn": stack_urn, "custom": False, "type": STACK_TYPE, "outputs": outputs},
        {
            "urn": provider,
            "custom": True,
            "id": provider_id,
            "type": PROVIDER_TYPE,
            "inputs": dict(settings or {}),
            "outputs": dict(settings or {}),
        },
    ]
    account_urns: dict[str, str] = {}
    placed = placed or Layout()
    components: dict[str, dict[str, Any]] = {
        name: {
            "urn": urns.of(COMPONENT, name),
            "custom": False,
            "type": COMPONENT,
            "outputs": {"token_ids": {}, "username": account.username},
            "parent": stack_urn,
        }
        for name, account in placed.components.items()
    }

    def urn_of(kind: str, obj: Account | Token | Config) -> str:
        parent = placed.parent(obj)
        qualified = TYPE_PREFIX + kind if parent is None else f"{COMPONENT}${TYPE_PREFIX}{kind}"
        return urns.of(qualified, placed.child_name(obj))

    def add(
        kind: str,
        obj: Account | Token | Config,
        id_: str,
        inputs: dict[str, Any],
        outs: dict[str, Any],
        account: str | None,
        **extra: Any,
    ) -> None:
        pickle = pickles[kind]
        deps = [account_urns[account]] if account else []
        parent = placed.parent(obj)
        resource: dict[str, Any] = {
            "urn": urn_of(kind, obj),
            "custom": True,
            "id": id_,
            "type": TYPE_PREFIX + kind,
            "inputs": {PROVIDER_KEY: pickle, **inputs},
            "outputs": {PROVIDER_KEY: pickle, **{k: v for k, v in outs.items() if v is not None}},
            "parent": components[parent]["urn"] if parent else stack_urn,
            "provider": f"{provider}::{provider_id}",
            "propertyDependencies": {
                k: (deps if k == "username" else []) for k in (PROVIDER_KEY, *inputs)
            },
            "created": stamp,
            "modified": stamp,
            **extra,
        }
        if deps:
            resource["dependencies"] = deps
        resources.append(resource)

    for a in conversion.accounts:
        account_urns[a.name] = urn_of("ServiceAccount", a)
        if a.name in components:  # a parent is recorded before its children
            resources.append(components[a.name])
        add(
            "ServiceAccount",
            a,
            a.username,
            {"username": a.username},
            {"username": a.username, "adopt": False},
            None,
            **({"protect": True} if a.name in components else {}),
        )
        values[(a.name, "username")] = a.username
    for t in conversion.tokens:
        inputs: dict[str, Any] = {"username": t.username, "name": t.token_name}
        if t.ttl is not None:
            inputs["ttl"] = t.ttl
        inputs["token_type"] = t.token_type
        parent = placed.parent(t)
        inputs["owner"] = owner_of(urns.project, urns.stack, parent or "", placed.child_name(t))
        outs = {
            **inputs,
            "token_id": t.token_id,
            "expire_at": t.expire_at,
            "created_ts": t.created_ts,
            "read_only": t.read_only,
            "token": secret(t.secret) if t.secret is not None else None,
        }
        if parent:
            components[parent]["outputs"]["token_ids"][t.token_name] = t.token_id
        add(
            "AccessToken",
            t,
            f"{t.username}/{t.token_id}",
            inputs,
            outs,
            t.account,
            additionalSecretOutputs=["token", "previous_token"],
        )
        values[(t.name, "token")] = outs["token"]
        values[(t.name, "token_id")] = t.token_id
    for c in conversion.configs:
        sides = {"read_scaling": c.read_scaling.state(), "read_write": c.read_write.state()}
        add(
            "InstanceConfig",
            c,
            c.username,
            {"username": c.username, **sides},
            {"username": c.username, **sides},
            c.account,
        )
    for e in conversion.exports:
        value = values.get((e.resource, e.attribute))
        if value is not None:
            outputs[e.name] = value
    return resources


def plugin_resources(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same resources in the plugin's form (types `motherduck:index:*`, schema names)."""
    moved, _ = migrate_deployment({"resources": resources})
    result: list[dict[str, Any]] = moved["resources"]
    return result
