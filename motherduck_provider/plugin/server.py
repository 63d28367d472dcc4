"""Serving the provider over gRPC, as the engine starts a plugin.

Pulumi's server (`pulumi.provider.experimental.server`) appends a Python traceback to every
error a provider method raises. A `PluginError` (a `MotherDuckError` already rendered as one
line) is sent as that line alone; anything else (a real bug) keeps its traceback. A create or
update that did part of its work (`ResourceInitFailed`) is sent with the engine's
`ErrorResourceInitFailed` detail, so state records what exists. A read that finds nothing is
sent as the engine expects it (see `_read_gone_as_nil`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc, status_pb2

from .. import config
from ..errors import ConfigurationError
from .engine_log import attach
from .provider import MotherDuckProvider, PluginError, ResourceInitFailed, version

WORKERS_ENV = "MOTHERDUCK_PLUGIN_WORKERS"
DEFAULT_WORKERS = config.DEFAULT_WORKERS
MAX_WORKERS = config.MAX_WORKERS


def workers(environ: Mapping[str, str] = os.environ) -> int:
    """How many provider calls run at once: `MOTHERDUCK_PLUGIN_WORKERS` (default 16), checked.
    The engine sends as many as its `--parallel` allows; asyncio's default pool would cap them
    at the cores + 4."""
    try:
        return config.worker_count(WORKERS_ENV, environ)
    except ConfigurationError as exc:
        raise PluginError(str(exc)) from None


def executor(count: int) -> ThreadPoolExecutor:
    """The pool the provider calls run on (`asyncio.to_thread` uses the loop's default)."""
    return ThreadPoolExecutor(count, thread_name_prefix="motherduck")


def init_failed_metadata(failed: ResourceInitFailed) -> tuple[tuple[str, bytes]]:
    """The trailing metadata the engine reads as "created (or updated) but failed to
    initialize": it records the resource's id and properties with the reasons as its init
    errors (a `google.rpc.Status` whose detail is `ErrorResourceInitFailed`)."""
    detail = proto.ErrorResourceInitFailed(
        id=failed.resource_id,
        properties=PropertyValue.marshal_map(failed.properties),
        reasons=failed.reasons,
    )
    status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=str(failed))
    status.details.add().Pack(detail)
    return (("grpc-status-details-bin", status.SerializeToString()),)


_RPCS = ("Configure", "Check", "Diff", "Create", "Read", "Update", "Delete", "Construct", "Invoke")


def _one_line(name: str) -> Any:
    wrapped = getattr(ProviderServicer, name)

    async def rpc(self: ProviderServicer, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await wrapped(self, request, context)
        except Exception as exc:
            # Pulumi's wrapper raises a new Exception while handling ours: ours is its context.
            cause = exc if isinstance(exc, PluginError) else exc.__context__
            if isinstance(cause, ResourceInitFailed):
                metadata = init_failed_metadata(cause)
                await context.abort(grpc.StatusCode.UNKNOWN, str(cause), metadata)
            if isinstance(cause, PluginError):
                await context.abort(grpc.StatusCode.UNKNOWN, str(cause))
            raise

    rpc.__name__ = name
    return rpc


_read = _one_line("Read")


async def _read_gone_as_nil(self: ProviderServicer, request: Any, context: Any) -> Any:
    """A read that finds nothing answers with no properties at all: only that (nil outputs)
    makes the engine drop the resource on refresh and fail an import ("does not exist");
    Pulumi's server would send an empty map, which the engine keeps as a resource."""
    response = await _read(self, request, context)
    return response if response.id else proto.ReadResponse()


OneLineServicer = type(
    "OneLineServicer",
    (ProviderServicer,),
    {**{name: _one_line(name) for name in _RPCS}, "Read": _read_gone_as_nil},
)


def serve(engine_address: str) -> None:
    """Serve until the engine stops us; the port goes to stdout, as the engine expects."""

    pool = executor(workers())
    attach(engine_address)

    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(pool)  # what `to_thread` runs on
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = OneLineServicer([], version(), MotherDuckProvider(), engine_address)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
