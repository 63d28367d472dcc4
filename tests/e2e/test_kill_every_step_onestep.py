"""Kill points of the one-step form (`programs/killsteps_onestep`): create, rotation.

How and what is checked: `tests/e2e/killsteps.py`.
"""

from __future__ import annotations

import pytest

from tests.e2e.killsteps import killed_at_test, points

pytestmark = pytest.mark.e2e

test_killed_at = killed_at_test(points("onestep-create") + points("onestep-rotate"))
