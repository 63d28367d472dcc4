"""Status to error class, and the rendered message users see."""

from __future__ import annotations

import json

import pytest

from motherduck_provider import errors


def body(code: str, message: str, *issues: str) -> str:
    return json.dumps(
        {"code": code, "message": message, "issues": [{"message": i} for i in issues]}
    )


@pytest.mark.parametrize(
    ("status", "text", "cls"),
    [
        (400, body("BAD_REQUEST", "Bad Request", "username: taken"), errors.BadRequestError),
        (401, body("UNAUTHORIZED", "Invalid Credentials"), errors.UnauthorizedError),
        (403, body("FORBIDDEN", "Unauthorized"), errors.ForbiddenError),
        (404, body("NOT_FOUND", "Not Found"), errors.NotFoundError),
        (404, "Not Found", errors.NoRouteError),
        (404, json.dumps({"message": "Not Found"}), errors.NoRouteError),
        (429, "slow down", errors.RateLimitedError),
        (500, body("INTERNAL_SERVER_ERROR", "Internal Error"), errors.ServerError),
        (503, "<html>bad gateway</html>", errors.ServerError),
    ],
)
def test_status_maps_to_one_class(status: int, text: str, cls: type[errors.APIError]) -> None:
    error = errors.error_from_response(status, text, method="GET", path="/v1/x")
    assert type(error) is cls
    assert error.status == status


def test_only_json_not_found_means_gone() -> None:
    plain = errors.error_from_response(404, "Not Found", method="GET", path="/v2/nope")
    assert not isinstance(plain, errors.NotFoundError)
    assert "motherduck:apiUrl" in str(plain)


def test_rendering_keeps_the_apis_words_and_adds_a_hint() -> None:
    error = errors.error_from_response(
        403,
        body("FORBIDDEN", "Unauthorized", "minimum role org_admin is required"),
        method="POST",
        path="/v1/users",
    )
    text = str(error)
    assert text.startswith(
        "MotherDuck API error 403 (FORBIDDEN): Unauthorized: minimum role org_admin is required"
    )
    assert "[POST /v1/users]" in text
    assert "Admin role" in text
    assert error.issues == ["minimum role org_admin is required"]
