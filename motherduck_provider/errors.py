"""The exception tree: every failure the package reports, mapped from HTTP in one place.

    MotherDuckError
    ├── ConfigurationError     settings missing or invalid (token, API URL, timeout)
    ├── TransportError         no usable HTTP answer: connection refused or dropped, timeout
    ├── ResponseShapeError     a success body that does not match the contract
    └── APIError               the API answered with an error status
        ├── BadRequestError      400 BAD_REQUEST (validation, plan limits, name taken)
        ├── UnauthorizedError    401 UNAUTHORIZED (token invalid or expired)
        ├── ForbiddenError       403 FORBIDDEN (token lacks the Admin role)
        ├── NotFoundError        404 with JSON code NOT_FOUND: the object is gone
        ├── NoRouteError         404 without that code: a wrong URL, never proof of "gone"
        ├── RateLimitedError     429
        └── ServerError          5xx

Messages carry the method, path, status and the API's own words; never a header, a token or
a request body, so they are safe to show in `pulumi up` output and logs. Words taken from an
answer pass through `redact` first: an error body is written by whatever sits in front of the
API (a gateway page may echo the request's `Authorization` header), so it is never trusted.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

__all__ = [
    "APIError",
    "BadRequestError",
    "ConfigurationError",
    "ForbiddenError",
    "MotherDuckError",
    "NoRouteError",
    "NotFoundError",
    "RateLimitedError",
    "ResponseShapeError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "error_from_response",
    "one_line",
    "redact",
    "remember_secret",
]

REDACTED = "[redacted]"

# Credentials in any text an answer may carry: `Bearer <anything>`, an `Authorization:` header
# whatever its scheme, and JWTs (the shape of MotherDuck tokens) wherever they appear.
_CREDENTIAL_PATTERNS = (
    (
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?!bearer\b)"
            r"[^\s\"'<>,;]+(?:[ \t]+[^\s\"'<>,;]+)?"
        ),
        r"\1",
    ),
    (re.compile(r"(?i)\b(bearer)(?:\s+|%20|\+)[^\s\"'<>,;&]+"), r"\1 "),
    (re.compile(r"\beyJ[\w-]{8,}\.[\w-]+(?:\.[\w-]*)?"), ""),
)
# Shorter values are not secrets anyone relies on, and blanking them would garble messages.
_MIN_SECRET_LENGTH = 6
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """Blank `value` in every error text of this process from now on.

    Called by the client for the admin token it sends and each token secret it receives, so
    redaction does not depend on where the token came from (config or environment).
    """
    value = value.strip()
    if len(value) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """`text` without bearer credentials, JWTs or any secret passed to `remember_secret`."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, REDACTED)
    for pattern, keep in _CREDENTIAL_PATTERNS:
        text = pattern.sub(keep + REDACTED, text)
    return text


def one_line(text: str) -> str:
    """All whitespace runs (newlines included) as single spaces."""
    return " ".join(text.split())


class MotherDuckError(Exception):
    """Base of every error this package raises on purpose; `hint` says what to do about it."""

    hint: str | None = None


class ConfigurationError(MotherDuckError):
    """Provider settings are missing or invalid; raised before any request is sent."""


class TransportError(MotherDuckError):
    """The request got no HTTP answer; whether the API processed it is unknown."""

    def __init__(self, method: str, path: str, reason: str, *, sent: bool = True) -> None:
        self.method = method
        self.path = path
        self.reason = redact(reason)
        # False when the connection failed before a byte was sent: safe to retry any method.
        self.sent = sent
        if not sent:
            self.hint = "check `motherduck:apiUrl` and that this machine can reach it"
        elif method.upper() == "GET":
            self.hint = "MotherDuck did not answer; run the command again later"
        else:
            self.hint = (
                "the request was sent, so MotherDuck may have applied it; run the command "
                "again, which reconciles what it finds"
            )
        if sent and "timed out" in self.reason:
            self.hint += "; raise `motherduck:requestTimeout` (seconds) if the API is slow"
        super().__init__(f"MotherDuck API request {method} {path} failed: {self.reason}")


class ResponseShapeError(MotherDuckError):
    """A 2xx response whose body does not match the Admin API contract."""

    def __init__(self, method: str, path: str, problem: str) -> None:
        self.method = method
        self.path = path
        super().__init__(
            f"MotherDuck API response to {method} {path} did not match the contract: "
            + redact(problem)
        )


_HINTS: dict[int, str] = {
    401: "the admin token is wrong, revoked or expired; set a valid one with "
    "`pulumi config set --secret motherduck:token <token>`",
    403: "the token must be a read/write token of a user with the Admin role in the organization",
    429: "the API kept rate limiting for longer than motherduck:rateLimitWait allows; "
    "run again later or raise that setting",
}
_SERVER_HINT = "MotherDuck, or a gateway in front of it, failed; run the command again later"


class APIError(MotherDuckError):
    """The Admin API answered with an error status; fields keep the API's own words."""

    status: int = 0
    default_code: str = "ERROR"

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        issues: list[str],
        *,
        method: str = "",
        path: str = "",
        retry_after: str | None = None,
    ) -> None:
        self.status = status
        self.code = one_line(redact(code))
        self.message = one_line(redact(message))
        self.issues = [one_line(redact(issue)) for issue in issues]
        self.method = method
        self.path = path
        self.retry_after = retry_after
        self.hint = _HINTS.get(status) or (_SERVER_HINT if status >= 500 else None)
        super().__init__(self._render())

    @property
    def summary(self) -> str:
        """What the API said, on one line: status, code, message, issues, method and path."""
        text = f"MotherDuck API error {self.status} ({self.code}): {self.message}"
        if self.issues:
            text += ": " + "; ".join(self.issues)
        if self.method:
            text += f" [{self.method} {self.path}]"
        return text

    def _render(self) -> str:
        return f"{self.summary}. Hint: {self.hint}" if self.hint else self.summary


class BadRequestError(APIError):
    """400: the API rejected the input (validation, plan limits, a taken username)."""


class UnauthorizedError(APIError):
    """401: the token is invalid or expired."""


class ForbiddenError(APIError):
    """403: the token is valid but its user lacks the Admin role or plan."""


class NotFoundError(APIError):
    """404 with the JSON code NOT_FOUND: the only proof that an object is gone."""


class NoRouteError(APIError):
    """404 without the NOT_FOUND code: no such route (wrong base URL), never "gone"."""


class RateLimitedError(APIError):
    """429: too many requests."""


class ServerError(APIError):
    """5xx: the API failed; for a write, whether it was applied is unknown."""


_TAG = re.compile(r"<[^>]*>")

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    429: RateLimitedError,
}


def error_from_response(
    status: int,
    text: str,
    *,
    method: str,
    path: str,
    retry_after: str | None = None,
) -> APIError:
    """Build the error for an HTTP error answer: the one place that maps status to class."""
    body: Any = None
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    code = ""
    message = ""
    issues: list[str] = []
    if isinstance(body, dict):
        code = str(body.get("code") or "")
        message = str(body.get("message") or "")
        raw_issues = body.get("issues")
        if isinstance(raw_issues, list):
            for issue in raw_issues:
                if isinstance(issue, dict) and "message" in issue:
                    issues.append(str(issue["message"]))
    if status == 404:
        cls: type[APIError] = NotFoundError if code == "NOT_FOUND" else NoRouteError
        if cls is NoRouteError:
            message = message or "no such route (check motherduck:apiUrl)"
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, APIError)
    if not message:
        # A body that is not the API's JSON (a gateway page): its text without markup, blanked
        # and on one line. Redacted before it is cut, so no part of a secret is left behind.
        excerpt = one_line(_TAG.sub(" ", redact(text))) if text and body is None else ""
        message = (excerpt[:200] + ("..." if len(excerpt) > 200 else "")) or "no message"
    return cls(
        status,
        code or "HTTP_" + str(status),
        message,
        issues,
        method=method,
        path=path,
        retry_after=retry_after,
    )
