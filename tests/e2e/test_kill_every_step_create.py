"""Kill points of the create run's later checkpoints (after `test_kill_every_step.py`'s 11).

How and what is checked: `tests/e2e/killsteps.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.killsteps import Point, SteppedUp, check_killed_at, points

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("point", points("create", 12))
def test_killed_at(
    point: Point,
    stepped: Callable[[str], SteppedUp],
    emulator: EmulatorServer,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    check_killed_at(point, stepped, emulator, pulumi_env, pulumi_bin)
