"""Warnings and notices from the plugin to the engine's Log RPC, attached to the resource being
served (`WARNING` and `INFO` severity).

The engine shows a dynamic provider's stderr in the run's output, but not a provider plugin's:
the plugin routes `resources._base.warn` here (`attach`), so the same warnings (a token revoked
outside Pulumi, sweep notices, held "keeps its configuration" notes) reach the CLI. The resource
comes from `serving`, set around each provider method (worker threads copy the context).
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from typing import Any

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
        self._log(engine_pb2.WARNING, message, "warning: ")

    def info(self, message: str) -> None:
        """Log `message` as information (`resources._base.notice`: a schedule), as `warn`."""
        self._log(engine_pb2.INFO, message, "")

    def _log(self, severity: Any, message: str, label: str) -> None:
        urn = serving.get()
        if urn:
            message = in_schema_spelling(kind_of(urn), message)
        request = engine_pb2.LogRequest(severity=severity, message=message, urn=urn)
        try:
            self._engine.Log(request)
        except grpc.RpcError:
            print(f"{label}{message}", file=sys.stderr, flush=True)


def attach(address: str) -> EngineLog:
    """Send every provider warning and notice of this process to the engine at `address`."""
    log = EngineLog(address)
    route_warnings(log.warn, log.info)
    return log
