"""ServiceAccount(tokens=...) without the API: check names each problem's path, diff says which
token or setting changes (detailed diff keyed `tokens.<name>`), neither makes a call."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from motherduck_provider.resources import ServiceAccountProvider, _detailed_diff, _token_core
from motherduck_provider.resources import _account_tokens as tokens

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture(autouse=True)
def no_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any API call fails the test; time stands still."""

    def refuse(self: Any) -> Any:
        raise AssertionError("an API call in check or diff")

    monkeypatch.setattr(ServiceAccountProvider, "client", refuse)
    monkeypatch.setattr(_token_core, "utcnow", lambda: NOW)
    monkeypatch.setattr(tokens, "utcnow", lambda: NOW)


def check(value: Any) -> tuple[dict[str, Any], list[str]]:
    result = ServiceAccountProvider().check({}, {"username": "etl", "tokens": value})
    return result.inputs, [f.reason for f in result.failures]


def test_check_names_the_path_of_each_problem() -> None:
    _, found = check(
        {
            "reader": {"ttl": 10, "token_type": "admin"},
            "loader": {"rotate_before": 600},
            "MotherDuck Extension": {},
            "odd": {"colour": "blue"},
            "x" * 250: {},
        }
    )
    assert any(p.startswith("tokens.reader.ttl: ") for p in found), found
    assert any(p.startswith("tokens.reader.token_type: ") for p in found), found
    assert "tokens.loader.rotate_before: needs ttl: a token without expiry never rotates" in found
    assert any(p.startswith("tokens.MotherDuck Extension: name ") for p in found), found
    assert any(p.startswith("tokens.odd: unknown setting colour") for p in found), found
    assert any(p.startswith(f"tokens.{'x' * 250}: name has 250 characters") for p in found)
    assert len(found) == 6


def test_check_fills_in_defaults_and_whole_numbers() -> None:
    inputs, found = check({"reader": {"ttl": 3600.0}, "tracked": {"adopt_token_id": "etl/abc"}})
    assert not found
    assert inputs["tokens"]["reader"] == {"ttl": 3600, "token_type": "read_write"}
    assert inputs["tokens"]["tracked"] == {"adopt_token_id": "etl/abc"}  # keeps its live type


def test_check_refuses_what_a_tracked_token_cannot_do() -> None:
    _, found = check({"t": {"adopt_token_id": "other/abc", "rotation_trigger": "1"}})
    assert any(p.startswith("tokens.t.adopt_token_id: ") for p in found), found
    assert any(p.startswith("tokens.t.rotation_trigger: ") for p in found), found


def test_check_rejects_a_map_that_is_not_one() -> None:
    _, found = check(["reader"])
    assert found == ["tokens: must be a map of name to settings, got ['reader']"]


def test_unknown_values_pass_through_check() -> None:
    inputs, found = check({"reader": {"rotation_trigger": UNKNOWN, "ttl": UNKNOWN}})
    assert not found and inputs["tokens"]["reader"]["token_type"] == "read_write"
    inputs, found = check(UNKNOWN)
    assert not found and inputs["tokens"] == UNKNOWN


def state(name: str, **settings: Any) -> dict[str, Any]:
    details = {
        "ttl": settings.get("ttl"),
        "token_type": settings.get("token_type", "read_write"),
        "rotate_before": settings.get("rotate_before"),
        "keep_previous_for": None,
        "rotation_trigger": settings.get("rotation_trigger"),
        "adopt_token_id": None,
        "owner": "o",
        "token_id": f"id-{name}",
        "expire_at": settings.get("expire_at"),
        "created_ts": ts(NOW),
        "read_only": False,
        "mark": "abcdef0123",
        "previous_token_id": None,
        "previous_revoke_after": None,
        "sweep_after": None,
        "rotates_at": None,
    }
    return details


def olds(**details: dict[str, Any]) -> dict[str, Any]:
    return {
        "username": "etl",
        "adopt": False,
        "owner": "o",
        "tokens": {n: f"secret-{n}" for n in details},
        "previous_tokens": dict.fromkeys(details),
        "token_ids": {n: f"id-{n}" for n in details},
        "token_details": details,
    }


def diff(old: dict[str, Any], wanted: dict[str, Any]) -> tuple[bool, dict[str, str]]:
    news = ServiceAccountProvider().check(old, {"username": "etl", "tokens": wanted}).inputs
    news["owner"] = "o"
    result = ServiceAccountProvider().diff("etl", old, news)
    noted = _detailed_diff.take_noted()
    assert noted is not None
    return bool(result.changes), noted


def test_no_change_no_diff() -> None:
    assert diff(olds(reader=state("reader")), {"reader": {}}) == (False, {})


def test_diff_names_each_token_added_removed_or_changed() -> None:
    old = olds(reader=state("reader"), loader=state("loader", ttl=3600), gone=state("gone"))
    changed, detailed = diff(
        old,
        {
            "reader": {"rotation_trigger": "now"},  # rotates in place
            "loader": {"ttl": 7200},  # a new token, then the old one revoked
            "writer": {},
        },
    )
    assert changed
    assert detailed == {
        "tokens.reader": "UPDATE",
        "tokens.loader": "UPDATE",
        "tokens.writer": "ADD",
        "tokens.gone": "DELETE",
    }


def test_expiry_within_rotate_before_is_an_update_of_that_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    soon = ts(NOW + timedelta(minutes=10))
    later = ts(NOW + timedelta(days=30))
    old = olds(
        a=state("a", ttl=86_400, rotate_before=3600, expire_at=soon),
        b=state("b", ttl=86_400 * 60, rotate_before=3600, expire_at=later),
    )
    wanted = {
        "a": {"ttl": 86_400, "rotate_before": 3600},
        "b": {"ttl": 86_400 * 60, "rotate_before": 3600},
    }
    assert diff(old, wanted) == (True, {"tokens.a": "UPDATE"})
    assert "within rotate_before=3600s; rotating now" in capsys.readouterr().err


def test_config_sides_show_in_the_detailed_diff() -> None:
    side = {"instance_size": "standard", "cooldown_seconds": 60}
    flock = {"instance_size": "pulse", "flock_size": 1}
    old = {**olds(), "read_write": side, "read_scaling": flock}
    news = {
        "username": "etl",
        "read_write": {"instance_size": "jumbo"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 1},
    }
    result = ServiceAccountProvider().diff("etl", old, news)
    assert result.changes and _detailed_diff.take_noted() == {"read_write": "UPDATE"}


def test_outputs_keep_secrets_out_of_token_details() -> None:
    recorded = tokens.states(olds(reader=state("reader")))
    outs = tokens.outputs(recorded)
    assert outs["tokens"] == {"reader": "secret-reader"}
    assert "token" not in outs["token_details"]["reader"]
    assert "previous_token" not in outs["token_details"]["reader"]
    assert tokens.outputs(tokens.states({"username": "etl", **outs})) == outs


def test_each_token_of_an_account_has_its_own_owner_and_mark() -> None:
    news = {"username": "etl", "owner": "o", "tokens": {"a": {}, "b": {}}}
    declared = tokens.declared(news)
    assert declared["a"].owner != declared["b"].owner
    marks = {_token_core.token_mark(d) for d in declared.values()}
    assert len(marks) == 2


def test_a_name_that_is_not_an_identifier_is_quoted_in_its_path() -> None:
    assert tokens.token_path("reader") == "tokens.reader"
    assert tokens.token_path("ci bot.v2") == 'tokens["ci bot.v2"]'


@pytest.mark.parametrize(
    ("raw", "expected"), [("", 4), ("1", 1), ("3", 3), ("0", 4), ("9", 4), ("x", 4)]
)
def test_account_workers_come_from_the_environment_within_bounds(
    raw: str, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tokens.WORKERS_ENV, raw)
    assert tokens.workers() == expected


def test_one_account_worker_runs_the_jobs_in_order_on_this_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(tokens.WORKERS_ENV, "1")
    ran: list[tuple[str, threading.Thread]] = []
    jobs = {k: (lambda k=k: ran.append((k, threading.current_thread()))) for k in "cab"}
    tokens.run_all(jobs)
    assert [k for k, _ in ran] == ["c", "a", "b"]
    assert {t for _, t in ran} == {threading.current_thread()}


def test_the_calls_of_every_account_run_on_one_pool_of_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pool per create started (and ended) two threads for every account: about 0.6 ms of
    the provider's CPU per account, measured against an emulator in another process. Every
    call now goes to the process's one pool (here a small one, so the count is exact: a
    `ThreadPoolExecutor` starts a thread whenever none is idle at that instant, up to its
    size, so how many a large one starts depends on timing)."""
    monkeypatch.delenv(tokens.WORKERS_ENV, raising=False)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="the-pool")
    monkeypatch.setattr(tokens, "_pool", pool)
    used: set[threading.Thread] = set()
    try:
        for _ in range(25):
            tokens.run_all({k: (lambda: used.add(threading.current_thread())) for k in "ab"})
    finally:
        pool.shutdown()
    assert len(used) <= 2
    assert all(t.name.startswith("the-pool") for t in used)


@pytest.mark.parametrize("limit", [2, 3])
def test_at_most_the_account_workers_run_at_once(
    limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tokens.WORKERS_ENV, str(limit))
    changed = threading.Condition()
    now = [0]
    most = [0]

    def job(key: str) -> str:
        with changed:
            now[0] += 1
            most[0] = max(most[0], now[0])
            changed.notify_all()
            # Until `limit` ran at once (or 5 s): the first ones wait for the others, on a
            # loaded machine too; then none waits, and a job above the limit would show.
            changed.wait_for(lambda: most[0] >= limit, timeout=5)
            now[0] -= 1
        return key

    done = tokens.run_all({k: (lambda k=k: job(k)) for k in "abcdefg"})
    assert done == {k: k for k in "abcdefg"}
    assert list(done) == list("abcdefg")  # in the order given
    assert most[0] == limit


def test_previous_tokens_hold_only_the_secrets_still_kept() -> None:
    """State is rewritten at every engine step: a secret map of nulls cost each one-step
    account about 135 bytes of ciphertext. Only a kept previous secret is written; with none,
    no `previous_tokens` (the output reads None), and an older state's nulls read the same."""
    rotated = {**state("loader"), "previous_token_id": "id-old"}
    recorded = tokens.states(olds(reader=state("reader"), loader=rotated))
    recorded["loader"] = recorded["loader"].but(previous_token="secret-old")
    assert tokens.outputs(recorded)["previous_tokens"] == {"loader": "secret-old"}
    none_kept = tokens.outputs(tokens.states(olds(reader=state("reader"))))
    assert "previous_tokens" not in none_kept
    again = tokens.states({"username": "etl", **none_kept})
    older = tokens.states(olds(reader=state("reader")))  # previous_tokens {"reader": None}
    assert again["reader"].previous_token is older["reader"].previous_token is None
    assert tokens.outputs(again) == tokens.outputs(older) == none_kept
