"""Tests for the contract facts file, its reduction and the conformance oracle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.contract.oracle import Contract, Exchange, ecma_pattern
from tests.contract.reduce import FACTS_PATH, SHARED_DIR, SHARED_SPEC_PATH, dump_facts, reduce_spec

OUR_UA = "motherduck-pulumi/0.1.0 (python-httpx)"
DIVE = "6f1c2f4e-3b0a-4c55-9d6b-1f2e3d4c5b6a"
TOKEN_ID = "0b7a1f5e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
LONG = "a" * 256

ERR_400 = {"code": "BAD_REQUEST", "message": "Bad Request", "issues": [{"message": "bad"}]}
ERR_404 = {"code": "NOT_FOUND", "message": "Not Found"}

TOKEN_META = {
    "id": TOKEN_ID,
    "name": "ci",
    "expire_at": "2026-01-01T00:00:00Z",
    "created_ts": "2025-01-01T00:00:00Z",
    "read_only": False,
    "token_type": "read_write",
}
CONFIG = {
    "read_write": {"instance_size": "standard", "cooldown_seconds": 60},
    "read_scaling": {"instance_size": "pulse", "flock_size": 2},
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


@dataclass
class Ex:
    """Shaped like the emulator's recorded exchange (the oracle only needs the attributes)."""

    method: str
    path: str
    user_agent: str | None = OUR_UA
    request_json: Any = None
    status: int = 200
    content_type: str | None = "application/json"
    response_json: Any = None
    response_text: str = ""


def _ex(**kwargs: Any) -> Exchange:
    ex = Ex(**kwargs)
    if ex.response_json is not None and not ex.response_text:
        ex.response_text = json.dumps(ex.response_json)
    return ex


# --------------------------------------------------------------------------------------------
# Facts file <-> official contract
# --------------------------------------------------------------------------------------------


def test_committed_facts_match_the_official_contract() -> None:
    if not SHARED_DIR.is_dir():
        pytest.skip(
            f"{SHARED_DIR} is absent (expected on a user's machine; CI and developer checkouts "
            "have it). Cannot compare the committed facts with the official contract."
        )
    spec = json.loads(SHARED_SPEC_PATH.read_text(encoding="utf-8"))
    expected = dump_facts(reduce_spec(spec))
    committed = FACTS_PATH.read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(expected), (
        "tests/contract/openapi-facts.json is stale; run: python tests/contract/reduce.py"
    )
    assert committed == expected, "facts file is not in canonical form; rerun reduce.py"


def test_facts_file_is_canonical_and_free_of_prose() -> None:
    text = FACTS_PATH.read_text(encoding="utf-8")
    facts = json.loads(text)
    assert dump_facts(facts) == text
    assert '"x-' not in text
    for key in ('"summary"', '"example"', '"examples"', '"description"', '"title"'):
        assert key not in text, key  # the contract has no property with these names


def test_reduce_keeps_properties_named_like_annotations() -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://x", "description": "prod", "x-internal": True}],
        "paths": {
            "/things/{id}": {
                "summary": "path item prose",
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "post": {
                    "operationId": "things-create",
                    "summary": "s",
                    "description": "d",
                    "tags": ["things"],
                    "x-notes": ["n"],
                    "requestBody": {"$ref": "#/components/requestBodies/Thing"},
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"},
                                    "example": {"description": "x"},
                                }
                            },
                        },
                        "204": {"description": "no content"},
                    },
                },
            },
            "x-extension": {},
        },
        "components": {
            "parameters": {
                "Id": {"name": "id", "in": "path", "description": "d", "schema": {"type": "string"}}
            },
            "requestBodies": {
                "Thing": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                    },
                }
            },
            "schemas": {
                "Thing": {
                    "type": "object",
                    "title": "A thing",
                    "description": "prose",
                    "x-go-type": "Thing",
                    "example": {"title": "t"},
                    "properties": {
                        "description": {"type": "string", "description": "prose", "maxLength": 9},
                        "title": {"type": "string", "title": "prose"},
                        "meta": {
                            "type": "object",
                            "properties": {"summary": {"type": "string", "example": "s"}},
                            "default": {"description": "literal default"},
                        },
                    },
                    "required": ["description", "title"],
                }
            },
            "securitySchemes": {"Bearer": {"type": "http", "scheme": "bearer", "description": "d"}},
        },
    }
    facts = reduce_spec(spec)
    thing = facts["components"]["schemas"]["Thing"]
    assert thing == {
        "type": "object",
        "properties": {
            "description": {"type": "string", "maxLength": 9},
            "title": {"type": "string"},
            "meta": {
                "type": "object",
                "properties": {"summary": {"type": "string"}},
                "default": {"description": "literal default"},
            },
        },
        "required": ["description", "title"],
    }
    op = facts["paths"]["/things/{id}"]["post"]
    assert op == {
        "operationId": "things-create",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"$ref": "#/components/schemas/Thing"}},
        },
        "responses": {
            "200": {"application/json": {"$ref": "#/components/schemas/Thing"}},
            "204": {},
        },
        "security": [],
    }
    assert list(facts["paths"]) == ["/things/{id}"]
    assert facts["servers"] == [{"url": "https://x"}]
    assert facts["components"]["securitySchemes"] == {
        "Bearer": {"type": "http", "scheme": "bearer"}
    }
    assert "info" not in facts
    # The oracle understands what reduce produces (refs resolved, 204 without a body).
    oracle = Contract(facts)
    body = {"description": "ok", "title": "t"}
    assert oracle.check_request("POST", "/things/1", body) == []
    assert oracle.check_request("POST", "/things/1", {"title": "t"}) == [
        "$: 'description' is a required property"
    ]
    assert oracle.check_response("POST", "/things/1", 204, None, None, "") == []
    assert oracle.check_response("POST", "/things/1", 204, "application/json", {}, "{}") == [
        "status 204 of things-create declares no body"
    ]


def test_contract_has_the_nine_operations(contract: Contract) -> None:
    assert contract.operations == [
        ("DELETE", "/v1/users/{username}", "users-delete"),
        ("DELETE", "/v1/users/{username}/tokens/{token_id}", "users-deleteToken"),
        ("GET", "/v1/active_accounts", "ducklings-getActiveAccounts"),
        ("GET", "/v1/users/{username}/instances", "ducklings-getDucklingConfigForUser"),
        ("GET", "/v1/users/{username}/tokens", "users-listTokens"),
        ("POST", "/v1/dives/{dive_id}/embed-session", "dashboards-createEmbedSession"),
        ("POST", "/v1/users", "users-createServiceAccount"),
        ("POST", "/v1/users/{username}/tokens", "users-createToken"),
        ("PUT", "/v1/users/{username}/instances", "ducklings-setDucklingConfigForUser"),
    ]


# --------------------------------------------------------------------------------------------
# Path matching
# --------------------------------------------------------------------------------------------


def test_match_extracts_path_params(contract: Contract) -> None:
    op = contract.match("delete", "/v1/users/etl_writer/tokens/abc")
    assert op is not None
    assert op.operation_id == "users-deleteToken"
    assert op.template == "/v1/users/{username}/tokens/{token_id}"
    assert op.path_params == {"username": "etl_writer", "token_id": "abc"}


def test_match_percent_decodes_segments(contract: Contract) -> None:
    op = contract.match("GET", "/v1/users/%C3%9Cn%C3%AFcode_1/tokens")
    assert op is not None and op.path_params == {"username": "Ünïcode_1"}
    # An encoded slash stays inside its segment; it does not create a new segment.
    op = contract.match("DELETE", "/v1/users/a%2Fb/tokens/t%20id")
    assert op is not None
    assert op.path_params == {"username": "a/b", "token_id": "t id"}


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("POST", "/v1/users", "users-createServiceAccount"),
        ("DELETE", "/v1/users/bob", "users-delete"),
        ("GET", "/v1/users/bob/tokens?cursor=abc", "users-listTokens"),
        ("PUT", "/v1/users/bob/instances", "ducklings-setDucklingConfigForUser"),
        ("GET", "/v1/active_accounts", "ducklings-getActiveAccounts"),
        ("POST", f"/v1/dives/{DIVE}/embed-session", "dashboards-createEmbedSession"),
    ],
)
def test_match_known(contract: Contract, method: str, path: str, operation_id: str) -> None:
    op = contract.match(method, path)
    assert op is not None and op.operation_id == operation_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users"),  # no user listing in the API
        ("GET", "/v1/users/bob"),  # no user lookup
        ("POST", "/v1/users/bob/instances"),  # wrong method on a known path
        ("GET", "/v1/users/bob/tokens/"),  # trailing slash: empty token_id
        ("GET", "/v1/users//tokens"),  # empty username segment
        ("GET", "/v2/active_accounts"),
    ],
)
def test_match_unknown(contract: Contract, method: str, path: str) -> None:
    assert contract.match(method, path) is None


def test_invalid_percent_encoding_is_a_problem(contract: Contract) -> None:
    problems = contract.check_request("GET", "/v1/users/%FF/tokens", None)
    assert len(problems) == 1 and "not valid percent-encoded UTF-8" in problems[0]


# --------------------------------------------------------------------------------------------
# Requests, per operation
# --------------------------------------------------------------------------------------------

GOOD_REQUESTS: list[tuple[str, str, Any]] = [
    # users-createServiceAccount
    ("POST", "/v1/users", {"username": "etl_writer"}),
    ("POST", "/v1/users", {"username": "Ünïcode_1"}),
    ("POST", "/v1/users", {"username": "a"}),
    ("POST", "/v1/users", {"username": "a" * 255}),
    ("POST", "/v1/users", {"username": "日本語_ユーザー"}),
    # users-delete
    ("DELETE", "/v1/users/etl_writer", None),
    ("DELETE", "/v1/users/" + "a" * 255, None),
    # users-createToken
    ("POST", "/v1/users/etl_writer/tokens", {"name": "ci"}),
    ("POST", "/v1/users/etl_writer/tokens", {"name": "ci", "ttl": 300, "token_type": "read_write"}),
    ("POST", "/v1/users/etl_writer/tokens", {"name": "ci", "ttl": 31536000.0}),
    ("POST", "/v1/users/etl_writer/tokens", {"name": "rs", "token_type": "read_scaling"}),
    ("POST", "/v1/users/%C3%9Cn%C3%AFcode_1/tokens", {"name": "ci"}),
    # users-listTokens
    ("GET", "/v1/users/etl_writer/tokens", None),
    # users-deleteToken
    ("DELETE", f"/v1/users/etl_writer/tokens/{TOKEN_ID}", None),
    # ducklings-getDucklingConfigForUser
    ("GET", "/v1/users/etl_writer/instances", None),
    # ducklings-setDucklingConfigForUser
    ("PUT", "/v1/users/etl_writer/instances", {"config": CONFIG}),
    (
        "PUT",
        "/v1/users/etl_writer/instances",
        {
            "config": {
                "read_write": {"instance_size": "giga", "cooldown_seconds": 86400},
                "read_scaling": {
                    "instance_size": "jumbo",
                    "flock_size": 64,
                    "cooldown_seconds": 60,
                },
            }
        },
    ),
    # ducklings-getActiveAccounts
    ("GET", "/v1/active_accounts", None),
    # dashboards-createEmbedSession
    ("POST", f"/v1/dives/{DIVE}/embed-session", {"username": "svc"}),
    ("POST", f"/v1/dives/{DIVE}/embed-session", {"username": "svc", "session_hint": "h"}),
    # format: uuid is an annotation only, so a non-UUID dive id is not a schema problem.
    ("POST", "/v1/dives/not-a-uuid/embed-session", {"username": "svc"}),
]


@pytest.mark.parametrize(("method", "path", "body"), GOOD_REQUESTS)
def test_good_requests(contract: Contract, method: str, path: str, body: Any) -> None:
    assert contract.check_request(method, path, body) == []


BAD_REQUESTS: list[tuple[str, str, Any, str]] = [
    # users-createServiceAccount
    ("POST", "/v1/users", {"username": "1abc"}, "$.username: '1abc' does not match '^[\\\\p{L}]'"),
    ("POST", "/v1/users", {"username": "_abc"}, "$.username: '_abc' does not match"),
    ("POST", "/v1/users", {"username": ""}, "$.username: '' should be non-empty"),
    ("POST", "/v1/users", {"username": "etl-writer"}, "does not match '^[\\\\p{L}\\\\d_]*$'"),
    ("POST", "/v1/users", {"username": "abc\n"}, "does not match '^[\\\\p{L}\\\\d_]*$'"),
    ("POST", "/v1/users", {"username": "abc\u0663"}, "does not match"),  # Arabic-Indic digit
    ("POST", "/v1/users", {"username": LONG}, "$.username: '" + LONG + "' is too long"),
    ("POST", "/v1/users", {"username": 7}, "$.username: 7 is not of type 'string'"),
    ("POST", "/v1/users", {}, "$: 'username' is a required property"),
    ("POST", "/v1/users", None, "users-createServiceAccount requires a request body"),
    ("POST", "/v1/users", [], "$: [] is not of type 'object'"),
    # users-delete
    (
        "DELETE",
        "/v1/users/" + LONG,
        None,
        "path parameter 'username' $: '" + LONG + "' is too long",
    ),
    ("DELETE", "/v1/users/bob", {"username": "bob"}, "users-delete declares no request body"),
    # users-createToken
    (
        "POST",
        "/v1/users/bob/tokens",
        {"name": "ci", "ttl": 100},
        "$.ttl: 100 is less than the minimum of 300",
    ),
    (
        "POST",
        "/v1/users/bob/tokens",
        {"name": "ci", "ttl": 31536001},
        "$.ttl: 31536001 is greater than",
    ),
    (
        "POST",
        "/v1/users/bob/tokens",
        {"name": "ci", "ttl": "3600"},
        "$.ttl: '3600' is not of type 'number'",
    ),
    (
        "POST",
        "/v1/users/bob/tokens",
        {"name": "ci", "ttl": True},
        "$.ttl: True is not of type 'number'",
    ),
    (
        "POST",
        "/v1/users/bob/tokens",
        {"name": "ci", "token_type": "admin"},
        "$.token_type: 'admin' is not one of",
    ),
    ("POST", "/v1/users/bob/tokens", {"name": ""}, "$.name: '' should be non-empty"),
    ("POST", "/v1/users/bob/tokens", {"name": LONG}, "$.name: '" + LONG + "' is too long"),
    ("POST", "/v1/users/bob/tokens", {"ttl": 300}, "$: 'name' is a required property"),
    ("POST", "/v1/users/bob/tokens", None, "users-createToken requires a request body"),
    ("POST", f"/v1/users/{LONG}/tokens", {"name": "ci"}, "path parameter 'username'"),
    # users-listTokens
    (
        "GET",
        f"/v1/users/{LONG}/tokens",
        None,
        "path parameter 'username' $: '" + LONG + "' is too long",
    ),
    # users-deleteToken
    ("DELETE", f"/v1/users/{LONG}/tokens/{TOKEN_ID}", None, "path parameter 'username'"),
    # ducklings-getDucklingConfigForUser
    ("GET", f"/v1/users/{LONG}/instances", None, "path parameter 'username'"),
    # ducklings-setDucklingConfigForUser
    (
        "PUT",
        "/v1/users/bob/instances",
        {"config": {"read_write": {"instance_size": "standard"}}},
        "$.config: 'read_scaling' is a required property",
    ),
    ("PUT", "/v1/users/bob/instances", CONFIG, "$: 'config' is a required property"),
    (
        "PUT",
        "/v1/users/bob/instances",
        None,
        "ducklings-setDucklingConfigForUser requires a request body",
    ),
    (
        "PUT",
        "/v1/users/bob/instances",
        {"config": {**CONFIG, "read_scaling": {"instance_size": "pulse"}}},
        "$.config.read_scaling: 'flock_size' is a required property",
    ),
    (
        "PUT",
        "/v1/users/bob/instances",
        {"config": {**CONFIG, "read_scaling": {"instance_size": "pulse", "flock_size": 65}}},
        "$.config.read_scaling.flock_size: 65 is greater than the maximum of 64",
    ),
    (
        "PUT",
        "/v1/users/bob/instances",
        {"config": {**CONFIG, "read_write": {"instance_size": "huge"}}},
        "$.config.read_write.instance_size: 'huge' is not one of",
    ),
    (
        "PUT",
        "/v1/users/bob/instances",
        {"config": {**CONFIG, "read_write": {"instance_size": "mega", "cooldown_seconds": 59}}},
        "$.config.read_write.cooldown_seconds: 59 is less than the minimum of 60",
    ),
    (
        "PUT",
        "/v1/users/bob/instances",
        {"config": {**CONFIG, "read_write": {"instance_size": "mega", "cooldown_seconds": 90.5}}},
        "$.config.read_write.cooldown_seconds: 90.5 is not of type 'integer'",
    ),
    # ducklings-getActiveAccounts
    ("GET", "/v1/active_accounts", {}, "ducklings-getActiveAccounts declares no request body"),
    # dashboards-createEmbedSession
    ("POST", f"/v1/dives/{DIVE}/embed-session", {}, "$: 'username' is a required property"),
    (
        "POST",
        f"/v1/dives/{DIVE}/embed-session",
        {"username": LONG},
        "$.username: '" + LONG + "' is too long",
    ),
    (
        "POST",
        f"/v1/dives/{DIVE}/embed-session",
        {"username": "svc", "session_hint": ""},
        "$.session_hint: '' should be non-empty",
    ),
    (
        "POST",
        f"/v1/dives/{DIVE}/embed-session",
        None,
        "dashboards-createEmbedSession requires a request body",
    ),
    # unknown operations
    ("GET", "/v1/users", None, "no operation in the contract for GET /v1/users"),
    (
        "PATCH",
        "/v1/users/bob/instances",
        {"config": CONFIG},
        "no operation in the contract for PATCH",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), BAD_REQUESTS)
def test_bad_requests(contract: Contract, method: str, path: str, body: Any, expected: str) -> None:
    problems = contract.check_request(method, path, body)
    assert problems, f"{method} {path} {body!r} should not conform"
    assert any(expected in p for p in problems), problems


def test_every_operation_has_good_and_bad_request_examples(contract: Contract) -> None:
    def covered(examples: list[tuple[Any, ...]]) -> set[str]:
        ids = set()
        for method, path, *_ in examples:
            op = contract.match(method, path)
            if op is not None:
                ids.add(op.operation_id)
        return ids

    every = {op_id for _, _, op_id in contract.operations}
    assert covered(GOOD_REQUESTS) == every
    assert covered(BAD_REQUESTS) == every


# --------------------------------------------------------------------------------------------
# Responses, per operation
# --------------------------------------------------------------------------------------------

GOOD_RESPONSES: list[tuple[str, str, int, Any]] = [
    ("POST", "/v1/users", 200, {"username": "Ünïcode_1"}),
    ("DELETE", "/v1/users/bob", 200, {"username": "bob"}),
    ("POST", "/v1/users/bob/tokens", 200, {**TOKEN_META, "token": "secret"}),
    (
        "POST",
        "/v1/users/bob/tokens",
        200,
        {
            "token": "s",
            "id": TOKEN_ID,
            "created_ts": "t",
            "read_only": True,
            "token_type": "read_scaling",
        },
    ),
    ("GET", "/v1/users/bob/tokens", 200, {"tokens": [TOKEN_META]}),
    ("GET", "/v1/users/bob/tokens", 200, {"tokens": []}),
    ("DELETE", f"/v1/users/bob/tokens/{TOKEN_ID}", 200, {}),
    ("GET", "/v1/users/bob/instances", 200, CONFIG),
    ("PUT", "/v1/users/bob/instances", 200, CONFIG),
    (
        "GET",
        "/v1/active_accounts",
        200,
        {
            "accounts": [
                {
                    "username": "bob",
                    "ducklings": [
                        {"id": "rw", "type": "read_write", "status": "active"},
                        {"id": "rs.0", "type": "read_scaling", "status": "cooldown"},
                    ],
                }
            ]
        },
    ),
    ("GET", "/v1/active_accounts", 200, {"accounts": []}),
    ("POST", f"/v1/dives/{DIVE}/embed-session", 200, {"session": "opaque"}),
    # Declared error statuses with the shared error body.
    ("POST", "/v1/users", 400, ERR_400),
    ("POST", "/v1/users", 400, {"code": "BAD_REQUEST", "message": "Bad Request"}),
    (
        "GET",
        "/v1/users/bob/instances",
        401,
        {"code": "UNAUTHORIZED", "message": "Invalid Credentials"},
    ),
    ("GET", "/v1/active_accounts", 403, {"code": "FORBIDDEN", "message": "Unauthorized"}),
    ("DELETE", f"/v1/users/bob/tokens/{TOKEN_ID}", 404, ERR_404),
    ("DELETE", "/v1/users/bob", 404, ERR_404),
    (
        "PUT",
        "/v1/users/bob/instances",
        500,
        {"code": "INTERNAL_SERVER_ERROR", "message": "Internal Error"},
    ),
]


@pytest.mark.parametrize(("method", "path", "status", "body"), GOOD_RESPONSES)
def test_good_responses(contract: Contract, method: str, path: str, status: int, body: Any) -> None:
    text = json.dumps(body)
    assert contract.check_response(method, path, status, "application/json", body, text) == []


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


BAD_RESPONSES: list[tuple[str, str, int, Any, str]] = [
    ("POST", "/v1/users", 200, {}, "$: 'username' is a required property"),
    ("DELETE", "/v1/users/bob", 200, {}, "$: 'username' is a required property"),
    (
        "POST",
        "/v1/users/bob/tokens",
        200,
        _without({**TOKEN_META, "token": "s"}, "created_ts"),
        "$: 'created_ts' is a required property",
    ),
    ("POST", "/v1/users/bob/tokens", 200, TOKEN_META, "$: 'token' is a required property"),
    (
        "POST",
        "/v1/users/bob/tokens",
        200,
        {**TOKEN_META, "token": "s", "read_only": "no"},
        "$.read_only: 'no' is not of type 'boolean'",
    ),
    (
        "GET",
        "/v1/users/bob/tokens",
        200,
        {"tokens": [_without(TOKEN_META, "token_type")]},
        "$.tokens[0]: 'token_type' is a required property",
    ),
    ("GET", "/v1/users/bob/tokens", 200, [TOKEN_META], "$: [{"),
    ("DELETE", f"/v1/users/bob/tokens/{TOKEN_ID}", 200, [], "$: [] is not of type 'object'"),
    (
        "GET",
        "/v1/users/bob/instances",
        200,
        {"config": CONFIG},
        "$: 'read_write' is a required property",
    ),
    (
        "PUT",
        "/v1/users/bob/instances",
        200,
        {**CONFIG, "read_scaling": {"instance_size": "pulse", "flock_size": -1}},
        "$.read_scaling.flock_size: -1 is less than the minimum of 0",
    ),
    (
        "GET",
        "/v1/active_accounts",
        200,
        {"accounts": [{"username": "bob"}]},
        "$.accounts[0]: 'ducklings' is a required property",
    ),
    ("POST", f"/v1/dives/{DIVE}/embed-session", 200, {}, "$: 'session' is a required property"),
    # Error bodies
    ("POST", "/v1/users", 400, {"message": "Bad Request"}, "$: 'code' is a required property"),
    ("POST", "/v1/users", 400, {**ERR_400, "issues": [{}]}, "$.issues[0]: 'message' is a required"),
    (
        "GET",
        "/v1/users/bob/tokens",
        404,
        {"code": "NOT_FOUND"},
        "$: 'message' is a required property",
    ),
    ("GET", "/v1/users/bob/tokens", 401, {"error": "nope"}, "'code' is a required property"),
    # Undeclared statuses (fault-injected exchanges are the caller's to exclude).
    (
        "GET",
        "/v1/users/bob/tokens",
        429,
        {"code": "TOO_MANY", "message": "slow"},
        "status 429 is not declared",
    ),
    ("DELETE", f"/v1/users/bob/tokens/{TOKEN_ID}", 204, None, "status 204 is not declared"),
    ("POST", "/v1/users", 201, {"username": "bob"}, "status 201 is not declared"),
    ("POST", "/v1/users", 409, ERR_400, "status 409 is not declared"),
    ("GET", "/v1/active_accounts", 503, None, "status 503 is not declared"),
]


@pytest.mark.parametrize(("method", "path", "status", "body", "expected"), BAD_RESPONSES)
def test_bad_responses(
    contract: Contract, method: str, path: str, status: int, body: Any, expected: str
) -> None:
    text = "" if body is None else json.dumps(body)
    problems = contract.check_response(method, path, status, "application/json", body, text)
    assert problems, f"{method} {path} {status} {body!r} should not conform"
    assert any(expected in p for p in problems), problems


def test_every_operation_has_good_and_bad_response_examples(contract: Contract) -> None:
    def covered(examples: list[tuple[Any, ...]]) -> set[str]:
        return {op.operation_id for m, p, *_ in examples if (op := contract.match(m, p))}

    every = {op_id for _, _, op_id in contract.operations}
    assert covered(GOOD_RESPONSES) == every
    assert covered(BAD_RESPONSES) == every


def test_error_messages_render_json_path_and_message(contract: Contract) -> None:
    assert contract.check_request("POST", "/v1/users/bob/tokens", {"name": "ci", "ttl": 100}) == [
        "$.ttl: 100 is less than the minimum of 300"
    ]


def test_response_content_type_parameters_are_ignored(contract: Contract) -> None:
    body = {"username": "bob"}
    ct = "application/json; charset=utf-8"
    assert contract.check_response("DELETE", "/v1/users/bob", 200, ct, body, "{}") == []


def test_response_body_is_parsed_from_text_when_not_decoded(contract: Contract) -> None:
    ok = '{"username": "bob"}'
    assert (
        contract.check_response("DELETE", "/v1/users/bob", 200, "application/json", None, ok) == []
    )
    problems = contract.check_response(
        "DELETE", "/v1/users/bob", 200, "application/json", None, "<html>"
    )
    assert problems == ["status 200 of users-delete: body is not JSON: '<html>'"]
    problems = contract.check_response("DELETE", "/v1/users/bob", 200, "application/json", None, "")
    assert problems == ["status 200 of users-delete: body is not JSON: ''"]


# --------------------------------------------------------------------------------------------
# Plain-text 404s and unknown routes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users"),
        ("GET", "/v1/users/bob"),
        ("POST", "/v1/users/bob/instances"),
        ("GET", "/nope"),
    ],
)
def test_plain_text_404_for_unknown_route_is_out_of_scope(
    contract: Contract, method: str, path: str
) -> None:
    assert contract.check_response(method, path, 404, "text/plain", None, "Not Found") == []
    assert (
        contract.check_response(method, path, 404, "text/plain; charset=utf-8", None, "Not Found")
        == []
    )
    assert contract.check_response(method, path, 404, None, None, "") == []


def test_other_responses_for_unknown_routes_are_problems(contract: Contract) -> None:
    json_404 = contract.check_response("GET", "/v1/users", 404, "application/json", ERR_404, "")
    assert json_404 == ["no operation in the contract for GET /v1/users (got 404 application/json)"]
    ok = contract.check_response("GET", "/v1/users/bob", 200, "application/json", {}, "{}")
    assert ok and "no operation in the contract for GET /v1/users/bob" in ok[0]
    not_allowed = contract.check_response(
        "POST", "/v1/active_accounts", 405, "text/plain", None, ""
    )
    assert not_allowed and "no operation" in not_allowed[0]


def test_plain_text_404_for_known_operation_is_a_problem(contract: Contract) -> None:
    problems = contract.check_response(
        "DELETE", f"/v1/users/bob/tokens/{TOKEN_ID}", 404, "text/plain", None, "Not Found"
    )
    assert problems == [
        "content type 'text/plain' is not declared for status 404 of users-deleteToken"
        " (declares application/json)"
    ]


def test_plain_text_404_when_an_encoded_slash_defeats_routing(contract: Contract) -> None:
    path = "/v1/users/a%2Fb/tokens"
    assert contract.check_response("GET", path, 404, "text/plain", None, "Not Found") == []
    # A JSON answer for that path is still checked against the operation.
    assert contract.check_response("GET", path, 404, "application/json", ERR_404, "") == []
    assert contract.check_response("GET", path, 404, "application/json", {}, "{}") != []


# --------------------------------------------------------------------------------------------
# Exchanges and the user-agent rule
# --------------------------------------------------------------------------------------------


def test_exchange_from_our_client_checks_request_and_response(contract: Contract) -> None:
    ok = _ex(
        method="POST",
        path="/v1/users",
        request_json={"username": "Ünïcode_1"},
        response_json={"username": "Ünïcode_1"},
    )
    assert contract.check_exchange(ok) == []
    bad = _ex(
        method="POST",
        path="/v1/users/bob/tokens",
        request_json={"name": "ci", "ttl": 100},
        status=400,
        response_json={"message": "Bad Request"},
    )
    assert contract.check_exchange(bad) == [
        "request: $.ttl: 100 is less than the minimum of 300",
        "response: $: 'code' is a required property",
    ]


@pytest.mark.parametrize(
    "user_agent", [None, "", "python-httpx/0.27", "curl/8", "motherduck-pulumi"]
)
def test_request_from_other_user_agents_is_not_checked(
    contract: Contract, user_agent: str | None
) -> None:
    probe = _ex(
        method="POST",
        path="/v1/users",
        user_agent=user_agent,
        request_json={"username": "1nvalid"},
        status=400,
        response_json=ERR_400,
    )
    assert contract.check_exchange(probe) == []
    # ... but the response still is.
    probe_bad_response = _ex(
        method="POST",
        path="/v1/users",
        user_agent=user_agent,
        request_json={"username": "1nvalid"},
        status=400,
        response_json={"message": "no code"},
    )
    assert contract.check_exchange(probe_bad_response) == [
        "response: $: 'code' is a required property"
    ]


def test_exchange_no_route_probe(contract: Contract) -> None:
    probe = _ex(
        method="GET",
        path="/v1/users",
        user_agent="pytest",
        status=404,
        content_type="text/plain",
        response_text="Not Found",
    )
    assert contract.check_exchange(probe) == []
    from_client = _ex(
        method="GET",
        path="/v1/users",
        status=404,
        content_type="text/plain",
        response_text="Not Found",
    )
    assert contract.check_exchange(from_client) == [
        "request: no operation in the contract for GET /v1/users"
    ]


# --------------------------------------------------------------------------------------------
# Validator details
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^[\p{L}]", r"^[\p{L}]"),
        (r"^[\p{L}\d_]*$", r"^[\p{L}0-9_]*\Z"),
        (r"^\d+$", r"^[0-9]+\Z"),
        (r"a\$b", r"a\$b"),
        (r"[$]x", r"[$]x"),
        (r"[]$]", r"[]$]"),
        (r"\w\W", r"[A-Za-z0-9_][^A-Za-z0-9_]"),
    ],
)
def test_ecma_pattern(pattern: str, expected: str) -> None:
    assert ecma_pattern(pattern) == expected


def test_nullable_and_number_semantics() -> None:
    facts = {
        "paths": {
            "/n": {
                "post": {
                    "operationId": "n",
                    "parameters": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "type": "object",
                                "properties": {
                                    "a": {"type": "string", "nullable": True, "enum": ["x"]},
                                    "b": {"type": "string"},
                                    "n": {"type": "number"},
                                    "i": {"type": "integer"},
                                    "u": {"type": "string", "format": "uuid"},
                                    "d": {"type": "string", "format": "date-time"},
                                },
                            }
                        },
                    },
                    "responses": {},
                }
            }
        }
    }
    oracle = Contract(facts)
    good = {"a": None, "b": "s", "n": 1, "i": 2, "u": "not-a-uuid", "d": "yesterday"}
    assert oracle.check_request("POST", "/n", good) == []
    assert oracle.check_request("POST", "/n", {"a": "y", "b": None, "n": False, "i": 2.5}) == [
        "$.a: 'y' is not one of ['x']",
        "$.b: None is not of type 'string'",
        "$.i: 2.5 is not of type 'integer'",
        "$.n: False is not of type 'number'",
    ]
