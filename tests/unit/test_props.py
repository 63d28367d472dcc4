"""The typed views of props (`resources/_props.py`) give back the dicts they read: state written
by any version reads and writes unchanged, key for key."""

from __future__ import annotations

from typing import Any

from motherduck_provider.resources._props import (
    TOKEN_KEYS,
    AccountState,
    DucklingState,
    TokenFields,
    TokenMetadata,
    TokenSettings,
    TokenState,
)

FULL: dict[str, Any] = {
    "username": "etl",
    "name": "ci",
    "ttl": 86400.0,
    "token_type": "read_write",
    "rotate_before": 3600.0,
    "keep_previous_for": None,
    "rotation_trigger": "1",
    "adopt_token_id": None,
    "owner": "o",
    "token": "secret",
    "token_id": "t1",
    "expire_at": "2030-01-02T12:00:00.000Z",
    "created_ts": "2030-01-01T12:00:00.000Z",
    "read_only": False,
    "mark": "abcdef0123",
    "previous_token": None,
    "previous_token_id": None,
    "previous_revoke_after": None,
    "sweep_after": None,
    "rotates_at": "2030-01-02T11:00:00.000Z",
}


def test_the_keyword_types_name_every_field() -> None:
    assert set(TokenFields.__annotations__) == set(TOKEN_KEYS) == set(FULL)
    assert set(TokenMetadata.__annotations__) <= set(TOKEN_KEYS)


def test_a_token_state_reads_and_writes_the_same_dict() -> None:
    assert TokenState.from_props(FULL).to_props() == FULL
    # An older stack: keys it never had stay absent, keys this version does not know stay.
    legacy = {k: v for k, v in FULL.items() if k not in ("mark", "sweep_after", "owner")}
    legacy["retired_key"] = 7
    assert TokenState.from_props({**legacy, "__provider": "p"}).to_props() == legacy


def test_only_what_is_set_is_added() -> None:
    legacy = TokenState.from_props({"token_id": "t1"})
    assert legacy.but(sweep_after=None).to_props() == {"token_id": "t1", "sweep_after": None}
    assert legacy.recording("token").to_props() == {"token_id": "t1", "token": None}
    assert legacy.without_previous().to_props() == {
        "token_id": "t1",
        "previous_token": None,
        "previous_token_id": None,
        "previous_revoke_after": None,
    }


def test_token_settings_leave_out_an_empty_owner() -> None:
    assert "owner" not in TokenSettings.from_props({"username": "etl", "owner": ""}).to_props()
    assert "owner" not in TokenState.new(TokenSettings(username="etl", name="ci")).to_props()
    assert TokenSettings(owner="o").to_props()["owner"] == "o"


def test_an_account_state_writes_what_it_holds() -> None:
    config = {"read_write": {"instance_size": "pulse"}, "read_scaling": None}
    assert AccountState("etl", True).to_props() == {"username": "etl", "adopt": True}
    holding = AccountState.from_props({"username": "etl", "adopt": False, **config})
    assert holding.records_config and holding.to_props() == {
        "username": "etl",
        "adopt": False,
        **config,
    }
    tokens = {
        "tokens": {"ci": "secret"},
        "previous_tokens": {"ci": None},
        "token_ids": {"ci": "t1"},
        "token_details": {
            "ci": {k: v for k, v in FULL.items() if k not in ("token", "previous_token")}
        },
    }
    del tokens["token_details"]["ci"]["username"], tokens["token_details"]["ci"]["name"]
    outs = {"username": "etl", "adopt": False, **tokens, "owner": "o"}
    written = AccountState.from_props(outs).to_props()
    # Null fields of `token_details` (older stacks wrote them) are left out: they read the
    # same, and the engine diffs a null as absent (no refresh change).
    details = tokens["token_details"]["ci"]
    assert None in details.values()
    # So is a map of no kept previous secret (`previous_tokens` then reads None).
    assert written == {
        **{k: v for k, v in outs.items() if k != "previous_tokens"},
        "token_details": {"ci": {k: v for k, v in details.items() if v is not None}},
    }


def test_a_duckling_state_reads_and_writes_the_same_dict() -> None:
    outs = {
        "username": "etl",
        "read_write": {"instance_size": "standard", "cooldown_seconds": 60},
        "read_scaling": {"instance_size": "pulse", "flock_size": 0},
    }
    assert DucklingState.from_props(outs).to_props() == outs
