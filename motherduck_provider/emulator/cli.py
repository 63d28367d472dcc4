"""`motherduck-emulator`: serve the emulator from the command line until interrupted.

Prints one line, the base URL, when it is ready, and never prints a token. The admin token
comes from `--admin-token`, else `$MOTHERDUCK_EMULATOR_ADMIN_TOKEN`, else the documented dev
token `md-emulator-admin-token`. Installed without the package's `emulator` extra (starlette,
uvicorn), it says how to install that instead of failing with an import error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

__all__ = ["INSTALL_EXTRA", "build_parser", "main", "missing_extra"]

DEFAULT_PORT = 8787
EXTRA_MODULES = ("starlette", "uvicorn")
INSTALL_EXTRA = "pip install 'motherduck-pulumi[emulator]'"


def missing_extra() -> str | None:
    """The first module of the `emulator` extra that cannot be imported, or None."""
    for name in EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            return name
    return None


def build_parser() -> argparse.ArgumentParser:
    """The command line parser."""
    from .app import DEFAULT_ADMIN_TOKEN
    from .server import ADMIN_TOKEN_ENV

    parser = argparse.ArgumentParser(
        prog="motherduck-emulator",
        description="Serve a local emulator of the MotherDuck Admin API "
        "(service accounts, tokens, Duckling configs).",
        epilog=(
            f"Admin token: --admin-token, else ${ADMIN_TOKEN_ENV}, else {DEFAULT_ADMIN_TOKEN!r}. "
            "Fault rules: KIND[@ROUTE][,key=value...] or a JSON object, e.g. "
            "'error@users-createToken,status=503,count=2', 'rate_limit@*,rate=0.1,retry_after=2', "
            "'drop@PUT /v1/users/{username}/instances,after_write=true'. "
            "Control plane (no token needed): /_emulator/{health,state,requests,exchanges,"
            "faults,reset,seed,clock}."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    parser.add_argument("--admin-token", help="the bearer token with the Admin role")
    parser.add_argument(
        "--member-token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="a valid token without the Admin role (403); repeatable",
    )
    parser.add_argument("--state-file", help="persist accounts to this JSON file")
    parser.add_argument(
        "--dive",
        action="append",
        default=[],
        metavar="UUID",
        help="a Dive to serve embed sessions for (Dives are made in the UI); repeatable",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="RULE", help="a fault rule; repeatable"
    )
    parser.add_argument("--fault-seed", type=int, help="seed for probabilistic fault rules")
    parser.add_argument(
        "--rate-limit",
        metavar="RATE[,burst=N]",
        help="a shared limit per bearer token: RATE requests/s, N at once (default RATE); "
        "beyond it 429 with Retry-After in whole seconds",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="log level (default warning)",
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow binding to a non-loopback address"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM; return the exit status."""
    missing = missing_extra()
    if missing is not None:
        print(
            f"motherduck-emulator: the emulator needs this package's `emulator` extra "
            f"({missing} is not installed). Install it with: {INSTALL_EXTRA}",
            file=sys.stderr,
        )
        return 1
    from .faults import FaultRule, Faults
    from .server import EmulatorServer, is_loopback
    from .store import Store

    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.allow_remote and not is_loopback(args.host):
        parser.error(f"refusing to listen on non-loopback host {args.host!r}; add --allow-remote")
    if args.latency < 0:
        parser.error("--latency must not be negative")
    faults = Faults(latency=args.latency, seed=args.fault_seed)
    for text in args.fault:
        try:
            faults.add(FaultRule.parse(text))
        except (TypeError, ValueError) as exc:
            parser.error(f"--fault {text!r}: {exc}")
    if args.rate_limit is not None:
        try:
            faults.limit.configure(faults.limit.parse(args.rate_limit))
        except ValueError as exc:
            parser.error(f"--rate-limit {args.rate_limit!r}: {exc}")
    logging.basicConfig(
        level=logging.DEBUG if args.log_level == "trace" else args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        store = Store(state_file=args.state_file, faults=faults)
    except (OSError, ValueError, KeyError) as exc:
        print(f"motherduck-emulator: cannot load state file: {exc}", file=sys.stderr)
        return 1
    for dive in args.dive:
        try:
            store.create_dive(dive)
        except ValueError:
            parser.error(f"--dive {dive!r}: must be a UUID")
    server = EmulatorServer(
        store,
        host=args.host,
        port=args.port,
        admin_token=args.admin_token,
        member_tokens=args.member_token,
        allow_remote=args.allow_remote,
        log_level=args.log_level,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)
    try:
        server.start()
    except OSError as exc:
        print(
            f"motherduck-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1
    print(server.url, flush=True)
    try:
        while not stop.wait(0.2):
            if not server.running:
                print("motherduck-emulator: the server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        server.stop()
    return 0
