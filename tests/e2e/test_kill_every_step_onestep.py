"""Kill points of the one-step form (`programs/killsteps_onestep`): create, rotation.

How and what is checked: `tests/e2e/killsteps.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.killsteps import Point, SteppedUp, check_killed_at, points

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("point", points("onestep-create") + points("onestep-rotate"))
def test_killed_at(
    point: Point,
    stepped: Callable[[str], SteppedUp],
    emulator: EmulatorServer,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    check_killed_at(point, stepped, emulator, pulumi_env, pulumi_bin)
