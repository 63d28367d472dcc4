"""Fault injection: latency, errors, 429 with Retry-After, drops, failures after the write."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest

from motherduck_provider.emulator import (
    OPERATIONS,
    EmulatorApp,
    EmulatorControl,
    EmulatorServer,
    FaultRule,
    Faults,
    HeldRequest,
    Store,
)

CREATE_TOKEN = next(op for op in OPERATIONS if op.operation_id == "users-createToken")
LIST_TOKENS = next(op for op in OPERATIONS if op.operation_id == "users-listTokens")


def test_global_latency(client: httpx.Client, emulator: EmulatorServer, alice: str) -> None:
    emulator.store.faults.latency = 0.3
    started = time.monotonic()
    assert client.get("/v1/users/alice/tokens").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_rule_for_one_route(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.slow("users-listTokens", 0.3, count=1)
    started = time.monotonic()
    client.get("/v1/users/alice/instances")
    assert time.monotonic() - started < 0.3
    started = time.monotonic()
    client.get("/v1/users/alice/tokens")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get("/v1/users/alice/tokens")
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_next_n_requests_fail(
    client: httpx.Client, emulator: EmulatorServer, alice: str, status: int
) -> None:
    emulator.store.faults.error("GET /v1/users/{username}/tokens", status, count=2)
    assert client.get("/v1/users/alice/instances").status_code == 200  # other route untouched
    assert [client.get("/v1/users/alice/tokens").status_code for _ in range(3)] == [
        status,
        status,
        200,
    ]
    assert emulator.store.count(operation="users-listTokens", status=status) == 2
    assert [e.fault for e in emulator.store.exchanges] == [None, "error", "error", None]


def test_error_bodies(client: httpx.Client, emulator: EmulatorServer, alice: str) -> None:
    emulator.store.faults.error(status=500, count=1)
    emulator.store.faults.error(status=503, count=1)
    first = client.get("/v1/users/alice/tokens")
    assert first.json() == {"message": "Internal Error", "code": "INTERNAL_SERVER_ERROR"}
    second = client.get("/v1/users/alice/tokens")
    assert second.headers["content-type"].startswith("text/plain")
    assert second.text == "Service Unavailable"


def test_error_before_write_changes_nothing(client: httpx.Client, emulator: EmulatorServer) -> None:
    emulator.store.faults.error("users-createServiceAccount", 500, count=1)
    assert client.post("/v1/users", json={"username": "alice"}).status_code == 500
    assert not emulator.store.has_user("alice")
    assert emulator.store.requests[-1].applied is False


def test_rate_limit_with_retry_after(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.rate_limit("POST *", retry_after=7, count=1)
    assert client.get("/v1/users/alice/tokens").status_code == 200
    response = client.post("/v1/users/alice/tokens", json={"name": "ci"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["code"] == "TOO_MANY_REQUESTS"
    assert emulator.store.list_tokens("alice") == []
    assert client.post("/v1/users/alice/tokens", json={"name": "ci"}).status_code == 200


def test_rate_limit_with_http_date(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    date = "Wed, 21 Oct 2026 07:28:00 GMT"
    emulator.store.faults.rate_limit(retry_after=date, count=1)
    assert client.get("/v1/users/alice/tokens").headers["retry-after"] == date


def test_dropped_connection_is_a_transport_error(
    client: httpx.Client, emulator: EmulatorServer, alice: str, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.store.faults.drop("users-createToken", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/users/alice/tokens", json={"name": "ci"})
    assert emulator.store.list_tokens("alice") == []
    record = emulator.store.requests[-1]
    assert (record.status, record.fault, record.applied) == (0, "drop", False)
    # The server keeps serving, and dropped the connection without complaint.
    assert client.post("/v1/users/alice/tokens", json={"name": "ci"}).status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_error_after_write_keeps_the_write(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.error("users-createToken", 500, count=1, after_write=True)
    response = client.post("/v1/users/alice/tokens", json={"name": "ci"})
    assert response.status_code == 500
    assert [t.name for t in emulator.store.list_tokens("alice")] == ["ci"]
    assert emulator.store.requests[-1].applied is True


def test_drop_after_write_keeps_the_write(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.drop("PUT /v1/users/{username}/instances", count=1, after_write=True)
    config = {
        "read_write": {"instance_size": "jumbo"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 1},
    }
    with pytest.raises(httpx.RemoteProtocolError):
        client.put("/v1/users/alice/instances", json={"config": config})
    assert emulator.store.get_config("alice")["read_write"] == {
        "instance_size": "jumbo",
        "cooldown_seconds": 60,
    }


def test_unknown_routes_are_never_faulted(client: httpx.Client, emulator: EmulatorServer) -> None:
    emulator.store.faults.error(status=500)
    assert client.get("/v1/users").status_code == 404
    assert client.get("/_emulator/health").status_code == 200


def test_seeded_rates_repeat() -> None:
    def sequence(seed: int) -> list[bool]:
        faults = Faults(seed=seed)
        faults.error(rate=0.5)
        return [faults.decide(LIST_TOKENS).action is not None for _ in range(40)]

    assert sequence(7) == sequence(7)
    assert 5 < sum(sequence(7)) < 35
    assert sequence(7) != sequence(8)


def test_rules_in_order_first_action_wins_latencies_add() -> None:
    faults = Faults(latency=0.5)
    faults.slow("*", 1.0)
    faults.error("users-listTokens", 503, count=1)
    faults.rate_limit("*", count=1)
    faults.slow("GET *", 2.0)
    first = faults.decide(LIST_TOKENS)
    assert first.latency == 3.5
    assert first.action is not None and first.action.status == 503
    second = faults.decide(LIST_TOKENS)
    assert second.action is not None and second.action.kind == "rate_limit"
    third = faults.decide(CREATE_TOKEN)
    assert (third.latency, third.action) == (1.5, None)
    assert len(faults.rules) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("error", FaultRule("error")),
        (
            "error@users-createToken,status=503,count=2",
            FaultRule("error", "users-createToken", status=503, count=2),
        ),
        (
            "rate_limit@*,rate=0.25,retry_after=2",
            FaultRule("rate_limit", rate=0.25, retry_after=2),
        ),
        (
            "drop@PUT /v1/users/{username}/instances,after_write=true",
            FaultRule("drop", "PUT /v1/users/{username}/instances", after_write=True),
        ),
        ("latency@GET *,seconds=0.5", FaultRule("latency", "GET *", seconds=0.5)),
        ("hold@POST *,after_write=true", FaultRule("hold", "POST *", after_write=True)),
        ('{"kind": "error", "status": 502, "count": 1}', FaultRule("error", status=502, count=1)),
    ],
)
def test_parse_rules(text: str, expected: FaultRule) -> None:
    assert FaultRule.parse(text) == expected
    assert FaultRule.from_dict(expected.to_dict()) == expected


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("explode", "kind"),
        ("error@users-nothing", "route"),
        ("error@GET /v1/users", "route"),
        ("error,status=200", "status"),
        ("error,status=abc", "status"),
        ("error,count=0", "count"),
        ("error,rate=1.5", "rate"),
        ("latency,seconds=-1", "seconds"),
        ("rate_limit,after_write=true", "after_write"),
        ("error,colour=red", "colour"),
        ("error,status", "status"),
        ('{"status": 500}', "kind"),
    ],
)
def test_bad_rules_name_the_field(text: str, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        FaultRule.parse(text)


def test_faults_over_http_while_serving(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    rule = {"kind": "error", "route": "users-listTokens", "status": 502, "count": 1}
    set_response = client.post("/_emulator/faults", json=rule)
    assert set_response.status_code == 200
    assert set_response.json()["rules"][0]["remaining"] == 1
    assert client.get("/v1/users/alice/tokens").status_code == 502
    assert client.get("/v1/users/alice/tokens").status_code == 200

    client.post("/_emulator/faults", json={"rules": ["error,status=500"], "latency": 0.01})
    assert client.get("/_emulator/faults").json()["latency"] == 0.01
    assert client.get("/v1/users/alice/tokens").status_code == 500
    cleared = client.delete("/_emulator/faults").json()
    assert cleared == {"latency": 0.0, "seed": None, "rules": [], "held": [], "limit": None}
    assert client.get("/v1/users/alice/tokens").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "error", "status": 99}, "rules[0].status"),
        ({"rules": [{"kind": "nope"}]}, "rules[0].kind"),
        ({"rules": "error"}, "rules"),
        ({"latency": -1}, "latency"),
        ({"seed": "x"}, "seed"),
        ({"mode": "chaos"}, "mode"),
        ({"limit": {"rate": -1}}, "limit.rate"),
        ({"limit": 20}, "limit"),
    ],
)
def test_bad_faults_over_http_are_400(client: httpx.Client, body: object, field: str) -> None:
    response = client.post("/_emulator/faults", json=body)
    assert response.status_code == 400
    assert response.json()["issues"][0]["message"].startswith(field)
    assert client.get("/_emulator/faults").json()["rules"] == []


def test_drop_without_uvicorn_aborts_the_response() -> None:
    store = Store()
    store.faults.drop()
    app = EmulatorApp(store, admin_token="t")

    async def call() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            await http.get("/v1/users/alice/tokens", headers={"Authorization": "Bearer t"})

    with pytest.raises(ConnectionAbortedError):
        asyncio.run(call())
    assert store.requests[-1].fault == "drop"


def _in_thread(call: Callable[[], httpx.Response]) -> Future[httpx.Response]:
    """Send a request from another thread: a held request blocks its caller."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future


def _held(emulator: EmulatorServer, count: int = 1) -> list[HeldRequest]:
    """Wait until `count` requests are held (bounded: a hold that never comes fails)."""
    deadline = time.monotonic() + 10
    while len(emulator.store.faults.held) < count:
        assert time.monotonic() < deadline, "no request was held"
        time.sleep(0.01)
    return emulator.store.faults.held


def test_hold_before_the_write_until_released(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.hold("POST *", count=1)
    answer = _in_thread(lambda: client.post("/v1/users/alice/tokens", json={"name": "ci"}))
    [held] = _held(emulator)
    assert (held.method, held.operation_id, held.applied) == ("POST", "users-createToken", False)
    assert emulator.store.list_tokens("alice") == []  # not handled yet
    assert client.get("/v1/users/alice/tokens").status_code == 200  # other requests go on
    assert emulator.store.faults.release() == 1
    assert answer.result(timeout=10).status_code == 200
    assert [t.name for t in emulator.store.list_tokens("alice")] == ["ci"]
    assert emulator.store.requests[-1].fault is None  # a real answer, held a while
    assert emulator.store.faults.held == []


def test_hold_released_unhandled_writes_nothing(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.hold("users-createToken", count=1)
    answer = _in_thread(lambda: client.post("/v1/users/alice/tokens", json={"name": "ci"}))
    _held(emulator)
    emulator.store.faults.release(apply=False)
    with pytest.raises(httpx.RemoteProtocolError):
        answer.result(timeout=10)
    assert emulator.store.list_tokens("alice") == []
    record = emulator.store.requests[-1]
    assert (record.status, record.fault, record.applied) == (0, "hold", False)


def test_hold_after_the_write_keeps_only_the_answer(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.hold("users-createToken", count=1, after_write=True)
    answer = _in_thread(lambda: client.post("/v1/users/alice/tokens", json={"name": "ci"}))
    [held] = _held(emulator)
    assert held.applied is True
    assert [t.name for t in emulator.store.list_tokens("alice")] == ["ci"]  # written already
    emulator.store.faults.release(apply=False)  # `apply` no longer matters: it was handled
    assert answer.result(timeout=10).status_code == 200
    assert emulator.store.requests[-1].applied is True


def test_release_holding_the_answer_holds_it_again_once_handled(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.hold("DELETE *", count=1)
    token = emulator.store.create_token("alice", name="old").record
    answer = _in_thread(lambda: client.delete(f"/v1/users/alice/tokens/{token.id}"))
    assert _held(emulator)[0].applied is False
    emulator.store.faults.release(hold_answer=True)
    deadline = time.monotonic() + 10
    while not [h for h in emulator.store.faults.held if h.applied]:
        assert time.monotonic() < deadline, "the answer was not held"
        time.sleep(0.01)
    assert emulator.store.list_tokens("alice") == []  # revoked; the answer waits
    emulator.store.faults.release()
    assert answer.result(timeout=10).status_code == 200


def test_clearing_faults_closes_held_requests_unhandled(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    emulator.store.faults.hold()
    answer = _in_thread(lambda: client.post("/v1/users/alice/tokens", json={"name": "ci"}))
    _held(emulator)
    emulator.store.reset()
    with pytest.raises(httpx.RemoteProtocolError):
        answer.result(timeout=10)
    assert emulator.store.faults.held == []


def test_hold_and_release_over_http(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    client.post("/_emulator/faults", json={"kind": "hold", "route": "users-createToken"})
    answer = _in_thread(lambda: client.post("/v1/users/alice/tokens", json={"name": "ci"}))
    _held(emulator)
    assert client.get("/_emulator/faults").json()["held"] == [
        {
            "method": "POST",
            "path": "/v1/users/alice/tokens",
            "operation_id": "users-createToken",
            "applied": False,
        }
    ]
    assert client.post("/_emulator/release", json={"colour": 1}).status_code == 400
    assert client.post("/_emulator/release", json={"apply": "yes"}).status_code == 400
    assert client.post("/_emulator/release", json={"apply": False}).json() == {"released": 1}
    with pytest.raises(httpx.RemoteProtocolError):
        answer.result(timeout=10)
    assert emulator.store.list_tokens("alice") == []


def test_release_through_the_control_client(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    with EmulatorControl(emulator.url) as control:
        control.add_faults("hold@POST *,after_write=true")
        answer = _in_thread(lambda: client.post("/v1/users/alice/tokens", json={"name": "ci"}))
        _held(emulator)
        assert control.faults()["held"][0]["applied"] is True
        assert control.release() == 1
        assert answer.result(timeout=10).status_code == 200
        assert control.release() == 0
