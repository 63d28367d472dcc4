"""Kill points of the rotation runs (on demand; due, with a previous token kept).

How and what is checked: `tests/e2e/killsteps.py`.
"""

from __future__ import annotations

import pytest

from tests.e2e.killsteps import killed_at_test, points

pytestmark = pytest.mark.e2e

test_killed_at = killed_at_test(points("rotate") + points("rotate-keep"))
