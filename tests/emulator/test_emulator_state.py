"""State: persistence across restarts, seeding, the clock and the control plane."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import motherduck_provider.emulator as emulator_package
from motherduck_provider.emulator import Clock, EmulatorServer, Store, UsernameTaken

CONFIG = {
    "read_write": {"instance_size": "giga"},
    "read_scaling": {"instance_size": "standard", "flock_size": 5, "cooldown_seconds": 900},
}


def _admin(server: EmulatorServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state" / "emulator.json"
    with EmulatorServer(state_file=state_file, admin_token="t") as first, _admin(first) as http:
        http.post("/v1/users", json={"username": "alice"})
        http.post("/v1/users", json={"username": "bob"})
        token = http.post("/v1/users/alice/tokens", json={"name": "ci", "ttl": 3600}).json()
        http.put("/v1/users/alice/instances", json={"config": CONFIG})
        http.delete("/v1/users/bob")
        tokens_before = http.get("/v1/users/alice/tokens").json()
        config_before = http.get("/v1/users/alice/instances").json()

    saved = state_file.read_text()
    assert token["token"] not in saved
    assert not list(state_file.parent.glob(".*"))  # no temporary files left behind

    with EmulatorServer(state_file=state_file, admin_token="t") as second, _admin(second) as http:
        assert http.get("/v1/users/alice/tokens").json() == tokens_before
        assert http.get("/v1/users/alice/instances").json() == config_before
        assert http.get("/v1/users/bob/instances").status_code == 404
        assert http.post("/v1/users", json={"username": "alice"}).status_code == 400
        # The secret still identifies a service account token (403), though it is not stored.
        headers = {"Authorization": f"Bearer {token['token']}"}
        assert http.get("/v1/users/alice/tokens", headers=headers).status_code == 403


def test_state_file_is_written_after_each_write(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    store = Store(state_file=state_file)
    store.create_user("alice")
    assert [u["username"] for u in json.loads(state_file.read_text())["users"]] == ["alice"]
    store.delete_user("alice")
    assert json.loads(state_file.read_text())["users"] == []


def test_seeding_from_python(client: httpx.Client, emulator: EmulatorServer) -> None:
    store = emulator.store
    store.create_user("alice", config=CONFIG)
    created = store.create_token("alice", "seeded", ttl=600, token_type="read_scaling")
    listed = client.get("/v1/users/alice/tokens").json()["tokens"]
    assert listed == [created.record.metadata()]
    assert created.response()["token"] == created.secret
    assert client.get("/v1/users/alice/instances").json()["read_write"] == {
        "instance_size": "giga",
        "cooldown_seconds": 600,
    }
    with pytest.raises(UsernameTaken):
        store.create_user("ALICE")
    with pytest.raises(ValueError, match="config.read_scaling.flock_size"):
        store.set_config("alice", {**CONFIG, "read_scaling": {"instance_size": "pulse"}})


def test_injectable_clock() -> None:
    clock = Clock()
    store = Store(clock=clock)
    store.create_user("alice")
    clock.freeze()
    start = clock.now()
    store.create_token("alice", "ci", ttl=300)
    assert clock.advance(300) - start == (clock.now() - start)
    assert store.list_tokens("alice") == []


def test_seed_over_http(client: httpx.Client) -> None:
    seed = {
        "users": [
            {
                "username": "alice",
                "config": CONFIG,
                "tokens": [{"name": "a"}, {"name": "old", "expire_at": "2001-01-01T00:00:00Z"}],
            },
            {"username": "bob"},
        ]
    }
    response = client.post("/_emulator/seed", json=seed)
    assert response.status_code == 200
    users = response.json()["users"]
    assert [u["username"] for u in users] == ["alice", "bob"]
    assert all("token" in t for t in users[0]["tokens"])
    assert [t["name"] for t in client.get("/v1/users/alice/tokens").json()["tokens"]] == ["a"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"users": {}}, "users"),
        ({"users": [{"username": "1x"}]}, "users[0].username"),
        ({"users": [{"username": "x", "tokens": [{}]}]}, "users[0].tokens[0].name"),
        ({"users": [{"username": "x", "config": {}}]}, "users[0].config"),
    ],
)
def test_bad_seed_is_400(client: httpx.Client, body: object, field: str) -> None:
    response = client.post("/_emulator/seed", json=body)
    assert response.status_code == 400
    assert response.json()["issues"][0]["message"].startswith(field)
    assert client.get("/_emulator/state").json()["users"] == []


def test_control_plane(client: httpx.Client, emulator: EmulatorServer, alice: str) -> None:
    assert client.get("/_emulator/health").json() == {"status": "ok"}
    created = client.post("/v1/users/alice/tokens", json={"name": "ci", "ttl": 300}).json()

    state = client.get("/_emulator/state").json()
    (user,) = state["users"]
    assert user["username"] == "alice"
    assert user["config"] == emulator.store.get_config("alice")
    (token,) = user["tokens"]
    assert token["id"] == created["id"]
    assert token["expired"] is False
    assert "token" not in token
    assert len(token["secret_sha256"]) == 64

    log = client.get("/_emulator/requests").json()
    assert log["counters"]["writes"] == 1
    assert log["requests"][0]["operation_id"] == "users-createToken"
    exchanges = client.get("/_emulator/exchanges").json()["exchanges"]
    assert exchanges[0]["response_json"]["id"] == created["id"]
    assert exchanges[0]["response_json"]["token"] == "<redacted>"
    assert created["token"] not in json.dumps(exchanges)
    assert emulator.store.exchanges[0].response_json == created  # Python sees the real body

    now = client.post("/_emulator/clock", json={"advance": 301}).json()["now"]
    assert now > state["now"]
    assert client.get("/v1/users/alice/tokens").json() == {"tokens": []}

    assert client.post("/_emulator/reset").json() == {"status": "reset"}
    assert emulator.store.users == {}
    assert emulator.store.requests == []
    # Control calls are not API calls and are not logged.
    assert client.get("/_emulator/requests").json()["requests"] == []


def test_control_plane_needs_no_token(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.url) as anonymous:
        assert anonymous.get("/_emulator/health").status_code == 200


def test_server_refuses_remote_hosts() -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        EmulatorServer(host="0.0.0.0")


def test_server_lifecycle() -> None:
    server = EmulatorServer(admin_token="t")
    with pytest.raises(RuntimeError):
        _ = server.url
    server.start()
    try:
        assert server.running
        assert server.url == f"http://127.0.0.1:{server.port}"
        with pytest.raises(RuntimeError):
            server.start()
    finally:
        server.stop()
    assert not server.running
    server.stop()


def test_admin_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTHERDUCK_EMULATOR_ADMIN_TOKEN", "from-env")
    assert EmulatorServer().admin_token == "from-env"
    assert EmulatorServer(admin_token="explicit").admin_token == "explicit"
    monkeypatch.delenv("MOTHERDUCK_EMULATOR_ADMIN_TOKEN")
    assert EmulatorServer().admin_token == "md-emulator-admin-token"


def test_public_surface_is_explicit_and_sorted() -> None:
    names = emulator_package.__all__
    assert names == sorted(names)
    assert all(hasattr(emulator_package, name) for name in names)
