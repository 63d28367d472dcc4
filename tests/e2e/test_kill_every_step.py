"""Kill `pulumi up` after every API write and checkpoint write, recover: the walks, first points.

How and what is checked: `tests/e2e/killsteps.py`. Here: each run stepped through without a
kill (`test_walk`), and the first create points (its writes and first checkpoints); the other
points are in `test_kill_every_step_create.py`, `_rotate.py` and `_onestep.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.killsteps import PHASES, SteppedUp, check_walk, killed_at_test, points

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("phase", sorted(p for p in PHASES if not PHASES[p].plugin))
def test_walk(phase: str, stepped: Callable[[str], SteppedUp], emulator: EmulatorServer) -> None:
    """The run, stepped through without a kill, makes the writes the points enumerate."""
    check_walk(phase, stepped, emulator)


test_killed_at = killed_at_test(points("create", 1, 11))
