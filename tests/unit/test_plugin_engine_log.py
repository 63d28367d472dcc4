"""Warnings in the plugin go to the engine's Log RPC, naming the resource being served; the
dynamic providers' warnings stay on stderr (the engine relays that process's stderr)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from motherduck_provider.plugin.engine_log import EngineLog, attach, serving
from motherduck_provider.plugin.provider import MotherDuckProvider
from motherduck_provider.resources._base import notice, route_warnings, warn

URN = "urn:pulumi:dev::proj::motherduck:index:AccessToken::ci"


class Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logged: list[Any] = []

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802 - the RPC's name
        self.logged.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[Engine, str]]:
    servicer = Engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(None)
    route_warnings(None)


def test_a_warning_in_a_provider_method_reaches_the_engine_with_its_resource(
    engine: tuple[Engine, str],
) -> None:
    servicer, address = engine
    attach(address)
    asyncio.run(MotherDuckProvider._run(lambda: warn("token t of 'svc' was revoked"), URN))
    warn("held until exit")  # outside any method: no resource
    assert [(r.severity, r.message, r.urn) for r in servicer.logged] == [
        (engine_pb2.WARNING, "token t of 'svc' was revoked", URN),
        (engine_pb2.WARNING, "held until exit", ""),
    ]
    assert serving.get() == ""


def test_without_the_plugin_warnings_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    route_warnings(None)
    warn("kept on stderr")
    assert capsys.readouterr().err == "warning: kept on stderr\n"


def test_an_engine_that_is_gone_gets_the_warning_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:  # an address nothing listens on
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    EngineLog(address).warn("not lost")
    assert capsys.readouterr().err == "warning: not lost\n"


def test_a_notice_reaches_the_engine_as_information(engine: tuple[Engine, str]) -> None:
    servicer, address = engine
    attach(address)
    asyncio.run(MotherDuckProvider._run(lambda: notice("token t rotates in 23 h"), URN))
    assert [(r.severity, r.message, r.urn) for r in servicer.logged] == [
        (engine_pb2.INFO, "token t rotates in 23 h", URN),
    ]


def test_without_the_plugin_a_notice_is_an_unlabelled_stderr_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    route_warnings(None)
    notice("rotates in 23 h")
    assert capsys.readouterr().err == "rotates in 23 h\n"
