"""The client against the emulator over real loopback HTTP: every operation, every outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from motherduck_provider import errors
from motherduck_provider.client import AdminClient
from motherduck_provider.config import DEFAULT_WORKERS, Secret, Settings
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.models import (
    CreateTokenRequest,
    DucklingConfig,
    ReadScalingConfig,
    ReadWriteConfig,
)


def test_full_round_trip(client: AdminClient, emulator: EmulatorServer) -> None:
    assert client.create_service_account("etl_writer").username == "etl_writer"
    created = client.create_token(
        "etl_writer", CreateTokenRequest(name="loader", ttl=3600, token_type="read_scaling")
    )
    assert created.read_only and created.token_type == "read_scaling"
    assert created.expire_at is not None
    listed = client.list_tokens("etl_writer")
    assert [t.id for t in listed] == [created.id]
    assert not hasattr(listed[0], "token")

    config = DucklingConfig(
        read_write=ReadWriteConfig(instance_size="mega"),
        read_scaling=ReadScalingConfig(instance_size="standard", flock_size=3),
    )
    applied = client.set_duckling_config("etl_writer", config)
    assert applied.read_write.cooldown_seconds == 300  # server default for mega
    assert applied.read_scaling.cooldown_seconds == 60
    assert client.get_duckling_config("etl_writer") == applied

    client.revoke_token("etl_writer", created.id)
    assert client.list_tokens("etl_writer") == []
    client.delete_service_account("etl_writer")
    assert not emulator.store.has_user("etl_writer")


def test_gone_is_a_json_not_found(client: AdminClient) -> None:
    with pytest.raises(errors.NotFoundError):
        client.get_duckling_config("nobody_here")
    with pytest.raises(errors.NotFoundError):
        client.delete_service_account("nobody_here")


def test_wrong_base_url_is_no_route_not_gone(emulator: EmulatorServer) -> None:
    settings = Settings(api_url=emulator.url + "/v9", token=Secret(emulator.admin_token), timeout=5)
    with AdminClient(settings) as admin, pytest.raises(errors.NoRouteError):
        admin.get_duckling_config("etl")
    # This request left the contract on purpose (a wrong base URL); keep it out of the check.
    emulator.store.clear_logs()


def test_bad_credentials(emulator: EmulatorServer) -> None:
    wrong = Settings(api_url=emulator.url, token=Secret("not-the-token"), timeout=5)
    with AdminClient(wrong) as admin, pytest.raises(errors.UnauthorizedError) as info:
        admin.list_tokens("etl")
    assert "not-the-token" not in str(info.value)


def test_member_token_is_forbidden(client: AdminClient, emulator: EmulatorServer) -> None:
    client.create_service_account("member_user")
    secret = client.create_token("member_user", CreateTokenRequest(name="t")).token
    member = Settings(api_url=emulator.url, token=Secret(secret.get_secret_value()), timeout=5)
    with AdminClient(member) as admin, pytest.raises(errors.ForbiddenError) as info:
        admin.create_service_account("other")
    assert "Admin role" in str(info.value)


def test_taken_username_is_a_bad_request(client: AdminClient) -> None:
    client.create_service_account("dupe_name")
    with pytest.raises(errors.BadRequestError) as info:
        client.create_service_account("dupe_name")
    assert info.value.issues


def test_transient_failures_are_retried(client: AdminClient, emulator: EmulatorServer) -> None:
    client.create_service_account("flaky")
    emulator.store.faults.error("ducklings-getDucklingConfigForUser", status=503, count=2)
    emulator.store.faults.rate_limit("users-listTokens", retry_after=0, count=1)
    emulator.store.faults.drop("users-listTokens", count=1)
    assert client.get_duckling_config("flaky").read_write.instance_size == "pulse"
    assert client.list_tokens("flaky") == []
    assert emulator.store.count(operation="ducklings-getDucklingConfigForUser") == 3
    assert emulator.store.count(operation="users-listTokens") == 3


def test_post_is_not_repeated_after_a_server_error(
    client: AdminClient, emulator: EmulatorServer
) -> None:
    emulator.store.faults.error("users-createServiceAccount", status=500, count=1)
    with pytest.raises(errors.ServerError):
        client.create_service_account("once_only")
    assert emulator.store.count(operation="users-createServiceAccount") == 1


def test_post_is_repeated_after_429(client: AdminClient, emulator: EmulatorServer) -> None:
    emulator.store.faults.rate_limit("users-createServiceAccount", retry_after=0, count=1)
    client.create_service_account("patient")
    assert emulator.store.count(operation="users-createServiceAccount") == 2
    assert emulator.store.has_user("patient")


def test_timeout_is_a_transport_error(emulator: EmulatorServer) -> None:
    emulator.store.faults.slow("users-listTokens", seconds=1.0)
    settings = Settings(api_url=emulator.url, token=Secret(emulator.admin_token), timeout=0.2)
    with AdminClient(settings, sleep=lambda _: None) as admin:
        with pytest.raises(errors.TransportError, match="timed out"):
            admin.list_tokens("etl")


def test_connection_refused_is_a_transport_error() -> None:
    settings = Settings(api_url="http://127.0.0.1:9", token=Secret("t"), timeout=1)
    with AdminClient(settings, sleep=lambda _: None) as admin:
        with pytest.raises(errors.TransportError, match="could not connect") as info:
            admin.list_tokens("etl")
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_dive_embed_session(client: AdminClient, emulator: EmulatorServer) -> None:
    dive = emulator.store.create_dive()
    client.create_service_account("viewer")
    made = client.create_dive_embed_session(dive, "viewer", session_hint="h")
    session = made.session.get_secret_value()
    assert session and session not in repr(made)
    with pytest.raises(errors.NotFoundError) as caught:
        client.create_dive_embed_session(dive, "nobody")
    assert session not in str(caught.value)


@pytest.mark.parametrize("at_once", [DEFAULT_WORKERS, 24])
def test_calls_at_once_keep_their_connections(at_once: int) -> None:
    """As many calls at once as the worker settings allow (16 by default, up to 256) each get
    a connection, and reuse it in the next round: none waits for another's connection, none is
    closed after its answer and opened again (against MotherDuck, a TLS handshake each time).
    The pool held 16 and kept 8 alive before."""
    server = EmulatorServer(admin_token="md-admin-connections")
    inner = server.app
    peers: set[tuple[str, int]] = set()
    arrived = 0
    rounds = [asyncio.Event(), asyncio.Event()]

    async def all_at_once(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        """Answers no call of a round before all `at_once` of them have arrived."""
        nonlocal arrived
        if scope["type"] == "http":
            host, port = scope["client"]
            peers.add((host, port))  # one client port per connection
            arrived += 1
            this_round = rounds[(arrived - 1) // at_once]
            if arrived % at_once == 0:
                this_round.set()
            await asyncio.wait_for(this_round.wait(), timeout=10)
        await inner(scope, receive, send)

    server.app = all_at_once  # type: ignore[assignment]
    with server:
        settings = Settings(api_url=server.url, token=Secret(server.admin_token), timeout=20)
        with AdminClient(settings) as admin, ThreadPoolExecutor(at_once) as pool:

            def read(username: str) -> None:
                with pytest.raises(errors.NotFoundError):
                    admin.get_duckling_config(username)

            for round_ in range(2):
                names = [f"nobody_{round_}_{n}" for n in range(at_once)]
                list(pool.map(read, names))
        server.store.clear_logs()
    assert arrived == 2 * at_once
    assert len(peers) == at_once
