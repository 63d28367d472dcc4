"""Keep the Python SDK's wait at the end of a program linear in the number of our resources.

The SDK tracks every Output it makes in `SETTINGS.outputs`; when the program body has run,
`wait_for_rpcs` (pulumi 3.x, `pulumi/runtime/stack.py`) waits on that whole set with
`asyncio.wait(..., return_when=FIRST_COMPLETED)`, again after each completion. Each round
adds and removes a callback on every pending Output. A resource's Outputs (one per property,
plus `urn` and `id`: 14 for a one-step `ServiceAccount`) resolve only when the engine has
created it, so the rounds come one per resource and each costs the outputs still pending:
quadratic, about 30 CPU-seconds of the program at 1,000 accounts, on the cores the engine
needs.

`hand_over` moves a resource's Outputs from that set to one task per event loop that waits
on all of them at once (`asyncio.wait`, FIRST_EXCEPTION: one callback each), tracked in the
set in their place. When an Output fails or is cancelled, that task hands every Output it
holds back to the set at once, so the SDK reports the failure as it does today, as soon as
it happens (each SDK release has its own rule for registration failures, and the engine may
answer no other registration after one failed). The program still ends only when every
Output has resolved. If `SETTINGS` or `Output` lose what this relies on, the stock tracking
stays (`_sdk.stand_down`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
from pulumi.runtime.settings import SETTINGS

from ._sdk import stand_down

_WORKAROUND = "the output hand-over"


class _Waiter:
    """The Outputs handed over on one event loop, and the task that waits for them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: set[asyncio.Future[Any]] = set()
        self.closed = False  # set under SETTINGS.lock: a closed waiter takes no more
        self.task: asyncio.Future[None] = asyncio.ensure_future(self.wait(), loop=loop)

    async def wait(self) -> None:
        while True:
            with SETTINGS.lock:
                batch = list(self.pending)
                self.pending.clear()
                self.closed = not batch
            if not batch:
                return
            done, not_done = await asyncio.wait(batch, return_when=asyncio.FIRST_EXCEPTION)
            failed = {f for f in done if f.cancelled() or f.exception() is not None}
            if failed or not_done:
                # Back to the SDK, at once: it reports the failure as it does (the engine may
                # answer no other registration after one failed) and waits for the rest.
                with SETTINGS.lock:
                    SETTINGS.outputs.update(failed, not_done, self.pending)
                    self.pending.clear()
                    self.closed = True
                return


_waiter: _Waiter | None = None


def _futures(resource: pulumi.Resource) -> list[asyncio.Future[Any]] | None:
    """The futures of `resource`'s Outputs, or None when the SDK no longer has them."""
    found = []
    for value in vars(resource).values():
        if isinstance(value, pulumi.Output):
            data = getattr(value, "_data", None)
            if not isinstance(data, asyncio.Future):
                stand_down(_WORKAROUND, "pulumi.Output has no asyncio future `_data`")
                return None
            found.append(data)
    return found


def hand_over(resource: pulumi.Resource) -> None:
    """Have one task per event loop, not the SDK's per-Output rounds, wait for `resource`."""
    global _waiter
    outputs = getattr(SETTINGS, "outputs", None)
    lock = getattr(SETTINGS, "lock", None)
    if not isinstance(outputs, set) or lock is None:
        stand_down(_WORKAROUND, "pulumi.runtime.settings.SETTINGS has no `outputs` set")
        return
    futures = _futures(resource)
    if not futures:
        return
    loop = futures[0].get_loop()
    with lock:
        tracked = [f for f in futures if f in outputs and not f.done()]
        if not tracked:
            return
        if _waiter is None or _waiter.loop is not loop or _waiter.closed or _waiter.task.done():
            _waiter = _Waiter(loop)
        _waiter.pending.update(tracked)
        outputs.difference_update(tracked)
        outputs.add(_waiter.task)  # again: a test harness may have cleared the set
