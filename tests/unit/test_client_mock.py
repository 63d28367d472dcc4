"""The client over httpx.MockTransport: attempts, waits, headers, parsing, no leaks."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from motherduck_provider import errors
from motherduck_provider.client import USER_AGENT, AdminClient, shared_client
from motherduck_provider.config import Secret, Settings
from motherduck_provider.models import CreateTokenRequest

TOKEN = "admin-token-that-must-never-leak"
CONFIG = {
    "read_write": {"instance_size": "standard", "cooldown_seconds": 60},
    "read_scaling": {"instance_size": "pulse", "flock_size": 2},
}


class Recorder:
    """A scripted server: answers from a list, records every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], rate_limit_wait: float = 300.0
) -> tuple[AdminClient, list[float]]:
    waits: list[float] = []
    settings = Settings(
        api_url="https://api.example.test",
        token=Secret(TOKEN),
        timeout=5,
        rate_limit_wait=rate_limit_wait,
    )
    client = AdminClient(settings, transport=httpx.MockTransport(handler), sleep=waits.append)
    return client, waits


def error(status: int, code: str = "X", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": "m"}, headers=headers)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_retries_four_times_then_fails(status: int) -> None:
    server = Recorder(error(status))
    client, waits = make_client(server)
    with pytest.raises(errors.APIError) as info:
        client.get_duckling_config("etl")
    assert info.value.status == status
    assert len(server.requests) == 4
    assert len(waits) == 3


def test_get_recovers_after_transient_failures() -> None:
    server = Recorder(error(503), httpx.ConnectError("refused"), httpx.Response(200, json=CONFIG))
    client, waits = make_client(server)
    assert client.get_duckling_config("etl").read_write.instance_size == "standard"
    assert len(server.requests) == 3 and len(waits) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_on_5xx_is_tried_exactly_once(status: int) -> None:
    server = Recorder(error(status))
    client, waits = make_client(server)
    with pytest.raises(errors.ServerError):
        client.create_service_account("etl")
    assert len(server.requests) == 1 and waits == []


def test_post_after_a_dropped_connection_is_not_repeated() -> None:
    server = Recorder(httpx.RemoteProtocolError("peer closed"))
    client, _ = make_client(server)
    with pytest.raises(errors.TransportError) as info:
        client.create_service_account("etl")
    assert info.value.sent and len(server.requests) == 1


def test_post_is_retried_when_it_never_left() -> None:
    server = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json={"username": "etl"}))
    client, _ = make_client(server)
    assert client.create_service_account("etl").username == "etl"
    assert len(server.requests) == 2


def test_post_honours_retry_after_on_429() -> None:
    server = Recorder(
        error(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"username": "etl"})
    )
    client, waits = make_client(server)
    client.create_service_account("etl")
    assert len(waits) == 1 and 2.0 <= waits[0] <= 3.0 and len(server.requests) == 2


def test_many_429s_do_not_use_up_the_attempts() -> None:
    """A long run under a shared limit: twenty refusals, then the answer."""
    limited = [error(429, "TOO_MANY_REQUESTS", headers={"Retry-After": "1"})] * 20
    server = Recorder(*limited, error(503), httpx.Response(200, json=CONFIG))
    client, waits = make_client(server)
    assert client.get_duckling_config("etl").read_write.instance_size == "standard"
    assert len(server.requests) == 22
    assert all(w >= 1.0 for w in waits[:20])


def test_429s_past_the_wait_budget_fail_with_the_429() -> None:
    server = Recorder(error(429, "TOO_MANY_REQUESTS", headers={"Retry-After": "1"}))
    client, waits = make_client(server, rate_limit_wait=10)
    with pytest.raises(errors.APIError) as info:
        client.create_service_account("etl")
    assert info.value.status == 429
    assert sum(waits) <= 10 + 1e-9 and len(server.requests) == len(waits) + 1 >= 6


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_final_answers_are_not_retried(status: int) -> None:
    server = Recorder(error(status, "NOT_FOUND" if status == 404 else "X"))
    client, waits = make_client(server)
    with pytest.raises(errors.APIError):
        client.list_tokens("etl")
    assert len(server.requests) == 1 and waits == []


def test_requests_carry_auth_user_agent_and_escaped_paths() -> None:
    server = Recorder(httpx.Response(200, json={}))
    client, _ = make_client(server)
    client.revoke_token("Ünï code/..", "id/with?odd#chars")
    request = server.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.url.raw_path.decode() == (
        "/v1/users/%C3%9Cn%C3%AF%20code%2F../tokens/id%2Fwith%3Fodd%23chars"
    )


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_ids_that_would_change_the_path_are_refused(bad: str) -> None:
    server = Recorder(httpx.Response(200, json={}))
    client, _ = make_client(server)
    with pytest.raises(ValueError):
        client.delete_service_account(bad)
    assert server.requests == []


def test_create_token_body_omits_unset_fields() -> None:
    created = {
        "token": "s3cret",
        "id": "6f1d8a4e-0000-4000-8000-000000000000",
        "name": "n",
        "created_ts": "2026-11-28T00:00:00Z",
        "read_only": False,
        "token_type": "read_write",
    }
    server = Recorder(httpx.Response(200, json=created))
    client, _ = make_client(server)
    result = client.create_token("etl", CreateTokenRequest(name="n"))
    # The JSON itself: httpx 0.27 writes `{"name": "n"}`, 0.28 `{"name":"n"}`.
    assert json.loads(server.requests[0].content) == {"name": "n"}
    assert result.token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(result)


def test_response_that_breaks_the_contract_is_an_error() -> None:
    server = Recorder(httpx.Response(200, json={"read_write": {"instance_size": "huge"}}))
    client, _ = make_client(server)
    with pytest.raises(errors.ResponseShapeError, match="read_write.instance_size"):
        client.get_duckling_config("etl")
    server = Recorder(httpx.Response(200, text="<html>"))
    client, _ = make_client(server)
    with pytest.raises(errors.ResponseShapeError, match="not JSON"):
        client.get_duckling_config("etl")


def test_empty_delete_body_is_accepted() -> None:
    server = Recorder(httpx.Response(204))
    client, _ = make_client(server)
    client.delete_service_account("etl")


def test_token_never_appears_in_logs_errors_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = Recorder(error(401), httpx.ReadTimeout("slow"))
    client, _ = make_client(server)
    texts = [repr(client), repr(client.__dict__)]
    with pytest.raises(errors.UnauthorizedError) as unauthorized:
        client.list_tokens("etl")
    texts.append(str(unauthorized.value))
    server.answers = [httpx.ReadTimeout("slow")]
    with pytest.raises(errors.TransportError) as transport:
        client.list_tokens("etl")
    texts += [str(transport.value), repr(transport.value), caplog.text]
    assert "GET /v1/users/etl/tokens -> 401" in caplog.text
    for text in texts:
        assert TOKEN not in text


def test_the_shared_client_follows_the_rate_limit_wait() -> None:
    """Two stacks' settings that differ only in `rateLimitWait` must not share a client."""
    base = Settings(api_url="https://api.example.test", token=Secret(TOKEN), timeout=5)
    patient = Settings(
        api_url="https://api.example.test", token=Secret(TOKEN), timeout=5, rate_limit_wait=900
    )
    assert shared_client(base) is shared_client(base)
    assert shared_client(patient) is not shared_client(base)
