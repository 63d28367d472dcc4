"""`GET /v1/active_accounts` and the control plane that starts and stops Ducklings."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from motherduck_provider.emulator import EmulatorControl, EmulatorControlError, EmulatorServer
from motherduck_provider.emulator.store import Store

FLOCK_3 = {
    "read_write": {"instance_size": "standard"},
    "read_scaling": {"instance_size": "pulse", "flock_size": 3},
}


@pytest.fixture
def control(emulator: EmulatorServer) -> EmulatorControl:
    with EmulatorControl(emulator.url) as client:
        yield client  # type: ignore[misc]


def test_no_running_ducklings_no_accounts(client: httpx.Client, alice: str) -> None:
    response = client.get("/v1/active_accounts")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"accounts": []}


def test_lists_only_accounts_with_running_ducklings_in_order(
    client: httpx.Client, emulator: EmulatorServer, control: EmulatorControl
) -> None:
    store = emulator.store
    store.create_user("idle")
    store.create_user("Busy", config=FLOCK_3)
    control.set_duckling("busy", "rs.2", "cooldown")
    control.set_duckling("BUSY", "rs.0", "active")
    assert control.set_duckling("busy", "rw", "active") == [
        {"id": "rw", "type": "read_write", "status": "active"},
        {"id": "rs.0", "type": "read_scaling", "status": "active"},
        {"id": "rs.2", "type": "read_scaling", "status": "cooldown"},
    ]
    listed = client.get("/v1/active_accounts").json()["accounts"]
    assert [a["username"] for a in listed] == ["Busy"]
    assert [d["id"] for d in listed[0]["ducklings"]] == ["rw", "rs.0", "rs.2"]

    control.set_duckling("busy", "rw", "stopped")
    control.set_duckling("busy", "rs.0", "stopped")
    control.set_duckling("busy", "rs.2", "stopped")
    assert client.get("/v1/active_accounts").json() == {"accounts": []}


def test_shrinking_the_flock_or_deleting_the_account_stops_its_ducklings(
    client: httpx.Client, emulator: EmulatorServer
) -> None:
    store = emulator.store
    store.create_user("busy", config=FLOCK_3)
    store.set_duckling_status("busy", "rs.2", "active")
    store.set_duckling_status("busy", "rs.0", "active")
    smaller = {**FLOCK_3, "read_scaling": {"instance_size": "pulse", "flock_size": 1}}
    assert client.put("/v1/users/busy/instances", json={"config": smaller}).status_code == 200
    assert [d["id"] for d in store.active_accounts()[0]["ducklings"]] == ["rs.0"]
    assert client.delete("/v1/users/busy").status_code == 200
    assert store.active_accounts() == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"username": "alice", "id": "rs.0"}, "flock_size is 0"),
        ({"username": "alice", "id": "rs.01"}, "'rw' or 'rs.N'"),
        ({"username": "alice", "id": "ro"}, "'rw' or 'rs.N'"),
        ({"username": "alice", "status": "running"}, "status: must be one of"),
        ({"username": "nobody"}, "no user named 'nobody'"),
        ({"id": "rw"}, "username: is required"),
    ],
)
def test_control_refuses_ducklings_that_cannot_run(
    control: EmulatorControl, alice: str, body: dict[str, str], problem: str
) -> None:
    with pytest.raises(EmulatorControlError, match=problem):
        control._call("POST", "ducklings", body)


def test_seed_starts_ducklings(
    client: httpx.Client, control: EmulatorControl, emulator: EmulatorServer
) -> None:
    control.seed([{"username": "fleet", "config": FLOCK_3, "ducklings": {"rs.1": "cooldown"}}])
    assert client.get("/v1/active_accounts").json()["accounts"] == [
        {
            "username": "fleet",
            "ducklings": [{"id": "rs.1", "type": "read_scaling", "status": "cooldown"}],
        }
    ]
    with pytest.raises(EmulatorControlError, match=r"users\[0\]\.ducklings\.id"):
        control.seed([{"username": "other", "ducklings": {"rs.1": "active"}}])
    assert control.usernames() == ["fleet"], "a refused seed creates nothing"


def test_auth_and_faults_apply(emulator: EmulatorServer, client: httpx.Client) -> None:
    assert httpx.get(emulator.url + "/v1/active_accounts").status_code == 401
    emulator.store.faults.error("ducklings-getActiveAccounts", status=500, count=1)
    assert client.get("/v1/active_accounts").status_code == 500
    assert client.get("/v1/active_accounts").status_code == 200
    assert emulator.store.count(operation="ducklings-getActiveAccounts") == 3


def test_running_ducklings_persist(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    store = Store(state_file=state)
    store.create_user("busy")
    store.set_duckling_status("busy", "rw", "cooldown")
    assert Store(state_file=state).active_accounts() == store.active_accounts()
    assert store.snapshot()["users"][0]["ducklings"] == {"rw": "cooldown"}
