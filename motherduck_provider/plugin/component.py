"""`motherduck:index:ManagedAccount` constructed by the plugin for another language.

The composition is `motherduck_provider.component.ManagedAccount`'s own (names, order,
wiring): `PluginManagedAccount` changes only what its children are made of, the plugin's
custom resources (`motherduck:index:ServiceAccount`, ...), which the engine then serves through
this same plugin, so a YAML, TypeScript or Go program sees one package. `construct` turns the
engine's inputs into the component's keyword arguments and its outputs back.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.resource import DependencyResource
from pulumi.runtime.rpc import UNKNOWN

from ..component import ChildKinds, ManagedAccount
from ..resources._trace_guard import stack_trace_trimmed
from ..resources.access_token import _owner
from . import schema
from .properties import NAMED_MAPS, SECRET_OUTPUTS, camel, snake, to_engine

COMPONENT = schema.token("ManagedAccount")
FLAGS = ("adopt", "protect", "allow_downsize", "config_in_account", "one_step")
"""Inputs the composition branches on: they must be known when the component is declared."""


class ComponentInputError(Exception):
    """An input the component cannot be built from (unknown where a value is needed)."""


class PluginResource(pulumi.CustomResource):
    """A child served by this plugin, taking and giving snake_case names as the dynamic
    resource classes do; the engine sees the schema's camelCase."""

    def __init__(
        self,
        kind: str,
        resource_name: str,
        *,
        opts: pulumi.ResourceOptions | None = None,
        connection: object = None,
        **inputs: Any,
    ) -> None:
        if connection is not None:  # the plugin form names another organization by provider
            raise ComponentInputError("connection is not an input of the plugin's resources")
        outputs = schema.package_schema()["resources"][kind]["properties"]
        props: dict[str, Any] = {snake(name): None for name in outputs}
        props.update((k, v) for k, v in inputs.items() if v is not None)
        for key in NAMED_MAPS & props.keys():
            props[key] = _named(props[key])
        if kind == schema.token("AccessToken"):
            props["owner"] = _owner(resource_name, opts)  # as a Python program's token has
        secret = [camel(name) for name in SECRET_OUTPUTS if camel(name) in outputs]
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=secret)
        )
        names = props.get("tokens")
        if names is not None and not isinstance(names, pulumi.Output):
            _check_names(self, names)
        with stack_trace_trimmed():
            super().__init__(kind, resource_name, props, opts)
        if names is not None:
            self._keep_token_names(names)

    def _keep_token_names(self, tokens: Any) -> None:
        """Put the program's token names back as the keys of the named-map outputs.

        The SDK passes every key of a child's outputs through `translate_output_property`, a
        map's too; a token named like a schema property (`readScaling`) came back as
        `read_scaling`. The names given are known here, so each key goes back to its name.
        """
        given = pulumi.Output.from_input(tokens).apply(lambda t: _check_names(self, t or {}))
        for key in NAMED_MAPS:
            value = self.__dict__.get(key)
            if isinstance(value, pulumi.Output):
                restored = pulumi.Output.all(given, value).apply(
                    lambda pair: _as_given(self, pair[0], pair[1])
                )
                setattr(self, key, restored)

    def translate_input_property(self, prop: str) -> str:
        # The SDK passes every key through here, a map's too: a token name stays as it is.
        return prop if isinstance(prop, TokenName) else camel(prop)

    def translate_output_property(self, prop: str) -> str:
        return snake(prop) if prop in schema.property_names() else prop


def _check_names(resource: PluginResource, tokens: Mapping[str, Any]) -> list[str]:
    """The token names; refused if two come back from the SDK as the same key (`readScaling`
    and `read_scaling`): the component could not tell their outputs apart."""
    seen: dict[str, str] = {}
    for name in tokens:
        other = seen.setdefault(resource.translate_output_property(name), name)
        if other != name:
            raise ComponentInputError(
                f"ManagedAccount: token names {other!r} and {name!r} cannot both be used "
                "(a component's outputs reach it with one key for both); rename one"
            )
    return list(tokens)


def _as_given(resource: PluginResource, names: list[str], value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    back = {resource.translate_output_property(name): name for name in names}
    return {back.get(key, key): item for key, item in value.items()}


class TokenName(str):
    """A token name as a key of a child's input: `translate_input_property` keeps it."""


def _named(value: Any) -> Any:
    """A map of tokens by name, its keys marked as names (an Output's once it resolves)."""
    if isinstance(value, Mapping):
        return {TokenName(k): v for k, v in value.items()}
    if isinstance(value, pulumi.Output):
        return value.apply(_named)
    return value


PLUGIN_CHILDREN = ChildKinds(
    *(
        functools.partial(PluginResource, schema.token(kind))
        for kind in ("ServiceAccount", "AccessToken", "InstanceConfig")
    )
)


class PluginManagedAccount(ManagedAccount):
    """The same component (type token, child names, wiring) over the plugin's resources."""

    children = PLUGIN_CHILDREN


def _output(value: Any, known: bool, secret: bool, deps: frozenset[str]) -> pulumi.Output[Any]:
    loop = asyncio.get_running_loop()

    def done(result: Any) -> asyncio.Future[Any]:
        future = loop.create_future()
        future.set_result(result)
        return future

    resources = {DependencyResource(urn) for urn in deps}
    return pulumi.Output(done(resources), done(value), done(known), done(secret))


def _input(value: PropertyValue, deps: frozenset[str]) -> Any:
    """An engine value as a component input: plain where known, public and independent, an
    Output (unknown, secret, or carrying dependencies) at the leaves; keys in snake_case."""
    deps = deps | value.dependencies
    inner = value.value
    if isinstance(inner, Mapping):
        return {snake(k): _input(v, deps) for k, v in inner.items()}
    if isinstance(inner, float) and inner.is_integer():
        inner = int(inner)
    known = not isinstance(inner, Computed)
    if known and not value.is_secret and not deps:
        return inner
    return _output(inner if known else None, known, value.is_secret, deps)


def _flag(value: PropertyValue | None, name: str) -> bool | None:
    if value is None or value.value is None:
        return None
    if isinstance(value.value, Computed) or not isinstance(value.value, bool):
        raise ComponentInputError(
            f"ManagedAccount: {camel(name)} must be a known true or false, got {value.value!r}"
        )
    return value.value


def component_args(inputs: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """The engine's inputs as `ManagedAccount`'s keyword arguments; an unset input is left to
    the component's default."""
    args: dict[str, Any] = {}
    for key, value in inputs.items():
        name = snake(key)
        if name in FLAGS:
            flag = _flag(value, name)
            if flag is not None:
                args[name] = flag
            continue
        if value.value is None:
            continue
        if name in ("tokens", "ducklings") and not isinstance(value.value, Mapping):
            raise ComponentInputError(
                f"ManagedAccount: {key} must be known when the component is declared"
            )
        if name == "tokens":  # keys are token names: keep them; the specs are snake_case
            deps = value.dependencies
            assert isinstance(value.value, Mapping)
            args[name] = {token: _input(spec, deps) for token, spec in value.value.items()}
        else:
            args[name] = _input(value, frozenset())
    return args


async def _state(output: pulumi.Output[Any]) -> PropertyValue:
    """A component output as an engine value: secret, unknown and dependencies kept; map keys
    (token names) as they are."""
    known = await output.is_known()
    secret = await output.is_secret()
    urns = {await r.urn.future() for r in await output.resources()}
    plain = await output.future() if known else None
    value = to_engine(plain, rename=False) if known else PropertyValue(UNKNOWN)
    return value.with_secret(secret).with_dependencies(u for u in urns if u)


async def construct(request: rpc.ConstructRequest) -> rpc.ConstructResponse:
    """Build the component in this process; its children register with the engine."""
    if request.resource_type != COMPONENT:
        raise ComponentInputError(f"unknown component type {request.resource_type!r}")
    args = component_args(request.inputs)
    team = PluginManagedAccount(request.name, **args, opts=request.options)
    outputs = {
        "username": team.username,
        "tokenIds": team.token_ids,
        "tokens": team.token_secrets,
    }
    state = {key: await _state(value) for key, value in outputs.items()}
    if not await team.account.id.is_known():
        # A preview of the account's create: `username` (its input) is not yet a live account,
        # so it stays unknown, as the Python `get_*_output` functions treat it; an invoke on
        # it then waits for `up` instead of reading an account that does not exist yet.
        state = {key: PropertyValue(UNKNOWN).with_dependencies(value.dependencies)
                 for key, value in state.items()}  # fmt: skip
    urn = await team.urn.future()
    return rpc.ConstructResponse(urn=urn or "", state=state, state_dependencies={})
