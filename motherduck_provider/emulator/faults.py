"""Fault injection: rules that make API requests slow, fail, get rate limited or drop.

A rule targets a route (`*`, `POST *`, `POST /v1/users/{username}/tokens` or an operationId
such as `users-createToken`) and fires on a matching request with probability `rate`, for at
most `count` requests (None: no limit). Rules are checked in the order they were added:
every firing `latency` rule adds its delay, and the first firing `error`, `rate_limit` or
`drop` (or `hold`) rule decides the outcome. With `after_write=True` an `error` or `drop`
happens after the request was handled, so its write is kept although the client sees a failure.
Before any rule, the shared rate limit (`limits.py`, off unless set) may refuse the request
with a 429 of its own.

Kinds:
* `error`: respond with `status` (4xx and 500: the API's JSON error body; 502, 503, 504:
  a plain-text body, as a gateway would send). With `echo_headers=True`: an HTML page that
  echoes the request line and headers, `Authorization` included, as a misconfigured gateway
  would (to test that clients keep it out of their error messages).
* `rate_limit`: respond 429 with a `Retry-After` header of `retry_after` (seconds, or a string
  sent as is, such as an HTTP date).
* `drop`: close the connection without a response.
* `latency`: wait `seconds` before handling the request.
* `hold`: keep the request waiting until the test calls `Faults.release` (or
  `POST /_emulator/release`): before it is handled, or with `after_write=True` once it is handled
  (the write is done, the answer waits). `Faults.held` lists what is waiting, so a test can act
  at an exact point (kill the client while its N-th write is in flight) instead of racing a
  timer. A hold is the outcome of its request: no other action rule applies to it. A released
  request is answered (and logged) as any other; one closed unhandled is logged as `hold`.

The same rules can be given as JSON objects (the control endpoint) or as the compact command
line form `KIND[@ROUTE][,key=value...]`, e.g. `error@users-createToken,status=503,count=2`.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .limits import SharedLimit
from .operations import OPERATIONS, Operation, find_operation

__all__ = ["FAULT_KINDS", "FaultDecision", "FaultRule", "Faults", "HeldRequest", "Release"]

FAULT_KINDS = ("drop", "error", "hold", "latency", "rate_limit")
_METHODS = sorted({operation.method for operation in OPERATIONS})


@dataclass(frozen=True)
class FaultRule:
    """One fault injection rule; see the module docstring for the fields' meaning."""

    kind: str
    route: str = "*"
    status: int = 500
    count: int | None = None
    rate: float = 1.0
    retry_after: int | str = 1
    seconds: float = 0.0
    after_write: bool = False
    echo_headers: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind: must be one of {', '.join(FAULT_KINDS)}")
        if not self._route_is_known():
            raise ValueError(
                f"route: {self.route!r} is not '*', 'METHOD *', 'METHOD /template' "
                "or an operationId of an emulated operation"
            )
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise ValueError("status: must be an integer")
        if not 400 <= self.status <= 599:
            raise ValueError("status: must be between 400 and 599")
        if self.count is not None and (
            isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1
        ):
            raise ValueError("count: must be a positive integer or null")
        if isinstance(self.rate, bool) or not isinstance(self.rate, int | float):
            raise ValueError("rate: must be a number")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate: must be between 0 and 1")
        if isinstance(self.retry_after, bool) or not isinstance(self.retry_after, int | str):
            raise ValueError("retry_after: must be an integer number of seconds or a string")
        if isinstance(self.retry_after, int) and self.retry_after < 0:
            raise ValueError("retry_after: must not be negative")
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int | float):
            raise ValueError("seconds: must be a number")
        if self.seconds < 0:
            raise ValueError("seconds: must not be negative")
        if not isinstance(self.after_write, bool):
            raise ValueError("after_write: must be a boolean")
        if self.after_write and self.kind not in ("error", "drop", "hold"):
            raise ValueError("after_write: only applies to kinds error, drop and hold")
        if not isinstance(self.echo_headers, bool):
            raise ValueError("echo_headers: must be a boolean")
        if self.echo_headers and self.kind != "error":
            raise ValueError("echo_headers: only applies to kind error")

    def _route_is_known(self) -> bool:
        if self.route == "*":
            return True
        method, _, rest = self.route.partition(" ")
        if rest == "*":
            return method in _METHODS
        return find_operation(self.route) is not None

    def matches(self, operation: Operation) -> bool:
        """Whether this rule targets `operation`."""
        if self.route == "*":
            return True
        method, _, rest = self.route.partition(" ")
        if rest == "*":
            return method == operation.method
        return self.route in (operation.key, operation.operation_id)

    def to_dict(self) -> dict[str, Any]:
        """The rule as a JSON object (the form `from_dict` and the control endpoint accept)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from a JSON object; raise `ValueError` naming a bad field."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: is not a fault rule field")
        if "kind" not in data:
            raise ValueError("kind: is required")
        return cls(**dict(data))

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        """Parse a JSON object or the compact form `KIND[@ROUTE][,key=value...]`."""
        text = text.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"fault rule is not valid JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise ValueError("fault rule must be a JSON object")
            return cls.from_dict(data)
        head, *options = text.split(",")
        kind, _, route = head.partition("@")
        values: dict[str, Any] = {"kind": kind.strip(), "route": route.strip() or "*"}
        for option in options:
            key, sep, raw = option.partition("=")
            if not sep:
                raise ValueError(f"fault rule option {option!r} is not key=value")
            values[key.strip()] = _parse_value(key.strip(), raw.strip())
        return cls.from_dict(values)


def _parse_value(key: str, raw: str) -> Any:
    if key in ("after_write", "echo_headers"):
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{key}: must be true or false")
        return raw.lower() in ("true", "1")
    if key in ("status", "count"):
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"{key}: must be an integer") from exc
    if key in ("rate", "seconds"):
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"{key}: must be a number") from exc
    if key == "retry_after":
        return int(raw) if raw.isdigit() else raw
    return raw


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: wait `latency` seconds, then apply `action` if any."""

    latency: float = 0.0
    action: FaultRule | None = None


@dataclass(frozen=True)
class Release:
    """How a held request goes on: handled (`apply`) or closed unhandled, so nothing is written.

    With `hold_answer` a request released before it was handled is held again once handled
    (its write done, its answer waiting). Both only matter for a request held before handling.
    """

    apply: bool = True
    hold_answer: bool = False


@dataclass(frozen=True)
class HeldRequest:
    """A request a `hold` rule keeps waiting; `applied`: it was handled, only the answer waits."""

    method: str
    path: str
    operation_id: str
    applied: bool
    resume: Callable[[Release], None] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "operation_id": self.operation_id,
            "applied": self.applied,
        }


@dataclass
class _Entry:
    rule: FaultRule
    remaining: int | None
    fired: int = 0


@dataclass
class Faults:
    """The fault rules of one emulator, safe to change from any thread while it serves.

    `latency` is added to every API request on top of any `latency` rule. `seed` makes the
    probabilistic rules repeatable. `limit` is the shared rate limit (off until set).
    """

    latency: float = 0.0
    seed: int | None = None
    limit: SharedLimit = field(default_factory=SharedLimit)
    _entries: list[_Entry] = field(default_factory=list, repr=False)
    _held: list[HeldRequest] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def add(
        self, rule: FaultRule | str | Mapping[str, Any] | None = None, **kwargs: Any
    ) -> FaultRule:
        """Add a rule (a `FaultRule`, its compact string, a dict, or keyword fields)."""
        if rule is None:
            rule = FaultRule(**kwargs)
        elif isinstance(rule, str):
            rule = FaultRule.parse(rule)
        elif not isinstance(rule, FaultRule):
            rule = FaultRule.from_dict(rule)
        with self._lock:
            self._entries.append(_Entry(rule, rule.count))
        return rule

    def error(
        self,
        route: str = "*",
        status: int = 500,
        *,
        count: int | None = None,
        rate: float = 1.0,
        after_write: bool = False,
        echo_headers: bool = False,
    ) -> FaultRule:
        """Make matching requests fail with `status` (after the write if `after_write`)."""
        return self.add(
            FaultRule(
                "error",
                route,
                status=status,
                count=count,
                rate=rate,
                after_write=after_write,
                echo_headers=echo_headers,
            )
        )

    def rate_limit(
        self,
        route: str = "*",
        *,
        retry_after: int | str = 1,
        count: int | None = None,
        rate: float = 1.0,
    ) -> FaultRule:
        """Answer matching requests with 429 and `Retry-After: retry_after`."""
        return self.add(
            FaultRule(
                "rate_limit", route, status=429, retry_after=retry_after, count=count, rate=rate
            )
        )

    def drop(
        self,
        route: str = "*",
        *,
        count: int | None = None,
        rate: float = 1.0,
        after_write: bool = False,
    ) -> FaultRule:
        """Close the connection of matching requests without a response."""
        return self.add(FaultRule("drop", route, count=count, rate=rate, after_write=after_write))

    def slow(
        self, route: str = "*", seconds: float = 1.0, *, count: int | None = None, rate: float = 1.0
    ) -> FaultRule:
        """Delay matching requests by `seconds`."""
        return self.add(FaultRule("latency", route, seconds=seconds, count=count, rate=rate))

    def hold(
        self, route: str = "*", *, count: int | None = None, after_write: bool = False
    ) -> FaultRule:
        """Keep matching requests waiting until `release` (once handled if `after_write`)."""
        return self.add(FaultRule("hold", route, count=count, after_write=after_write))

    @property
    def held(self) -> list[HeldRequest]:
        """The requests waiting now, oldest first."""
        with self._lock:
            return list(self._held)

    def wait(self, request: HeldRequest) -> None:
        """Record a request as held (the server calls this; `release` resumes it)."""
        with self._lock:
            self._held.append(request)

    def release(self, *, apply: bool = True, hold_answer: bool = False) -> int:
        """Let every held request go on as `Release` says; how many there were."""
        with self._lock:
            waiting, self._held = self._held, []
        for request in waiting:
            request.resume(Release(apply=apply, hold_answer=hold_answer))
        return len(waiting)

    def clear(self) -> None:
        """Remove every rule, the global latency and the limit; held requests close unhandled."""
        with self._lock:
            self._entries.clear()
            self.latency = 0.0
        self.limit.clear()
        self.release(apply=False)

    def reseed(self, seed: int | None) -> None:
        """Restart the random sequence of probabilistic rules from `seed`."""
        with self._lock:
            self.seed = seed
            self._random = random.Random(seed)

    @property
    def rules(self) -> list[FaultRule]:
        """The rules still active, in order."""
        with self._lock:
            return [entry.rule for entry in self._entries]

    def decide(
        self, operation: Operation, *, token: str = "", path: str = "", body: bytes = b""
    ) -> FaultDecision:
        """Roll the rules for one request to `operation`, using up counts of firing rules.

        The shared limit comes first: a request it refuses (by its bearer `token`; `path` and
        `body` tell a retry apart) gets its 429 without rolling any rule.
        """
        retry_after = self.limit.admit(token, operation.method, path, body)
        if retry_after is not None:
            refused = FaultRule("rate_limit", status=429, retry_after=retry_after)
            return FaultDecision(latency=self.latency, action=refused)
        with self._lock:
            latency = self.latency
            action: FaultRule | None = None
            for entry in list(self._entries):
                rule = entry.rule
                if rule.kind != "latency" and action is not None:
                    continue
                if not rule.matches(operation):
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                entry.fired += 1
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._entries.remove(entry)
                if rule.kind == "latency":
                    latency += rule.seconds
                else:
                    action = rule
            return FaultDecision(latency=latency, action=action)

    def snapshot(self) -> dict[str, Any]:
        """The current settings as JSON: latency, seed and rules with their use so far."""
        with self._lock:
            return {
                "latency": self.latency,
                "seed": self.seed,
                "rules": [
                    {**entry.rule.to_dict(), "remaining": entry.remaining, "fired": entry.fired}
                    for entry in self._entries
                ],
                "held": [request.to_dict() for request in self._held],
                "limit": self.limit.snapshot(),
            }

    def configure(self, data: Mapping[str, Any]) -> None:
        """Apply a JSON request: one rule object, or `{rules?, latency?, seed?, replace?, limit?}`.

        `limit` is `{rate, burst?}` (the shared rate limit, counters reset) or null (off).

        All of it is checked before anything changes; raise `ValueError` naming the field.
        """
        if "kind" in data:
            data = {"rules": [data]}
        allowed = {"rules", "latency", "seed", "replace", "limit"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"{unknown[0]}: is not a fault setting")
        raw_rules = data.get("rules", [])
        if not isinstance(raw_rules, list):
            raise ValueError("rules: must be a list")
        rules: list[FaultRule] = []
        for index, raw in enumerate(raw_rules):
            if not isinstance(raw, dict | str):
                raise ValueError(f"rules[{index}]: must be an object or a string")
            try:
                rules.append(
                    FaultRule.parse(raw) if isinstance(raw, str) else FaultRule.from_dict(raw)
                )
            except (TypeError, ValueError) as exc:
                raise ValueError(f"rules[{index}].{exc}") from exc
        latency = data.get("latency")
        if latency is not None and (
            isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0
        ):
            raise ValueError("latency: must be a non-negative number")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed: must be an integer")
        replace = data.get("replace", False)
        if not isinstance(replace, bool):
            raise ValueError("replace: must be a boolean")
        limit = data.get("limit")
        if limit is not None and not isinstance(limit, dict):
            raise ValueError("limit: must be an object {rate, burst?} or null")
        checked = SharedLimit()
        if limit is not None:
            try:
                checked.configure(limit)
            except ValueError as exc:
                raise ValueError(f"limit.{exc}") from exc
        if replace:
            self.clear()
        if "limit" in data:
            self.limit.configure(limit)
        if "seed" in data:
            self.reseed(seed)
        with self._lock:
            if latency is not None:
                self.latency = float(latency)
            self._entries.extend(_Entry(rule, rule.count) for rule in rules)
