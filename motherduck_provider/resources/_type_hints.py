"""Our resource classes' output types are worked out once per class, not at every registration.

When the engine answers a registration, the Python SDK looks up the resource class's output
types (`pulumi._types.resource_types`, for `rpc.resolve_outputs`) to convert what the engine
sent, numbers to `int` where an annotation says so: it evaluates every annotation of the class
with `typing.get_type_hints` (0.1 to 0.5 ms; AccessToken has 19) at every registration. The
answer depends only on the class, so for the classes of this package it is kept after the first
call and a copy returned; other classes go to the SDK as before. If the SDK has no
`resource_types`, nothing is changed (`_sdk.stand_down`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pulumi import _types

from ._sdk import stand_down

_PACKAGE = __name__.split(".")[0] + "."
_WORKAROUND = "output types once per class"

_installed: bool | None = None  # None: not yet tried in this process
_lock = threading.Lock()


def _once_per_class(
    resource_types: Callable[[type], dict[str, type]],
) -> Callable[[type], dict[str, type]]:
    known: dict[type, dict[str, type]] = {}

    def once(resource_cls: type) -> dict[str, type]:
        if not resource_cls.__module__.startswith(_PACKAGE):
            return resource_types(resource_cls)
        types = known.get(resource_cls)
        if types is None:
            types = known[resource_cls] = resource_types(resource_cls)
        return dict(types)

    return once


def install() -> None:
    """Once per process, before our first registration."""
    global _installed
    with _lock:
        if _installed is not None:
            return
        _installed = False
        resource_types = getattr(_types, "resource_types", None)
        if not callable(resource_types):
            stand_down(_WORKAROUND, "pulumi._types.resource_types is missing")
            return
        _types.resource_types = _once_per_class(resource_types)  # type: ignore[assignment]
        _installed = True
