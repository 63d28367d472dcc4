"""Keep the Pulumi SDK from slowing down, then breaking, programs with many dynamic resources.

`pulumi.dynamic.Resource.__init__` serializes its provider with `serialize_provider`, which
replaces `pickle._Pickler._batch_setitems` with a sorting wrapper around the current one and
never puts the original back (pulumi 3.x, `pulumi/dynamic/dynamic.py`). Every dynamic resource
therefore adds one wrapper: pickling gets slower with each resource, and after about 985 of
them in one program Python raises `RecursionError`. Our resources construct themselves inside
`pickler_restored()`, which puts pickle's methods back as they were, so the depth stays at one
wrapper whatever the size of the stack.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager

# What serialize_provider patches on the pure-Python pickler (dill's base class).
_PATCHED = ("_batch_setitems", "save_dict")


@contextmanager
def pickler_restored() -> Iterator[None]:
    """Run a dynamic Resource's construction, then undo the SDK's pickle patches."""
    pickler = pickle._Pickler
    saved = {name: pickler.__dict__[name] for name in _PATCHED if name in pickler.__dict__}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(pickler, name, value)
