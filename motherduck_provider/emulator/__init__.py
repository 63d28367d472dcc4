"""A local emulator of the MotherDuck Admin API, for tests and offline development.

It serves the seven user, token and Duckling operations of the contract with the same
validation, error bodies and auth rules, keeps state in memory (optionally in a file), logs
every request and exchange, and injects faults on demand.

Use from Python::

    with EmulatorServer() as server:            # 127.0.0.1, a free port
        server.url, server.admin_token           # point a client here
        server.store.create_user("alice")        # seed state directly
        server.store.faults.error("users-createToken", 503, count=1)
        server.store.clock.advance(3600)         # expire tokens without sleeping
        server.store.requests, server.store.exchanges, server.store.write_count

or from the shell: `motherduck-emulator --port 8787` (or `python -m motherduck_provider.emulator`).

A new service account's Duckling config is `DEFAULT_CONFIG`: read_write pulse, read_scaling
pulse with flock_size 0 (no cooldowns, as pulse has none). The control plane under
`/_emulator/` (health, state, requests, exchanges, faults, reset, seed, clock) needs no token.

Layout: `operations` (the route table), `validation` (request rules), `store` (state,
clock, logs), `faults` (fault rules), `app` (the ASGI app and control plane), `server`
(uvicorn on a thread), `cli` (the `motherduck-emulator` command), `testing` (a pytest fixture).
"""

from __future__ import annotations

from .app import CONTROL_PREFIX, DEFAULT_ADMIN_TOKEN, EmulatorApp
from .faults import FaultDecision, FaultRule, Faults
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

__all__ = [
    "ADMIN_TOKEN_ENV",
    "CONTROL_PREFIX",
    "Clock",
    "CreatedToken",
    "DEFAULT_ADMIN_TOKEN",
    "DEFAULT_CONFIG",
    "EmulatorApp",
    "EmulatorServer",
    "Exchange",
    "FaultDecision",
    "FaultRule",
    "Faults",
    "OPERATIONS",
    "Operation",
    "RequestRecord",
    "Store",
    "TokenNotFound",
    "TokenRecord",
    "UserNotFound",
    "UserRecord",
    "UsernameTaken",
]
