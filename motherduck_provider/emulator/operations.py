"""The nine Admin API operations the emulator serves, and how a request maps to one.

The table is shared by the router (which handler runs), the fault rules (which requests a
rule targets) and the request log (which operation a request was).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["OPERATIONS", "Operation", "find_operation", "match_operation"]


@dataclass(frozen=True)
class Operation:
    """One API operation: its contract `operationId`, method and path template."""

    operation_id: str
    method: str
    template: str
    has_body: bool
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # `{name}` matches one path segment, like the router's default convertor.
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "_pattern", re.compile(f"^{regex}$"))

    @property
    def key(self) -> str:
        """The route key used in fault rules and logs, e.g. `POST /v1/users`."""
        return f"{self.method} {self.template}"

    @property
    def is_write(self) -> bool:
        """Whether the operation changes state when it succeeds."""
        return self.method != "GET"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if `method` and `path` are this operation, else None."""
        if method != self.method:
            return None
        found = self._pattern.match(path)
        return None if found is None else found.groupdict()


OPERATIONS: tuple[Operation, ...] = (
    Operation("users-createServiceAccount", "POST", "/v1/users", True),
    Operation("users-delete", "DELETE", "/v1/users/{username}", False),
    Operation("users-createToken", "POST", "/v1/users/{username}/tokens", True),
    Operation("users-listTokens", "GET", "/v1/users/{username}/tokens", False),
    Operation("users-deleteToken", "DELETE", "/v1/users/{username}/tokens/{token_id}", False),
    Operation("ducklings-getDucklingConfigForUser", "GET", "/v1/users/{username}/instances", False),
    Operation("ducklings-setDucklingConfigForUser", "PUT", "/v1/users/{username}/instances", True),
    Operation("ducklings-getActiveAccounts", "GET", "/v1/active_accounts", False),
    Operation("dashboards-createEmbedSession", "POST", "/v1/dives/{dive_id}/embed-session", True),
)


def match_operation(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation a request is for and its path parameters, or None for an unknown route."""
    for operation in OPERATIONS:
        params = operation.match(method, path)
        if params is not None:
            return operation, params
    return None


def find_operation(name: str) -> Operation | None:
    """The operation named by its operationId or its route key (`METHOD /template`)."""
    for operation in OPERATIONS:
        if name in (operation.operation_id, operation.key):
            return operation
    return None
