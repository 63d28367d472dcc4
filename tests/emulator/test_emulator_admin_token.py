"""Admin-token rotation and the header-echoing gateway page: the emulator's tools for testing
how clients handle a changed admin token and keep credentials out of error text."""

from __future__ import annotations

import httpx
import pytest

from motherduck_provider.emulator import EmulatorServer, FaultRule


def _get(emulator: EmulatorServer, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "emulator-tests/1"}
    return httpx.get(f"{emulator.url}/v1/users/alice/instances", headers=headers).status_code


def test_rotation_refuses_the_old_token_until_reset(emulator: EmulatorServer, alice: str) -> None:
    first = emulator.admin_token
    new = emulator.rotate_admin_token("md-rotated-admin-token")
    assert new == "md-rotated-admin-token" == emulator.admin_token
    assert (_get(emulator, first), _get(emulator, new)) == (401, 200)
    emulator.store.reset()
    emulator.store.create_user("alice")
    assert emulator.admin_token == first
    assert (_get(emulator, first), _get(emulator, new)) == (200, 401)


def test_rotation_through_the_control_plane(emulator: EmulatorServer, alice: str) -> None:
    first = emulator.admin_token
    answer = httpx.post(f"{emulator.url}/_emulator/admin-token", json={})
    assert answer.status_code == 200
    random_token = answer.json()["admin_token"]
    assert random_token not in (first, "") and emulator.admin_token == random_token
    assert (_get(emulator, first), _get(emulator, random_token)) == (401, 200)
    chosen = httpx.post(f"{emulator.url}/_emulator/admin-token", json={"token": " chosen-one "})
    assert chosen.json() == {"admin_token": "chosen-one"}
    assert _get(emulator, "chosen-one") == 200
    bad = httpx.post(f"{emulator.url}/_emulator/admin-token", json={"token": 7})
    assert bad.status_code == 400 and "token: must be" in bad.text


def test_echoing_gateway_page(emulator: EmulatorServer, client: httpx.Client, alice: str) -> None:
    emulator.store.faults.error("users-listTokens", 502, count=1, echo_headers=True)
    answer = client.get("/v1/users/alice/tokens")
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert f"Authorization: Bearer {emulator.admin_token}" in answer.text
    assert "GET /v1/users/alice/tokens" in answer.text
    assert client.get("/v1/users/alice/tokens").status_code == 200


def test_echo_headers_rule_fields() -> None:
    rule = FaultRule.parse("error@users-createToken,status=503,echo_headers=true")
    assert rule.echo_headers and rule.to_dict()["echo_headers"] is True
    with pytest.raises(ValueError, match="echo_headers: only applies to kind error"):
        FaultRule("drop", echo_headers=True)
    with pytest.raises(ValueError, match="echo_headers: must be true or false"):
        FaultRule.parse("error,echo_headers=maybe")
