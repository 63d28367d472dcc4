"""A client for the emulator's control plane (`/_emulator/...`), in this process or another.

Tests of a Pulumi program run the program (and its provider) in other processes, so they shape
and inspect the emulator over HTTP rather than through `EmulatorServer.store`::

    control = EmulatorControl("http://127.0.0.1:8787")
    control.seed([{"username": "legacy", "tokens": [{"name": "nightly"}]}])
    control.add_faults("error@users-createToken,status=503,count=1")
    control.set_duckling("legacy", "rw", "active")
    assert control.counters()["writes"] == 0

Every method raises `EmulatorControlError` with the emulator's own message when it refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from .app import CONTROL_PREFIX

__all__ = ["EmulatorControl", "EmulatorControlError"]


class EmulatorControlError(RuntimeError):
    """The emulator refused a control request (bad seed, unknown fault rule, ...)."""


class EmulatorControl:
    """Seed, fault, clock and inspect a running emulator at `url` (no token needed)."""

    def __init__(
        self, url: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url + CONTROL_PREFIX, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, route: str, body: Mapping[str, Any] | None = None) -> Any:
        response = self._http.request(method, route, json=body)
        if response.status_code != 200:
            try:
                issues = [i["message"] for i in response.json().get("issues", [])]
            except (ValueError, AttributeError, KeyError, TypeError):
                issues = [response.text[:200]]
            detail = "; ".join(issues) or response.reason_phrase
            raise EmulatorControlError(
                f"{method} {CONTROL_PREFIX}{route}: {response.status_code} {detail}"
            )
        return response.json()

    def health(self) -> bool:
        """Whether the emulator answers."""
        try:
            return bool(self._call("GET", "health").get("status") == "ok")
        except (httpx.HTTPError, EmulatorControlError):
            return False

    def state(self) -> dict[str, Any]:
        """Accounts, their configs, tokens (secrets as SHA-256) and running Ducklings."""
        return dict(self._call("GET", "state"))

    def usernames(self) -> list[str]:
        """The accounts that exist, in creation order."""
        return [user["username"] for user in self.state()["users"]]

    def requests(self) -> list[dict[str, Any]]:
        """The API request log, oldest first (method, path, operation_id, status, write, ...)."""
        return list(self._call("GET", "requests")["requests"])

    def counters(self) -> dict[str, Any]:
        """Totals: `requests`, `writes`, `applied_writes` and `by_operation`."""
        return dict(self._call("GET", "requests")["counters"])

    def exchanges(self) -> list[dict[str, Any]]:
        """Request and response bodies as seen on the wire (token secrets redacted)."""
        return list(self._call("GET", "exchanges")["exchanges"])

    def seed(self, users: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create accounts as if made outside Pulumi; returns them with their new tokens.

        Each user: `username`, optional `config` (as `PUT .../instances` takes it), `tokens`
        (`name`, `ttl`, `token_type`, `expire_at`) and `ducklings` (`{"rw": "active"}`).
        The returned tokens carry their secrets, the only time they are shown.
        """
        return list(self._call("POST", "seed", {"users": list(users)})["users"])

    def reset(self) -> None:
        """Back to empty: no accounts, logs or faults, and the system clock."""
        self._call("POST", "reset")

    def faults(self) -> dict[str, Any]:
        """The fault settings and each rule's remaining and fired counts."""
        return dict(self._call("GET", "faults"))

    def add_faults(self, *rules: str | Mapping[str, Any], replace: bool = False) -> dict[str, Any]:
        """Add fault rules, as `--fault` takes them or as objects; returns the settings.

        For example `error@users-createToken,status=503,count=1`. `replace=True` drops the
        current rules first.
        """
        return dict(self._call("POST", "faults", {"rules": list(rules), "replace": replace}))

    def set_limit(self, rate: float | None, burst: int | None = None) -> dict[str, Any] | None:
        """Set the shared rate limit per token (`rate` requests/s, `burst` at once; None: off).

        Its counters start afresh; returns them (see `limit`).
        """
        body: dict[str, Any] = {"limit": None}
        if rate is not None:
            body["limit"] = {"rate": rate} if burst is None else {"rate": rate, "burst": burst}
        limit = self._call("POST", "faults", body)["limit"]
        return None if limit is None else dict(limit)

    def limit(self) -> dict[str, Any] | None:
        """The shared limit's `rate`, `burst` and counters: `admitted`, `limited` (429s sent)
        and `early` (repeats sent before their `Retry-After` ended); None when it is off."""
        limit = self.faults()["limit"]
        return None if limit is None else dict(limit)

    def clear_faults(self) -> None:
        """Drop every fault rule and the added latency."""
        self._call("DELETE", "faults")

    def release(self, *, apply: bool = True, hold_answer: bool = False) -> int:
        """Let the requests `hold` rules keep waiting go on (see `Faults.release`); how many."""
        body = {"apply": apply, "hold_answer": hold_answer}
        return int(self._call("POST", "release", body)["released"])

    def now(self) -> str:
        """The emulator's current time (RFC 3339)."""
        return str(self._call("GET", "clock")["now"])

    def advance_clock(self, seconds: float) -> str:
        """Move the emulator's clock forward (expire tokens without waiting); the new time."""
        return str(self._call("POST", "clock", {"advance": seconds})["now"])

    def set_duckling(
        self, username: str, duckling_id: str = "rw", status: str = "active"
    ) -> list[dict[str, str]]:
        """Set one Duckling (`rw` or `rs.N`) `active`, `cooldown` or `stopped`.

        Returns the account's running Ducklings as `GET /v1/active_accounts` now lists them.
        """
        body = {"username": username, "id": duckling_id, "status": status}
        return list(self._call("POST", "ducklings", body)["ducklings"])
