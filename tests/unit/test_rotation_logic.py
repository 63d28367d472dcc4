"""Rotation logic of AccessToken without the API: check, diff, schedule and update's order.

`update` runs against a recording fake client, so the order of writes (previous token revoked
first, new token before the old one is revoked or kept) and what a failure leaves are checked
call by call; the real engine and emulator cover the same paths in tests/e2e/test_rotation.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from motherduck_provider.errors import MotherDuckError, NotFoundError, ServerError
from motherduck_provider.models import CreatedToken, TokenInfo
from motherduck_provider.resources import AccessTokenProvider, _token_core
from motherduck_provider.resources import access_token as module
from motherduck_provider.resources.access_token import _keep_until, _span, rotates_at

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "utcnow", lambda: NOW)
    monkeypatch.setattr(_token_core, "utcnow", lambda: NOW)


OLDS: dict[str, Any] = {
    "username": "etl",
    "name": "loader",
    "ttl": 30 * 86_400,
    "token_type": "read_write",
    "rotate_before": None,
    "keep_previous_for": None,
    "rotation_trigger": None,
    "adopt_token_id": None,
    "owner": "0123456789ab",
    "token": "secret-current",
    "token_id": "cur",
    "expire_at": ts(NOW + timedelta(days=20)),
    "mark": "abcdef0123",
    "previous_token": None,
    "previous_token_id": None,
    "previous_revoke_after": None,
    "sweep_after": None,
}
NEWS = {k: OLDS[k] for k in module.INPUTS} | {"owner": OLDS["owner"]}


def diff(olds: dict[str, Any], news: dict[str, Any]) -> Any:
    return AccessTokenProvider().diff("etl/first", olds, news)


def problems(**inputs: Any) -> dict[str, list[str]]:
    result = AccessTokenProvider().check({}, {"username": "etl", "name": "loader", **inputs})
    found: dict[str, list[str]] = {}
    for failure in result.failures:
        found.setdefault(failure.property, []).append(failure.reason)
    return found


# --- check ------------------------------------------------------------------------------------


def test_keep_previous_for_is_seconds_from_zero() -> None:
    assert problems(keep_previous_for=0) == {}
    assert problems(keep_previous_for=3600.0) == {}
    checked = AccessTokenProvider().check(
        {}, {"username": "etl", "name": "x", "keep_previous_for": 60.0}
    )
    assert checked.inputs["keep_previous_for"] == 60 and isinstance(
        checked.inputs["keep_previous_for"], int
    )
    (negative,) = problems(keep_previous_for=-1)["keep_previous_for"]
    assert negative.startswith("keep_previous_for: -1 is out of range; allowed 0 to 31536000")
    (fraction,) = problems(keep_previous_for=1.5)["keep_previous_for"]
    assert "must be a whole number, got 1.5" in fraction


def test_rotation_trigger_is_any_string() -> None:
    assert problems(rotation_trigger="") == {}
    assert problems(rotation_trigger="2030-01 suspected leak") == {}
    (found,) = problems(rotation_trigger=3)["rotation_trigger"]
    assert found.startswith("rotation_trigger: must be a string, got 3")


def test_tracked_tokens_take_no_rotation_settings() -> None:
    found = problems(adopt_token_id="etl/abc", keep_previous_for=60, rotation_trigger="1")
    assert found["keep_previous_for"] == [
        "keep_previous_for: 60 cannot be combined with adopt_token_id: rotating a tracked token "
        "would revoke it; manage a token of your own to rotate it"
    ]
    assert "'1' cannot be combined with adopt_token_id" in found["rotation_trigger"][0]


# --- diff ------------------------------------------------------------------------------------


def test_a_new_trigger_rotates_in_place(capsys: pytest.CaptureFixture[str]) -> None:
    result = diff(dict(OLDS), {**NEWS, "rotation_trigger": "2"})
    assert result.changes and result.replaces == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (
        "token cur ('loader'): rotation_trigger changed; rotating now: a new token, then the "
        in err
    )
    assert "old one revoked" in err


def test_a_new_trigger_with_overlap_says_how_long(capsys: pytest.CaptureFixture[str]) -> None:
    olds = {**OLDS, "rotation_trigger": "1"}
    result = diff(olds, {**NEWS, "rotation_trigger": "2", "keep_previous_for": 3600})
    assert result.changes
    assert "the old one stays valid as previous_token for 3600s" in capsys.readouterr().err


def test_removing_the_trigger_is_local(capsys: pytest.CaptureFixture[str]) -> None:
    result = diff({**OLDS, "rotation_trigger": "1"}, dict(NEWS))
    assert result.changes and result.replaces == []
    assert capsys.readouterr().err == ""


def test_keep_previous_for_alone_is_local(capsys: pytest.CaptureFixture[str]) -> None:
    result = diff(dict(OLDS), {**NEWS, "keep_previous_for": 600})
    assert result.changes and result.replaces == []
    assert capsys.readouterr().err == ""


def test_a_trigger_unknown_in_preview_may_rotate(capsys: pytest.CaptureFixture[str]) -> None:
    from pulumi.runtime.rpc import UNKNOWN

    result = diff(dict(OLDS), {**NEWS, "rotation_trigger": UNKNOWN})
    assert result.changes and capsys.readouterr().err == ""


def kept(until: datetime) -> dict[str, Any]:
    return {
        **OLDS,
        "previous_token": "secret-old",
        "previous_token_id": "old",
        "previous_revoke_after": ts(until),
    }


def test_a_kept_previous_token_is_scheduled_then_due(capsys: pytest.CaptureFixture[str]) -> None:
    waiting = diff(kept(NOW + timedelta(hours=1)), dict(NEWS))
    assert not waiting.changes
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "previous token old valid until the first `pulumi up` after 2030-01-01T13" in err

    due = diff(kept(NOW), dict(NEWS))
    assert due.changes and due.replaces == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "revoking previous token old now, its keep_previous_for window ended at" in err


def test_the_next_rotation_is_announced_within_a_week(
    capsys: pytest.CaptureFixture[str],
) -> None:
    expires = NOW + timedelta(days=10, hours=4)
    olds = {**OLDS, "expire_at": ts(expires), "rotate_before": 7 * 86_400}
    news = {**NEWS, "rotate_before": 7 * 86_400}
    assert not diff(olds, news).changes
    err = capsys.readouterr().err
    assert err == (
        f"token cur ('loader') rotates in 3 d 4 h "
        f"(rotates_at {ts(expires - timedelta(days=7))}, expires {ts(expires)})\n"
    )
    later = {**olds, "expire_at": ts(NOW + timedelta(days=30))}
    assert not diff(later, news).changes
    assert capsys.readouterr().err == ""  # a rotation more than a week away is not announced


def test_a_schedule_is_information_not_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    """A one-day token with `rotate_before` is announced at every preview: as information
    (the engine shows it plainly), while a rotation that is due stays a warning."""
    day = {**OLDS, "ttl": 86_400, "rotate_before": 3600, "expire_at": ts(NOW + timedelta(days=1))}
    news = {**NEWS, "ttl": 86_400, "rotate_before": 3600}
    assert not diff(day, news).changes
    err = capsys.readouterr().err
    assert err == (
        f"token cur ('loader') rotates in 23 h (rotates_at {ts(NOW + timedelta(hours=23))}, "
        f"expires {day['expire_at']})\n"
    )
    due = {**day, "expire_at": ts(NOW + timedelta(minutes=30))}
    assert diff(due, news).changes
    assert capsys.readouterr().err.startswith("warning: token cur ('loader') expires at ")


def test_schedule_is_one_line_per_token(capsys: pytest.CaptureFixture[str]) -> None:
    olds = {**kept(NOW + timedelta(hours=1)), "rotate_before": 20 * 86_400 - 60}
    assert not diff(olds, {**NEWS, "rotate_before": 20 * 86_400 - 60}).changes
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rotates in 1 min" in err and "previous token old" in err


def test_a_rotation_due_by_expiry_revokes_a_kept_previous_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    olds = {**kept(NOW + timedelta(hours=1)), "rotate_before": 21 * 86_400}
    result = diff(olds, {**NEWS, "rotate_before": 21 * 86_400})
    assert result.changes
    err = capsys.readouterr().err
    assert f"expires at {OLDS['expire_at']}, within rotate_before=1814400s; rotating now" in err
    assert "the previous token old is revoked first" in err and err.count("\n") == 1


def test_a_replacement_says_nothing_of_rotation(capsys: pytest.CaptureFixture[str]) -> None:
    result = diff(
        {**OLDS, "rotation_trigger": "1"}, {**NEWS, "name": "other", "rotation_trigger": "2"}
    )
    assert result.replaces == ["name"]
    assert capsys.readouterr().err == ""


# --- schedule helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (40, "40 s"),
        (60, "1 min"),
        (3 * 3600, "3 h"),
        (3 * 3600 + 125, "3 h 2 min"),
        (86_400, "1 d"),
        (3 * 86_400 + 4 * 3600 + 59, "3 d 4 h"),
        (-5, "0 s"),
    ],
)
def test_spans_read_like_a_schedule(seconds: int, text: str) -> None:
    assert _span(timedelta(seconds=seconds)) == text


def test_rotates_at_is_expiry_minus_rotate_before() -> None:
    assert rotates_at("2030-01-31T00:00:00.000Z", 7 * 86_400.0) == "2030-01-24T00:00:00.000Z"
    assert rotates_at(None, 60) is None and rotates_at("2030-01-31T00:00:00Z", None) is None


def test_the_window_never_outlives_the_old_token() -> None:
    assert _keep_until(OLDS, 0, NOW) is None
    assert _keep_until(OLDS, 3600, NOW) == NOW + timedelta(hours=1)
    assert _keep_until(OLDS, 40 * 86_400, NOW) == NOW + timedelta(days=20)
    assert _keep_until({**OLDS, "expire_at": ts(NOW)}, 3600, NOW) is None  # already expired
    assert _keep_until({**OLDS, "expire_at": None}, 60, NOW) == NOW + timedelta(seconds=60)


# --- update against a recording client ------------------------------------------------------


class FakeClient:
    """Records writes; `fail` maps ("revoke", id) or ("create", None) to an error to raise."""

    def __init__(self, live: list[str]) -> None:
        self.live = list(live)
        self.calls: list[tuple[str, str]] = []
        self.fail: dict[tuple[str, str | None], Exception] = {}
        self.made = 0

    def created_here(self, username: str) -> bool:
        return False

    def create_token(self, username: str, request: Any) -> CreatedToken:
        self.calls.append(("create", request.name))
        if ("create", None) in self.fail:
            raise self.fail[("create", None)]
        self.made += 1
        token_id = f"new{self.made}"
        self.live.append(token_id)
        return CreatedToken(
            id=token_id,
            name=request.name,
            expire_at=ts(NOW + timedelta(days=30)),
            created_ts=ts(NOW),
            read_only=False,
            token_type="read_write",
            token=SecretStr(f"secret-{token_id}"),
        )

    def revoke_token(self, username: str, token_id: str) -> None:
        self.calls.append(("revoke", token_id))
        if ("revoke", token_id) in self.fail:
            raise self.fail[("revoke", token_id)]
        if token_id not in self.live:
            raise NotFoundError("gone")
        self.live.remove(token_id)

    def list_tokens(self, username: str, *, fresh: bool = False) -> list[TokenInfo]:
        self.calls.append(("list", username))
        return [
            TokenInfo(id=t, name="x", created_ts=ts(NOW), read_only=False, token_type="read_write")
            for t in self.live
        ]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClient]:
    fake = FakeClient(["cur"])
    monkeypatch.setattr(AccessTokenProvider, "client", lambda self: fake)
    yield fake


def update(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    return dict(AccessTokenProvider().update("etl/first", olds, news).outs)


def writes(fake: FakeClient) -> list[tuple[str, str]]:
    return [call for call in fake.calls if call[0] != "list"]


def test_local_changes_call_nothing(client: FakeClient) -> None:
    outs = update(dict(OLDS), {**NEWS, "keep_previous_for": 600, "rotate_before": 3600})
    assert client.calls == []
    assert outs["keep_previous_for"] == 600 and outs["token_id"] == "cur"
    assert outs["rotates_at"] == ts(NOW + timedelta(days=20) - timedelta(hours=1))


def test_on_demand_rotation_without_overlap(client: FakeClient) -> None:
    outs = update(dict(OLDS), {**NEWS, "rotation_trigger": "1"})
    assert writes(client) == [("create", "loader [pulumi:abcdef0123]"), ("revoke", "cur")]
    assert outs["token_id"] == "new1" and outs["token"] == "secret-new1"
    assert outs["rotation_trigger"] == "1"
    assert [outs[k] for k in module.PREVIOUS] == [None, None, None]
    assert client.live == ["new1"]


def test_on_demand_rotation_with_overlap_keeps_the_old_token(client: FakeClient) -> None:
    outs = update(dict(OLDS), {**NEWS, "rotation_trigger": "1", "keep_previous_for": 3600})
    assert writes(client) == [("create", "loader [pulumi:abcdef0123]")]
    assert outs["previous_token"] == "secret-current" and outs["previous_token_id"] == "cur"
    assert outs["previous_revoke_after"] == ts(NOW + timedelta(hours=1))
    assert client.live == ["cur", "new1"]  # the sweep spared the kept token


def test_a_second_rotation_revokes_the_kept_token_first(client: FakeClient) -> None:
    client.live = ["old", "cur"]
    olds = {**kept(NOW + timedelta(hours=1)), "rotation_trigger": "1"}
    outs = update(olds, {**NEWS, "rotation_trigger": "2", "keep_previous_for": 3600})
    assert writes(client)[:2] == [("revoke", "old"), ("create", "loader [pulumi:abcdef0123]")]
    assert outs["previous_token_id"] == "cur" and client.live == ["cur", "new1"]


def test_the_first_up_after_the_window_revokes_the_previous_token(client: FakeClient) -> None:
    client.live = ["old", "cur"]
    outs = update(kept(NOW - timedelta(seconds=1)), dict(NEWS))
    assert client.calls == [("revoke", "old")]
    assert [outs[k] for k in module.PREVIOUS] == [None, None, None]
    assert outs["token_id"] == "cur" and outs["token"] == "secret-current"


def test_a_failed_revoke_of_the_kept_token_changes_nothing(client: FakeClient) -> None:
    client.live = ["old", "cur"]
    client.fail[("revoke", "old")] = ServerError(500, "INTERNAL", "boom", [])
    olds = kept(NOW + timedelta(hours=1))
    with pytest.raises(MotherDuckError, match="before rotating, nothing was changed"):
        update(olds, {**NEWS, "rotation_trigger": "2"})
    assert writes(client) == [("revoke", "old")]  # no new token whose secret would be lost


def test_a_failed_revoke_after_rotating_keeps_the_old_token_due_now(
    client: FakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.fail[("revoke", "cur")] = ServerError(500, "INTERNAL", "boom", [])
    outs = update(dict(OLDS), {**NEWS, "rotation_trigger": "1"})
    assert outs["token_id"] == "new1"
    assert outs["previous_token_id"] == "cur" and outs["previous_token"] == "secret-current"
    assert outs["previous_revoke_after"] == ts(NOW)
    assert "the next `pulumi up` revokes it" in capsys.readouterr().err
    assert client.live == ["cur", "new1"]
    assert diff(outs, {**NEWS, "rotation_trigger": "1"}).changes  # due: the next up revokes it


def test_delete_revokes_both(client: FakeClient) -> None:
    client.live = ["old", "cur"]
    AccessTokenProvider().delete("etl/first", kept(NOW + timedelta(hours=1)))
    assert client.live == []


# --- the test-only clock hook -------------------------------------------------------------


def test_the_test_clock_is_off_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from motherduck_provider.resources import _test_clock

    monkeypatch.delenv(_test_clock.TEST_CLOCK_ENV, raising=False)
    assert _test_clock.emulator_clock_now() is None


def test_the_test_clock_reads_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from motherduck_provider.errors import ConfigurationError
    from motherduck_provider.resources import _test_clock

    monkeypatch.setenv(_test_clock.TEST_CLOCK_ENV, "https://api.motherduck.com/_emulator/clock")
    with pytest.raises(ConfigurationError, match="must be a loopback URL"):
        _test_clock.emulator_clock_now()
