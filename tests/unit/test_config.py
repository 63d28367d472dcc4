"""Settings: sources, precedence and rules; the token never shows itself."""

from __future__ import annotations

import pickle

import pytest

from motherduck_provider.config import (
    DEFAULT_API_URL,
    Secret,
    normalize_api_url,
    resolve_late_wait,
    resolve_rate_limit_wait,
    resolve_settings,
    resolve_timeout,
)
from motherduck_provider.errors import ConfigurationError


def test_config_wins_over_environment_and_is_trimmed() -> None:
    env = {"MOTHERDUCK_ADMIN_TOKEN": "env-admin", "MOTHERDUCK_TOKEN": "env-plain"}
    settings = resolve_settings({"motherduck:token": "  cfg-token \n"}, env)
    assert settings.token.reveal() == "cfg-token"


def test_environment_order() -> None:
    both = {"MOTHERDUCK_ADMIN_TOKEN": "admin", "MOTHERDUCK_TOKEN": "plain"}
    assert resolve_settings({}, both).token.reveal() == "admin"
    assert resolve_settings({}, {"MOTHERDUCK_TOKEN": "plain"}).token.reveal() == "plain"
    assert resolve_settings({}, {"MOTHERDUCK_TOKEN": "plain"}).api_url == DEFAULT_API_URL


def test_missing_token_names_every_source() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings({"motherduck:token": "   "}, {})
    for source in ("motherduck:token", "MOTHERDUCK_ADMIN_TOKEN", "MOTHERDUCK_TOKEN"):
        assert source in str(info.value)


def test_api_url_sources() -> None:
    env = {"MOTHERDUCK_TOKEN": "t", "MOTHERDUCK_API_BASE_URL": "http://127.0.0.1:9/"}
    assert resolve_settings({}, env).api_url == "http://127.0.0.1:9"
    cfg = {"motherduck:apiUrl": "https://api.eu.motherduck.com/"}
    assert resolve_settings(cfg, env).api_url == "https://api.eu.motherduck.com"


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8080", "http://[::1]:1", "https://api.motherduck.com", "http://127.0.0.2"],
)
def test_accepted_urls(url: str) -> None:
    assert normalize_api_url(url + "/") == url


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://api.motherduck.com", "only https"),
        ("ftp://api.motherduck.com", "absolute http(s)"),
        ("api.motherduck.com", "absolute http(s)"),
        ("https://user:pw@api.motherduck.com", "user name or password"),
        ("https://api.motherduck.com?x=1", "query or fragment"),
        ("https://api.motherduck.com#frag", "query or fragment"),
    ],
)
def test_rejected_urls(url: str, rule: str) -> None:
    with pytest.raises(ConfigurationError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        normalize_api_url(url)


def test_password_is_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as info:
        normalize_api_url("https://user:hunter2@api.motherduck.com")
    assert "hunter2" not in str(info.value)


def test_timeout() -> None:
    assert resolve_timeout({}) == 30.0
    assert resolve_timeout({"motherduck:requestTimeout": "2.5"}) == 2.5
    for bad in ("0", "-1", "soon", "nan"):
        with pytest.raises(ConfigurationError, match="requestTimeout"):
            resolve_timeout({"motherduck:requestTimeout": bad})


def test_late_request_wait() -> None:
    assert resolve_late_wait({}) == 120.0
    assert resolve_late_wait({"motherduck:lateRequestWait": "0"}) == 0.0  # never wait
    assert resolve_late_wait({"motherduck:lateRequestWait": " 300 "}) == 300.0
    for bad in ("-1", "soon", "nan", "inf"):
        with pytest.raises(ConfigurationError, match=r"lateRequestWait must be .* 0 or more"):
            resolve_late_wait({"motherduck:lateRequestWait": bad})
    settings = resolve_settings({"motherduck:lateRequestWait": "7"}, {"MOTHERDUCK_TOKEN": "t"})
    assert settings.late_wait == 7.0


def test_rate_limit_wait() -> None:
    assert resolve_rate_limit_wait({}) == 300.0
    assert resolve_rate_limit_wait({"motherduck:rateLimitWait": "0"}) == 0.0  # report at once
    assert resolve_rate_limit_wait({"motherduck:rateLimitWait": "900"}) == 900.0
    for bad in ("-1", "soon", "nan", "inf"):
        with pytest.raises(ConfigurationError, match=r"rateLimitWait must be .* 0 or more"):
            resolve_rate_limit_wait({"motherduck:rateLimitWait": bad})
    settings = resolve_settings({"motherduck:rateLimitWait": "60"}, {"MOTHERDUCK_TOKEN": "t"})
    assert settings.rate_limit_wait == 60.0


def test_secret_hides_itself() -> None:
    settings = resolve_settings({"motherduck:token": "super-secret-value"}, {})
    for text in (repr(settings), str(settings), repr(settings.token), f"{settings.token}"):
        assert "super-secret-value" not in text
    with pytest.raises(TypeError):
        pickle.dumps(settings.token)
    with pytest.raises(TypeError):
        pickle.dumps(settings)
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
