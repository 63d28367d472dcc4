"""A shared rate limit: a token bucket per bearer token, answering 429 with `Retry-After`.

Unlike the `rate_limit` fault, which fires by chance, this limit is deterministic and shared
by every client that uses the same token, as a real API's limit would be: each token has a
bucket of `burst` requests refilled at `rate` per second, and a request finding it empty is
refused (the refusal takes nothing from the bucket).

`Retry-After` is sent in whole seconds, rounded up (the form MotherDuck-style APIs send and
the one every client parses), so a client that honours it never finds the bucket as empty as
it left it.

To show that clients honour it, the limit remembers each refused request by its token,
method, path and body (a retry repeats all four) with the moment its `Retry-After` ends; a
repeat arriving before then counts as `early`. Keying by the request rather than the
connection keeps pooled connections, shared by a client's threads, from blaming one thread
for another's request. Only a digest of the token is kept.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LimitStats", "SharedLimit"]


@dataclass
class LimitStats:
    """What the limit did since it was set: requests let through, 429s sent, early repeats."""

    admitted: int = 0
    limited: int = 0
    early: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"admitted": self.admitted, "limited": self.limited, "early": self.early}


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class SharedLimit:
    """The limit of one emulator: off until `set`; safe to use from any thread.

    `clock` gives monotonic seconds; tests replace it to move time without sleeping.
    """

    clock: Callable[[], float] = time.monotonic
    rate: float | None = None
    burst: int = 0
    stats: LimitStats = field(default_factory=LimitStats)
    _buckets: dict[str, _Bucket] = field(default_factory=dict, repr=False)
    _waiting: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set(self, rate: float, burst: int | None = None) -> None:
        """Allow `rate` requests per second per token, `burst` at once (default: `rate`).

        Counters and buckets start afresh. Raise `ValueError` naming a bad field.
        """
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
            raise ValueError("rate: must be a positive number of requests per second")
        if not math.isfinite(rate):
            raise ValueError("rate: must be finite")
        if burst is None:
            burst = max(1, math.ceil(rate))
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError("burst: must be a positive integer")
        with self._lock:
            self.rate, self.burst = float(rate), burst
            self._reset()

    def clear(self) -> None:
        """Turn the limit off and forget its counters."""
        with self._lock:
            self.rate, self.burst = None, 0
            self._reset()

    def _reset(self) -> None:
        self.stats = LimitStats()
        self._buckets.clear()
        self._waiting.clear()

    def admit(self, token: str, method: str, path: str, body: bytes = b"") -> int | None:
        """None to let the request through, else the whole seconds of its `Retry-After`."""
        with self._lock:
            if self.rate is None:
                return None
            now = self.clock()
            key = _digest(token)
            request = _digest(key, method, path, body)
            until = self._waiting.pop(request, None)
            if until is not None and now < until:
                self.stats.early += 1
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0 - 1e-9:  # float sums of refills fall a hair short
                bucket.tokens = max(0.0, bucket.tokens - 1.0)
                self.stats.admitted += 1
                return None
            retry_after = max(1, math.ceil((1.0 - bucket.tokens) / self.rate))
            self.stats.limited += 1
            self._waiting[request] = now + retry_after
            if len(self._waiting) > 65536:  # forget repeats that never came
                self._waiting = {k: t for k, t in self._waiting.items() if t > now}
            return retry_after

    def snapshot(self) -> dict[str, Any] | None:
        """The limit and its counters as JSON, or None when it is off."""
        with self._lock:
            if self.rate is None:
                return None
            return {"rate": self.rate, "burst": self.burst, **self.stats.to_dict()}

    def configure(self, data: Mapping[str, Any] | None) -> None:
        """Apply `{rate, burst?}` (None: turn it off); raise `ValueError` naming a bad field."""
        if data is None:
            self.clear()
            return
        unknown = sorted(set(data) - {"rate", "burst"})
        if unknown:
            raise ValueError(f"{unknown[0]}: is not a limit setting")
        if "rate" not in data:
            raise ValueError("rate: is required")
        self.set(data["rate"], data.get("burst"))

    @staticmethod
    def parse(text: str) -> dict[str, Any]:
        """The command line form `RATE[,burst=N]` (e.g. `20,burst=40`) as `configure` takes it."""
        head, *options = text.split(",")
        try:
            values: dict[str, Any] = {"rate": float(head)}
        except ValueError as exc:
            raise ValueError("rate: must be a number of requests per second") from exc
        for option in options:
            key, sep, raw = option.partition("=")
            if not sep or key.strip() != "burst":
                raise ValueError(f"limit option {option!r} is not burst=N")
            try:
                values["burst"] = int(raw)
            except ValueError as exc:
                raise ValueError("burst: must be an integer") from exc
        return values


def _digest(*parts: str | bytes) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode() if isinstance(part, str) else part)
        hashed.update(b"\0")
    return hashed.hexdigest()
