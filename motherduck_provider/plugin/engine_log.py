"""Warnings from the plugin to the engine's Log RPC, attached to the resource being served.

The engine shows a dynamic provider's stderr in the run's output, but not a provider plugin's:
the plugin routes `resources._base.warn` here (`attach`), so the same warnings (a token revoked
outside Pulumi, sweep notices, held "keeps its configuration" notes) reach the CLI. The resource
comes from `serving`, set around each provider method (worker threads copy the context).
"""

from __future__ import annotations

import sys
from contextvars import ContextVar

import grpc
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from ..resources._base import route_warnings
from .schema import in_schema_spelling, kind_of

serving: ContextVar[str] = ContextVar("serving", default="")
"""The URN of the resource whose method is running ("" outside one, as at exit)."""


class EngineLog:
    """A client of the engine's Log RPC at `address`."""

    def __init__(self, address: str) -> None:
        channel = grpc.insecure_channel(address, options=_GRPC_CHANNEL_OPTIONS)
        self._engine = engine_pb2_grpc.EngineStub(channel)

    def warn(self, message: str) -> None:
        """Log `message` as a warning of the resource being served; stderr if the engine is
        gone (a held warning at exit), so it is never lost silently. Names are the schema's."""
        urn = serving.get()
        if urn:
            message = in_schema_spelling(kind_of(urn), message)
        request = engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message, urn=urn)
        try:
            self._engine.Log(request)
        except grpc.RpcError:
            print(f"warning: {message}", file=sys.stderr, flush=True)


def attach(address: str) -> EngineLog:
    """Send every provider warning of this process to the engine at `address`."""
    log = EngineLog(address)
    route_warnings(log.warn)
    return log
