"""Kill points of the rotation runs (on demand; due, with a previous token kept).

How and what is checked: `tests/e2e/killsteps.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.killsteps import Point, SteppedUp, check_killed_at, points

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("point", points("rotate") + points("rotate-keep"))
def test_killed_at(
    point: Point,
    stepped: Callable[[str], SteppedUp],
    emulator: EmulatorServer,
    pulumi_env: dict[str, str],
    pulumi_bin: Path,
) -> None:
    check_killed_at(point, stepped, emulator, pulumi_env, pulumi_bin)
