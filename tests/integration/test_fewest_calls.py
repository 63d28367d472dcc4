"""The call floor, counted on the emulator: 3 calls per new account, 2 reads per account on
refresh whatever its number of tokens, and "gone" still told from "error".

The providers run in this process as they would in one provider process (one shared client).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from motherduck_provider import errors
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources import (
    AccessTokenProvider,
    InstanceConfigProvider,
    ServiceAccountProvider,
)
from motherduck_provider.resources._base import ProviderBase

Configure = Callable[[ProviderBase], Any]

CONFIG = {
    "read_write": {"instance_size": "standard"},
    "read_scaling": {"instance_size": "standard", "flock_size": 2},
}
GET_CONFIG = "ducklings-getDucklingConfigForUser"
LIST_TOKENS = "users-listTokens"


def operations(emulator: EmulatorServer, start: int = 0) -> list[str]:
    return [r.operation_id or "?" for r in emulator.store.requests[start:]]


class Account:
    """One account with three tokens and a config, made through the providers."""

    def __init__(self, configure: Configure, username: str, tokens: int = 3) -> None:
        self.username = username
        self.account = configure(ServiceAccountProvider())
        self.token = configure(AccessTokenProvider())
        self.config = configure(InstanceConfigProvider())
        self.account_outs = self.account.create({"username": username}).outs
        self.tokens = []
        for i in range(tokens):
            made = self.token.create(
                {"username": username, "name": f"t{i}", "token_type": "read_write"}
            )
            self.tokens.append((made.id, made.outs))
        self.config_outs = self.config.create({"username": username, **CONFIG}).outs

    def reads(self) -> list[Callable[[], Any]]:
        """The five reads a refresh of this account makes, in state order."""
        return [
            lambda: self.account.read(self.username, self.account_outs),
            *[lambda i=i, o=o: self.token.read(i, o) for i, o in self.tokens],
            lambda: self.config.read(self.username, self.config_outs),
        ]


def test_a_new_account_takes_three_calls(emulator: EmulatorServer, configure: Configure) -> None:
    account = Account(configure, "etl_writer", tokens=1)
    assert operations(emulator) == [
        "users-createServiceAccount",
        "users-createToken",
        "ducklings-setDucklingConfigForUser",
    ]
    # The server's cooldown defaults still come back in the outputs.
    assert account.config_outs["read_write"] == {
        "instance_size": "standard",
        "cooldown_seconds": 60,
    }
    assert emulator.store.get_config("etl_writer")["read_scaling"]["flock_size"] == 2


def test_an_account_made_elsewhere_is_still_read_before_it_is_written(
    emulator: EmulatorServer, configure: Configure
) -> None:
    emulator.store.create_user(
        "legacy",
        config={
            **CONFIG,
            "read_scaling": {"instance_size": "standard", "flock_size": 2, "cooldown_seconds": 900},
        },
    )
    outs = configure(InstanceConfigProvider()).create({"username": "legacy", **CONFIG}).outs
    assert operations(emulator) == [GET_CONFIG]  # matches: no write
    assert outs["read_scaling"]["cooldown_seconds"] == 900


def test_a_new_account_deleted_before_its_config_is_reported_clearly(
    emulator: EmulatorServer, configure: Configure
) -> None:
    configure(ServiceAccountProvider()).create({"username": "short_lived"})
    emulator.store.delete_user("short_lived")
    with pytest.raises(errors.MotherDuckError, match="'short_lived' does not exist; create it"):
        configure(InstanceConfigProvider()).create({"username": "short_lived", **CONFIG})


def test_refresh_reads_an_account_twice_whatever_its_tokens(
    emulator: EmulatorServer, configure: Configure
) -> None:
    accounts = [Account(configure, f"acct_{i}") for i in range(3)]
    start = len(emulator.store.requests)
    results = [read() for account in accounts for read in account.reads()]
    assert all(r.id for r in results)
    ops = operations(emulator, start)
    assert sorted(ops) == sorted([GET_CONFIG, LIST_TOKENS] * 3), ops


def test_concurrent_reads_of_an_account_share_one_request(
    emulator: EmulatorServer, configure: Configure
) -> None:
    """The provider server runs 4 calls at once; slow answers make them overlap.

    Only these accounts' requests are counted: the emulator is shared by a worker's tests, and
    a thread an earlier test left (a late request's wait) may still be calling it."""
    accounts = [Account(configure, f"acct_{i}") for i in range(4)]
    emulator.store.faults.latency = 0.05
    start = len(emulator.store.requests)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(read) for account in accounts for read in account.reads()]
        assert all(f.result(30).id for f in futures)
    ours = [r for r in emulator.store.requests[start:] if "/acct_" in r.path]
    assert len(ours) == 2 * len(accounts), [(r.method, r.path) for r in ours]


def test_refresh_of_a_deleted_account_is_gone_in_two_calls(
    emulator: EmulatorServer, configure: Configure
) -> None:
    account = Account(configure, "gone_soon")
    emulator.store.delete_user("gone_soon")
    start = len(emulator.store.requests)
    assert [read().id for read in account.reads()] == [""] * 5
    assert sorted(operations(emulator, start)) == [GET_CONFIG, LIST_TOKENS]


def test_an_error_is_not_kept_gone_is_still_told_from_error(
    emulator: EmulatorServer, configure: Configure
) -> None:
    account = Account(configure, "flaky")
    emulator.store.faults.error(GET_CONFIG, status=500, count=1)
    account_read, *_, config_read = account.reads()
    with pytest.raises(errors.ServerError):
        account_read()  # an error fails the refresh, it never empties state
    assert config_read().id == "flaky"  # the next read asks again and succeeds
    assert emulator.store.count(operation=GET_CONFIG) == 2


def test_a_write_makes_the_next_read_ask_again(
    emulator: EmulatorServer, configure: Configure
) -> None:
    account = Account(configure, "busy", tokens=1)
    token_id, outs = account.tokens[0]
    assert account.token.read(token_id, outs).id == token_id
    account.token.delete(token_id, outs)
    assert account.token.read(token_id, outs).id == ""  # not the list read before the revoke
    assert emulator.store.count(operation=LIST_TOKENS) == 2


# --- the account holding its Duckling configuration (ManagedAccount config_in_account) -------


def test_an_account_holding_its_config_takes_the_same_calls_in_fewer_steps(
    emulator: EmulatorServer, configure: Configure
) -> None:
    """up 2 + T, refresh 2, destroy T + 1, with two resources per account instead of three."""
    account, token = configure(ServiceAccountProvider()), configure(AccessTokenProvider())
    inputs = account.check({}, {"username": "compact", **CONFIG}).inputs
    assert inputs["read_write"] == {"instance_size": "standard", "cooldown_seconds": 60}
    made = account.create(inputs)
    tokens = [
        token.create({"username": "compact", "name": f"t{i}", "token_type": "read_write"})
        for i in range(2)
    ]
    assert operations(emulator) == [
        "users-createServiceAccount",
        "ducklings-setDucklingConfigForUser",
        "users-createToken",
        "users-createToken",
    ]
    assert made.outs["read_scaling"] == {
        "instance_size": "standard",
        "flock_size": 2,
        "cooldown_seconds": 60,
    }
    assert emulator.store.get_config("compact")["read_scaling"]["flock_size"] == 2
    assert account.diff("compact", made.outs, inputs).changes is False

    start = len(emulator.store.requests)
    read = account.read("compact", made.outs)
    assert all(token.read(t.id, t.outs).id for t in tokens)
    assert sorted(operations(emulator, start)) == [GET_CONFIG, LIST_TOKENS]
    assert read.outs == made.outs and read.inputs is not None
    assert account.diff("compact", read.outs, inputs).changes is False

    bigger = account.check(
        read.outs, {**inputs, "read_scaling": {"instance_size": "jumbo", "flock_size": 4}}
    )
    assert not bigger.failures
    assert account.diff("compact", read.outs, bigger.inputs).changes is True
    start = len(emulator.store.requests)
    updated = account.update("compact", read.outs, bigger.inputs)
    assert operations(emulator, start) == ["ducklings-setDucklingConfigForUser"]
    assert updated.outs["read_scaling"]["flock_size"] == 4
    assert emulator.store.get_config("compact")["read_scaling"]["instance_size"] == "jumbo"

    start = len(emulator.store.requests)
    for t in tokens:
        token.delete(t.id, t.outs)
    account.delete("compact", updated.outs)
    assert len(operations(emulator, start)) == 3
    assert not emulator.store.has_user("compact")


def test_an_account_holding_its_config_follows_instance_configs_rules(
    emulator: EmulatorServer, configure: Configure
) -> None:
    account = configure(ServiceAccountProvider())
    bad = account.check({}, {"username": "compact", "read_write": {"instance_size": "huge"}})
    assert {f.property for f in bad.failures} == {"read_write", "read_scaling"}
    assert operations(emulator) == []
    emulator.store.create_user(
        "legacy", config={**CONFIG, "read_scaling": {"instance_size": "jumbo", "flock_size": 8}}
    )
    shrink = account.check({}, {"username": "legacy", "adopt": True, **CONFIG})
    assert {f.property for f in shrink.failures} == {"read_scaling"}
    assert all("allow_downsize=True on this ServiceAccount" in f.reason for f in shrink.failures)
    allowed = account.check(
        {}, {"username": "legacy", "adopt": True, "allow_downsize": True, **CONFIG}
    )
    assert not allowed.failures
    made = account.create(allowed.inputs)
    assert made.outs["read_scaling"]["flock_size"] == 2
    assert emulator.store.get_config("legacy")["read_scaling"]["flock_size"] == 2
