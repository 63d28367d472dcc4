"""How a workaround for a Pulumi SDK behaviour stands down when an SDK release changes what it
relies on.

Three modules work around SDK behaviour through SDK or standard-library internals
(`_pickle_guard`, `_report.install`, the gate in `_program`). Each checks that what it touches
is there and shaped as expected; if not, it leaves Pulumi's stock behaviour in place and calls
`stand_down`, which logs one debug line, so a new SDK release never breaks a deployment.
tests/unit/test_sdk_guards.py checks their assumptions against the installed SDK in every cell
of scripts/matrix (docs/supported-versions.md).
"""

from __future__ import annotations

import importlib.metadata
import logging

log = logging.getLogger("motherduck_provider")

_stood_down: set[str] = set()


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
