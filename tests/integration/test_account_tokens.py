"""ServiceAccount(tokens=...) against the emulator, the provider called as the engine would.

The one-step form: one resource holds an account, its tokens and its Duckling configuration.
Every run must leave MotherDuck holding exactly what state says (no orphan token, no
duplicate, no lost account), under the same fault plans as the separate AccessToken, and a
refresh followed by a diff must find nothing to do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from motherduck_provider import errors
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources import ServiceAccountProvider, _late
from motherduck_provider.resources._token_core import split_marked
from tests.integration.test_fault_plans import configured, new_process

CREATE_TOKEN = "users-createToken"
DELETE_TOKEN = "users-deleteToken"
SET_CONFIG = "ducklings-setDucklingConfigForUser"
CONFIG = {
    "read_write": {"instance_size": "standard"},
    "read_scaling": {"instance_size": "pulse", "flock_size": 2},
}
ACCOUNT: dict[str, Any] = {
    "username": "etl",
    "owner": "0123456789ab",
    "tokens": {"loader": {"ttl": 3600}, "reader": {"token_type": "read_scaling"}},
    **CONFIG,
}


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    new_process()
    yield
    new_process()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    seen: list[float] = []
    monkeypatch.setattr(_late, "_sleep", seen.append)
    return seen


@dataclass
class Account:
    """One ServiceAccount's state across simulated `pulumi up` runs."""

    emulator: EmulatorServer
    inputs: dict[str, Any]
    id: str | None = None
    outs: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    diffs: list[Any] = field(default_factory=list)

    def provider(self) -> Any:
        return configured(self.emulator, ServiceAccountProvider())

    def up(self) -> bool:
        new_process()
        provider = self.provider()
        news = provider.check(self.outs, dict(self.inputs)).inputs
        try:
            if self.id is None:
                created = provider.create(news)
                self.id, self.outs = created.id, created.outs
                return True
            diff = provider.diff(self.id, self.outs, news)
            self.diffs.append(diff)
            if diff.changes:
                self.outs = provider.update(self.id, self.outs, news).outs
        except errors.MotherDuckError as exc:
            self.errors.append(str(exc))
            return False
        return True

    def clean(self) -> bool:
        """`pulumi refresh` then `preview --expect-no-changes`: True when both are clean."""
        new_process()
        provider = self.provider()
        assert self.id is not None
        read = provider.read(self.id, dict(self.outs))
        assert read.id == self.id, "refresh dropped the resource"
        news = provider.check(self.outs, dict(self.inputs)).inputs
        return bool(read.outs == self.outs and not provider.diff(self.id, read.outs, news).changes)


def assert_matches(account: Account, names: set[str]) -> None:
    """MotherDuck holds exactly the tokens state records, each secret its own token's."""
    live = {t.id: t for t in account.emulator.store.list_tokens("etl")}
    held = account.outs["token_ids"]
    assert set(held) == names, account.errors
    assert set(live) == set(held.values()), f"live {sorted(live)}, state {held}"
    for name, token_id in held.items():
        found = account.emulator.store.find_token_by_secret(account.outs["tokens"][name])
        assert found is not None and found.id == token_id
        assert split_marked(live[token_id].name)[0] == name
    assert account.clean()


def test_create_holds_account_tokens_and_config(emulator: EmulatorServer) -> None:
    account = Account(emulator, dict(ACCOUNT))
    assert account.up()
    # 1 account + 2 tokens + 1 config, no read
    assert len(emulator.store.requests) == 4
    assert_matches(account, {"loader", "reader"})
    assert emulator.store.get_config("etl")["read_scaling"]["flock_size"] == 2
    details = account.outs["token_details"]
    assert details["reader"]["token_type"] == "read_scaling" and details["reader"]["read_only"]
    assert details["loader"]["expire_at"] and details["loader"]["mark"]
    assert "token" not in details["loader"] and "previous_token" not in details["loader"]
    assert details["loader"]["mark"] != details["reader"]["mark"]


def test_rotate_one_add_and_remove(emulator: EmulatorServer) -> None:
    account = Account(emulator, dict(ACCOUNT))
    assert account.up()
    before = dict(account.outs["token_ids"])

    tokens = dict(ACCOUNT["tokens"])
    tokens["loader"] = {"ttl": 3600, "rotation_trigger": "2030-01", "keep_previous_for": 600}
    account.inputs = {**ACCOUNT, "tokens": tokens}
    assert account.up()
    ids = account.outs["token_ids"]
    assert ids["reader"] == before["reader"] and ids["loader"] != before["loader"]
    assert account.outs["token_details"]["loader"]["previous_token_id"] == before["loader"]
    assert account.outs["previous_tokens"]["loader"]
    live = {t.id for t in emulator.store.list_tokens("etl")}
    assert live == {*ids.values(), before["loader"]}  # the old one kept for its window
    assert account.clean()

    tokens = {"loader": tokens["loader"], "writer": {}}
    account.inputs = {**ACCOUNT, "tokens": tokens}
    start = len(emulator.store.requests)
    assert account.up()
    assert account.diffs[-1].changes
    ops = sorted(str(r.operation_id) for r in emulator.store.requests[start:])
    # reader revoked; writer made, after a look for tokens a killed run may have left
    assert ops == [CREATE_TOKEN, DELETE_TOKEN, "users-listTokens"]
    live = {t.id for t in emulator.store.list_tokens("etl")}
    assert live == {*account.outs["token_ids"].values(), before["loader"]}
    assert set(account.outs["token_ids"]) == {"loader", "writer"}


def test_no_change_makes_no_call(emulator: EmulatorServer) -> None:
    account = Account(emulator, dict(ACCOUNT))
    assert account.up()
    start = len(emulator.store.requests)
    assert account.up()
    assert not account.diffs[-1].changes
    assert len(emulator.store.requests) == start


def test_a_failed_token_loses_nothing_and_the_next_up_finishes(
    emulator: EmulatorServer, waits: list[float]
) -> None:
    """A token POST failing on every attempt: the account and its config are recorded (a
    failed create would lose them), with a warning; the next `up` makes the missing token."""
    account = Account(emulator, {**ACCOUNT, "tokens": {"loader": {}}})
    emulator.store.faults.error(CREATE_TOKEN, status=500, count=3, after_write=True)
    assert account.up(), account.errors
    assert emulator.store.has_user("etl")
    assert account.outs["token_ids"] == {}  # its 3 POSTs all lost their answer
    assert account.outs["read_write"]["instance_size"] == "standard"
    assert emulator.store.list_tokens("etl") == []  # what they made was swept
    assert account.up()
    assert_matches(account, {"loader"})


def test_a_failed_config_put_is_written_by_the_next_up(emulator: EmulatorServer) -> None:
    account = Account(emulator, dict(ACCOUNT))
    emulator.store.faults.error(SET_CONFIG, status=400, count=1)
    assert account.up()
    assert account.outs["read_write"] is None and len(account.outs["token_ids"]) == 2
    assert account.up()
    assert emulator.store.get_config("etl")["read_scaling"]["flock_size"] == 2
    assert_matches(account, {"loader", "reader"})


@pytest.mark.parametrize(
    "plan",
    ["lost answer once", "gateway lost answer (may land late)", "dropped after the write"],
)
def test_token_create_under_faults(emulator: EmulatorServer, waits: list[float], plan: str) -> None:
    account = Account(emulator, dict(ACCOUNT))
    faults = emulator.store.faults
    if plan == "lost answer once":
        faults.error(CREATE_TOKEN, status=500, count=1, after_write=True)
    elif plan == "dropped after the write":
        faults.drop(CREATE_TOKEN, count=1, after_write=True)
    else:
        faults.error(CREATE_TOKEN, status=503, count=1, after_write=True)
    assert account.up(), account.errors
    assert_matches(account, {"loader", "reader"})
    assert emulator.store.count(operation=CREATE_TOKEN) == 3
    if plan != "lost answer once":
        assert waits, "a request that may land late was not waited for"


def test_tokens_and_config_are_written_side_by_side(emulator: EmulatorServer) -> None:
    """After the account exists, the token POSTs and the config PUT run at once."""
    emulator.store.faults.slow(CREATE_TOKEN, seconds=0.4)
    emulator.store.faults.slow(SET_CONFIG, seconds=0.4)
    account = Account(emulator, dict(ACCOUNT))
    started = time.monotonic()
    assert account.up()
    assert time.monotonic() - started < 1.0  # three 0.4 s calls one after another: 1.2 s
    assert_matches(account, {"loader", "reader"})


def test_a_tracked_token_is_recorded_never_rotated_and_untracked_by_name(
    emulator: EmulatorServer, client: Any
) -> None:
    """`adopt_token_id` in the map: metadata only, no secret; dropping the name revokes it,
    as removing an AccessToken that tracks it does."""
    from motherduck_provider.models import CreateTokenRequest

    configured(emulator, ServiceAccountProvider()).create({"username": "etl"})
    made = client.create_token("etl", CreateTokenRequest(name="by hand"))
    tracked = {"ext": {"adopt_token_id": f"etl/{made.id}"}, "loader": {}}
    account = Account(emulator, {**ACCOUNT, "adopt": True, "tokens": tracked})
    assert account.up(), account.errors
    assert account.outs["token_ids"]["ext"] == made.id
    assert account.outs["tokens"]["ext"] is None
    assert "mark" not in account.outs["token_details"]["ext"]  # a tracked token has none
    assert account.clean()
    account.inputs = {**account.inputs, "tokens": {"loader": {}}}
    assert account.up()
    assert {t.id for t in emulator.store.list_tokens("etl")} == {
        account.outs["token_ids"]["loader"]
    }
