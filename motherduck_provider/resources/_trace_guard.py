"""Store one stack frame per resource, the program line that declared it, not the whole stack.

For every registration the Python SDK records the stack from the resource's constructor down to
its own program loader and asyncio (`pulumi.runtime.resource._get_stack_trace`, pulumi 3.x); the
engine keeps it in state as `stackTrace`: about 1.2 KB per resource, more than half of it, and
rewritten into the checkpoint after every step. The engine has no setting that trims it. Its
first frame is also the `sourcePosition` users see; the SDK's count of `__init__` frames stops
one frame short for dynamic resources, so that frame was our own `super().__init__` line.

Our resources construct themselves inside `stack_trace_trimmed()`, which has the SDK record only
the first frame outside this package: the user's line (for a `ManagedAccount` child, the line
that declared the `ManagedAccount`). Neither field is diffed, so existing stacks see no change.
If the SDK no longer has the function, or it returns something else, the stock trace is kept
and one debug line says so; tests/unit/test_trace_guard.py fails loudly on such an SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi.runtime import resource as _sdk_resource

log = logging.getLogger("motherduck_provider")

# What the SDK's register_resource and read_resource call, by this module-global name.
_FUNCTION = "_get_stack_trace"
_PACKAGE_URI = Path(__file__).resolve().parent.parent.as_uri()

_stood_down = False


def _stand_down(why: str) -> None:
    global _stood_down
    if not _stood_down:
        _stood_down = True
        log.debug("stack trace trimming is off: %s; Pulumi's stock stack trace applies", why)


def _ours(frame: Any) -> bool:
    """Whether a frame is inside this package (a frame without a position is not user code)."""
    uri = getattr(getattr(frame, "pc", None), "uri", "")
    return not uri or uri.startswith(_PACKAGE_URI)


def trim(stack: Any) -> Any:
    """`stack` with only its first frame outside this package, or unchanged if it has none."""
    frames = getattr(stack, "frames", None)
    if frames is None:
        _stand_down(f"{_FUNCTION}() returned {type(stack).__name__}, which has no frames")
        return stack
    user = next((frame for frame in frames if not _ours(frame)), None)
    if user is None:
        return stack
    return type(stack)(frames=[user])


def _trimming(original: Callable[[], Any]) -> Callable[[], Any]:
    def trimmed() -> Any:
        return trim(original())

    trimmed.__motherduck_trimmed__ = True  # type: ignore[attr-defined]
    return trimmed


@contextmanager
def stack_trace_trimmed() -> Iterator[None]:
    """Run one of our Resource constructions with the SDK recording a one-frame stack trace."""
    original = getattr(_sdk_resource, _FUNCTION, None)
    if not callable(original):
        _stand_down(f"pulumi.runtime.resource.{_FUNCTION} is missing")
        yield
        return
    if getattr(original, "__motherduck_trimmed__", False):  # nested: already trimming
        yield
        return
    setattr(_sdk_resource, _FUNCTION, _trimming(original))
    try:
        yield
    finally:
        setattr(_sdk_resource, _FUNCTION, original)
