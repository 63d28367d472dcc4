"""The one-screen summary of a fleet run: a row per shard, a total, then the errors."""

from __future__ import annotations

from collections.abc import Sequence

from .runner import ShardOutcome

_COLUMNS = ("created", "updated", "deleted", "same", "failed", "calls", "seconds")


def render(operation: str, outcomes: Sequence[ShardOutcome], wall: float) -> str:
    """The table for `outcomes`; `wall` is the run's elapsed seconds (shards overlap)."""
    width = max([len("shard"), len("total"), *(len(o.stack) for o in outcomes)])
    head = f"{'shard':<{width}} {'result':<9} " + " ".join(
        f"{name if name != 'same' else 'unchanged':>9}" for name in _COLUMNS
    )
    lines = [f"fleet {operation}: {len(outcomes)} shard(s)", head]
    for o in outcomes:
        lines.append(
            f"{o.stack:<{width}} {o.result:<9} {o.created:>9} {o.updated:>9} {o.deleted:>9} "
            f"{o.same:>9} {o.failed:>9} {o.calls:>9} {o.seconds:>9.1f}"
        )
    ok = sum(o.result == "succeeded" for o in outcomes)
    lines.append(
        f"{'total':<{width}} {f'{ok}/{len(outcomes)} ok':<9} "
        f"{sum(o.created for o in outcomes):>9} {sum(o.updated for o in outcomes):>9} "
        f"{sum(o.deleted for o in outcomes):>9} {sum(o.same for o in outcomes):>9} "
        f"{sum(o.failed for o in outcomes):>9} {sum(o.calls for o in outcomes):>9} "
        f"{wall:>9.1f}"
    )
    for o in outcomes:
        for error in o.errors if o.result != "succeeded" else ():
            lines.append(f"{o.stack}: {error}")
    failed = [o.stack for o in outcomes if o.result != "succeeded"]
    if failed:
        lines.append(
            f"{len(failed)} shard(s) failed: run `... {operation} --failed` to run them again"
            " (after a killed run: `... recover --failed` first)"
        )
    return "\n".join(lines)
