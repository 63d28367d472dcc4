"""The seven operations over real loopback HTTP: happy paths, auth, 404s and state rules."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import httpx
import pytest

from motherduck_provider.emulator import DEFAULT_CONFIG, EmulatorServer

RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _ts(text: str) -> datetime:
    assert RFC3339_MS.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_create_user(client: httpx.Client, emulator: EmulatorServer) -> None:
    response = client.post("/v1/users", json={"username": "svc_reporting1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"username": "svc_reporting1"}
    assert emulator.store.has_user("svc_reporting1")


@pytest.mark.parametrize("username", ["a", "Ünïcödé_1", "日本語", "x" * 255, "A_1_b"])
def test_create_user_accepts_contract_usernames(client: httpx.Client, username: str) -> None:
    assert client.post("/v1/users", json={"username": username}).json() == {"username": username}


def test_usernames_are_unique_case_insensitively(client: httpx.Client) -> None:
    assert client.post("/v1/users", json={"username": "Alice"}).status_code == 200
    for again in ("Alice", "alice", "ALICE"):
        response = client.post("/v1/users", json={"username": again})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "BAD_REQUEST"
        assert body["issues"][0]["message"].startswith("username:")
        assert "taken" in body["issues"][0]["message"]


def test_delete_user_cascades(client: httpx.Client, emulator: EmulatorServer, alice: str) -> None:
    client.post("/v1/users/alice/tokens", json={"name": "ci"})
    client.put(
        "/v1/users/alice/instances",
        json={
            "config": {
                "read_write": {"instance_size": "mega"},
                "read_scaling": {"instance_size": "standard", "flock_size": 3},
            }
        },
    )
    response = client.delete("/v1/users/alice")
    assert response.status_code == 200
    assert response.json() == {"username": "alice"}
    assert not emulator.store.has_user("alice")
    assert client.get("/v1/users/alice/tokens").json()["code"] == "NOT_FOUND"
    # A new account with the same name starts clean: no tokens, default config.
    client.post("/v1/users", json={"username": "alice"})
    assert client.get("/v1/users/alice/tokens").json() == {"tokens": []}
    assert client.get("/v1/users/alice/instances").json() == DEFAULT_CONFIG


def test_create_token_defaults(client: httpx.Client, alice: str) -> None:
    response = client.post("/v1/users/alice/tokens", json={"name": "ci"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "id", "name", "created_ts", "read_only", "token_type"}
    assert uuid.UUID(body["id"]).version == 4
    assert body["name"] == "ci"
    assert body["read_only"] is False
    assert body["token_type"] == "read_write"
    assert len(body["token"]) >= 32
    _ts(body["created_ts"])


def test_create_read_scaling_token_with_ttl(client: httpx.Client, alice: str) -> None:
    body = client.post(
        "/v1/users/alice/tokens", json={"name": "bi", "ttl": 3600, "token_type": "read_scaling"}
    ).json()
    assert body["read_only"] is True
    assert body["token_type"] == "read_scaling"
    lifetime = _ts(body["expire_at"]) - _ts(body["created_ts"])
    assert lifetime.total_seconds() == 3600


def test_token_secret_only_in_create_response(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    created = client.post("/v1/users/alice/tokens", json={"name": "ci", "ttl": 900}).json()
    secret = created.pop("token")
    listed = client.get("/v1/users/alice/tokens").json()
    assert listed == {"tokens": [created]}
    assert secret not in client.get("/_emulator/state").text
    assert all(secret not in e.response_text for e in emulator.store.exchanges[1:])
    secrets_created = {client.post("/v1/users/alice/tokens", json={"name": "x"}).json()["token"]}
    secrets_created.add(client.post("/v1/users/alice/tokens", json={"name": "x"}).json()["token"])
    assert len(secrets_created) == 2


def test_expired_tokens_leave_the_list(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    short = client.post("/v1/users/alice/tokens", json={"name": "short", "ttl": 300}).json()
    forever = client.post("/v1/users/alice/tokens", json={"name": "forever"}).json()
    emulator.store.clock.advance(299)
    assert len(client.get("/v1/users/alice/tokens").json()["tokens"]) == 2
    emulator.store.clock.advance(2)
    listed = client.get("/v1/users/alice/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [forever["id"]]
    # An expired token is gone for every purpose.
    assert client.delete(f"/v1/users/alice/tokens/{short['id']}").status_code == 404


def test_seeded_expired_token_is_not_listed(
    client: httpx.Client, emulator: EmulatorServer, alice: str
) -> None:
    past = emulator.store.clock.now().replace(year=2000)
    emulator.store.create_token("alice", "old", expire_at=past)
    assert client.get("/v1/users/alice/tokens").json() == {"tokens": []}


def test_delete_token(client: httpx.Client, alice: str) -> None:
    token_id = client.post("/v1/users/alice/tokens", json={"name": "ci"}).json()["id"]
    response = client.delete(f"/v1/users/alice/tokens/{token_id}")
    assert response.status_code == 200
    assert response.json() == {}
    assert client.get("/v1/users/alice/tokens").json() == {"tokens": []}
    again = client.delete(f"/v1/users/alice/tokens/{token_id}")
    assert again.status_code == 404
    assert again.json()["code"] == "NOT_FOUND"


def test_get_default_config(client: httpx.Client, alice: str) -> None:
    response = client.get("/v1/users/alice/instances")
    assert response.status_code == 200
    assert response.json() == {
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 0},
    }


def test_set_config_returns_config_without_wrapper(client: httpx.Client, alice: str) -> None:
    config = {
        "read_write": {"instance_size": "standard", "cooldown_seconds": 900},
        "read_scaling": {"instance_size": "jumbo", "flock_size": 4, "cooldown_seconds": 120},
    }
    response = client.put("/v1/users/alice/instances", json={"config": config})
    assert response.status_code == 200
    assert response.json() == config
    assert client.get("/v1/users/alice/instances").json() == config


@pytest.mark.parametrize(
    ("size", "expected"),
    [("pulse", None), ("standard", 60), ("jumbo", 60), ("mega", 300), ("giga", 600)],
)
def test_server_fills_cooldown_defaults(
    client: httpx.Client, alice: str, size: str, expected: int | None
) -> None:
    config = {
        "read_write": {"instance_size": size},
        "read_scaling": {"instance_size": size, "flock_size": 1},
    }
    body = client.put("/v1/users/alice/instances", json={"config": config}).json()
    for side in ("read_write", "read_scaling"):
        assert body[side].get("cooldown_seconds") == expected
        assert ("cooldown_seconds" in body[side]) is (expected is not None)


def test_integral_float_flock_size_is_stored_whole(client: httpx.Client, alice: str) -> None:
    config = {
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 2.0},
    }
    body = client.put("/v1/users/alice/instances", json={"config": config}).json()
    assert body["read_scaling"]["flock_size"] == 2
    assert isinstance(body["read_scaling"]["flock_size"], int)


def test_unknown_fields_are_ignored(client: httpx.Client, alice: str) -> None:
    body = client.post(
        "/v1/users/alice/tokens", json={"name": "ci", "description": "not in the contract"}
    ).json()
    assert "description" not in body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/v1/users/nobody", None),
        ("POST", "/v1/users/nobody/tokens", {"name": "ci"}),
        ("GET", "/v1/users/nobody/tokens", None),
        ("DELETE", "/v1/users/nobody/tokens/0b0e0c1e-0000-4000-8000-000000000000", None),
        ("GET", "/v1/users/nobody/instances", None),
        (
            "PUT",
            "/v1/users/nobody/instances",
            {
                "config": {
                    "read_write": {"instance_size": "pulse"},
                    "read_scaling": {"instance_size": "pulse", "flock_size": 0},
                }
            },
        ),
    ],
)
def test_missing_user_is_json_not_found(
    client: httpx.Client, method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "NOT_FOUND"
    assert response.json()["message"]


def test_missing_token_is_json_not_found(client: httpx.Client, alice: str) -> None:
    response = client.delete("/v1/users/alice/tokens/not-a-token")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert "token_id" in response.json()["issues"][0]["message"]


def test_usernames_in_paths_are_case_insensitive(client: httpx.Client, alice: str) -> None:
    assert client.get("/v1/users/ALICE/instances").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users"),
        ("GET", "/v1/users/alice"),
        ("POST", "/v1/active_accounts"),
        ("GET", "/v1/dives/0b0e0c1e-0000-4000-8000-000000000000/embed-session"),
        ("PATCH", "/v1/users/alice/instances"),
        ("GET", "/v1/users/alice/tokens/"),
        ("GET", "/v2/users/alice/tokens"),
        ("GET", "/"),
        ("GET", "/_emulator"),
        ("HEAD", "/v1/users/alice/tokens"),
        ("OPTIONS", "/v1/users"),
    ],
)
def test_unknown_routes_are_plain_text_not_found(
    client: httpx.Client, alice: str, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == ("" if method == "HEAD" else "Not Found")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic bWQ6bWQ="},
        {"Authorization": "md-emulator-test-admin-token"},
    ],
)
def test_bad_credentials_are_401(emulator: EmulatorServer, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=emulator.url, headers=headers) as anonymous:
        response = anonymous.post("/v1/users", json={"username": "alice"})
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid Credentials", "code": "UNAUTHORIZED"}
    assert not emulator.store.has_user("alice")


def test_bearer_scheme_is_case_insensitive(emulator: EmulatorServer) -> None:
    headers = {"Authorization": f"bearer {emulator.admin_token}"}
    with httpx.Client(base_url=emulator.url, headers=headers) as http:
        assert http.post("/v1/users", json={"username": "alice"}).status_code == 200


FORBIDDEN = {
    "message": "Unauthorized",
    "code": "FORBIDDEN",
    "issues": [{"message": "minimum role org_admin is required"}],
}


def test_member_token_is_403() -> None:
    with (
        EmulatorServer(admin_token="admin-secret", member_tokens=["member-secret"]) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": "Bearer member-secret"}
        ) as member,
    ):
        response = member.get("/v1/users/alice/instances")
        assert response.status_code == 403
        assert response.json() == FORBIDDEN


def test_service_account_token_is_403(client: httpx.Client, emulator: EmulatorServer) -> None:
    client.post("/v1/users", json={"username": "alice"})
    secret = client.post("/v1/users/alice/tokens", json={"name": "ci"}).json()["token"]
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {secret}"}) as sa:
        response = sa.post("/v1/users", json={"username": "bob"})
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_unexpected_error_is_json_500(
    client: httpx.Client, emulator: EmulatorServer, alice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(username: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(emulator.store, "get_config", broken)
    response = client.get("/v1/users/alice/instances")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Error", "code": "INTERNAL_SERVER_ERROR"}


def test_request_log_counts_writes(client: httpx.Client, emulator: EmulatorServer) -> None:
    client.post("/v1/users", json={"username": "alice"})
    client.get("/v1/users/alice/instances")
    client.get("/v1/users/alice/tokens")
    client.post("/v1/users", json={"username": "alice"})  # 400: taken
    store = emulator.store
    assert store.request_count == 4
    assert store.write_count == 2
    assert store.count(operation="users-createServiceAccount", status=400) == 1
    assert [r.applied for r in store.requests] == [True, False, False, False]
    assert [(r.method, r.path, r.status) for r in store.requests][:2] == [
        ("POST", "/v1/users", 200),
        ("GET", "/v1/users/alice/instances", 200),
    ]


def test_exchange_log(client: httpx.Client, emulator: EmulatorServer) -> None:
    client.post("/v1/users", json={"username": "alice"})
    client.get("/v1/nowhere")
    first, second = emulator.store.exchanges
    assert first.method == "POST"
    assert first.path == "/v1/users"
    assert first.user_agent == "emulator-tests/1"
    assert first.request_json == {"username": "alice"}
    assert first.status == 200
    assert first.content_type == "application/json"
    assert first.response_json == {"username": "alice"}
    assert first.response_text == '{"username":"alice"}'
    assert first.fault is None
    assert second.request_json is None
    assert second.status == 404
    assert second.content_type.startswith("text/plain")
    assert second.response_json is None
    assert second.response_text == "Not Found"


def test_concurrent_writes(client: httpx.Client, alice: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> str:
        response = client.post("/v1/users/alice/tokens", json={"name": f"t{i}"})
        assert response.status_code == 200
        return str(response.json()["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(24)))
    assert len(set(ids)) == 24
    assert len(client.get("/v1/users/alice/tokens").json()["tokens"]) == 24
