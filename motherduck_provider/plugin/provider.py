"""The plugin's provider: each RPC of a custom resource delegates to its dynamic provider.

One instance of each dynamic provider (`ServiceAccountProvider`, ...) serves every resource of
its type; `configure` hands them the stack's `motherduck:*` settings exactly as the dynamic
provider server does, so settings, rules, retries and messages are the dynamic providers' own.
The methods block (HTTP, bounded waits), so each runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar, cast

from pulumi.dynamic import ConfigureRequest as DynamicConfigureRequest
from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from .._version import __version__
from ..errors import MotherDuckError
from ..resources import (
    AccessTokenProvider,
    InstanceConfigProvider,
    ServiceAccountProvider,
    _detailed_diff,
)
from ..resources._base import ProviderBase
from ..resources._report import render
from ..resources.access_token import owner_of
from . import component, functions, schema
from .engine_log import serving
from .properties import camel, from_plain, legacy_names, secret_keys, to_engine, to_plain

PACKAGE = "motherduck"
T = TypeVar("T")


PREVIEW_UNKNOWN = {schema.token("ServiceAccount"): ("username",)}
"""Outputs unknown in the preview of a create: an account's `username` names a user that does
not exist yet, so an invoke on it (`fn::invoke` getTokens on `${account.username}`) waits for
`up`, as the Python `get_*_output` functions do, instead of failing on "no user named"."""


def _preview(
    inputs: Mapping[str, PropertyValue], unknown: Collection[str] = ()
) -> dict[str, PropertyValue]:
    """A create's or update's preview outputs, with no API call: its inputs, as the engine
    shows them for a provider without previews, and the `unknown` ones unknown."""
    props = {k: v for k, v in to_plain(inputs).items() if k not in unknown}
    return {
        **from_plain(props, secret_keys(inputs)),
        **{camel(k): to_engine(UNKNOWN) for k in unknown},
    }


class PluginError(Exception):
    """A provider method's `MotherDuckError` as the one line the engine shows."""


class ResourceInitFailed(PluginError):
    """A create or update that did part of its work: the engine records `properties` under
    `resource_id` and fails the run with `reasons` (gRPC `ErrorResourceInitFailed`); the next
    `pulumi up` updates the resource, which finishes the rest (no program edit)."""

    def __init__(
        self, resource_id: str, properties: Mapping[str, PropertyValue], reasons: list[str]
    ) -> None:
        super().__init__("; ".join(reasons))
        self.resource_id = resource_id
        self.properties = dict(properties)
        self.reasons = list(reasons)


def detailed_diff(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    replaces: list[str],
    noted: Mapping[str, str] | None,
) -> dict[str, rpc.PropertyDiff]:
    """What preview shows as changed, by property path in the schema's spelling.

    Pulumi's server always says the diff is detailed, so an empty one would show an update with
    no property changed. A provider that noted its paths (a ServiceAccount: `tokens.loader`,
    `read_write`) is taken at its word; otherwise each given input that differs from state.
    """
    if noted is None:
        noted = {
            key: "UPDATE" if key in olds else "ADD"
            for key, value in news.items()
            if olds.get(key) != value and (key in olds or value is not None)
        }
    kinds = {**noted, **dict.fromkeys(replaces, "UPDATE_REPLACE")}
    return {
        _schema_path(path): rpc.PropertyDiff(rpc.PropertyDiffKind[kind], input_diff=True)
        for path, kind in kinds.items()
    }


def _schema_path(path: str) -> str:
    """`read_write` -> `readWrite`, `tokens.my_token` -> `tokens.my_token` (names are kept)."""
    head, *rest = re.split(r"(?=[.\[])", path, maxsplit=1)
    return camel(head) + "".join(rest)


def _urn_parts(urn: str) -> tuple[str, str, str]:
    """(stack, project, resource name) of `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    _, rest = urn.split("urn:pulumi:", 1)
    stack, project, _type, name = rest.split("::", 3)
    return stack, project, name


def settings_config(
    variables: Mapping[str, str], args: Mapping[str, PropertyValue]
) -> dict[str, Any]:
    """The `motherduck:<key>` settings from a Configure request, as `ProviderBase` reads them.

    The engine sends them twice: `variables` (`motherduck:config:<key>` -> text) and `args`
    (`<key>` -> value, secrets marked); `args` wins.
    """
    found: dict[str, Any] = {}
    for key, value in variables.items():
        package, _, rest = key.partition(":")
        name = rest.removeprefix("config:")
        if package == PACKAGE and name:
            found[f"{PACKAGE}:{name}"] = value
    for name, value in to_plain(args, rename=False).items():
        if value is not None:
            found[f"{PACKAGE}:{name}"] = value
    return found


class MotherDuckProvider(rpc.Provider):
    """`motherduck:index:{ServiceAccount,AccessToken,InstanceConfig}` over the dynamic providers,
    the `ManagedAccount` component over them, and the data functions."""

    def __init__(self) -> None:
        self._providers: dict[str, ProviderBase] = {
            schema.token("ServiceAccount"): ServiceAccountProvider(),
            schema.token("AccessToken"): AccessTokenProvider(),
            schema.token("InstanceConfig"): InstanceConfigProvider(),
        }

    def _provider(self, urn: str) -> ProviderBase:
        kind = schema.kind_of(urn)
        found = self._providers.get(kind)
        if found is None:
            raise PluginError(f"unknown resource type {kind!r} (known: {sorted(self._providers)})")
        return found

    @staticmethod
    async def _run(call: Callable[[], T], urn: str = "") -> T:
        """`call()` in a worker thread; its warnings name `urn`, our errors become one line
        (rendered in that thread, where the provider method noted what it was doing)."""

        def reported() -> T:
            try:
                return call()
            except MotherDuckError as exc:
                kind = schema.kind_of(urn)
                raise PluginError(schema.in_schema_spelling(kind, render(exc))) from None

        serving.set(urn)  # this task's context, which `to_thread` copies
        return await asyncio.to_thread(reported)

    async def get_schema(self, request: rpc.GetSchemaRequest) -> rpc.GetSchemaResponse:
        return rpc.GetSchemaResponse(schema.text())

    async def configure(self, request: rpc.ConfigureRequest) -> rpc.ConfigureResponse:
        """Resolve settings for every provider; bad ones fail here, a missing token at the
        first API call (so a preview needs none)."""
        config = settings_config(request.variables, request.args)
        req = DynamicConfigureRequest(cast(Any, config))
        for provider in self._providers.values():
            await self._run(lambda p=provider: p.configure(req))  # type: ignore[misc]
        # Create and update answer their previews themselves (`_preview`), with no API call.
        return rpc.ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def check(self, request: rpc.CheckRequest) -> rpc.CheckResponse:
        provider = self._provider(request.urn)
        news = to_plain(request.new_inputs)
        olds = legacy_names(to_plain(request.old_inputs), news)
        holds_tokens = isinstance(provider, ServiceAccountProvider) and news.get("tokens")
        if (isinstance(provider, AccessTokenProvider) or holds_tokens) and not news.get("owner"):
            stack, project, name = _urn_parts(request.urn)
            news["owner"] = olds.get("owner") or owner_of(project, stack, "", name)
        result = await self._run(lambda: provider.check(olds, news), request.urn)
        failures = [
            rpc.CheckFailure(
                camel(f.property), schema.in_schema_spelling(schema.kind_of(request.urn), f.reason)
            )
            for f in result.failures
        ]
        inputs = from_plain(result.inputs or {}, secret_keys(request.new_inputs), outputs=False)
        return rpc.CheckResponse(inputs=inputs, failures=failures)

    async def diff(self, request: rpc.DiffRequest) -> rpc.DiffResponse:
        provider = self._provider(request.urn)
        news = to_plain(request.new_inputs)
        olds = legacy_names(to_plain(request.old_state), news)

        def run() -> tuple[Any, dict[str, str] | None]:
            _detailed_diff.take_noted()  # nothing another resource's diff left in this thread
            result = provider.diff(request.resource_id, olds, news)
            return result, _detailed_diff.take_noted()

        result, noted = await self._run(run, request.urn)
        replaces = list(result.replaces or [])
        return rpc.DiffResponse(
            changes=result.changes,
            replaces=[camel(k) for k in replaces],
            stables=[camel(k) for k in result.stables or []],
            delete_before_replace=bool(result.delete_before_replace),
            detailed_diff=detailed_diff(olds, news, replaces, noted) if result.changes else {},
        )

    async def create(self, request: rpc.CreateRequest) -> rpc.CreateResponse:
        provider = self._provider(request.urn)
        if request.preview:
            unknown = PREVIEW_UNKNOWN.get(schema.kind_of(request.urn), ())
            return rpc.CreateResponse(properties=_preview(request.properties, unknown))
        props = to_plain(request.properties)
        unfinished: list[str] = []
        result = await self._run(lambda: _create(provider, props, unfinished), request.urn)
        outs = from_plain(result.outs or {}, secret_keys(request.properties))
        if unfinished:
            raise ResourceInitFailed(str(result.id), outs, self._reasons(request.urn, unfinished))
        return rpc.CreateResponse(resource_id=str(result.id), properties=outs)

    async def read(self, request: rpc.ReadRequest) -> rpc.ReadResponse:
        provider = self._provider(request.urn)
        props = to_plain(request.properties)
        result = await self._run(lambda: provider.read(request.resource_id, props), request.urn)
        secrets = secret_keys(request.properties) | secret_keys(request.inputs)
        inputs = result.inputs or None
        return rpc.ReadResponse(
            resource_id=result.id or "",
            properties=from_plain(result.outs or {}, secrets),
            inputs=from_plain(inputs, secret_keys(request.inputs), False) if inputs else None,
        )

    async def update(self, request: rpc.UpdateRequest) -> rpc.UpdateResponse:
        provider = self._provider(request.urn)
        if request.preview:
            return rpc.UpdateResponse(properties=_preview(request.news))
        news = to_plain(request.news)
        olds = legacy_names(to_plain(request.olds), news)
        unfinished: list[str] = []
        result = await self._run(
            lambda: _update(provider, request.resource_id, olds, news, unfinished), request.urn
        )
        secrets = secret_keys(request.olds) | secret_keys(request.news)
        outs = from_plain(result.outs or {}, secrets)
        if unfinished:
            reasons = self._reasons(request.urn, unfinished)
            raise ResourceInitFailed(request.resource_id, outs, reasons)
        return rpc.UpdateResponse(properties=outs)

    @staticmethod
    def _reasons(urn: str, unfinished: list[str]) -> list[str]:
        kind = schema.kind_of(urn)
        return [schema.in_schema_spelling(kind, reason) for reason in unfinished]

    async def delete(self, request: rpc.DeleteRequest) -> None:
        provider = self._provider(request.urn)
        props = to_plain(request.properties)
        await self._run(lambda: provider.delete(request.resource_id, props), request.urn)

    async def construct(self, request: rpc.ConstructRequest) -> rpc.ConstructResponse:
        """`ManagedAccount`: built here, its children served by this provider."""
        try:
            return await component.construct(request)
        except component.ComponentInputError as exc:
            raise PluginError(str(exc)) from None

    async def invoke(self, request: rpc.InvokeRequest) -> rpc.InvokeResponse:
        """A data function, through the client of this provider's settings."""
        name = request.tok.removeprefix(f"{PACKAGE}:index:")
        if name not in functions.FUNCTIONS:
            raise PluginError(f"unknown function {request.tok!r}")
        args = to_plain(request.args)
        client = self._providers[schema.token("ServiceAccount")].client
        result = await self._run(lambda: functions.invoke(name, client(), args))
        secrets = functions.FUNCTIONS[name].secrets
        return rpc.InvokeResponse(return_value=from_plain(result, secrets))


def _create(provider: ProviderBase, props: dict[str, Any], unfinished: list[str]) -> Any:
    """`provider.create`; a ServiceAccount holding tokens or a config puts what it could not
    finish in `unfinished` instead of warning (see `ResourceInitFailed`)."""
    if isinstance(provider, ServiceAccountProvider):
        return provider.create(props, unfinished)
    return provider.create(props)


def _update(
    provider: ProviderBase,
    resource_id: str,
    olds: dict[str, Any],
    news: dict[str, Any],
    unfinished: list[str],
) -> Any:
    """`provider.update`, collecting what it could not finish as `_create` does."""
    if isinstance(provider, ServiceAccountProvider):
        return provider.update(resource_id, olds, news, unfinished)
    return provider.update(resource_id, olds, news)


def version() -> str:
    """The plugin's version: the package's."""
    return __version__
