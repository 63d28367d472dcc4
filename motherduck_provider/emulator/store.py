"""The emulator's state: service accounts, their tokens and Duckling configs, Dives, its logs.

One `Store` belongs to one emulator and is safe to use from any thread (one lock guards it),
so a test can read or seed it while the server handles requests. Time comes from
`store.clock`, which tests move forward instead of sleeping. With a `state_file` the
accounts are written to that file (atomically) after every change and loaded at start.

Token secrets are never kept: only their SHA-256 is stored, so the secret exists solely in
the create response, as with the real API. Dive embed sessions are not kept at all: each is
minted for its one response.

Dives are made in the MotherDuck UI, not through the Admin API, so the emulator has only the
Dives it is given (`create_dive`, the control plane's `seed`, the CLI's `--dive`): an embed
session for any other Dive id is a 404, as a Dive deleted in the UI would be.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import secrets
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .faults import Faults
from .validation import check_duckling, check_set_config, normalize_config

__all__ = [
    "Clock",
    "CreatedToken",
    "DEFAULT_CONFIG",
    "DiveNotFound",
    "Exchange",
    "RequestRecord",
    "Store",
    "TokenNotFound",
    "TokenRecord",
    "UserNotFound",
    "UserRecord",
    "UsernameTaken",
    "format_timestamp",
    "parse_timestamp",
]

# The Duckling config of a new service account: the smallest size on both sides and no
# read-scaling replicas. The real default is not documented; this is the cheapest plausible one.
DEFAULT_CONFIG: Mapping[str, Any] = {
    "read_write": {"instance_size": "pulse"},
    "read_scaling": {"instance_size": "pulse", "flock_size": 0},
}

_STATE_VERSION = 1


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds, e.g. `2026-11-28T01:02:03.456Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (as written by `format_timestamp`) to an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return moment.astimezone(UTC)


def _whole_ms(moment: datetime) -> datetime:
    # Timestamps are shown with millisecond precision; keep them so, so what the API returns
    # and what is stored always agree.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class Clock:
    """The store's source of time: the system clock moved by an offset, or a frozen moment."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen = start
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        with self._lock:
            base = self._frozen if self._frozen is not None else datetime.now(UTC)
            return base + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move time forward by `seconds` (negative moves back) and return the new now."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def freeze(self, at: datetime | None = None) -> None:
        """Stop time at `at` (default: now)."""
        moment = at if at is not None else self.now()
        with self._lock:
            self._frozen = moment
            self._offset = timedelta(0)

    def reset(self) -> None:
        """Follow the system clock again."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)


class UsernameTaken(ValueError):
    """Raised by `Store.create_user` when the name is in use (compared case-insensitively)."""


class UserNotFound(LookupError):
    """Raised when no service account has the given username."""


class TokenNotFound(LookupError):
    """Raised when the account has no live token with the given id."""


class DiveNotFound(LookupError):
    """Raised when the organization has no Dive with the given id."""


@dataclass
class TokenRecord:
    """A stored access token: metadata and the SHA-256 of its secret."""

    id: str
    name: str
    token_type: str
    created_at: datetime
    expire_at: datetime | None
    secret_sha256: str

    @property
    def read_only(self) -> bool:
        """True for read-scaling tokens, as the API reports it."""
        return self.token_type == "read_scaling"

    def is_expired(self, now: datetime) -> bool:
        """Whether the token has expired at `now`."""
        return self.expire_at is not None and self.expire_at <= now

    def metadata(self) -> dict[str, Any]:
        """The token as the list endpoint shows it (never the secret)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.expire_at is not None:
            out["expire_at"] = format_timestamp(self.expire_at)
        out["created_ts"] = format_timestamp(self.created_at)
        out["read_only"] = self.read_only
        out["token_type"] = self.token_type
        return out

    def to_state(self) -> dict[str, Any]:
        """The token as written to the state file."""
        return {**self.metadata(), "secret_sha256": self.secret_sha256}

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> TokenRecord:
        """Rebuild a token written by `to_state`."""
        expire_at = data.get("expire_at")
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            token_type=str(data["token_type"]),
            created_at=parse_timestamp(str(data["created_ts"])),
            expire_at=None if expire_at is None else parse_timestamp(str(expire_at)),
            secret_sha256=str(data["secret_sha256"]),
        )


@dataclass(frozen=True)
class CreatedToken:
    """A token just created: its record and its secret (the only time the secret exists)."""

    record: TokenRecord
    secret: str

    def response(self) -> dict[str, Any]:
        """The body of the create-token response."""
        return {"token": self.secret, **self.record.metadata()}


@dataclass
class UserRecord:
    """A service account: its username, Duckling config, tokens by id and running Ducklings.

    `ducklings` maps `rw` or `rs.N` to `active` or `cooldown`; an id not in it is stopped.
    """

    username: str
    config: dict[str, Any]
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    ducklings: dict[str, str] = field(default_factory=dict)

    def running(self) -> list[dict[str, str]]:
        """The running Ducklings as `GET /v1/active_accounts` lists them, `rw` first."""

        def order(duckling_id: str) -> int:
            return -1 if duckling_id == "rw" else int(duckling_id.partition(".")[2])

        return [
            {
                "id": duckling_id,
                "type": "read_write" if duckling_id == "rw" else "read_scaling",
                "status": self.ducklings[duckling_id],
            }
            for duckling_id in sorted(self.ducklings, key=order)
        ]

    def drop_missing_replicas(self) -> None:
        """Forget replicas the config no longer has (the flock shrank)."""
        flock = int(self.config["read_scaling"]["flock_size"])
        for duckling_id in list(self.ducklings):
            if check_duckling(duckling_id, "active", flock):
                del self.ducklings[duckling_id]


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the request log keeps it.

    `write` is true for POST, PUT and DELETE calls; `applied` is true when such a call changed
    state (the handler succeeded, even if a fault then hid the response). `fault` names the
    injected fault kind, if any.
    """

    method: str
    path: str
    operation_id: str | None
    status: int
    write: bool
    applied: bool
    fault: str | None
    duration: float
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON."""
        return {
            "method": self.method,
            "path": self.path,
            "operation_id": self.operation_id,
            "status": self.status,
            "write": self.write,
            "applied": self.applied,
            "fault": self.fault,
            "duration": self.duration,
            "at": format_timestamp(self.at),
        }


@dataclass(frozen=True)
class Exchange:
    """One API exchange as seen on the wire, for checking against the contract.

    `fault` is set (`error`, `rate_limit`, `drop`) when the response was shaped by fault
    injection rather than by the API's rules; a dropped connection has `status` 0 and no body.
    """

    method: str
    path: str
    user_agent: str | None
    request_json: object | None
    status: int
    content_type: str
    response_json: object | None
    response_text: str
    fault: str | None = None

    def redacted(self) -> Exchange:
        """A copy without credentials (a create-token response's `token`, an embed session's
        `session`), for display."""
        body = self.response_json
        if not isinstance(body, dict):
            return self
        hidden = [key for key in ("token", "session") if isinstance(body.get(key), str)]
        if not hidden:
            return self
        body = {**body, **dict.fromkeys(hidden, "<redacted>")}
        text = json.dumps(body, separators=(",", ":"))
        return dataclasses.replace(self, response_json=body, response_text=text)

    def to_dict(self) -> dict[str, Any]:
        """The exchange as JSON."""
        return {
            "method": self.method,
            "path": self.path,
            "user_agent": self.user_agent,
            "request_json": self.request_json,
            "status": self.status,
            "content_type": self.content_type,
            "response_json": self.response_json,
            "response_text": self.response_text,
            "fault": self.fault,
        }


def _valid_config(config: Mapping[str, Any]) -> dict[str, Any]:
    issues = check_set_config({"config": config})
    if issues:
        raise ValueError("; ".join(issues))
    return normalize_config(config)


def _key(username: str) -> str:
    # Usernames are identities compared case-insensitively.
    return username.casefold()


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Store:
    """Accounts, tokens, configs, the request and exchange logs, and the fault rules."""

    def __init__(
        self,
        *,
        state_file: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
        faults: Faults | None = None,
        default_config: Mapping[str, Any] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._users: dict[str, UserRecord] = {}
        self._dives: set[str] = set()
        self._requests: list[RequestRecord] = []
        self._exchanges: list[Exchange] = []
        self.clock = clock if clock is not None else Clock()
        self.faults = faults if faults is not None else Faults()
        self.default_config: dict[str, Any] = _valid_config(default_config or DEFAULT_CONFIG)
        self.state_file = Path(state_file) if state_file is not None else None
        self._admin_token: str | None = None
        if self.state_file is not None and self.state_file.exists():
            self.load()

    # The admin token ------------------------------------------------------------------------

    @property
    def admin_token(self) -> str | None:
        """The admin token set by `rotate_admin_token`, or None: the server's own still holds."""
        with self._lock:
            return self._admin_token

    def rotate_admin_token(self, token: str | None = None) -> str:
        """Replace the admin token, as an admin revoking theirs and making a new one would.

        The previous admin token answers 401 from now on. `token` None picks a random one;
        `reset()` goes back to the server's own. Not persisted: a restart uses `--admin-token`.
        """
        chosen = (token or "").strip() or "md-admin-" + secrets.token_urlsafe(24)
        with self._lock:
            self._admin_token = chosen
        return chosen

    # Accounts -------------------------------------------------------------------------------

    def _user(self, username: str) -> UserRecord:
        user = self._users.get(_key(username))
        if user is None:
            raise UserNotFound(username)
        return user

    def create_user(self, username: str, *, config: Mapping[str, Any] | None = None) -> UserRecord:
        """Add a service account with the default (or the given) Duckling config."""
        with self._lock:
            if _key(username) in self._users:
                raise UsernameTaken(username)
            chosen = _valid_config(config) if config is not None else self.default_config
            user = UserRecord(username=username, config=copy.deepcopy(chosen))
            self._users[_key(username)] = user
            self._changed()
            return copy.deepcopy(user)

    def get_user(self, username: str) -> UserRecord | None:
        """A copy of the account, or None."""
        with self._lock:
            user = self._users.get(_key(username))
            return copy.deepcopy(user)

    def has_user(self, username: str) -> bool:
        """Whether the account exists."""
        with self._lock:
            return _key(username) in self._users

    @property
    def users(self) -> dict[str, UserRecord]:
        """Copies of all accounts, by username."""
        with self._lock:
            return {user.username: copy.deepcopy(user) for user in self._users.values()}

    def delete_user(self, username: str) -> UserRecord:
        """Remove the account with its tokens and config; raise `UserNotFound`."""
        with self._lock:
            user = self._user(username)
            del self._users[_key(username)]
            self._changed()
            return user

    # Tokens ---------------------------------------------------------------------------------

    def create_token(
        self,
        username: str,
        name: str,
        *,
        ttl: float | None = None,
        token_type: str = "read_write",
        expire_at: datetime | None = None,
        created_at: datetime | None = None,
    ) -> CreatedToken:
        """Mint a token for the account; `expire_at` (seeding) overrides `ttl`."""
        with self._lock:
            user = self._user(username)
            created = _whole_ms(created_at if created_at is not None else self.clock.now())
            if expire_at is None and ttl is not None:
                expire_at = created + timedelta(seconds=ttl)
            secret = secrets.token_urlsafe(48)
            record = TokenRecord(
                id=str(uuid.uuid4()),
                name=name,
                token_type=token_type,
                created_at=created,
                expire_at=None if expire_at is None else _whole_ms(expire_at.astimezone(UTC)),
                secret_sha256=_hash_secret(secret),
            )
            user.tokens[record.id] = record
            self._changed()
            return CreatedToken(copy.deepcopy(record), secret)

    def _purge_expired(self, user: UserRecord) -> None:
        now = self.clock.now()
        expired = [tid for tid, token in user.tokens.items() if token.is_expired(now)]
        for token_id in expired:
            del user.tokens[token_id]
        if expired:
            self._changed()

    def list_tokens(self, username: str) -> list[TokenRecord]:
        """The account's live tokens (expired ones are purged); raise `UserNotFound`."""
        with self._lock:
            user = self._user(username)
            self._purge_expired(user)
            return [copy.deepcopy(token) for token in user.tokens.values()]

    def delete_token(self, username: str, token_id: str) -> TokenRecord:
        """Revoke a live token; raise `UserNotFound` or `TokenNotFound`."""
        with self._lock:
            user = self._user(username)
            self._purge_expired(user)
            token = user.tokens.pop(token_id, None)
            if token is None:
                raise TokenNotFound(token_id)
            self._changed()
            return token

    def find_token_by_secret(self, secret: str) -> TokenRecord | None:
        """The live token whose secret this is, if any (used to tell member tokens apart)."""
        digest = _hash_secret(secret)
        with self._lock:
            now = self.clock.now()
            for user in self._users.values():
                for token in user.tokens.values():
                    if token.secret_sha256 == digest and not token.is_expired(now):
                        return copy.deepcopy(token)
            return None

    # Duckling configs -----------------------------------------------------------------------

    def get_config(self, username: str) -> dict[str, Any]:
        """The account's Duckling config; raise `UserNotFound`."""
        with self._lock:
            return copy.deepcopy(self._user(username).config)

    def set_config(self, username: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the account's config, filling cooldown defaults, and return it.

        Raise `ValueError` listing the issues if the config breaks the contract's rules.
        """
        with self._lock:
            user = self._user(username)
            user.config = _valid_config(config)
            user.drop_missing_replicas()
            self._changed()
            return copy.deepcopy(user.config)

    # Running Ducklings ----------------------------------------------------------------------

    def set_duckling_status(
        self, username: str, duckling_id: str = "rw", status: str = "active"
    ) -> list[dict[str, str]]:
        """Set one Duckling `active`, `cooldown` or `stopped`, as queries and idle time would.

        The API has no way to start a Duckling, so tests use this (or the control plane) to
        shape `GET /v1/active_accounts`. `duckling_id` is `rw` or `rs.N` (N below the
        account's `flock_size`). Returns the account's running Ducklings; raises
        `UserNotFound`, or `ValueError` naming the problem.
        """
        with self._lock:
            user = self._user(username)
            flock = int(user.config["read_scaling"]["flock_size"])
            issues = check_duckling(duckling_id, status, flock)
            if issues:
                raise ValueError("; ".join(issues))
            if status == "stopped":
                user.ducklings.pop(duckling_id, None)
            else:
                user.ducklings[duckling_id] = status
            self._changed()
            return user.running()

    def active_accounts(self) -> list[dict[str, Any]]:
        """Accounts with a Duckling `active` or in `cooldown`, as the API lists them."""
        with self._lock:
            return [
                {"username": user.username, "ducklings": user.running()}
                for user in self._users.values()
                if user.ducklings
            ]

    # Dives ----------------------------------------------------------------------------------

    def create_dive(self, dive_id: str | None = None) -> str:
        """Add a Dive (a random id unless given; a UUID) and return its id in canonical form."""
        canonical = str(uuid.UUID(dive_id)) if dive_id is not None else str(uuid.uuid4())
        with self._lock:
            self._dives.add(canonical)
            self._changed()
        return canonical

    @property
    def dives(self) -> list[str]:
        """The ids of the organization's Dives, sorted."""
        with self._lock:
            return sorted(self._dives)

    def create_embed_session(self, dive_id: str, username: str) -> str:
        """A new opaque session for embedding the Dive as the service account.

        Raises `DiveNotFound` or `UserNotFound`. Every call mints a new session (a hint to
        reuse a read-scaling session changes nothing a caller can see here).
        """
        with self._lock:
            try:
                canonical = str(uuid.UUID(dive_id))
            except ValueError:
                raise DiveNotFound(dive_id) from None
            if canonical not in self._dives:
                raise DiveNotFound(dive_id)
            self._user(username)
        return "md-dive-session-" + secrets.token_urlsafe(32)

    # Logs and counters ----------------------------------------------------------------------

    def record(self, request: RequestRecord, exchange: Exchange) -> None:
        """Append one API call to the request and exchange logs."""
        with self._lock:
            self._requests.append(request)
            self._exchanges.append(exchange)

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def exchanges(self) -> list[Exchange]:
        """The exchange log, oldest first."""
        with self._lock:
            return list(self._exchanges)

    def count(
        self,
        *,
        operation: str | None = None,
        method: str | None = None,
        status: int | None = None,
        write: bool | None = None,
    ) -> int:
        """How many logged requests match every given filter (`operation`: an operationId)."""
        with self._lock:
            return sum(
                1
                for r in self._requests
                if (operation is None or r.operation_id == operation)
                and (method is None or r.method == method)
                and (status is None or r.status == status)
                and (write is None or r.write == write)
            )

    @property
    def request_count(self) -> int:
        """How many API requests were logged."""
        return self.count()

    @property
    def write_count(self) -> int:
        """How many POST, PUT and DELETE API requests were logged."""
        return self.count(write=True)

    def counters(self) -> dict[str, Any]:
        """Totals and per-operation counts, as JSON."""
        with self._lock:
            by_operation: dict[str, int] = {}
            for r in self._requests:
                name = r.operation_id or "unknown-route"
                by_operation[name] = by_operation.get(name, 0) + 1
            return {
                "requests": len(self._requests),
                "writes": sum(1 for r in self._requests if r.write),
                "applied_writes": sum(1 for r in self._requests if r.applied),
                "by_operation": by_operation,
            }

    def clear_logs(self) -> None:
        """Forget the request and exchange logs."""
        with self._lock:
            self._requests.clear()
            self._exchanges.clear()

    def reset(self) -> None:
        """Back to empty: no accounts, logs or faults, the system clock, the first admin token."""
        with self._lock:
            self._admin_token = None
            self._users.clear()
            self._dives.clear()
            self.clear_logs()
            self.faults.clear()
            self.clock.reset()
            self._changed()

    # Snapshots and persistence --------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """All accounts as JSON; tokens carry metadata, `expired` and the secret's SHA-256."""
        with self._lock:
            now = self.clock.now()
            return {
                "version": _STATE_VERSION,
                "now": format_timestamp(now),
                "users": [
                    {
                        "username": user.username,
                        "config": copy.deepcopy(user.config),
                        "tokens": [
                            {**token.to_state(), "expired": token.is_expired(now)}
                            for token in user.tokens.values()
                        ],
                        "ducklings": dict(user.ducklings),
                    }
                    for user in self._users.values()
                ],
                "dives": sorted(self._dives),
            }

    def _changed(self) -> None:
        if self.state_file is not None:
            self.save()

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the accounts to `path` (default: the state file) atomically."""
        target = Path(path) if path is not None else self.state_file
        if target is None:
            raise ValueError("no state file configured")
        with self._lock:
            data = {
                "version": _STATE_VERSION,
                "users": [
                    {
                        "username": user.username,
                        "config": user.config,
                        "tokens": [token.to_state() for token in user.tokens.values()],
                        "ducklings": user.ducklings,
                    }
                    for user in self._users.values()
                ],
                "dives": sorted(self._dives),
            }
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle, indent=2, sort_keys=True)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def load(self, path: str | os.PathLike[str] | None = None) -> None:
        """Replace the accounts with those in `path` (default: the state file)."""
        source = Path(path) if path is not None else self.state_file
        if source is None:
            raise ValueError("no state file configured")
        data = json.loads(source.read_text(encoding="utf-8"))
        if data.get("version") != _STATE_VERSION:
            raise ValueError(f"{source}: unsupported state version {data.get('version')!r}")
        users: dict[str, UserRecord] = {}
        for raw in data["users"]:
            user = UserRecord(username=str(raw["username"]), config=normalize_config(raw["config"]))
            for token_data in raw["tokens"]:
                token = TokenRecord.from_state(token_data)
                user.tokens[token.id] = token
            # Files written before Ducklings were tracked have no `ducklings`: none running.
            user.ducklings = {str(k): str(v) for k, v in raw.get("ducklings", {}).items()}
            users[_key(user.username)] = user
        # Files written before Dives were emulated have none.
        dives = {str(uuid.UUID(str(dive))) for dive in data.get("dives", [])}
        with self._lock:
            self._users = users
            self._dives = dives
