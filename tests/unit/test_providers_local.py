"""check, diff and serialization of the providers: everything that runs without the API."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

import motherduck_provider
from motherduck_provider.connection import Connection
from motherduck_provider.errors import ConfigurationError
from motherduck_provider.resources import (
    AccessTokenProvider,
    InstanceConfigProvider,
    ServiceAccountProvider,
)
from motherduck_provider.resources._base import _settings


def problems(result: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for failure in result.failures:
        found.setdefault(failure.property, []).append(failure.reason)
    return found


def test_public_surface_is_sorted_and_complete() -> None:
    names = motherduck_provider.__all__
    assert list(names) == sorted(names)
    for name in names:
        assert hasattr(motherduck_provider, name)


# --- check --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "rule"),
    [
        ("ab", "3 to 255"),
        ("1abc", "start with a letter"),
        ("etl-writer", "letters, digits and '_'"),
        ("a" * 256, "3 to 255"),
        (42, "must be a string"),
        (None, "is required"),
    ],
)
def test_service_account_username_rules(username: Any, rule: str) -> None:
    result = ServiceAccountProvider().check({}, {"username": username})
    reasons = problems(result)["username"]
    assert any(rule in r for r in reasons), reasons
    assert all(r.startswith("username: ") for r in reasons)


def test_unicode_usernames_are_letters_too() -> None:
    assert problems(ServiceAccountProvider().check({}, {"username": "Ünïcode_1"})) == {}


def test_token_reports_every_problem_at_once() -> None:
    result = AccessTokenProvider().check(
        {},
        {
            "username": "etl",
            "name": "MotherDuck Extension",
            "ttl": 100,
            "token_type": "admin",
            "rotate_before": -1,
            "adopt_token_id": "other/abc",
        },
    )
    found = problems(result)
    assert set(found) == {"name", "ttl", "token_type", "rotate_before", "adopt_token_id"}
    assert "reserved" in found["name"][0]
    assert "100 is out of range; allowed 300 to 31536000 seconds" in found["ttl"][0]
    assert "'admin' is not one of read_write, read_scaling" in found["token_type"][0]
    assert "names user 'other'" in found["adopt_token_id"][0]


def test_token_rotation_needs_a_ttl_larger_than_the_window() -> None:
    check = AccessTokenProvider().check
    found = problems(check({}, {"username": "etl", "name": "t", "rotate_before": 60}))
    assert "needs ttl" in found["rotate_before"][0]
    found = problems(check({}, {"username": "etl", "name": "t", "ttl": 600, "rotate_before": 600}))
    assert "less than ttl" in found["rotate_before"][0]


def test_token_check_normalizes_defaults_and_numbers() -> None:
    result = AccessTokenProvider().check({}, {"username": "etl", "name": "t", "ttl": 86400.0})
    assert result.failures == []
    assert result.inputs["token_type"] == "read_write"
    assert result.inputs["ttl"] == 86400 and isinstance(result.inputs["ttl"], int)


def test_instance_config_rules() -> None:
    result = InstanceConfigProvider().check(
        {},
        {
            "username": "etl",
            "read_write": {"instance_size": "pulse", "cooldown_seconds": 300, "colour": "red"},
            "read_scaling": {"instance_size": "huge", "flock_size": 65, "cooldown_seconds": 10},
        },
    )
    found = problems(result)
    rw = " | ".join(found["read_write"])
    rs = " | ".join(found["read_scaling"])
    assert "cannot be set with instance_size 'pulse'" in rw
    assert "colour: unknown setting" in rw
    assert "'huge' is not one of pulse, standard, jumbo, mega, giga" in rs
    assert "flock_size: 65 is out of range; allowed 0 to 64" in rs
    missing = problems(InstanceConfigProvider().check({}, {"username": "etl"}))
    assert "is required" in missing["read_write"][0] and "is required" in missing["read_scaling"][0]
    fraction = problems(
        InstanceConfigProvider().check(
            {},
            {
                "username": "etl",
                "read_write": {"instance_size": "standard"},
                "read_scaling": {"instance_size": "pulse", "flock_size": 2.5},
            },
        )
    )
    assert "whole number" in fraction["read_scaling"][0]


def test_service_account_config_follows_instance_config_rules() -> None:
    """One set of rules: the account's config is checked by InstanceConfig's functions."""
    provider = ServiceAccountProvider()
    plain = provider.check({}, {"username": "etl"})
    assert not plain.failures and "read_write" not in plain.inputs
    config = {
        "read_write": {"instance_size": "jumbo", "cooldown_seconds": 5},
        "read_scaling": {"instance_size": "pulse", "flock_size": 99, "extra": 1},
    }
    found = problems(provider.check({}, {"username": "etl", **config}))
    expected = problems(InstanceConfigProvider().check({}, {"username": "etl", **config}))
    assert found == expected and set(found) == {"read_write", "read_scaling"}
    one_side = problems(provider.check({}, {"username": "etl", "read_write": config["read_write"]}))
    assert any("is required" in r for r in one_side["read_scaling"])
    assert "allow_downsize" in problems(
        provider.check({}, {"username": "etl", "allow_downsize": "yes"})
    )
    good = provider.check(
        {},
        {
            "username": "etl",
            "read_write": {"instance_size": "standard"},
            "read_scaling": {"instance_size": "pulse", "flock_size": 2.0},
        },
    )
    assert not good.failures
    assert good.inputs["read_write"] == {"instance_size": "standard", "cooldown_seconds": 60}
    assert good.inputs["read_scaling"] == {"instance_size": "pulse", "flock_size": 2}


def test_service_account_config_diff_updates_in_place() -> None:
    provider = ServiceAccountProvider()
    olds = {
        "username": "etl",
        "adopt": False,
        "read_write": {"instance_size": "standard", "cooldown_seconds": 60},
        "read_scaling": {"instance_size": "pulse", "flock_size": 2},
    }
    same = {**olds, "read_write": {"instance_size": "standard"}}
    assert provider.diff("etl", olds, same).changes is False
    bigger = {**olds, "read_scaling": {"instance_size": "pulse", "flock_size": 3}}
    diff = provider.diff("etl", olds, bigger)
    assert diff.changes is True and not diff.replaces
    taken_over = provider.diff("etl", {"username": "etl", "adopt": False}, olds)
    assert taken_over.changes is True and not taken_over.replaces
    plain = {"username": "etl", "adopt": False}
    assert provider.diff("etl", plain, dict(plain)).changes is False


def test_unknown_values_pass_through_check() -> None:
    news = {
        "username": UNKNOWN,
        "read_write": {"instance_size": UNKNOWN, "cooldown_seconds": 120},
        "read_scaling": UNKNOWN,
    }
    result = InstanceConfigProvider().check({}, news)
    assert result.failures == []
    assert result.inputs["username"] == UNKNOWN
    token = AccessTokenProvider().check({}, {"username": UNKNOWN, "name": UNKNOWN, "ttl": UNKNOWN})
    assert token.failures == []


# --- diff ---------------------------------------------------------------------------------

TOKEN_OLDS = {
    "username": "etl",
    "name": "t",
    "ttl": 86400,
    "token_type": "read_write",
    "rotate_before": None,
    "adopt_token_id": None,
    "token_id": "abc",
    "expire_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
}


def token_news(**changes: Any) -> dict[str, Any]:
    base = {k: TOKEN_OLDS[k] for k in ("username", "name", "ttl", "token_type")}
    base.update({"rotate_before": None, "adopt_token_id": None})
    base.update(changes)
    return base


def test_token_diff_no_change_and_replace_per_field() -> None:
    diff = AccessTokenProvider().diff
    assert diff("etl/abc", TOKEN_OLDS, token_news()).changes is False
    for key, value in [("name", "u"), ("ttl", 600), ("token_type", "read_scaling")]:
        result = diff("etl/abc", TOKEN_OLDS, token_news(**{key: value}))
        assert result.changes and result.replaces == [key]
        assert result.delete_before_replace is False
    in_place = diff("etl/abc", TOKEN_OLDS, token_news(rotate_before=60))
    assert in_place.changes and in_place.replaces == []


def test_token_diff_rotation_and_expiry(capsys: pytest.CaptureFixture[str]) -> None:
    diff = AccessTokenProvider().diff
    soon = dict(TOKEN_OLDS, expire_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert diff("etl/abc", soon, token_news(rotate_before=600)).replaces == []
    rotating = diff("etl/abc", soon, token_news(rotate_before=7200))
    assert rotating.changes and rotating.replaces == []  # rotation is an in-place update
    assert "within rotate_before=7200s" in capsys.readouterr().err
    expired = dict(TOKEN_OLDS, expire_at="2020-01-01T00:00:00Z")
    rotating = diff("etl/abc", expired, token_news())
    assert rotating.changes and rotating.replaces == []
    assert "expired at 2020-01-01T00:00:00Z" in capsys.readouterr().err


CONFIG_OLDS = {
    "username": "etl",
    "read_write": {"instance_size": "standard", "cooldown_seconds": 60},
    "read_scaling": {"instance_size": "pulse", "flock_size": 2},
}


def test_config_diff_ignores_server_filled_cooldowns() -> None:
    diff = InstanceConfigProvider().diff
    news = {
        "username": "etl",
        "read_write": {"instance_size": "standard"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 2},
    }
    assert diff("etl", CONFIG_OLDS, news).changes is False
    bigger = dict(news, read_scaling={"instance_size": "pulse", "flock_size": 4})
    result = diff("etl", CONFIG_OLDS, bigger)
    assert result.changes and result.replaces == []
    cooldown = dict(news, read_write={"instance_size": "standard", "cooldown_seconds": 300})
    assert diff("etl", CONFIG_OLDS, cooldown).changes
    moved = diff("other", CONFIG_OLDS, dict(news, username="other"))
    assert moved.replaces == ["username"]


# --- serialization and configure ----------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [ServiceAccountProvider, AccessTokenProvider, InstanceConfigProvider]
)
def test_pickled_provider_is_stable_and_holds_no_secret(cls: type[Any]) -> None:
    provider = cls()
    first = serialize_provider(provider)
    provider.configure(ConfigureRequest(Config({"motherduck:token": "very-secret-admin"}, "proj")))
    second = serialize_provider(provider)
    assert first == second == serialize_provider(cls())
    raw = base64.b64decode(second)
    assert b"very-secret-admin" not in raw
    # By reference to a function of `motherduck_provider.stored`, not by value.
    assert raw.startswith(b"\x80\x04\x95") and b"motherduck_provider.stored" in raw
    assert cls.__module__.encode() not in raw and len(second) == 76 - 4 * (cls.stored_as == "token")
    assert type(dill.loads(raw)) is cls
    assert not cls.serialize_as_secret_always


# What every stack written before `motherduck_provider.stored` holds (tests/fixtures/upgrade).
BY_CLASS = {
    ServiceAccountProvider: "gASVUgAAAAAAAACMLW1vdGhlcmR1Y2tfcHJvdmlkZXIucmVzb3VyY2VzLnNlcnZp"
    "Y2VfYWNjb3VudJSMFlNlcnZpY2VBY2NvdW50UHJvdmlkZXKUk5QpgZR9lGIu",
}


def test_a_provider_pickled_by_class_still_loads_and_a_new_one_is_shorter() -> None:
    """A stack's state holds the pickle its last update wrote: the classes keep their paths."""
    for cls, blob in BY_CLASS.items():
        old = dill.loads(base64.b64decode(blob))
        assert type(old) is cls and old._connection is None
        assert len(serialize_provider(cls())) == len(blob) - 48


def test_a_provider_with_no_stored_function_pickles_by_class_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`stored_as` None: pickle's default, the very bytes stacks hold from before."""
    monkeypatch.setattr(ServiceAccountProvider, "stored_as", None)
    assert serialize_provider(ServiceAccountProvider()) == BY_CLASS[ServiceAccountProvider]
    named = ServiceAccountProvider(Connection(token_env="SECOND_MD_TOKEN"))
    restored = dill.loads(base64.b64decode(serialize_provider(named)))
    assert restored._connection == named._connection


def test_configure_keeps_the_token_off_the_provider() -> None:
    provider = ServiceAccountProvider()
    provider.configure(ConfigureRequest(Config({"motherduck:token": "tok-123"}, "proj")))
    assert provider.__dict__ == {}
    assert "tok-123" not in repr(_settings[provider])


def test_configure_rejects_bad_url_at_once_and_defers_missing_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MOTHERDUCK_ADMIN_TOKEN", "MOTHERDUCK_TOKEN", "MOTHERDUCK_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    provider = ServiceAccountProvider()
    with pytest.raises(ConfigurationError, match="only https"):
        provider.configure(ConfigureRequest(Config({"motherduck:apiUrl": "http://x.io"}, "p")))
    provider.configure(ConfigureRequest(Config({}, "p")))
    with pytest.raises(ConfigurationError, match="MOTHERDUCK_ADMIN_TOKEN"):
        provider.client()


def test_configure_rejects_a_bad_worker_count_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`MOTHERDUCK_PROVIDER_WORKERS`: the calls Pulumi's provider server runs at once."""
    monkeypatch.setenv("MOTHERDUCK_PROVIDER_WORKERS", "many")
    with pytest.raises(ConfigurationError, match="MOTHERDUCK_PROVIDER_WORKERS='many': must be"):
        ServiceAccountProvider().configure(ConfigureRequest(Config({}, "p")))
    monkeypatch.setenv("MOTHERDUCK_PROVIDER_WORKERS", "32")
    ServiceAccountProvider().configure(ConfigureRequest(Config({}, "p")))  # not in the server


def test_configure_rejects_a_bad_late_request_wait_at_once() -> None:
    provider = AccessTokenProvider()
    bad = Config({"motherduck:token": "t", "motherduck:lateRequestWait": "-5"}, "p")
    with pytest.raises(ConfigurationError, match="motherduck:lateRequestWait"):
        provider.configure(ConfigureRequest(bad))
    provider.configure(ConfigureRequest(Config({"motherduck:token": "t"}, "p")))
    assert provider.late_wait() == 120.0
    other = Config({"motherduck:token": "t", "motherduck:lateRequestWait": "15"}, "p")
    provider.configure(ConfigureRequest(other))
    assert provider.late_wait() == 15.0


def test_configure_rejects_a_bad_rate_limit_wait_at_once() -> None:
    provider = AccessTokenProvider()
    bad = Config({"motherduck:token": "t", "motherduck:rateLimitWait": "soon"}, "p")
    with pytest.raises(ConfigurationError, match="motherduck:rateLimitWait"):
        provider.configure(ConfigureRequest(bad))


def test_numbers_from_the_engine_read_as_written() -> None:
    """The engine sends every number as a float; messages must still say 300, not 300.0."""
    result = InstanceConfigProvider().check(
        {},
        {
            "username": "etl",
            "read_write": {"instance_size": "pulse", "cooldown_seconds": 300.0},
            "read_scaling": {"instance_size": "pulse", "flock_size": 2.0},
        },
    )
    assert [f.reason for f in result.failures] == [
        "read_write: cooldown_seconds (300) cannot be set with instance_size 'pulse'"
    ]
    token = AccessTokenProvider().check(
        {}, {"username": "etl", "name": "t", "ttl": 600.0, "rotate_before": 900.0}
    )
    assert "900 must be less than ttl (600)" in token.failures[0].reason


TRACKED_OLDS = dict(
    TOKEN_OLDS,
    adopt_token_id="etl/abc",
    token_type="read_scaling",  # the live type, recorded at adoption
    ttl=None,
    expire_at="2020-01-01T00:00:00Z",  # even expired: never replaced while tracked
)


def tracked_news(**changes: Any) -> dict[str, Any]:
    checked = AccessTokenProvider().check(
        {}, {"username": "etl", "name": "t", "adopt_token_id": "etl/abc", **changes}
    )
    assert checked.failures == []
    return checked.inputs


def test_tracked_token_is_never_replaced_in_place_of_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Replacing a tracked token would re-adopt the same id, then revoke it."""
    diff = AccessTokenProvider().diff
    same = diff("etl/abc", TRACKED_OLDS, tracked_news())
    assert same.changes is False and same.replaces == []
    assert "remove adopt_token_id" in capsys.readouterr().err
    renamed = diff("etl/abc", TRACKED_OLDS, tracked_news(name="better-label"))
    assert renamed.changes and renamed.replaces == []
    other = diff("etl/abc", TRACKED_OLDS, tracked_news(adopt_token_id="etl/def"))
    assert "adopt_token_id" in other.replaces


def test_tracked_token_cannot_rotate() -> None:
    found = problems(
        AccessTokenProvider().check(
            {},
            {
                "username": "etl",
                "name": "t",
                "ttl": 600,
                "rotate_before": 60,
                "adopt_token_id": "abc",
            },
        )
    )
    assert "cannot be combined with adopt_token_id" in found["rotate_before"][0]
