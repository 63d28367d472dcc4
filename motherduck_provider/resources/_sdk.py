"""How a workaround for a Pulumi SDK behaviour stands down when an SDK release changes what it
relies on.

Modules that work around SDK behaviour through SDK or standard-library internals
(`_pickle_guard`, `_output_guard`, `_debug_lines`, `_type_hints`, `_report.install`,
`_detailed_diff.install`, `_server_workers`, the gate in `_program`). Each checks that what it
touches is there and shaped as expected; if not, it leaves Pulumi's stock behaviour in place
and calls `stand_down`, which logs one debug line, so a new SDK release never breaks a
deployment. tests/unit/test_sdk_guards.py, test_output_guard.py and
test_registration_chatter.py check their assumptions against the installed SDK in every cell of
scripts/matrix (docs/supported-versions.md).
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys

log = logging.getLogger("motherduck_provider")

_stood_down: set[str] = set()

# Pulumi's dynamic-provider server: `python -m pulumi.dynamic`, the process that runs our
# providers (the workarounds in `_report`, `_detailed_diff`, `_server_workers` act only there).
SERVER_MODULE = "pulumi.dynamic.__main__"


def server_module() -> object | None:
    """That server's `__main__` module when this process is that server, else None."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return main if getattr(spec, "name", None) == SERVER_MODULE else None


def sdk_version() -> str:
    try:
        return importlib.metadata.version("pulumi")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def stand_down(workaround: str, why: str) -> None:
    """Say once per process, at DEBUG, that `workaround` is off and why (the SDK changed)."""
    if workaround in _stood_down:
        return
    _stood_down.add(workaround)
    from ._report import _configure_logging  # here: _report imports this module

    _configure_logging()  # MOTHERDUCK_LOG=debug (or the engine's -v) shows the line on stderr
    log.debug(
        "%s is off with pulumi %s: %s; Pulumi's stock behaviour applies",
        workaround,
        sdk_version(),
        why,
    )
