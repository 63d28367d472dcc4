"""A local emulator of the MotherDuck Admin API, for tests and offline development.

It serves the nine operations of the contract (users, tokens, Ducklings, Dive embed sessions)
with the same validation, error bodies and auth rules, keeps state in memory (optionally in a
file), logs every request and exchange, and injects faults on demand.

Use from Python::

    with EmulatorServer() as server:            # 127.0.0.1, a free port
        server.url, server.admin_token           # point a client here
        server.store.create_user("alice")        # seed state directly
        server.store.faults.error("users-createToken", 503, count=1)
        server.store.faults.limit.set(20)        # 20 requests/s per token, then 429
        server.store.clock.advance(3600)         # expire tokens without sleeping
        server.store.set_duckling_status("alice", "rw", "active")   # for /v1/active_accounts
        server.store.create_dive()               # a Dive to mint embed sessions for
        server.store.requests, server.store.exchanges, server.store.write_count

or from the shell: `motherduck-emulator --port 8787` (or `python -m motherduck_provider.emulator`).

A new service account's Duckling config is `DEFAULT_CONFIG`: read_write pulse, read_scaling
pulse with flock_size 0 (no cooldowns, as pulse has none). The control plane under
`/_emulator/` (health, state, requests, exchanges, faults, reset, seed, ducklings, clock) needs
no token; `control.EmulatorControl` is a client for it.

Layout: `operations` (the route table), `validation` (request rules), `store` (state,
clock, logs), `faults` (fault rules), `limits` (the shared rate limit), `app` (the ASGI app
and control plane), `server` (uvicorn on a thread), `control` (a client for the control
plane), `cli` (the `motherduck-emulator` command), `testing` (a pytest fixture;
`motherduck_provider.pytest_plugin` gives installed users theirs).
"""

from __future__ import annotations

try:
    from .app import CONTROL_PREFIX, DEFAULT_ADMIN_TOKEN, EmulatorApp
    from .control import EmulatorControl, EmulatorControlError
    from .faults import FaultDecision, FaultRule, Faults, HeldRequest, Release
    from .limits import LimitStats, SharedLimit
    from .operations import OPERATIONS, Operation
    from .server import ADMIN_TOKEN_ENV, EmulatorServer
    from .store import (
        DEFAULT_CONFIG,
        Clock,
        CreatedToken,
        Exchange,
        RequestRecord,
        Store,
        TokenNotFound,
        TokenRecord,
        UsernameTaken,
        UserNotFound,
        UserRecord,
    )
except ModuleNotFoundError as exc:  # installed without the `emulator` extra
    if (exc.name or "").partition(".")[0] not in ("starlette", "uvicorn"):
        raise
    # Only `cli.main` works then: it prints the install command.

__all__ = [
    "ADMIN_TOKEN_ENV",
    "CONTROL_PREFIX",
    "Clock",
    "CreatedToken",
    "DEFAULT_ADMIN_TOKEN",
    "DEFAULT_CONFIG",
    "EmulatorApp",
    "EmulatorControl",
    "EmulatorControlError",
    "EmulatorServer",
    "Exchange",
    "FaultDecision",
    "FaultRule",
    "Faults",
    "HeldRequest",
    "LimitStats",
    "OPERATIONS",
    "Operation",
    "Release",
    "RequestRecord",
    "SharedLimit",
    "Store",
    "TokenNotFound",
    "TokenRecord",
    "UserNotFound",
    "UserRecord",
    "UsernameTaken",
]
