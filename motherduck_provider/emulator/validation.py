"""Request validation for the emulator, written from the contract and independent of the client.

Every function returns a list of issue messages, one per problem, each starting with the name
of the field it is about (`config.read_scaling.flock_size: must be between 0 and 64`). An empty
list means the input is valid. Unknown extra fields are ignored, as the contract's schemas do
not forbid them.

Deliberate readings of the contract:
* `\\p{L}` is a Unicode letter (`str.isalpha()`); `\\d` follows ECMA-262, the regex dialect
  JSON Schema names, so it is an ASCII digit `0-9`.
* JSON Schema's `integer` accepts integral numbers written as floats (`120.0`).
* `flock_size` is a JSON number in the contract but a count of replicas, so a fraction is
  rejected.
* `null` is not a value of any field: an optional field is either absent or valid.
* `dive_id` is `format: uuid`: the emulator answers 400 for any other path segment (the
  contract lists 400 for the operation; a real server parses the id before looking it up).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = [
    "COOLDOWN_MAX",
    "COOLDOWN_MIN",
    "DEFAULT_COOLDOWNS",
    "DUCKLING_STATUSES",
    "FLOCK_SIZE_MAX",
    "INSTANCE_SIZES",
    "InvalidJSON",
    "NAME_MAX",
    "TOKEN_TYPES",
    "TTL_MAX",
    "TTL_MIN",
    "USERNAME_MAX",
    "check_create_token",
    "check_create_user",
    "check_duckling",
    "check_embed_session",
    "check_path_dive_id",
    "check_path_username",
    "check_set_config",
    "normalize_config",
    "parse_json",
]

USERNAME_MAX = 255
NAME_MAX = 255
TTL_MIN = 300
TTL_MAX = 31_536_000
TOKEN_TYPES = ("read_write", "read_scaling")
INSTANCE_SIZES = ("pulse", "standard", "jumbo", "mega", "giga")
FLOCK_SIZE_MAX = 64
COOLDOWN_MIN = 60
COOLDOWN_MAX = 86_400
# Server-side cooldowns for a size when the request leaves `cooldown_seconds` out.
# Pulse has no configurable cooldown, so the key is omitted for it.
DEFAULT_COOLDOWNS: Mapping[str, int] = {"standard": 60, "jumbo": 60, "mega": 300, "giga": 600}
# What a running Duckling reports in `GET /v1/active_accounts`; `stopped` (control plane only)
# means not running, so not listed.
DUCKLING_STATUSES = ("active", "cooldown", "stopped")


class InvalidJSON(ValueError):
    """Raised by `parse_json` when a request body is not one strict JSON document."""


def _reject_constant(name: str) -> object:
    raise InvalidJSON(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> object:
    """Parse a request body as strict JSON (no NaN or Infinity); raise `InvalidJSON`."""
    if not raw.strip():
        raise InvalidJSON("the body is empty")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except InvalidJSON:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidJSON(str(exc)) from exc


def _is_number(value: object) -> bool:
    # bool is an int subclass in Python but not a JSON number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _is_integer(value: object) -> bool:
    return _is_number(value) and float(value).is_integer()  # type: ignore[arg-type]


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def check_path_username(username: str) -> list[str]:
    """Issues with the `{username}` path parameter (at most 255 characters)."""
    if len(username) > USERNAME_MAX:
        return [f"username: must be at most {USERNAME_MAX} characters"]
    return []


def check_path_dive_id(dive_id: str) -> list[str]:
    """Issues with the `{dive_id}` path parameter (a UUID, any case, with hyphens)."""
    try:
        parsed = uuid.UUID(dive_id)
    except ValueError:
        return ["dive_id: must be a UUID"]
    if len(dive_id) != 36 or str(parsed) != dive_id.lower():
        return ["dive_id: must be a UUID in its 36-character form"]
    return []


def _body_object(body: object) -> tuple[Mapping[str, Any] | None, list[str]]:
    if isinstance(body, dict):
        return body, []
    return None, ["body: must be a JSON object"]


def check_create_user(body: object) -> list[str]:
    """Issues with a `POST /v1/users` body `{username}`."""
    data, issues = _body_object(body)
    if data is None:
        return issues
    if "username" not in data:
        return ["username: is required"]
    username = data["username"]
    if not isinstance(username, str):
        return ["username: must be a string"]
    if not 1 <= len(username) <= USERNAME_MAX:
        issues.append(f"username: must be between 1 and {USERNAME_MAX} characters")
    if username and not username[0].isalpha():
        issues.append("username: must start with a letter")
    if any(not (ch.isalpha() or ch in "0123456789_") for ch in username):
        issues.append("username: may contain only letters, digits 0-9 and underscores")
    return issues


def check_create_token(body: object) -> list[str]:
    """Issues with a `POST /v1/users/{username}/tokens` body `{name, ttl?, token_type?}`."""
    data, issues = _body_object(body)
    if data is None:
        return issues
    if "name" not in data:
        issues.append("name: is required")
    elif not isinstance(data["name"], str):
        issues.append("name: must be a string")
    elif not 1 <= len(data["name"]) <= NAME_MAX:
        issues.append(f"name: must be between 1 and {NAME_MAX} characters")
    if "ttl" in data:
        ttl = data["ttl"]
        if not _is_number(ttl):
            issues.append("ttl: must be a number of seconds")
        elif not TTL_MIN <= ttl <= TTL_MAX:
            issues.append(f"ttl: must be between {TTL_MIN} and {TTL_MAX} seconds")
    if "token_type" in data and data["token_type"] not in TOKEN_TYPES:
        issues.append(f"token_type: must be one of {', '.join(TOKEN_TYPES)}")
    return issues


def check_embed_session(body: object) -> list[str]:
    """Issues with a `POST /v1/dives/{dive_id}/embed-session` body `{username, session_hint?}`."""
    data, issues = _body_object(body)
    if data is None:
        return issues
    if "username" not in data:
        issues.append("username: is required")
    elif not isinstance(data["username"], str):
        issues.append("username: must be a string")
    elif len(data["username"]) > USERNAME_MAX:
        issues.append(f"username: must be at most {USERNAME_MAX} characters")
    if "session_hint" in data:
        hint = data["session_hint"]
        if not isinstance(hint, str):
            issues.append("session_hint: must be a string")
        elif not hint:
            issues.append("session_hint: must not be empty")
    return issues


def _check_side(side: object, path: str, *, scaling: bool) -> list[str]:
    if not isinstance(side, dict):
        return [f"{path}: must be an object"]
    issues: list[str] = []
    size = side.get("instance_size")
    if "instance_size" not in side:
        issues.append(f"{path}.instance_size: is required")
    elif size not in INSTANCE_SIZES:
        issues.append(f"{path}.instance_size: must be one of {', '.join(INSTANCE_SIZES)}")
    if scaling:
        flock = side.get("flock_size", 0)
        if "flock_size" not in side:
            issues.append(f"{path}.flock_size: is required")
        elif not _is_number(flock):
            issues.append(f"{path}.flock_size: must be a number")
        elif not 0 <= flock <= FLOCK_SIZE_MAX:
            issues.append(f"{path}.flock_size: must be between 0 and {FLOCK_SIZE_MAX}")
        elif not float(flock).is_integer():
            issues.append(f"{path}.flock_size: must be a whole number")
    if "cooldown_seconds" in side:
        cooldown = side["cooldown_seconds"]
        if not _is_integer(cooldown):
            issues.append(f"{path}.cooldown_seconds: must be an integer")
        elif not COOLDOWN_MIN <= cooldown <= COOLDOWN_MAX:
            issues.append(
                f"{path}.cooldown_seconds: must be between {COOLDOWN_MIN} and {COOLDOWN_MAX}"
            )
        elif size == "pulse":
            issues.append(f"{path}.cooldown_seconds: is not allowed with instance_size pulse")
    return issues


def check_set_config(body: object) -> list[str]:
    """Issues with a `PUT /v1/users/{username}/instances` body `{config: {...}}`."""
    data, issues = _body_object(body)
    if data is None:
        return issues
    if "config" not in data:
        return ["config: is required"]
    config = data["config"]
    if not isinstance(config, dict):
        return ["config: must be an object"]
    for side, scaling in (("read_write", False), ("read_scaling", True)):
        if side not in config:
            issues.append(f"config.{side}: is required")
        else:
            issues.extend(_check_side(config[side], f"config.{side}", scaling=scaling))
    return issues


def _normalize_side(side: Mapping[str, Any], *, scaling: bool) -> dict[str, Any]:
    size = side["instance_size"]
    out: dict[str, Any] = {"instance_size": size}
    if scaling:
        out["flock_size"] = int(side["flock_size"])
    if "cooldown_seconds" in side:
        out["cooldown_seconds"] = int(side["cooldown_seconds"])
    elif size in DEFAULT_COOLDOWNS:
        out["cooldown_seconds"] = DEFAULT_COOLDOWNS[size]
    return out


def normalize_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a valid config: known keys only, whole numbers, cooldown defaults."""
    return {
        "read_write": _normalize_side(config["read_write"], scaling=False),
        "read_scaling": _normalize_side(config["read_scaling"], scaling=True),
    }


def check_duckling(duckling_id: object, status: object, flock_size: int) -> list[str]:
    """A Duckling the control plane may start or stop: `rw`, or `rs.N` with N below the flock."""
    issues: list[str] = []
    replica = duckling_id[3:] if isinstance(duckling_id, str) and duckling_id[:3] == "rs." else ""
    canonical = replica.isascii() and replica.isdigit() and str(int(replica)) == replica
    if duckling_id != "rw" and not canonical:
        issues.append(f"id: must be 'rw' or 'rs.N' (a read-scaling replica), got {duckling_id!r}")
    elif replica and int(replica) >= flock_size:
        issues.append(
            f"id: {duckling_id!r} does not exist: the account's flock_size is {flock_size}"
        )
    if status not in DUCKLING_STATUSES:
        issues.append(f"status: must be one of {', '.join(DUCKLING_STATUSES)}, got {status!r}")
    return issues
