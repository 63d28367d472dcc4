"""No secret in error text, and errors a person can read: redaction, one-line rendering with a
hint that names the fixing command, and the stand-in for `traceback` in Pulumi's provider
server (the real engine is exercised in tests/e2e/test_error_output.py)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
import types
from typing import Any

import httpx
import pytest
from pulumi.dynamic import CreateResult, ReadResult

from motherduck_provider import errors
from motherduck_provider.client import AdminClient
from motherduck_provider.config import resolve_settings
from motherduck_provider.models import CreateTokenRequest
from motherduck_provider.resources import _report
from motherduck_provider.resources._base import ProviderBase

ENV_TOKEN = "md-admin-from-the-environment-0123456789"


def gateway_page(request: httpx.Request, status: int = 502) -> httpx.Response:
    """A proxy's HTML error page echoing the request headers (Authorization included)."""
    first = sorted(request.headers.items(), key=lambda kv: kv[0] != "authorization")
    headers = "\n".join(f"{k}: {v}" for k, v in first)
    page = f"<html><h1>{status} Bad Gateway</h1><pre>{request.method} {request.url.path}\n"
    return httpx.Response(status, text=page + headers + "</pre></html>")


# --- redaction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        ('{"authorization":"bearer xyz"}', '{"authorization":"bearer [redacted]"}'),
        ("authorization: Token zzz next", "authorization: [redacted] next"),
        ("url?auth=Bearer%20qqq&x=1", "url?auth=Bearer [redacted]&x=1"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln end", "jwt [redacted] end"),
        ("no credentials here: 401 Unauthorized", "no credentials here: 401 Unauthorized"),
    ],
)
def test_credentials_are_blanked_by_shape(text: str, kept: str) -> None:
    assert errors.redact(text) == kept


def test_remembered_secrets_are_blanked_anywhere() -> None:
    errors.remember_secret("  remembered-secret-value  ")
    errors.remember_secret("short")  # too short to be anyone's secret: not blanked
    assert errors.redact("x=remembered-secret-value; short") == "x=[redacted]; short"


def test_a_gateway_page_is_redacted_before_it_is_cut_to_one_line() -> None:
    errors.remember_secret(ENV_TOKEN)
    # The token straddles the 200-character cut: no part of it may survive.
    page = "<html>\n" + "x" * 180 + f" key={ENV_TOKEN}\n</html>"
    error = errors.error_from_response(502, page, method="POST", path="/v1/users")
    assert ENV_TOKEN[:8] not in str(error) and "\n" not in str(error)
    assert str(error).startswith("MotherDuck API error 502 (HTTP_502): " + "x" * 180)


def test_json_error_words_are_redacted_too() -> None:
    body = '{"code": "UNAUTHORIZED", "message": "bad Bearer leaked-123", "issues": '
    body += '[{"message": "Authorization: Bearer leaked-456"}]}'
    error = errors.error_from_response(401, body, method="GET", path="/v1/x")
    assert "leaked" not in str(error)
    assert error.message == "bad Bearer [redacted]"


def test_the_client_redacts_the_env_token_and_secrets_it_has_seen() -> None:
    """An admin token from MOTHERDUCK_ADMIN_TOKEN, echoed by a gateway, never reaches the text;
    nor does a token secret the client received earlier."""
    secret = "minted-token-secret-abcdef"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tokens") and request.method == "POST":
            body = {
                "id": "t1",
                "token": secret,
                "name": "ci",
                "token_type": "read_write",
                "read_only": False,
                "created_ts": "2026-01-01T00:00:00.000Z",
            }
            return httpx.Response(200, json=body)
        bare = request.headers["authorization"].split()[-1]  # the admin token without "Bearer"
        echo = f"upstream said {secret} for {bare}; "
        return httpx.Response(502, text=echo + gateway_page(request).text)

    env_token = "md-admin-only-in-this-test-9876543210"
    settings = resolve_settings({}, {"MOTHERDUCK_ADMIN_TOKEN": env_token})
    client = AdminClient(settings, transport=httpx.MockTransport(handler), sleep=lambda _: None)
    assert client.create_token("etl", CreateTokenRequest(name="ci")).token.get_secret_value()
    with pytest.raises(errors.ServerError) as info:
        client.create_service_account("etl_two")
    text = str(info.value)
    assert "upstream said [redacted] for [redacted]; 502 Bad Gateway" in text
    assert "authorization: Bearer [redacted]" in text
    assert env_token not in text and secret not in text


# --- rendering -------------------------------------------------------------------------------


def unauthorized(method: str = "GET", path: str = "/v1/users/etl/tokens") -> errors.APIError:
    body = '{"code": "UNAUTHORIZED", "message": "Invalid Credentials"}'
    return errors.error_from_response(401, body, method=method, path=path)


def test_render_is_one_line_naming_operation_status_code_and_hint() -> None:
    context = _report.Context("create", "ServiceAccount", None, "motherduck:token")
    line = _report.render(unauthorized("POST", "/v1/users"), context)
    assert line == (
        "creating ServiceAccount failed: MotherDuck API error 401 (UNAUTHORIZED): Invalid "
        "Credentials [POST /v1/users]. Hint: the admin token (from motherduck:token) is wrong, "
        "revoked or expired: set a valid one with "
        "`pulumi config set --secret motherduck:token <token>`"
    )


@pytest.mark.parametrize(("operation", "command"), [("read", "refresh"), ("delete", "destroy")])
def test_refused_token_in_refresh_or_destroy_names_the_command(
    operation: str, command: str
) -> None:
    context = _report.Context(operation, "AccessToken", "etl/t1", "motherduck:token")
    line = _report.render(unauthorized(), context)
    assert line.startswith(f"{_report._VERBS[operation]} AccessToken 'etl/t1' failed: ")
    assert f"`pulumi {command} --run-program`" in line
    assert "saved in the stack's state" in line


def test_refused_env_token_points_at_the_variable_not_at_state() -> None:
    context = _report.Context("read", "ServiceAccount", "etl", "MOTHERDUCK_ADMIN_TOKEN")
    line = _report.render(unauthorized(), context)
    assert "put a valid one in MOTHERDUCK_ADMIN_TOKEN" in line
    assert "--run-program" not in line


def test_forbidden_and_transport_errors_have_hints() -> None:
    forbidden = errors.error_from_response(
        403, '{"code": "FORBIDDEN", "message": "Unauthorized"}', method="POST", path="/v1/users"
    )
    assert "Admin role" in _report.render(forbidden, _report.Context("create", "ServiceAccount"))
    dropped = errors.TransportError("POST", "/v1/users", "connection failed (ReadError)")
    line = _report.render(dropped, _report.Context("create", "ServiceAccount"))
    assert line.startswith("creating ServiceAccount failed: MotherDuck API request POST")
    assert "may have applied it" in line


class _Failing(ProviderBase):
    """A provider whose create and read fail with the error they are given."""

    error: errors.MotherDuckError = errors.ConfigurationError("no token")

    def create(self, props: dict[str, Any]) -> CreateResult:
        raise self.error

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        raise self.error


def test_provider_methods_note_what_they_were_doing() -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        _Failing().read("etl", {})
    assert _report.context_of(info.value) == _report.Context("read", "_Failing", "etl", None)
    assert _report.render(info.value).startswith("refreshing _Failing 'etl' failed: no token")


def test_one_error_shared_by_two_threads_keeps_each_threads_context() -> None:
    shared = unauthorized()
    _Failing.error = shared
    seen: dict[str, str] = {}

    def call(name: str, method: str) -> None:
        try:
            getattr(_Failing(), method)(*(("etl", {}) if method == "read" else ({},)))
        except errors.MotherDuckError as exc:
            seen[name] = _report.render(exc)

    threads = [threading.Thread(target=call, args=(m, m)) for m in ("read", "create")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["read"].startswith("refreshing _Failing 'etl' failed")
    assert seen["create"].startswith("creating _Failing failed")


# --- the stand-in for `traceback` in Pulumi's provider server ----------------------------------


@pytest.fixture
def server_main(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A module that looks like `python -m pulumi.dynamic`'s `__main__`."""
    fake = types.ModuleType("__main__")
    fake.__spec__ = types.SimpleNamespace(name="pulumi.dynamic.__main__")  # type: ignore[assignment]
    fake.traceback = traceback  # type: ignore[attr-defined]
    fake._abort_with_traceback = lambda fn: fn  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", fake)
    monkeypatch.setattr(sys, "argv", ["pulumi.dynamic", "127.0.0.1:1"])
    return fake


def test_install_only_inside_the_provider_server() -> None:
    assert _report.install() is False  # pytest's __main__ is left alone
    assert sys.modules["__main__"].__dict__.get("traceback") is not _report._TracebackShim


def test_our_errors_become_one_line_and_bugs_keep_their_traceback(
    server_main: types.ModuleType,
) -> None:
    assert _report.install() is True and _report.install() is True
    shim = server_main.traceback
    assert isinstance(shim, _report._TracebackShim)
    assert shim.print_exc is traceback.print_exc  # everything else is the real module
    with pytest.raises(errors.ConfigurationError):
        try:
            _Failing.error = errors.ConfigurationError("no MotherDuck admin token")
            _Failing().create({})
        except errors.MotherDuckError:
            assert shim.format_exc() == "creating _Failing failed: no MotherDuck admin token"
            raise
    with pytest.raises(KeyError):
        try:
            {}["Authorization: Bearer in-a-bug"]  # noqa: B018
        except KeyError:
            text = shim.format_exc()
            assert text.startswith("Traceback (most recent call last):")
            assert "in-a-bug" not in text and "Bearer [redacted]" in text
            raise


def test_a_server_module_of_another_shape_is_left_alone(server_main: types.ModuleType) -> None:
    del server_main._abort_with_traceback
    assert _report.install() is False
    assert server_main.traceback is traceback


@pytest.mark.parametrize(
    ("argv", "env", "level"),
    [
        (["-v=3", "127.0.0.1:1"], {}, logging.DEBUG),
        (["127.0.0.1:1"], {"MOTHERDUCK_LOG": "info"}, logging.INFO),
        (["127.0.0.1:1"], {}, None),
    ],
)
def test_detail_is_logged_when_asked_for(
    server_main: types.ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
    level: int | None,
) -> None:
    monkeypatch.setattr(sys, "argv", ["pulumi.dynamic", *argv])
    monkeypatch.delenv("MOTHERDUCK_LOG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(_report.log, "handlers", [])
    monkeypatch.setattr(_report.log, "level", logging.NOTSET)
    assert _report.install()
    assert len(_report.log.handlers) == (0 if level is None else 1)
    assert _report.log.level == (level or logging.NOTSET)
