"""Preview names the token or setting that changes (`tokens.reader`), not just "update".

Pulumi's dynamic provider server (`python -m pulumi.dynamic`) builds its `DiffResponse` from
`changes`, `replaces` and `delete_before_replace` only: a dynamic provider cannot send a
detailed diff. A ServiceAccount holding tokens and a configuration then shows only that
*something* changed. Here:

* `diff_result` makes the `DiffResult` a provider returns and notes, for the current thread,
  its detailed diff (property path -> `ADD`, `DELETE`, `UPDATE`, `UPDATE_REPLACE`...).
* `install` runs when a provider module is imported inside that server: it wraps the
  servicer's `Diff` so that, after Pulumi's own code has built the response, the noted paths
  are added to it (`detailedDiff`, `hasDetailedDiff`), each compared on inputs. The server
  runs `provider.diff` in the thread that serves the request, so a thread-local carries it.
  When the server does not look as expected (another SDK), stock responses stay
  (`_sdk.stand_down`); tests/unit/test_sdk_guards.py checks what this relies on.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import DiffResult

from ._sdk import SERVER_MODULE, server_module, stand_down

_SERVICER = "DynamicResourceProviderServicer"
_noted = threading.local()


def diff_result(
    *,
    changes: bool,
    replaces: list[str],
    delete_before_replace: bool,
    detailed: Mapping[str, str],
) -> DiffResult:
    """A `DiffResult`, its detailed diff noted for this thread's response (see `install`)."""
    _noted.detailed = dict(detailed)
    return DiffResult(
        changes=changes, replaces=replaces, delete_before_replace=delete_before_replace
    )


def take_noted() -> dict[str, str] | None:
    """The detailed diff noted by the last `diff_result` of this thread, once."""
    found: dict[str, str] | None = getattr(_noted, "detailed", None)
    _noted.detailed = None
    return found


def add_to(response: Any, detailed: Mapping[str, str]) -> None:
    """Write `detailed` into a `DiffResponse` (the engine compares these paths on inputs)."""
    from pulumi.runtime import proto

    for path, kind in detailed.items():
        entry = proto.PropertyDiff(kind=proto.PropertyDiff.Kind.Value(kind), inputDiff=True)
        response.detailedDiff[path].CopyFrom(entry)
    response.hasDetailedDiff = True


def install() -> bool:
    """Send noted detailed diffs from Pulumi's provider server; True if it is in place.

    Does nothing outside that server (a program, a test).
    """
    main = server_module()
    if main is None:
        return False
    servicer = getattr(main, _SERVICER, None)
    original = getattr(servicer, "Diff", None)
    if getattr(original, "__motherduck_detailed__", False):
        return True
    if servicer is None or not callable(original) or not _proto_has_detailed_diff():
        stand_down("detailed diffs", f"{SERVER_MODULE} has no {_SERVICER}.Diff or no detailedDiff")
        return False

    def diff(self: Any, request: Any, context: Any) -> Any:
        take_noted()
        response = original(self, request, context)
        detailed = take_noted()
        if detailed is not None:
            add_to(response, detailed)
        return response

    diff.__motherduck_detailed__ = True  # type: ignore[attr-defined]
    servicer.Diff = diff
    return True


def _proto_has_detailed_diff() -> bool:
    from pulumi.runtime import proto

    fields = proto.DiffResponse.DESCRIPTOR.fields_by_name
    return "detailedDiff" in fields and "hasDetailedDiff" in fields
