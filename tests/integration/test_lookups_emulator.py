"""Data functions against the emulator: settings as the resources read them, typed results
without secrets, and errors that end a Pulumi program with one line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.config import CONFIG
from pulumi.runtime.stack import massage

from motherduck_provider import lookups
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.errors import (
    ConfigurationError,
    MotherDuckError,
    NotFoundError,
    UnauthorizedError,
)

ENV = ("MOTHERDUCK_ADMIN_TOKEN", "MOTHERDUCK_TOKEN", "MOTHERDUCK_API_BASE_URL")
FLOCK = {
    "read_write": {"instance_size": "mega"},
    "read_scaling": {"instance_size": "standard", "flock_size": 2, "cooldown_seconds": 120},
}


@pytest.fixture
def stack_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The program's stack config (what `pulumi config set` gives a program); no env."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    config: dict[str, Any] = {}
    token = CONFIG.set(config)
    yield config
    CONFIG.reset(token)


@pytest.fixture
def configured(emulator: EmulatorServer, stack_config: dict[str, Any]) -> EmulatorServer:
    stack_config.update(
        {"motherduck:apiUrl": emulator.url, "motherduck:token": emulator.admin_token}
    )
    return emulator


def export(value: Any) -> Any:
    """`value` as `pulumi.export` sends it to the engine (made plain, then serialized)."""
    return asyncio.run(rpc.serialize_property(massage(value, []), [], None, None))


def test_get_tokens_lists_metadata_never_secrets(configured: EmulatorServer) -> None:
    store = configured.store
    store.create_user("etl")
    forever = store.create_token("etl", "forever")
    scaling = store.create_token("etl", "bi", ttl=3600, token_type="read_scaling")
    result = lookups.get_tokens("etl")
    assert result.username == "etl"
    assert [(t.id, t.name, t.token_type, t.read_only) for t in result.tokens] == [
        (forever.record.id, "forever", "read_write", False),
        (scaling.record.id, "bi", "read_scaling", True),
    ]
    assert result.tokens[0].expire_at is None
    assert result.tokens[1].expire_at == scaling.record.metadata()["expire_at"]
    exported = json.dumps(export(result))
    assert forever.secret not in exported and scaling.secret not in exported
    assert forever.secret not in repr(result)
    assert json.loads(exported)["tokens"][1]["created_ts"] == result.tokens[1].created_ts


def test_get_duckling_config_includes_server_defaults(configured: EmulatorServer) -> None:
    configured.store.create_user("fleet", config=FLOCK)
    result = lookups.get_duckling_config("fleet")
    assert result.read_write == lookups.ReadWriteSettings("mega", 300)
    assert result.read_scaling == lookups.ReadScalingSettings("standard", 2, 120)
    assert export(result) == {"username": "fleet", **configured.store.get_config("fleet")}


def test_get_active_accounts(configured: EmulatorServer) -> None:
    store = configured.store
    store.create_user("idle")
    store.create_user("fleet", config=FLOCK)
    assert lookups.get_active_accounts().accounts == ()
    store.set_duckling_status("fleet", "rs.1", "cooldown")
    store.set_duckling_status("fleet", "rw", "active")
    (account,) = lookups.get_active_accounts().accounts
    assert account.username == "fleet"
    assert [(d.id, d.type, d.status) for d in account.ducklings] == [
        ("rw", "read_write", "active"),
        ("rs.1", "read_scaling", "cooldown"),
    ]


def test_stack_config_wins_over_environment(
    configured: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured.store.create_user("etl")
    monkeypatch.setenv("MOTHERDUCK_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MOTHERDUCK_ADMIN_TOKEN", "not-the-admin-token")
    assert lookups.get_tokens("etl").tokens == ()


def test_environment_is_the_fallback(
    emulator: EmulatorServer, stack_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.store.create_user("etl")
    monkeypatch.setenv("MOTHERDUCK_API_BASE_URL", emulator.url)
    monkeypatch.setenv("MOTHERDUCK_ADMIN_TOKEN", emulator.admin_token)
    assert lookups.get_duckling_config("etl").read_write.instance_size == "pulse"


def one_line_run_error(exc: MotherDuckError, *secrets: str) -> str:
    """The error's text, checked to end a Pulumi program cleanly and reveal nothing."""
    text = str(exc)
    assert isinstance(exc, pulumi.RunError), "the language host would print a traceback"
    assert "\n" not in text
    for secret in secrets:
        assert secret not in text
    return text


def test_missing_user_is_not_found_and_a_clean_run_error(configured: EmulatorServer) -> None:
    with pytest.raises(NotFoundError) as caught:
        lookups.get_tokens("nobody")
    text = one_line_run_error(caught.value, configured.admin_token)
    assert "404 (NOT_FOUND)" in text and "nobody" in text
    with pytest.raises(NotFoundError):
        lookups.get_duckling_config("nobody")


def test_wrong_token_is_unauthorized(
    emulator: EmulatorServer, stack_config: dict[str, Any]
) -> None:
    wrong = "md-wrong-admin-token-12345"
    stack_config.update({"motherduck:apiUrl": emulator.url, "motherduck:token": wrong})
    with pytest.raises(UnauthorizedError) as caught:
        lookups.get_active_accounts()
    assert "401 (UNAUTHORIZED)" in one_line_run_error(caught.value, wrong)


def test_missing_token_and_bad_username_fail_before_any_request(
    emulator: EmulatorServer, stack_config: dict[str, Any]
) -> None:
    stack_config["motherduck:apiUrl"] = emulator.url
    with pytest.raises(ConfigurationError, match="no MotherDuck admin token") as caught:
        lookups.get_tokens("etl")
    one_line_run_error(caught.value)
    stack_config["motherduck:token"] = emulator.admin_token
    with pytest.raises(ConfigurationError, match="get_tokens: username must be") as caught:
        lookups.get_tokens("")
    one_line_run_error(caught.value)
    assert emulator.store.request_count == 0


DIVE = "6f1c2f4e-3b0a-4c55-9d6b-1f2e3d4c5b6a"


def test_create_dive_embed_session_mints_a_session(configured: EmulatorServer) -> None:
    configured.store.create_user("viewer")
    configured.store.create_dive(DIVE)
    first = lookups.create_dive_embed_session(DIVE, "viewer")
    again = lookups.create_dive_embed_session(DIVE, "viewer", session_hint="page-1")
    assert (first.dive_id, first.username) == (DIVE, "viewer")
    assert first.session and again.session != first.session  # a new one on every call
    assert first.session not in repr(first)
    (sent, hinted) = [ex.request_json for ex in configured.store.exchanges]
    assert sent == {"username": "viewer"}
    assert hinted == {"username": "viewer", "session_hint": "page-1"}


def test_create_dive_embed_session_output_is_a_secret(configured: EmulatorServer) -> None:
    configured.store.create_user("viewer")
    configured.store.create_dive(DIVE)

    async def minted() -> tuple[bool, lookups.CreateDiveEmbedSessionResult]:
        out = lookups.create_dive_embed_session_output(pulumi.Output.from_input(DIVE), "viewer")
        return await out.is_secret(), await out.future()  # type: ignore[return-value]

    secret, result = asyncio.run(minted())
    assert secret is True
    assert result.username == "viewer" and result.session


def test_create_dive_embed_session_errors(configured: EmulatorServer) -> None:
    configured.store.create_user("viewer")
    with pytest.raises(NotFoundError) as caught:
        lookups.create_dive_embed_session(DIVE, "viewer")
    text = one_line_run_error(caught.value, configured.admin_token)
    assert "404 (NOT_FOUND)" in text and "dive_id" in text
    configured.store.create_dive(DIVE)
    with pytest.raises(NotFoundError):
        lookups.create_dive_embed_session(DIVE, "nobody")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("not-a-uuid", "viewer"), "create_dive_embed_session: dive_id: 'not-a-uuid' is not a"),
        ((DIVE.replace("-", ""), "viewer"), "create_dive_embed_session: dive_id: '6f1c2f4e3b0a"),
        ((f"{{{DIVE}}}", "viewer"), "create_dive_embed_session: dive_id: '{6f1c2f4e"),
        ((DIVE, ""), "create_dive_embed_session: username must be a string"),
        ((DIVE, "viewer", ""), "create_dive_embed_session: session_hint: must be a non-empty"),
    ],
)
def test_create_dive_embed_session_checks_rules_before_any_call(
    configured: EmulatorServer, args: tuple[str, ...], expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        lookups.create_dive_embed_session(*args)
    assert one_line_run_error(caught.value).startswith(expected)
    assert configured.store.request_count == 0
