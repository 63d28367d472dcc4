"""Every invalid field of every operation gets a 400 whose issue names the field."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from motherduck_provider.emulator import EmulatorServer

LONG_USER = "u" * 256


def _config(**overrides: Any) -> dict[str, Any]:
    """A valid PUT body, with `side__field=value` overrides (`...=DROP` removes the key)."""
    config: dict[str, Any] = {
        "read_write": {"instance_size": "standard", "cooldown_seconds": 120},
        "read_scaling": {"instance_size": "standard", "flock_size": 2, "cooldown_seconds": 120},
    }
    for key, value in overrides.items():
        side, _, name = key.partition("__")
        if value is DROP:
            config[side].pop(name)
        else:
            config[side][name] = value
    return {"config": config}


DROP = object()


def _assert_bad_request(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == "BAD_REQUEST"
    assert body["message"] == "Bad Request"
    messages = [issue["message"] for issue in body["issues"]]
    assert any(message.startswith(f"{field}: ") for message in messages), messages


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "username"),
        ({"username": None}, "username"),
        ({"username": 42}, "username"),
        ({"username": ["alice"]}, "username"),
        ({"username": ""}, "username"),
        ({"username": "a" * 256}, "username"),
        ({"username": "1alice"}, "username"),
        ({"username": "_alice"}, "username"),
        ({"username": "ali-ce"}, "username"),
        ({"username": "ali ce"}, "username"),
        ({"username": "alice!"}, "username"),
        ({"username": "alice\u0663"}, "username"),  # ARABIC-INDIC DIGIT THREE: not ECMA \d
        ([], "body"),
        ("alice", "body"),
        (None, "body"),
    ],
)
def test_create_user_rejects(client: httpx.Client, body: object, field: str) -> None:
    _assert_bad_request(client.post("/v1/users", json=body), field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": None}, "name"),
        ({"name": 7}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"name": "ci", "ttl": "600"}, "ttl"),
        ({"name": "ci", "ttl": None}, "ttl"),
        ({"name": "ci", "ttl": True}, "ttl"),
        ({"name": "ci", "ttl": 299}, "ttl"),
        ({"name": "ci", "ttl": 299.9}, "ttl"),
        ({"name": "ci", "ttl": 31_536_001}, "ttl"),
        ({"name": "ci", "ttl": -1}, "ttl"),
        ({"name": "ci", "token_type": "admin"}, "token_type"),
        ({"name": "ci", "token_type": "READ_WRITE"}, "token_type"),
        ({"name": "ci", "token_type": None}, "token_type"),
        ([{"name": "ci"}], "body"),
    ],
)
def test_create_token_rejects(client: httpx.Client, alice: str, body: object, field: str) -> None:
    _assert_bad_request(client.post("/v1/users/alice/tokens", json=body), field)


@pytest.mark.parametrize("ttl", [300, 300.5, 31_536_000])
def test_create_token_accepts_ttl_bounds(client: httpx.Client, alice: str, ttl: float) -> None:
    response = client.post("/v1/users/alice/tokens", json={"name": "ci", "ttl": ttl})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "config"),
        ({"config": None}, "config"),
        ({"config": []}, "config"),
        ({"config": {"read_scaling": _config()["config"]["read_scaling"]}}, "config.read_write"),
        ({"config": {"read_write": _config()["config"]["read_write"]}}, "config.read_scaling"),
        (_config(read_write__instance_size=DROP), "config.read_write.instance_size"),
        (_config(read_write__instance_size="huge"), "config.read_write.instance_size"),
        (_config(read_write__instance_size=None), "config.read_write.instance_size"),
        (_config(read_write__cooldown_seconds=59), "config.read_write.cooldown_seconds"),
        (_config(read_write__cooldown_seconds=86_401), "config.read_write.cooldown_seconds"),
        (_config(read_write__cooldown_seconds=120.5), "config.read_write.cooldown_seconds"),
        (_config(read_write__cooldown_seconds="120"), "config.read_write.cooldown_seconds"),
        (_config(read_write__cooldown_seconds=None), "config.read_write.cooldown_seconds"),
        (
            _config(read_write__instance_size="pulse", read_write__cooldown_seconds=120),
            "config.read_write.cooldown_seconds",
        ),
        (_config(read_scaling__instance_size=DROP), "config.read_scaling.instance_size"),
        (_config(read_scaling__instance_size="Pulse"), "config.read_scaling.instance_size"),
        (_config(read_scaling__flock_size=DROP), "config.read_scaling.flock_size"),
        (_config(read_scaling__flock_size="2"), "config.read_scaling.flock_size"),
        (_config(read_scaling__flock_size=None), "config.read_scaling.flock_size"),
        (_config(read_scaling__flock_size=True), "config.read_scaling.flock_size"),
        (_config(read_scaling__flock_size=-1), "config.read_scaling.flock_size"),
        (_config(read_scaling__flock_size=65), "config.read_scaling.flock_size"),
        (_config(read_scaling__flock_size=2.5), "config.read_scaling.flock_size"),
        (_config(read_scaling__cooldown_seconds=59), "config.read_scaling.cooldown_seconds"),
        (_config(read_scaling__cooldown_seconds=1e9), "config.read_scaling.cooldown_seconds"),
        (
            _config(read_scaling__instance_size="pulse", read_scaling__cooldown_seconds=60),
            "config.read_scaling.cooldown_seconds",
        ),
        ({"config": {"read_write": "pulse", "read_scaling": {}}}, "config.read_write"),
        (
            {"config": {"read_write": {"instance_size": "pulse"}, "read_scaling": 3}},
            "config.read_scaling",
        ),
        (["config"], "body"),
    ],
)
def test_set_config_rejects(client: httpx.Client, alice: str, body: object, field: str) -> None:
    before = client.get("/v1/users/alice/instances").json()
    _assert_bad_request(client.put("/v1/users/alice/instances", json=body), field)
    assert client.get("/v1/users/alice/instances").json() == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"read_scaling__flock_size": 0},
        {"read_scaling__flock_size": 64},
        {"read_write__cooldown_seconds": 60},
        {"read_write__cooldown_seconds": 86_400},
        {"read_write__cooldown_seconds": 600.0},
        {"read_write__cooldown_seconds": DROP},
    ],
)
def test_set_config_accepts_bounds(client: httpx.Client, alice: str, overrides: Any) -> None:
    response = client.put("/v1/users/alice/instances", json=_config(**overrides))
    assert response.status_code == 200, response.text


def test_set_config_reports_every_problem(client: httpx.Client, alice: str) -> None:
    body = _config(
        read_write__instance_size="huge",
        read_scaling__flock_size=99,
        read_scaling__cooldown_seconds=1,
    )
    response = client.put("/v1/users/alice/instances", json=body)
    fields = sorted(i["message"].split(":")[0] for i in response.json()["issues"])
    assert fields == [
        "config.read_scaling.cooldown_seconds",
        "config.read_scaling.flock_size",
        "config.read_write.instance_size",
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"/v1/users/{LONG_USER}"),
        ("POST", f"/v1/users/{LONG_USER}/tokens"),
        ("GET", f"/v1/users/{LONG_USER}/tokens"),
        ("DELETE", f"/v1/users/{LONG_USER}/tokens/some-id"),
        ("GET", f"/v1/users/{LONG_USER}/instances"),
        ("PUT", f"/v1/users/{LONG_USER}/instances"),
    ],
)
def test_long_path_username_is_400(client: httpx.Client, method: str, path: str) -> None:
    bodies = {"POST": {"name": "ci"}, "PUT": copy.deepcopy(_config())}
    _assert_bad_request(client.request(method, path, json=bodies.get(method)), "username")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/users"),
        ("POST", "/v1/users/alice/tokens"),
        ("PUT", "/v1/users/alice/instances"),
    ],
)
@pytest.mark.parametrize("raw", [b"", b"{", b"{'username': 'x'}", b'{"ttl": NaN}', b"\xff\xfe"])
def test_invalid_json_is_400(
    client: httpx.Client, alice: str, method: str, path: str, raw: bytes
) -> None:
    response = client.request(
        method, path, content=raw, headers={"Content-Type": "application/json"}
    )
    _assert_bad_request(response, "body")


def test_validation_comes_after_auth(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.url) as anonymous:
        assert anonymous.post("/v1/users", json={"username": ""}).status_code == 401
