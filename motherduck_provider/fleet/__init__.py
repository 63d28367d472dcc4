"""Fleets: one program's accounts spread over several stacks ("shards") run side by side.

One stack's `up` grows with the square of its size (the engine rewrites the whole state after
every step); shards of a few hundred accounts each stay fast and run in parallel. The program
declares every tenant and keeps its shard's (`Shard.current().select(...)`); the runner
(`python -m motherduck_provider.fleet`) runs an operation over every shard; consumers read all
shards' outputs as one (`FleetReference`). Outside a fleet, `Shard.current()` owns everything.
"""

from __future__ import annotations

from .assignment import Shard, shard_of
from .outputs import FleetReference, merge_values

__all__ = ["FleetReference", "Shard", "merge_values", "shard_of"]
