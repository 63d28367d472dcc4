"""Dive embed sessions: `POST /v1/dives/{dive_id}/embed-session` over loopback HTTP.

Dives are made in the MotherDuck UI, so the emulator knows only those it is given (the store,
the control plane's `seed`, the CLI's `--dive`); every exchange is held to the contract by the
`emulator` fixture.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from motherduck_provider.emulator import EmulatorServer, Store
from motherduck_provider.emulator.cli import build_parser

DIVE = "6f1c2f4e-3b0a-4c55-9d6b-1f2e3d4c5b6a"


def _path(dive: str = DIVE) -> str:
    return f"/v1/dives/{dive}/embed-session"


@pytest.fixture
def dive(emulator: EmulatorServer) -> str:
    return emulator.store.create_dive(DIVE)


def test_session_for_a_service_account(
    client: httpx.Client, emulator: EmulatorServer, alice: str, dive: str
) -> None:
    first = client.post(_path(), json={"username": "alice"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    session = first.json()["session"]
    assert isinstance(session, str) and session
    # Every request mints a new session, with or without a hint.
    again = client.post(_path(DIVE.upper()), json={"username": "ALICE", "session_hint": "h1"})
    assert again.status_code == 200
    assert again.json()["session"] != session
    assert emulator.store.count(operation="dashboards-createEmbedSession", status=200) == 2


def test_session_is_never_shown_by_the_control_plane(
    client: httpx.Client, alice: str, dive: str
) -> None:
    session = client.post(_path(), json={"username": "alice"}).json()["session"]
    exchanges = client.get("/_emulator/exchanges").json()["exchanges"]
    assert exchanges[-1]["response_json"] == {"session": "<redacted>"}
    assert session not in client.get("/_emulator/exchanges").text
    assert session not in client.get("/_emulator/state").text


def test_unknown_dive_and_unknown_account_are_404(
    client: httpx.Client, alice: str, dive: str
) -> None:
    other = str(uuid.uuid4())
    missing_dive = client.post(_path(other), json={"username": "alice"})
    assert missing_dive.status_code == 404
    assert missing_dive.json()["code"] == "NOT_FOUND"
    assert missing_dive.json()["issues"][0]["message"].startswith("dive_id:")
    missing_user = client.post(_path(), json={"username": "nobody"})
    assert missing_user.status_code == 404
    assert missing_user.json()["issues"][0]["message"].startswith("username:")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (_path(), {}, "username: is required"),
        (_path(), {"username": 7}, "username: must be a string"),
        (_path(), {"username": "a" * 256}, "username: must be at most 255"),
        (_path(), {"username": "alice", "session_hint": ""}, "session_hint: must not be empty"),
        (_path(), {"username": "alice", "session_hint": None}, "session_hint: must be a string"),
        (_path(), ["alice"], "body: must be a JSON object"),
        (_path("not-a-uuid"), {"username": "alice"}, "dive_id: must be a UUID"),
        (_path(DIVE.replace("-", "")), {"username": "alice"}, "dive_id: must be a UUID in"),
    ],
)
def test_bad_requests_are_400(
    client: httpx.Client, alice: str, dive: str, path: str, body: object, field: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"
    assert response.json()["issues"][0]["message"].startswith(field)


def test_auth_applies(emulator: EmulatorServer, alice: str, dive: str) -> None:
    with httpx.Client(base_url=emulator.url, timeout=10) as anonymous:
        assert anonymous.post(_path(), json={"username": "alice"}).status_code == 401
    member = emulator.store.create_token("alice", "member").secret
    headers = {"Authorization": f"Bearer {member}"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as http:
        assert http.post(_path(), json={"username": "alice"}).status_code == 403


def test_seed_dives_and_reset(client: httpx.Client, emulator: EmulatorServer) -> None:
    answer = client.post("/_emulator/seed", json={"users": [{"username": "bob"}], "dives": [DIVE]})
    assert answer.json()["dives"] == [DIVE]
    assert client.get("/_emulator/state").json()["dives"] == [DIVE]
    assert client.post(_path(), json={"username": "bob"}).status_code == 200
    bad = client.post("/_emulator/seed", json={"dives": ["nope"]})
    assert bad.status_code == 400
    assert bad.json()["issues"][0]["message"].startswith("dives[0]: must be a UUID")
    client.post("/_emulator/reset")
    assert emulator.store.dives == []


def test_dives_persist_in_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    Store(state_file=state).create_dive(DIVE.upper())
    assert Store(state_file=state).dives == [DIVE]


def test_cli_takes_dives() -> None:
    args = build_parser().parse_args(["--dive", DIVE, "--dive", DIVE])
    assert args.dive == [DIVE, DIVE]
