"""Keep the Pulumi SDK from slowing down, then breaking, programs with many dynamic resources.

`pulumi.dynamic.Resource.__init__` serializes its provider with `serialize_provider`, which
replaces `pickle._Pickler._batch_setitems` with a sorting wrapper around the current one and
never puts the original back (pulumi 3.x, `pulumi/dynamic/dynamic.py`). Every dynamic resource
therefore adds one wrapper: pickling gets slower with each resource, and after about 985 of
them in one program Python raises `RecursionError`. Our resources construct themselves inside
`pickler_restored()`, which puts pickle's methods back as they were, so the depth stays at one
wrapper whatever the size of the stack. Where pickle has no such methods (another Python), the
guard stands down (`_sdk.stand_down`) and restores what it found.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager

from ._sdk import stand_down

# What serialize_provider patches on the pure-Python pickler (dill's base class).
_PATCHED = ("_batch_setitems", "save_dict")


@contextmanager
def pickler_restored() -> Iterator[None]:
    """Run a dynamic Resource's construction, then undo the SDK's pickle patches."""
    pickler = getattr(pickle, "_Pickler", None)
    found = vars(pickler) if isinstance(pickler, type) else {}
    saved = {name: found[name] for name in _PATCHED if name in found}
    if len(saved) < len(_PATCHED):
        missing = ", ".join(f"pickle._Pickler.{n}" for n in _PATCHED if n not in saved)
        stand_down("the pickle guard", f"{missing} not found")
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(pickler, name, value)
