"""Issue 10 without the engine: config aliases and sources, the adoption guard, known cooldowns,
rename and collision detection, validation before registration, the emulator's missing extra."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime.rpc import UNKNOWN

from motherduck_provider.config import (
    plaintext_token_keys,
    plaintext_token_warning,
    resolve_settings,
    resolve_timeout,
)
from motherduck_provider.connection import Connection
from motherduck_provider.errors import ConfigurationError
from motherduck_provider.models import DucklingConfig
from motherduck_provider.resources import (
    AccessTokenProvider,
    InstanceConfigProvider,
    ServiceAccountProvider,
    _held,
    _program,
    service_account,
)
from motherduck_provider.resources.instance_config import (
    MAY_EXIST,
    known_cooldown,
    live_changes,
    shrinks,
)
from motherduck_provider.rules import DEFAULT_COOLDOWN, size_shrinks


def reasons(result: Any) -> list[str]:
    return [f.reason for f in result.failures]


@pytest.fixture(autouse=True)
def fresh_run() -> Iterator[None]:
    """Each test is its own run: provider-process and program memories start empty."""
    service_account._declared.clear()
    service_account._leaving.clear()
    yield
    service_account._declared.clear()
    service_account._leaving.clear()


# --- config: Terraform names, conflicts, where the token came from -----------------------


def test_terraform_names_are_aliases() -> None:
    cfg = {
        "motherduck:adminToken": " tf-token ",
        "motherduck:apiBaseUrl": "https://api.eu.motherduck.com/",
        "motherduck:requestTimeoutSeconds": "12",
    }
    settings = resolve_settings(cfg, {"MOTHERDUCK_ADMIN_TOKEN": "env"})
    assert settings.token.reveal() == "tf-token"
    assert settings.api_url == "https://api.eu.motherduck.com"
    assert settings.timeout == 12.0
    assert settings.token_source == "motherduck:adminToken"


def test_both_names_equal_is_fine_and_different_is_refused_without_values() -> None:
    same = {"motherduck:token": "t-1", "motherduck:adminToken": "t-1"}
    assert resolve_settings(same, {}).token_source == "motherduck:token"
    assert (
        resolve_timeout(
            {"motherduck:requestTimeout": "5", "motherduck:requestTimeoutSeconds": "5.0"}
        )
        == 5
    )
    with pytest.raises(ConfigurationError) as info:
        resolve_settings({"motherduck:token": "secret-a", "motherduck:adminToken": "secret-b"}, {})
    text = str(info.value)
    assert "motherduck:token and motherduck:adminToken are both set, to different values" in text
    assert "secret-a" not in text and "secret-b" not in text
    with pytest.raises(ConfigurationError, match="motherduck:apiUrl and motherduck:apiBaseUrl"):
        resolve_settings(
            {
                "motherduck:apiUrl": "https://a.example",
                "motherduck:apiBaseUrl": "https://b.example",
            },
            {"MOTHERDUCK_TOKEN": "t"},
        )
    with pytest.raises(ConfigurationError, match="motherduck:requestTimeoutSeconds must be"):
        resolve_timeout({"motherduck:requestTimeoutSeconds": "soon"})


@pytest.mark.parametrize(
    ("config", "env", "source"),
    [
        ({"motherduck:token": "a"}, {"MOTHERDUCK_TOKEN": "b"}, "motherduck:token"),
        ({}, {"MOTHERDUCK_ADMIN_TOKEN": "a", "MOTHERDUCK_TOKEN": "b"}, "MOTHERDUCK_ADMIN_TOKEN"),
        ({}, {"MOTHERDUCK_TOKEN": "duckdb"}, "MOTHERDUCK_TOKEN"),
    ],
)
def test_token_source_names_the_key_never_the_value(
    config: dict[str, str], env: dict[str, str], source: str
) -> None:
    settings = resolve_settings(config, env)
    assert settings.token_source == source
    assert settings.token.reveal() not in settings.token_source


def test_plaintext_token_keys() -> None:
    values = {"motherduck:token": "x", "motherduck:adminToken": "y"}
    assert plaintext_token_keys(values, {"motherduck:token"}) == ["motherduck:adminToken"]
    assert plaintext_token_keys({"motherduck:token": " "}, set()) == []
    text = plaintext_token_warning(["motherduck:token"])
    assert "pulumi config set --secret motherduck:token`" in text and "x" not in text.split()


# --- InstanceConfig: known cooldowns, changes, shrinking -------------------------------------


def test_known_cooldown() -> None:
    std = {"instance_size": "standard"}
    assert known_cooldown(std, {"instance_size": "standard", "cooldown_seconds": 90}) == {
        **std,
        "cooldown_seconds": 90,
    }
    assert known_cooldown(std, {"instance_size": "giga", "cooldown_seconds": 900}) == {
        **std,
        "cooldown_seconds": 60,
    }
    assert known_cooldown({"instance_size": "mega"}, None, new_account=True) == {
        "instance_size": "mega",
        "cooldown_seconds": DEFAULT_COOLDOWN["mega"],
    }
    # Unknown (no reference, legacy inputs without a cooldown), pulse, set by the user: as is.
    assert known_cooldown(std, None) == std
    assert known_cooldown(std, {"instance_size": "standard"}) == std
    assert known_cooldown({"instance_size": "pulse"}, None, new_account=True) == {
        "instance_size": "pulse"
    }
    mine = {"instance_size": "standard", "cooldown_seconds": 120}
    assert known_cooldown(mine, {"instance_size": "standard", "cooldown_seconds": 90}) == mine
    assert known_cooldown({"instance_size": UNKNOWN}, None, new_account=True) == {
        "instance_size": UNKNOWN
    }


def test_live_changes_and_shrinks() -> None:
    live = {
        "read_write": {"instance_size": "jumbo", "cooldown_seconds": 600},
        "read_scaling": {"instance_size": "jumbo", "flock_size": 6, "cooldown_seconds": 60},
    }
    wanted = {
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "jumbo", "flock_size": 6},
    }
    assert live_changes(live, wanted) == [
        ("read_write.instance_size", "jumbo", "pulse"),
        ("read_write.cooldown_seconds", 600, None),
    ]
    assert shrinks("read_write.instance_size", "jumbo", "pulse")
    assert not shrinks("read_write.instance_size", "pulse", "giga")
    assert shrinks("read_scaling.flock_size", 6, 0) and not shrinks("read_scaling.flock_size", 0, 6)
    assert not shrinks("read_write.cooldown_seconds", 600, 60)
    assert size_shrinks("giga", "mega") and not size_shrinks("mega", "mega")


class FakeClient:
    def __init__(self, live: dict[str, Any] | None) -> None:
        self.live = live
        self.calls = 0

    def get_duckling_config(self, username: str, **_: Any) -> DucklingConfig:
        self.calls += 1
        if self.live is None:
            from motherduck_provider.errors import NotFoundError

            raise NotFoundError(404, "NOT_FOUND", "no such user", [])
        return DucklingConfig.model_validate(self.live)


def ic_provider(
    monkeypatch: pytest.MonkeyPatch, live: dict[str, Any] | None
) -> tuple[InstanceConfigProvider, FakeClient]:
    fake = FakeClient(live)
    provider = InstanceConfigProvider()
    monkeypatch.setattr(provider, "client", lambda: fake)
    return provider, fake


LIVE = {
    "read_write": {"instance_size": "jumbo", "cooldown_seconds": 600},
    "read_scaling": {"instance_size": "jumbo", "flock_size": 6, "cooldown_seconds": 60},
}


def ic_news(**extra: Any) -> dict[str, Any]:
    return {
        "username": "legacy",
        "read_write": {"instance_size": "pulse"},
        "read_scaling": {"instance_size": "jumbo", "flock_size": 0.0},
        **extra,
    }


def test_adopting_reads_live_and_refuses_to_shrink(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    provider, fake = ic_provider(monkeypatch, LIVE)
    result = provider.check({}, ic_news(**{MAY_EXIST: True}))
    assert fake.calls == 1
    assert MAY_EXIST not in result.inputs
    assert {f.property for f in result.failures} == {"read_write", "read_scaling"}
    assert any("instance_size 'pulse' would shrink the live 'jumbo'" in r for r in reasons(result))
    assert any("flock_size 0 would shrink the live 6" in r for r in reasons(result))
    err = capsys.readouterr().err
    assert "read_write.instance_size: 'jumbo' -> 'pulse'" in err
    assert "read_scaling.flock_size: 6 -> 0" in err
    # The live cooldown of the unchanged read-scaling size is kept, so it is no change.
    assert result.inputs["read_scaling"]["cooldown_seconds"] == 60

    allowed = provider.check({}, ic_news(**{MAY_EXIST: True, "allow_downsize": True}))
    assert allowed.failures == []
    assert "will change its live Duckling configuration" in capsys.readouterr().err


def test_no_read_for_new_accounts_unknown_names_or_updates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    provider, fake = ic_provider(monkeypatch, LIVE)
    new = provider.check({}, ic_news(**{MAY_EXIST: False}))
    assert new.failures == [] and fake.calls == 0
    assert new.inputs["read_scaling"]["cooldown_seconds"] == DEFAULT_COOLDOWN["jumbo"]
    provider.check({}, ic_news(username=UNKNOWN, **{MAY_EXIST: True}))
    provider.check({}, ic_news(**{MAY_EXIST: UNKNOWN}))
    olds = {
        **ic_news(),
        "read_scaling": {"instance_size": "jumbo", "flock_size": 6, "cooldown_seconds": 90},
    }
    update = provider.check(olds, ic_news(**{MAY_EXIST: True}))
    assert fake.calls == 0 and update.failures == []
    assert update.inputs["read_scaling"]["cooldown_seconds"] == 90
    assert capsys.readouterr().err == ""


def test_adopting_an_account_that_is_not_there_says_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    provider, fake = ic_provider(monkeypatch, None)
    assert provider.check({}, ic_news(**{MAY_EXIST: True})).failures == []
    assert fake.calls == 1 and capsys.readouterr().err == ""


def test_allow_downsize_must_be_a_bool() -> None:
    result = InstanceConfigProvider().check({}, ic_news(allow_downsize="yes"))
    assert reasons(result) == ["allow_downsize: must be true or false, got 'yes'"]


# --- rename, collisions, "no reset" -----------------------------------------------------


def test_rename_warns_and_silences_the_no_reset_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    diff = ServiceAccountProvider().diff(
        "etl_old", {"username": "etl_old"}, {"username": "etl_new"}
    )
    assert diff.replaces == ["username"]
    err = capsys.readouterr().err
    assert "service account 'etl_old' will be DELETED" in err and "'etl_new'" in err
    assert service_account.account_leaves("ETL_OLD")

    props = {
        "read_write": {"instance_size": "jumbo"},
        "read_scaling": {"instance_size": "pulse", "flock_size": 0},
    }
    InstanceConfigProvider().delete("etl_old", props)
    assert capsys.readouterr().err == ""
    InstanceConfigProvider().delete("external", props)
    _held.flush()
    err = capsys.readouterr().err
    assert "MotherDuck has no reset" in err
    assert "(read_write jumbo, read_scaling pulse x 0) for as long as it exists" in err


def test_rename_to_an_unknown_username_says_may(capsys: pytest.CaptureFixture[str]) -> None:
    ServiceAccountProvider().diff("etl", {"username": "etl"}, {"username": UNKNOWN})
    assert "service account 'etl' may be DELETED" in capsys.readouterr().err


def test_case_only_rename_is_refused() -> None:
    result = ServiceAccountProvider().check({"username": "etl"}, {"username": "ETL"})
    assert reasons(result) == [
        "username: 'ETL' names the same account as 'etl' (usernames are case-insensitive); "
        "keep the spelling 'etl'"
    ]


def test_stack_twin_from_checks_of_this_run() -> None:
    provider = ServiceAccountProvider()
    provider.check({}, {"username": "etl_loader"})
    provider.check({}, {"username": "ETL_LOADER"})
    assert service_account.stack_twin("ETL_LOADER") == "etl_loader"
    assert service_account.stack_twin("etl_loader") == "ETL_LOADER"
    assert service_account.stack_twin("other") is None


@pytest.mark.parametrize(
    ("username", "rule"),
    [("ab-cd", "may only contain letters, digits and '_'"), ("", "'' has 0 characters")],
)
def test_token_username_follows_the_account_rule(username: str, rule: str) -> None:
    result = AccessTokenProvider().check({}, {"username": username, "name": "ci"})
    assert any(r.startswith("username: ") and rule in r for r in reasons(result)), reasons(result)


# --- the program side -----------------------------------------------------------------------


def test_plain_marks_outputs_unknown() -> None:
    async def run() -> Any:
        out = pulumi.Output.from_input("x")
        return _program.plain({"a": out, "b": {"c": [1, out]}, "d": "plain"})

    assert asyncio.run(run()) == {"a": UNKNOWN, "b": {"c": [1, UNKNOWN]}, "d": "plain"}


def test_claim_username_finds_the_same_account() -> None:
    async def run() -> list[Any]:
        return [
            _program.claim_username("a", "etl_loader"),
            _program.claim_username("b", "ETL_LOADER"),
            _program.claim_username("c", "etl_loader"),
            _program.claim_username("d", "etl_loader", Connection(token_env="OTHER_ORG_TOKEN")),
        ]

    first, (upper,), (same,), other_org = asyncio.run(run())
    assert first == [] and other_org == []  # another organization's account is another account
    assert "'ETL_LOADER' is the same account as ServiceAccount 'a' ('etl_loader'" in upper.reason
    assert "is the same username as ServiceAccount 'a'" in same.reason
    # Another run (event loop) starts afresh.
    assert asyncio.run(run())[0] == []


def test_account_may_exist() -> None:
    async def run() -> list[Any]:
        created = pulumi.Output.from_input("new_one")
        adopted = pulumi.Output.from_input("old_one")
        _program.remember_account(created, None)
        _program.remember_account(adopted, True)
        other = pulumi.Output.from_input("who")
        return [_program.account_may_exist(v) for v in ("plain", created, adopted, other)]

    assert asyncio.run(run()) == [True, False, True, True]


def test_gate_fails_with_every_problem_of_the_run() -> None:
    from pulumi.dynamic import CheckFailure

    async def run() -> tuple[Any, Any]:
        first = _program.admit("ServiceAccount", "a", [CheckFailure("username", "username: bad")])
        second = _program.admit("AccessToken", "t", [CheckFailure("ttl", "ttl: 10 is out")])
        assert first is second and first is not None
        try:
            await first.future()
        except pulumi.RunError as exc:
            failed = str(exc)
        fine = _program.admit("AccessToken", "u", [])
        assert fine is not None and fine is not first
        return failed, await fine.future()

    failed, fine = asyncio.run(run())
    assert "invalid inputs, 2 problems" in failed
    assert (
        "ServiceAccount 'a': username: bad" in failed
        and "AccessToken 't': ttl: 10 is out" in failed
    )
    assert fine is None


def test_without_an_event_loop_problems_are_raised_at_once() -> None:
    from pulumi.dynamic import CheckFailure

    assert _program.admit("AccessToken", "t", []) is None
    with pytest.raises(pulumi.RunError, match="AccessToken 't': ttl: bad"):
        _program.admit("AccessToken", "t", [CheckFailure("ttl", "ttl: bad")])


# --- 11: the emulator without its extra -----------------------------------------------------


def test_emulator_command_without_its_extra_prints_the_install_command() -> None:
    code = (
        "import sys; sys.modules['starlette'] = None\n"
        "from motherduck_provider.emulator.cli import main\n"
        "sys.exit(main(['--port', '0']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 1
    assert "pip install 'motherduck-pulumi[emulator]'" in proc.stderr
    assert "Traceback" not in proc.stderr
