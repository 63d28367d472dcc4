"""The three providers called directly against the emulator: lifecycle and failure paths.

Each test asserts the emulator's own state, not only what the provider returned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from motherduck_provider import errors
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources import (
    AccessTokenProvider,
    InstanceConfigProvider,
    ServiceAccountProvider,
    _held,
)
from motherduck_provider.resources._base import ProviderBase

Configure = Callable[[ProviderBase], Any]


# --- ServiceAccount -----------------------------------------------------------------------


def test_service_account_lifecycle(emulator: EmulatorServer, configure: Configure) -> None:
    provider = configure(ServiceAccountProvider())
    created = provider.create({"username": "etl_writer"})
    assert created.id == "etl_writer" and emulator.store.has_user("etl_writer")
    read = provider.read("etl_writer", created.outs)
    assert read.id == "etl_writer" and read.inputs == {"username": "etl_writer"}
    provider.delete("etl_writer", created.outs)
    assert not emulator.store.has_user("etl_writer")
    provider.delete("etl_writer", created.outs)  # already gone counts as done
    assert provider.read("etl_writer", created.outs).id == ""


def test_import_and_refresh_suggest_no_adopt_and_leave_no_diff(
    emulator: EmulatorServer, configure: Configure
) -> None:
    """`pulumi import` writes its suggested code from the inputs `read` returns: `adopt` is
    there only when the stack set it, and the outputs (what a refresh compares) keep it."""
    emulator.store.create_user("legacy_etl")
    provider = configure(ServiceAccountProvider())
    imported = provider.read("legacy_etl", {})
    assert imported.inputs == {"username": "legacy_etl"}
    assert imported.outs == {"username": "legacy_etl", "adopt": False}
    program = {"username": "legacy_etl", "adopt": None}  # a program that does not set it
    assert provider.diff("legacy_etl", imported.outs, program).changes is False
    assert provider.diff("legacy_etl", imported.outs, imported.inputs).changes is False
    # A stack recorded before this change holds `adopt: false`: a refresh reads the same
    # outputs back and diff sees no change either way.
    before = {"username": "legacy_etl", "adopt": False}
    refreshed = provider.read("legacy_etl", before)
    assert refreshed.outs == before
    assert provider.diff("legacy_etl", before, refreshed.inputs).changes is False
    assert provider.diff("legacy_etl", refreshed.outs, before).changes is False
    adopted = provider.read("legacy_etl", {"username": "legacy_etl", "adopt": True})
    assert adopted.inputs == {"username": "legacy_etl", "adopt": True}
    assert (
        provider.diff("legacy_etl", adopted.outs, {"username": "legacy_etl", "adopt": True}).changes
        is False
    )


def test_existing_account_needs_adopt(emulator: EmulatorServer, configure: Configure) -> None:
    emulator.store.create_user("legacy_etl")
    provider = configure(ServiceAccountProvider())
    with pytest.raises(errors.MotherDuckError, match="set adopt=True"):
        provider.create({"username": "legacy_etl"})
    writes = emulator.store.write_count
    adopted = provider.create({"username": "legacy_etl", "adopt": True})
    assert adopted.id == "legacy_etl"
    assert emulator.store.write_count == writes  # adoption writes nothing


def test_ambiguous_create_adopts_what_the_api_made(
    emulator: EmulatorServer, configure: Configure
) -> None:
    emulator.store.faults.error("users-createServiceAccount", status=500, count=1, after_write=True)
    provider = configure(ServiceAccountProvider())
    assert provider.create({"username": "half_made"}).id == "half_made"
    assert emulator.store.has_user("half_made")
    assert emulator.store.count(operation="users-createServiceAccount") == 1


def test_failed_create_leaves_nothing(emulator: EmulatorServer, configure: Configure) -> None:
    # Each 500 is followed by a probe that proves nothing was made, and a retry (3 in all).
    emulator.store.faults.error("users-createServiceAccount", status=500, count=3)
    provider = configure(ServiceAccountProvider())
    with pytest.raises(errors.MotherDuckError, match="3 attempts"):
        provider.create({"username": "never_made"})
    assert not emulator.store.has_user("never_made")


@pytest.mark.parametrize("status", [403, 500])
def test_refresh_error_keeps_state(
    emulator: EmulatorServer, configure: Configure, status: int
) -> None:
    emulator.store.create_user("kept")
    emulator.store.faults.error("ducklings-getDucklingConfigForUser", status=status)
    provider = configure(ServiceAccountProvider())
    with pytest.raises(errors.APIError):
        provider.read("kept", {"username": "kept"})


# --- AccessToken --------------------------------------------------------------------------

TOKEN_INPUTS = {
    "username": "etl",
    "name": "loader",
    "ttl": 3600,
    "token_type": "read_write",
    "rotate_before": None,
    "adopt_token_id": None,
}


def test_token_lifecycle(emulator: EmulatorServer, configure: Configure) -> None:
    emulator.store.create_user("etl")
    provider = configure(AccessTokenProvider())
    created = provider.create(dict(TOKEN_INPUTS))
    outs = created.outs
    username, token_id = created.id.split("/")
    assert username == "etl" and token_id == outs["token_id"]
    assert emulator.store.find_token_by_secret(outs["token"]) is not None
    assert outs["expire_at"] and outs["read_only"] is False

    read = provider.read(created.id, outs)
    assert read.id == created.id and read.outs["token"] == outs["token"]
    assert read.inputs == TOKEN_INPUTS

    provider.delete(created.id, outs)
    assert emulator.store.list_tokens("etl") == []
    provider.delete(created.id, outs)  # already revoked counts as done


def test_token_revoked_elsewhere_is_gone_with_a_warning(
    emulator: EmulatorServer, configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.store.create_user("etl")
    provider = configure(AccessTokenProvider())
    created = provider.create(dict(TOKEN_INPUTS))
    emulator.store.delete_token("etl", created.outs["token_id"])
    assert provider.read(created.id, created.outs).id == ""
    assert f"token {created.outs['token_id']} of 'etl' was revoked outside Pulumi" in (
        capsys.readouterr().err
    )


def test_expired_token_is_gone_quietly(
    emulator: EmulatorServer, configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.store.create_user("etl")
    provider = configure(AccessTokenProvider())
    created = provider.create(dict(TOKEN_INPUTS))
    emulator.store.clock.advance(3601)
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    assert provider.read(created.id, dict(created.outs, expire_at=past)).id == ""
    assert "revoked" not in capsys.readouterr().err


def test_token_of_deleted_account_is_gone(emulator: EmulatorServer, configure: Configure) -> None:
    emulator.store.create_user("etl")
    provider = configure(AccessTokenProvider())
    created = provider.create(dict(TOKEN_INPUTS))
    emulator.store.delete_user("etl")
    assert provider.read(created.id, created.outs).id == ""
    provider.delete(created.id, created.outs)


def test_ambiguous_token_create_revokes_the_orphan(
    emulator: EmulatorServer, configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.store.create_user("etl")
    emulator.store.faults.drop("users-createToken", count=1, after_write=True)
    provider = configure(AccessTokenProvider())
    created = provider.create(dict(TOKEN_INPUTS))
    live = emulator.store.list_tokens("etl")
    assert [t.id for t in live] == [created.outs["token_id"]]  # no orphan, no duplicate
    assert emulator.store.count(operation="users-createToken") == 2
    assert "failed before its secret was returned" in capsys.readouterr().err


def test_track_existing_token_metadata_only(
    emulator: EmulatorServer, configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.store.create_user("etl")
    existing = emulator.store.create_token("etl", "legacy", ttl=None)
    provider = configure(AccessTokenProvider())
    writes = emulator.store.write_count
    inputs = dict(TOKEN_INPUTS, ttl=None, adopt_token_id=f"etl/{existing.record.id}")
    created = provider.create(inputs)
    assert created.id == f"etl/{existing.record.id}"
    assert created.outs["token"] is None and created.outs["expire_at"] is None
    assert "secret is shown by MotherDuck only once" in capsys.readouterr().err
    assert emulator.store.write_count == writes
    missing = dict(inputs, adopt_token_id="etl/00000000-0000-4000-8000-000000000000")
    with pytest.raises(errors.MotherDuckError, match="was not found"):
        provider.create(missing)


# --- InstanceConfig -----------------------------------------------------------------------

WANTED = {
    "username": "etl",
    "read_write": {"instance_size": "standard"},
    "read_scaling": {"instance_size": "pulse", "flock_size": 2},
}


def test_config_create_update_read_delete(
    emulator: EmulatorServer, configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.store.create_user("etl")
    provider = configure(InstanceConfigProvider())
    created = provider.create(dict(WANTED))
    assert created.outs["read_write"] == {"instance_size": "standard", "cooldown_seconds": 60}
    assert emulator.store.get_config("etl") == {
        "read_write": {"instance_size": "standard", "cooldown_seconds": 60},
        "read_scaling": {"instance_size": "pulse", "flock_size": 2},
    }
    assert provider.diff("etl", created.outs, dict(WANTED)).changes is False

    bigger = dict(WANTED, read_scaling={"instance_size": "standard", "flock_size": 4})
    updated = provider.update("etl", created.outs, bigger)
    assert updated.outs["read_scaling"]["flock_size"] == 4
    assert emulator.store.get_config("etl")["read_scaling"]["flock_size"] == 4

    read = provider.read("etl", updated.outs)
    assert read.outs == updated.outs
    assert provider.diff("etl", read.outs, bigger).changes is False

    provider.delete("etl", read.outs)
    assert capsys.readouterr().err == ""  # held until the process ends (`_held`) ...
    _held.flush()
    assert "MotherDuck has no reset" in capsys.readouterr().err  # ... the account stayed
    assert emulator.store.get_config("etl")["read_scaling"]["flock_size"] == 4


def test_unset_cooldown_keeps_live_value_until_the_size_changes(
    emulator: EmulatorServer, configure: Configure
) -> None:
    emulator.store.create_user("etl")
    provider = configure(InstanceConfigProvider())
    tuned = dict(WANTED, read_write={"instance_size": "standard", "cooldown_seconds": 900})
    outs = provider.create(tuned).outs
    relaxed = provider.update("etl", outs, dict(WANTED)).outs  # cooldown now unset
    assert relaxed["read_write"]["cooldown_seconds"] == 900
    resized = dict(WANTED, read_write={"instance_size": "mega"})
    outs = provider.update("etl", relaxed, resized).outs
    assert outs["read_write"] == {"instance_size": "mega", "cooldown_seconds": 300}
    assert emulator.store.get_config("etl")["read_write"]["cooldown_seconds"] == 300


def test_config_matching_live_needs_no_write(
    emulator: EmulatorServer, configure: Configure
) -> None:
    emulator.store.create_user("etl")
    provider = configure(InstanceConfigProvider())
    writes = emulator.store.write_count
    live = {
        "username": "etl",
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 0},
    }
    assert provider.create(live).outs["read_scaling"] == {"instance_size": "pulse", "flock_size": 0}
    assert emulator.store.write_count == writes


def test_config_of_missing_account(emulator: EmulatorServer, configure: Configure) -> None:
    provider = configure(InstanceConfigProvider())
    with pytest.raises(errors.MotherDuckError, match="does not exist"):
        provider.create(dict(WANTED))
    assert provider.read("etl", dict(WANTED)).id == ""


def test_plan_limits_surface_the_apis_words(emulator: EmulatorServer, configure: Configure) -> None:
    emulator.store.create_user("etl")
    emulator.store.faults.error("ducklings-setDucklingConfigForUser", status=400, count=1)
    provider = configure(InstanceConfigProvider())
    with pytest.raises(errors.BadRequestError, match="MotherDuck API error 400"):
        provider.create(dict(WANTED))


def test_no_reset_warning_only_for_an_account_that_stays(
    emulator: EmulatorServer, configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    """The config's delete holds its warning; the account's delete in the same run drops it."""
    accounts, configs = configure(ServiceAccountProvider()), configure(InstanceConfigProvider())
    for username in ("gone", "stays"):
        accounts.create({"username": username})
        created = configs.create({**WANTED, "username": username})
        configs.delete(username, created.outs)
    accounts.delete("GONE", {"username": "GONE"})  # usernames are case-insensitive
    assert capsys.readouterr().err == ""
    _held.flush()
    err = capsys.readouterr().err
    assert err.count("MotherDuck has no reset") == 1 and "'stays'" in err and "'gone'" not in err
    _held.flush()
    assert capsys.readouterr().err == ""  # printed once
