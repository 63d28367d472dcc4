"""The emulator's ASGI application: the API operations, the control plane, faults and logs.

`EmulatorApp` is the outermost ASGI callable. For an API request it reads the body, rolls
the fault rules, runs the Starlette router (auth, validation, the store), records the
request and the exchange, and only then sends the response, so a test that has its
response can already see the call in the logs.

Routes under `/_emulator/` are the control plane. They need no token: the emulator binds
to loopback unless told otherwise, and the control plane never shows a token secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import FaultDecision, FaultRule, HeldRequest, Release
from .operations import OPERATIONS, Operation, match_operation
from .store import (
    DiveNotFound,
    Exchange,
    RequestRecord,
    Store,
    TokenNotFound,
    UsernameTaken,
    UserNotFound,
    parse_timestamp,
)
from .validation import (
    InvalidJSON,
    check_create_token,
    check_create_user,
    check_duckling,
    check_embed_session,
    check_path_dive_id,
    check_path_username,
    check_set_config,
    parse_json,
)

__all__ = ["CONTROL_PREFIX", "DEFAULT_ADMIN_TOKEN", "EmulatorApp", "error_response"]

logger = logging.getLogger("motherduck_provider.emulator")

CONTROL_PREFIX = "/_emulator/"
DEFAULT_ADMIN_TOKEN = "md-emulator-admin-token"

# The API's error codes and default messages, by status (429 is not in the contract; it is
# only sent by fault injection and the shared rate limit, in the same error shape).
_ERRORS: Mapping[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "Bad Request"),
    401: ("UNAUTHORIZED", "Invalid Credentials"),
    403: ("FORBIDDEN", "Unauthorized"),
    404: ("NOT_FOUND", "Not Found"),
    429: ("TOO_MANY_REQUESTS", "Too Many Requests"),
    500: ("INTERNAL_SERVER_ERROR", "Internal Error"),
}


def error_response(
    status: int,
    message: str | None = None,
    issues: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An error in the API's shape `{message, code, issues?}`."""
    code, default = _ERRORS.get(status, (HTTPStatus(status).name, HTTPStatus(status).phrase))
    body: dict[str, Any] = {"message": message or default, "code": code}
    listed = [{"message": issue} for issue in issues]
    if listed:
        body["issues"] = listed
    return JSONResponse(body, status_code=status, headers=headers)


def _bad_request(issues: Iterable[str]) -> Response:
    return error_response(400, issues=issues)


def _not_found(issue: str) -> Response:
    return error_response(404, issues=[issue])


def _plain_not_found() -> Response:
    # What the real API sends for a path it has no route for: text, no error code.
    return PlainTextResponse("Not Found", status_code=404)


# API operations ------------------------------------------------------------------------------

Validator = Callable[[object], list[str]]
Handler = Callable[[Store, Mapping[str, str], Any], Response]


def _user_missing(username: str) -> Response:
    return _not_found(f"username: no user named {username!r} in this organization")


def _create_user(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        user = store.create_user(body["username"])
    except UsernameTaken:
        return _bad_request(["username: is already taken in this organization"])
    return JSONResponse({"username": user.username})


def _delete_user(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        user = store.delete_user(params["username"])
    except UserNotFound:
        return _user_missing(params["username"])
    return JSONResponse({"username": user.username})


def _create_token(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        created = store.create_token(
            params["username"],
            body["name"],
            ttl=body.get("ttl"),
            token_type=body.get("token_type", "read_write"),
        )
    except UserNotFound:
        return _user_missing(params["username"])
    return JSONResponse(created.response())


def _list_tokens(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        tokens = store.list_tokens(params["username"])
    except UserNotFound:
        return _user_missing(params["username"])
    return JSONResponse({"tokens": [token.metadata() for token in tokens]})


def _delete_token(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        store.delete_token(params["username"], params["token_id"])
    except UserNotFound:
        return _user_missing(params["username"])
    except TokenNotFound:
        return _not_found(f"token_id: no token {params['token_id']!r} for this user")
    return JSONResponse({})


def _get_config(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        return JSONResponse(store.get_config(params["username"]))
    except UserNotFound:
        return _user_missing(params["username"])


def _set_config(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        return JSONResponse(store.set_config(params["username"], body["config"]))
    except UserNotFound:
        return _user_missing(params["username"])


def _active_accounts(store: Store, params: Mapping[str, str], body: Any) -> Response:
    return JSONResponse({"accounts": store.active_accounts()})


def _embed_session(store: Store, params: Mapping[str, str], body: Any) -> Response:
    try:
        session = store.create_embed_session(params["dive_id"], body["username"])
    except DiveNotFound:
        return _not_found(f"dive_id: no Dive {params['dive_id']!r} in this organization")
    except UserNotFound:
        return _not_found(f"username: no service account named {body['username']!r}")
    return JSONResponse({"session": session})


_HANDLERS: Mapping[str, tuple[Handler, Validator | None]] = {
    "users-createServiceAccount": (_create_user, check_create_user),
    "users-delete": (_delete_user, None),
    "users-createToken": (_create_token, check_create_token),
    "users-listTokens": (_list_tokens, None),
    "users-deleteToken": (_delete_token, None),
    "ducklings-getDucklingConfigForUser": (_get_config, None),
    "ducklings-setDucklingConfigForUser": (_set_config, check_set_config),
    "ducklings-getActiveAccounts": (_active_accounts, None),
    "dashboards-createEmbedSession": (_embed_session, check_embed_session),
}


@dataclass(frozen=True)
class _Auth:
    admin_token: str
    member_tokens: frozenset[str]

    def check(self, request: Request, store: Store) -> Response | None:
        """None for the admin token, else the 401 or 403 response."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials.strip()
        if scheme.lower() != "bearer" or not token:
            return error_response(401)
        # A rotated admin token (store.rotate_admin_token) replaces the server's own.
        admin_token = store.admin_token or self.admin_token
        if hmac.compare_digest(token.encode(), admin_token.encode()):
            return None
        # Valid credentials without the Admin role: a configured member token, or the secret
        # of a live token the emulator minted for a service account (accounts are Members).
        if token in self.member_tokens or store.find_token_by_secret(token) is not None:
            return error_response(403, issues=["minimum role org_admin is required"])
        return error_response(401)


def _api_endpoint(
    store: Store, auth: _Auth, operation: Operation
) -> Callable[[Request], Awaitable[Response]]:
    handler, validate = _HANDLERS[operation.operation_id]

    async def endpoint(request: Request) -> Response:
        try:
            denied = auth.check(request, store)
            if denied is not None:
                return denied
            params = {key: str(value) for key, value in request.path_params.items()}
            issues = check_path_username(params["username"]) if "username" in params else []
            if "dive_id" in params:
                issues.extend(check_path_dive_id(params["dive_id"]))
            body: object = None
            if validate is not None:
                try:
                    body = parse_json(await request.body())
                except InvalidJSON as exc:
                    issues.append(f"body: invalid JSON: {exc}")
                else:
                    issues.extend(validate(body))
            if issues:
                return _bad_request(issues)
            return handler(store, params, body)
        except Exception:
            logger.exception("unexpected error in %s", operation.operation_id)
            return error_response(500)

    return endpoint


# Control plane -------------------------------------------------------------------------------


class _ControlError(ValueError):
    pass


async def _control_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = parse_json(raw)
    except InvalidJSON as exc:
        raise _ControlError(f"body: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _ControlError("body: must be a JSON object")
    return data


def _seed(store: Store, data: Mapping[str, Any]) -> dict[str, Any]:
    raw_users = data.get("users", [])
    if not isinstance(raw_users, list):
        raise _ControlError("users: must be a list")
    plans: list[tuple[str, Any, list[dict[str, Any]], dict[str, str]]] = []
    for i, raw in enumerate(raw_users):
        where = f"users[{i}]"
        if not isinstance(raw, dict):
            raise _ControlError(f"{where}: must be an object")
        issues = check_create_user({"username": raw.get("username")})
        if issues:
            raise _ControlError(f"{where}.{issues[0]}")
        config = raw.get("config")
        if config is not None:
            issues = check_set_config({"config": config})
            if issues:
                raise _ControlError(f"{where}.{issues[0]}")
        ducklings = raw.get("ducklings", {})
        if not isinstance(ducklings, dict):
            raise _ControlError(f"{where}.ducklings: must be an object of id -> status")
        flock = (config or store.default_config)["read_scaling"]["flock_size"]
        for duckling_id, status in ducklings.items():
            issues = check_duckling(duckling_id, status, int(flock))
            if issues:
                raise _ControlError(f"{where}.ducklings.{issues[0]}")
        tokens = raw.get("tokens", [])
        if not isinstance(tokens, list):
            raise _ControlError(f"{where}.tokens: must be a list")
        for j, token in enumerate(tokens):
            if not isinstance(token, dict):
                raise _ControlError(f"{where}.tokens[{j}]: must be an object")
            issues = check_create_token({k: v for k, v in token.items() if k != "expire_at"})
            if issues:
                raise _ControlError(f"{where}.tokens[{j}].{issues[0]}")
            if "expire_at" in token:
                try:
                    parse_timestamp(str(token["expire_at"]))
                except ValueError as exc:
                    raise _ControlError(f"{where}.tokens[{j}].expire_at: {exc}") from exc
        plans.append((str(raw["username"]), config, tokens, ducklings))
    raw_dives = data.get("dives", [])
    if not isinstance(raw_dives, list):
        raise _ControlError("dives: must be a list of Dive ids (UUIDs)")
    for i, dive in enumerate(raw_dives):
        issues = check_path_dive_id(dive) if isinstance(dive, str) else ["dive_id: must be a UUID"]
        if issues:
            raise _ControlError(f"dives[{i}]: {issues[0].partition(': ')[2]}, got {dive!r}")
    created: list[dict[str, Any]] = []
    for username, config, tokens, ducklings in plans:
        try:
            user = store.create_user(username, config=config)
        except UsernameTaken as exc:
            raise _ControlError(f"username: {username!r} already exists") from exc
        for duckling_id, status in ducklings.items():
            store.set_duckling_status(user.username, duckling_id, status)
        minted = [
            store.create_token(
                user.username,
                token["name"],
                ttl=token.get("ttl"),
                token_type=token.get("token_type", "read_write"),
                expire_at=parse_timestamp(token["expire_at"]) if "expire_at" in token else None,
            ).response()
            for token in tokens
        ]
        created.append({"username": user.username, "tokens": minted})
    dives = [store.create_dive(dive) for dive in raw_dives]
    return {"users": created, "dives": dives}


def _control_routes(store: Store) -> list[Route]:
    def guarded(
        run: Callable[[Request], Awaitable[Any]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(await run(request))
            except (_ControlError, ValueError, TypeError) as exc:
                return _bad_request([str(exc)])

        return endpoint

    async def health(request: Request) -> Any:
        return {"status": "ok"}

    async def state(request: Request) -> Any:
        return store.snapshot()

    async def requests(request: Request) -> Any:
        return {
            "requests": [record.to_dict() for record in store.requests],
            "counters": store.counters(),
        }

    async def exchanges(request: Request) -> Any:
        return {"exchanges": [exchange.redacted().to_dict() for exchange in store.exchanges]}

    async def faults(request: Request) -> Any:
        if request.method == "POST":
            store.faults.configure(await _control_json(request))
        elif request.method == "DELETE":
            store.faults.clear()
        return store.faults.snapshot()

    async def release(request: Request) -> Any:
        data = await _control_json(request)
        unknown = sorted(set(data) - {"apply", "hold_answer"})
        if unknown:
            raise _ControlError(f"{unknown[0]}: is not a release setting")
        for key in ("apply", "hold_answer"):
            if not isinstance(data.get(key, False), bool):
                raise _ControlError(f"{key}: must be a boolean")
        released = store.faults.release(
            apply=data.get("apply", True), hold_answer=data.get("hold_answer", False)
        )
        return {"released": released}

    async def reset(request: Request) -> Any:
        store.reset()
        return {"status": "reset"}

    async def seed(request: Request) -> Any:
        return _seed(store, await _control_json(request))

    async def admin_token(request: Request) -> Any:
        token = (await _control_json(request)).get("token")
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise _ControlError("token: must be a non-empty string or absent (random)")
        return {"admin_token": store.rotate_admin_token(token)}

    async def ducklings(request: Request) -> Any:
        data = await _control_json(request)
        username = data.get("username")
        if not isinstance(username, str):
            raise _ControlError("username: is required")
        try:
            running = store.set_duckling_status(
                username, data.get("id", "rw"), data.get("status", "active")
            )
        except UserNotFound as exc:
            raise _ControlError(f"username: no user named {username!r}") from exc
        user = store.get_user(username)
        return {"username": user.username if user else username, "ducklings": running}

    async def clock(request: Request) -> Any:
        if request.method == "POST":
            data = await _control_json(request)
            advance = data.get("advance", 0)
            if isinstance(advance, bool) or not isinstance(advance, int | float):
                raise _ControlError("advance: must be a number of seconds")
            if data.get("reset") is True:
                store.clock.reset()
            store.clock.advance(advance)
        return {"now": store.snapshot()["now"]}

    p = CONTROL_PREFIX
    return [
        Route(f"{p}health", guarded(health), methods=["GET"]),
        Route(f"{p}state", guarded(state), methods=["GET"]),
        Route(f"{p}requests", guarded(requests), methods=["GET"]),
        Route(f"{p}exchanges", guarded(exchanges), methods=["GET"]),
        Route(f"{p}faults", guarded(faults), methods=["GET", "POST", "DELETE"]),
        Route(f"{p}release", guarded(release), methods=["POST"]),
        Route(f"{p}reset", guarded(reset), methods=["POST"]),
        Route(f"{p}seed", guarded(seed), methods=["POST"]),
        Route(f"{p}ducklings", guarded(ducklings), methods=["POST"]),
        Route(f"{p}admin-token", guarded(admin_token), methods=["POST"]),
        Route(f"{p}clock", guarded(clock), methods=["GET", "POST"]),
    ]


async def _http_exception(request: Request, exc: Exception) -> Response:
    # No route, or a known path with another method: the real API's plain-text 404.
    return _plain_not_found()


# The outer ASGI layer: faults and logs -------------------------------------------------------


@dataclass
class _Captured:
    """A response collected from an ASGI app, to be logged before it is sent."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == b"content-type":
                return value.decode("latin-1")
        return ""

    async def send_to(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": bytes(self.body), "more_body": False})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> _Captured:
    captured = _Captured()

    async def collect(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured.status = message["status"]
            captured.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            captured.body.extend(message.get("body", b""))

    try:
        await app(scope, receive, collect)
    except Exception:
        logger.exception("unexpected error handling %s %s", scope["method"], scope["path"])
        return await _capture(error_response(500), scope, receive)
    return captured


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _fault_response(rule: FaultRule, scope: Scope) -> Response:
    if rule.kind == "rate_limit":
        return error_response(429, headers={"Retry-After": str(rule.retry_after)})
    if rule.echo_headers:
        return _echo_page(rule.status, scope)
    if rule.status in _ERRORS:
        return error_response(rule.status)
    # Gateway errors come from a proxy in front of the API, as plain text.
    return PlainTextResponse(HTTPStatus(rule.status).phrase, status_code=rule.status)


def _echo_page(status: int, scope: Scope) -> Response:
    """A misconfigured gateway's HTML error page that echoes the request, headers and all."""
    phrase = HTTPStatus(status).phrase
    headers = "\n".join(
        sorted(
            f"{name.decode('latin-1').title()}: {value.decode('latin-1')}"
            for name, value in scope.get("headers", [])
        )
    )
    page = (
        f"<html><body>\n<h1>{status} {phrase}</h1>\n<p>upstream request failed:</p>\n"
        f"<pre>{scope['method']} {scope['path']}\n{headers}</pre>\n</body></html>\n"
    )
    return Response(page, status_code=status, media_type="text/html")


async def _drop_connection(send: Send, receive: Receive) -> None:
    """Close the client's connection without sending a response."""
    # uvicorn hands the app its per-request cycle's bound `send`; the cycle holds the socket's
    # transport. Closing it is what a crashed or cut-off server looks like to the client.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.Transport):
        transport.close()
        # Wait until the server has seen the disconnect, so it sends nothing of its own.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while (await receive())["type"] != "http.disconnect":
                    pass
        return
    # Another server: start a response and abort it, which makes it close the connection.
    await send(
        {"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"1")]}
    )
    raise ConnectionAbortedError("the emulator dropped this connection on purpose")


def _bearer(scope: Scope) -> str:
    """The request's bearer token (the shared rate limit's key), or "" without one."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials.strip() if scheme.lower() == "bearer" else ""
    return ""


def _lenient_json(raw: bytes) -> object | None:
    try:
        return json.loads(raw) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None


class EmulatorApp:
    """The emulator as one ASGI application over a `Store`.

    `admin_token` is the bearer token with the Admin role; `member_tokens` are valid tokens
    without it (403). Secrets of tokens minted by the emulator also count as member tokens.
    """

    def __init__(
        self,
        store: Store,
        *,
        admin_token: str = DEFAULT_ADMIN_TOKEN,
        member_tokens: Iterable[str] = (),
    ) -> None:
        if not admin_token:
            raise ValueError("admin_token must not be empty")
        self.store = store
        self._auth = _Auth(admin_token, frozenset(member_tokens))
        routes = [
            Route(op.template, _api_endpoint(store, self._auth, op), methods=[op.method])
            for op in OPERATIONS
        ]
        self.router = Starlette(
            routes=[*routes, *_control_routes(store)],
            exception_handlers={HTTPException: _http_exception},
        )
        # A trailing slash is an unknown route, not a redirect.
        self.router.router.redirect_slashes = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.router(scope, receive, send)
            return
        await self._api_call(scope, receive, send)

    async def _api_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        body = await _read_body(receive)
        if body is None:
            return
        method: str = scope["method"]
        path: str = scope["path"]
        matched = match_operation(method, path)
        operation = matched[0] if matched is not None else None
        decision = (
            self.store.faults.decide(operation, token=_bearer(scope), path=path, body=body)
            if operation
            else FaultDecision()
        )
        if decision.latency > 0:
            await asyncio.sleep(decision.latency)
        action = decision.action
        replay = _replaying(body, receive)
        hold, hold_answer = (action, False) if action and action.kind == "hold" else (None, False)
        if hold is not None and operation is not None:
            action = None
            if not hold.after_write:
                release = await self._held(operation, scope, applied=False)
                if not release.apply:  # closed unhandled: nothing written
                    self._record(scope, body, operation, None, False, hold, started)
                    await _drop_connection(send, receive)
                    return
                hold_answer = release.hold_answer

        captured: _Captured | None = None
        applied = False
        if operation is None:
            # Only the table's operations exist (not even HEAD for a GET route).
            captured = await _capture(_plain_not_found(), scope, replay)
        elif action is None or action.after_write:
            captured = await _capture(self.router, scope, replay)
            applied = operation is not None and operation.is_write and captured.status == 200
        if hold is not None and operation is not None and (hold.after_write or hold_answer):
            await self._held(operation, scope, applied=True)
        if action is not None:
            captured = (
                None
                if action.kind == "drop"
                else await _capture(_fault_response(action, scope), scope, replay)
            )

        self._record(scope, body, operation, captured, applied, action, started)
        if captured is None:
            await _drop_connection(send, receive)
        else:
            await captured.send_to(send)

    async def _held(self, operation: Operation, scope: Scope, *, applied: bool) -> Release:
        """Wait until `Faults.release` lets this request go on (a `hold` rule)."""
        loop = asyncio.get_running_loop()
        resumed: asyncio.Future[Release] = loop.create_future()

        def resume(release: Release) -> None:
            def settle() -> None:
                if not resumed.done():
                    resumed.set_result(release)

            with contextlib.suppress(RuntimeError):  # the server has stopped
                loop.call_soon_threadsafe(settle)

        self.store.faults.wait(
            HeldRequest(scope["method"], scope["path"], operation.operation_id, applied, resume)
        )
        return await resumed

    def _record(
        self,
        scope: Scope,
        body: bytes,
        operation: Operation | None,
        captured: _Captured | None,
        applied: bool,
        action: FaultRule | None,
        started: float,
    ) -> None:
        user_agent = None
        for name, value in scope.get("headers", []):
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
        status = captured.status if captured is not None else 0
        content_type = captured.content_type if captured is not None else ""
        raw = bytes(captured.body) if captured is not None else b""
        fault = action.kind if action is not None else None
        self.store.record(
            RequestRecord(
                method=scope["method"],
                path=scope["path"],
                operation_id=operation.operation_id if operation else None,
                status=status,
                write=scope["method"] in ("POST", "PUT", "PATCH", "DELETE"),
                applied=applied,
                fault=fault,
                duration=time.monotonic() - started,
                at=self.store.clock.now(),
            ),
            Exchange(
                method=scope["method"],
                path=scope["path"],
                user_agent=user_agent,
                request_json=_lenient_json(body),
                status=status,
                content_type=content_type,
                response_json=_lenient_json(raw) if "json" in content_type else None,
                response_text=raw.decode("utf-8", errors="replace"),
                fault=fault,
            ),
        )
