"""The committed benchmark charts show the committed figures (`bench/chart.py` draws them).

Regenerating needs matplotlib (the `charts` dependency group), so this checks the other way
round, without it: every measured figure in bench/results/*.json is written on its chart.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
UP_DESTROY = {"up", "destroy"}
# Each chart: the results it draws, each with the phases it shows (None: all).
CHARTS: dict[str, dict[str, set[str] | None]] = {
    "bench-stack.svg": {"stack": UP_DESTROY, "stack-idle": UP_DESTROY, "terraform": UP_DESTROY},
    "bench-fleet.svg": {
        "fleet-1000": None,
        "fleet-1000-idle": None,
        "fleet-10000": UP_DESTROY,
        "fleet-10000-shared": UP_DESTROY,
    },
}


def figures(data: Any, phases: set[str] | None) -> set[float]:
    """Every seconds figure of the shown phases in a results file, however nested."""
    found: set[float] = set()
    if isinstance(data, dict):
        if phases is not None and data.get("phase", "up") not in phases:
            return found
        for key, value in data.items():
            if key in ("seconds", "null_seconds", "up", "destroy"):
                found |= set(value) if isinstance(value, list) else {value}
            else:
                found |= figures(value, phases)
    elif isinstance(data, list):
        for value in data:
            found |= figures(value, phases)
    return found


def shown(svg: Path) -> str:
    """All text written on a chart (matplotlib keeps text as text: svg.fonttype none)."""
    root = ET.parse(svg).getroot()
    return "\n".join("".join(e.itertext()) for e in root.iter() if e.tag.endswith("text"))


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_every_measured_figure_is_on_its_chart(chart: str) -> None:
    text = shown(ROOT / "docs" / "assets" / chart)
    missing = []
    for name, phases in CHARTS[chart].items():
        data = json.loads((RESULTS / f"{name}.json").read_text())
        assert data["source"], f"{name}.json does not say where its figures come from"
        missing += [f"{name}: {v:g}" for v in sorted(figures(data, phases)) if f"{v:g}" not in text]
    assert not missing, f"{chart} lacks {missing}; run `python bench/chart.py` and commit it"
