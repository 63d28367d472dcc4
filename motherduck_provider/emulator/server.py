"""Run the emulator under uvicorn in a background thread, for tests and the command line."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import uvicorn

from ..config import is_loopback
from .app import DEFAULT_ADMIN_TOKEN, EmulatorApp
from .store import Store

__all__ = ["ADMIN_TOKEN_ENV", "EmulatorServer", "is_loopback", "resolve_admin_token"]

ADMIN_TOKEN_ENV = "MOTHERDUCK_EMULATOR_ADMIN_TOKEN"

logger = logging.getLogger("motherduck_provider.emulator")


def resolve_admin_token(explicit: str | None = None) -> str:
    """The admin token: `explicit`, else `$MOTHERDUCK_EMULATOR_ADMIN_TOKEN`, else the dev token."""
    for candidate in (explicit, os.environ.get(ADMIN_TOKEN_ENV)):
        if candidate and candidate.strip():
            return candidate.strip()
    return DEFAULT_ADMIN_TOKEN


class EmulatorServer:
    """A running emulator: uvicorn serving an `EmulatorApp` on a background thread.

    Use it as a context manager, or call `start()` and `stop()`. `port=0` picks a free port;
    `url` tells which. `store` is the live state (seed it, read its logs, set its faults).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_token: str | None = None,
        member_tokens: Iterable[str] = (),
        state_file: str | os.PathLike[str] | None = None,
        allow_remote: bool = False,
        log_level: str = "warning",
        configure_logging: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"refusing to listen on non-loopback host {host!r} without allow_remote"
            )
        if store is not None and state_file is not None:
            raise ValueError("give either a store or a state_file, not both")
        self.store = store if store is not None else Store(state_file=state_file)
        self._admin_token = resolve_admin_token(admin_token)
        self.app = EmulatorApp(
            self.store, admin_token=self._admin_token, member_tokens=member_tokens
        )
        self.host = host
        self._requested_port = port
        self._log_level = log_level
        self._configure_logging = configure_logging
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    @property
    def admin_token(self) -> str:
        """The admin token now: the server's own, or the one `store.rotate_admin_token` set."""
        return self.store.admin_token or self._admin_token

    def rotate_admin_token(self, token: str | None = None) -> str:
        """Replace the admin token (the previous one gets 401); see `Store.rotate_admin_token`."""
        return self.store.rotate_admin_token(token)

    @property
    def port(self) -> int:
        """The port the server listens on (only known once started)."""
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Bind, start serving on a background thread and wait until it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted sockets inherit this: without it, a response written as headers then
            # body waits ~40 ms on the client's delayed ACK (Nagle), on every request.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        options: dict[str, Any] = {}
        if not self._configure_logging:
            options["log_config"] = None
        config = uvicorn.Config(
            self.app,
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=5,
            **options,
        )
        server = uvicorn.Server(config)
        self._server = server
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="motherduck-emulator", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started and thread.is_alive():
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the emulator did not start in time")
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise RuntimeError("the emulator failed to start; see the log")
        logger.info("MotherDuck Admin API emulator listening on %s", self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, wait for the thread, release the port. Safe to call twice."""
        server, thread, sock = self._server, self._thread, self._socket
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
        if sock is not None:
            sock.close()
        self._server = self._thread = self._socket = None
        self._port = None

    def wait(self) -> None:
        """Block until the server thread ends."""
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not running"
        return f"<EmulatorServer {where}>"
