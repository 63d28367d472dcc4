"""More provider calls at once in Pulumi's dynamic-provider server (an SDK workaround, see `_sdk`).

`python -m pulumi.dynamic` serves every dynamic resource of a stack from one gRPC server whose
thread pool has 4 threads (`futures.ThreadPoolExecutor(max_workers=4)`, a local of its
`main()`): at most 4 creates, updates, reads or deletes run at once, whatever the engine's
`--parallel`, and each of them mostly waits on the API. Each call of that server runs on one of
the pool's threads and configures the provider it unpickled, so `raise_limit`, called from our
`configure`, finds the pool from the current thread and raises its limit (once per process).
The pool starts one more thread for each call submitted that finds none idle, up to its
limit; calls already queued (a destroy's deletes arrive together) get theirs from empty calls
submitted right after the raise. Measured: 100 one-step accounts (50 ms per call, 2 cores),
`up` 5.1 s -> 3.3 s, `destroy` 2.3 s -> 2.0 s.

The limit is `MOTHERDUCK_PROVIDER_WORKERS` (default 16, like the plugin's); the server never
runs fewer than its own 4. Dynamic providers of other packages in the same program share the
server, so they too run as many calls at once as the engine sends.
"""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import ThreadPoolExecutor, thread

from ._sdk import server_module, stand_down

WORKAROUND = "more calls at once in the dynamic-provider server"

_lock = threading.Lock()
_outcome: bool | None = None  # whether the limit is raised in this process, once decided


def raise_limit(wanted: int) -> bool:
    """Let Pulumi's dynamic-provider server run `wanted` calls at once; True if it now can.

    Does nothing outside that server (a program, a test, the plugin). If the current thread is
    not a worker of a `ThreadPoolExecutor` as this Python shapes them, stands down."""
    global _outcome
    if server_module() is None:
        return False
    with _lock:
        if _outcome is None:
            pool = pool_of(threading.current_thread())
            if pool is None:
                stand_down(WORKAROUND, "its calls do not run on a ThreadPoolExecutor worker")
            elif pool._max_workers < wanted:
                pool._max_workers = wanted
                # The pool adds a thread only when a call is submitted, and the calls that came
                # with this one (a destroy's deletes) may be queued already: a thread for each.
                for _ in range(wanted):
                    pool.submit(_nothing)
            _outcome = pool is not None
        return _outcome


def _nothing() -> None:
    """A call that only makes the pool start a thread (see `raise_limit`)."""


def pool_of(worker: threading.Thread) -> ThreadPoolExecutor | None:
    """The `ThreadPoolExecutor` whose worker thread `worker` is, if it is one.

    CPython 3.11 to 3.13 start each worker as `Thread(target=thread._worker,
    args=(weakref.ref(pool), ...))` and keep `_target` and `_args` while it runs."""
    if getattr(worker, "_target", None) is not thread._worker:
        return None
    args = getattr(worker, "_args", ())
    ref = args[0] if isinstance(args, tuple) and args else None
    pool = ref() if isinstance(ref, weakref.ref) else None
    if isinstance(pool, ThreadPoolExecutor) and isinstance(
        getattr(pool, "_max_workers", None), int
    ):
        return pool
    return None
