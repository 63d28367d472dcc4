"""Kill points of the create run's later checkpoints (after `test_kill_every_step.py`'s 11).

How and what is checked: `tests/e2e/killsteps.py`.
"""

from __future__ import annotations

import pytest

from tests.e2e.killsteps import killed_at_test, points

pytestmark = pytest.mark.e2e

test_killed_at = killed_at_test(points("create", 12))
