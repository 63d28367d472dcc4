"""Charts of the measured benchmark figures: `python bench/chart.py` (needs matplotlib: the
`charts` dependency group).

Reads the figures `bench_stack.py` and `bench_fleet.py` measured, kept in bench/results/*.json
(each file says where its figures come from), and writes docs/assets/bench-stack.svg (one stack:
up and destroy seconds by accounts, next to the no-call provider, i.e. the engine alone, and
Terraform's figures) and docs/assets/bench-fleet.svg (a fleet of 1,000 accounts phase by
phase, and up/destroy of the fleets against one stack and Terraform). Every value is written
on the chart; the SVGs carry no date and a fixed hash salt, so the same figures give the same
files (`tests/unit/test_bench_charts.py` checks the committed charts show the committed
figures).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ASSETS = ROOT / "docs" / "assets"
COLORS = {
    "stack": "#2b6cb0",
    "engine": "#a0aec0",
    "idle": "#38a169",
    "compact": "#805ad5",
    "terraform": "#dd6b20",
    "fleet10k": "#2c7a7b",
    "fleet10k-shared": "#81e6d9",
}


def load(name: str) -> Any:
    return json.loads((RESULTS / f"{name}.json").read_text())


def label(value: float) -> str:
    """How a figure is written on a chart (and looked for by the test)."""
    return f"{value:g}"


def _setup() -> Any:
    import matplotlib

    matplotlib.use("svg")
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "motherduck-pulumi",
            "svg.fonttype": "none",
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    import matplotlib.pyplot as plt

    return plt


def _phase(run: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in run["phases"] if p["phase"] == name)


def _points(
    ax: Any, xs: list[float], ys: list[float], color: str, dy: float = 1.08, dx: float = 1.0
) -> None:
    """Each value written beside its point (`dx`, `dy`: factors on the log axes)."""
    ha = "center" if dx == 1.0 else ("left" if dx > 1 else "right")
    for x, y in zip(xs, ys, strict=True):
        ax.text(x * dx, y * dy, label(y), fontsize=7, color=color, ha=ha, va="bottom")


def stack_chart(plt: Any) -> Any:
    stack, idle, terraform = load("stack"), load("stack-idle"), load("terraform")
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for ax, phase in zip(axes, ("up", "destroy"), strict=True):
        accounts = [r["accounts"] for r in stack["runs"]]
        seconds = [_phase(r, phase)["seconds"] for r in stack["runs"]]
        engine = [_phase(r, phase)["null_seconds"] for r in stack["runs"]]
        ax.plot(accounts, seconds, "o-", color=COLORS["stack"], label="this provider (shared)")
        _points(ax, accounts, seconds, COLORS["stack"])
        ax.plot(accounts, engine, "o--", color=COLORS["engine"], label="engine alone (no calls)")
        _points(ax, accounts, engine, COLORS["engine"], dy=0.72)
        for form, key in (("default", "idle"), ("compact", "compact")):
            runs = [r for r in idle["runs"] if r["form"] == form]
            xs = [r["accounts"] for r in runs]
            low = [r[phase][0] for r in runs]
            high = [r[phase][1] for r in runs]
            mid = [(a + b) / 2 for a, b in zip(low, high, strict=True)]
            name = "this provider (idle)" if form == "default" else "compact form (idle)"
            ax.errorbar(
                xs,
                mid,
                yerr=[
                    [m - a for m, a in zip(mid, low, strict=True)],
                    [b - m for m, b in zip(mid, high, strict=True)],
                ],
                fmt="^",
                color=COLORS[key],
                capsize=3,
                label=name,
            )
            for x, a, b in zip(xs, low, high, strict=True):
                text = label(a) if a == b else f"{label(a)}–{label(b)}"
                y = (a + b) / 2 * (1.0 if form == "default" else 0.8)
                ax.text(x * 1.12, y, text, fontsize=7, color=COLORS[key], va="center")
        tf_x = [r["accounts"] for r in terraform["runs"]]
        tf_y = [r[phase] for r in terraform["runs"]]
        ax.plot(tf_x, tf_y, "s:", color=COLORS["terraform"], label="Terraform (OpenTofu 1.10)")
        _points(ax, tf_x, tf_y, COLORS["terraform"], dy=1.0, dx=0.85)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("accounts in one stack (one token each)")
        ax.set_ylabel("seconds")
        ax.set_title(f"pulumi {phase}, one stack")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=7, frameon=False)
    fig.suptitle(
        "One stack: seconds per phase (50 ms added to every API call, 2 cores)", fontsize=10
    )
    fig.tight_layout()
    return fig


def fleet_chart(plt: Any) -> Any:
    fleet, idle, tenk = load("fleet-1000"), load("fleet-1000-idle"), load("fleet-10000")
    tenk_shared = load("fleet-10000-shared")
    stack, terraform = load("stack"), load("terraform")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [5, 4]})
    phases = [p["phase"] for p in fleet["phases"]]
    xs = range(len(phases))
    width = 0.38
    ours = [p["seconds"] for p in fleet["phases"]]
    engine = [p["null_seconds"] for p in fleet["phases"]]
    for offset, values, color, name in (
        (-width / 2, ours, COLORS["stack"], "this provider"),
        (width / 2, engine, COLORS["engine"], "engine alone (no calls)"),
    ):
        bars = left.bar([x + offset for x in xs], values, width, color=color, label=name)
        left.bar_label(bars, labels=[label(v) for v in values], fontsize=7)
    left.set_xticks(list(xs), phases)
    left.set_ylabel("seconds")
    left.set_title(
        f"fleet of {fleet['accounts']:,} accounts, {fleet['shards']} shards (shared machine)"
    )
    left.legend(fontsize=7, frameon=False)
    one_stack = next(r for r in stack["runs"] if r["accounts"] == fleet["accounts"])
    tf = next(r for r in terraform["runs"] if r["accounts"] == fleet["accounts"])
    series = (
        (
            "one stack, 1,000",
            [_phase(one_stack, p)["seconds"] for p in ("up", "destroy")],
            COLORS["engine"],
        ),
        ("Terraform, 1,000", [tf["up"], tf["destroy"]], COLORS["terraform"]),
        (
            "fleet, 1,000 (shared)",
            [_phase(fleet, p)["seconds"] for p in ("up", "destroy")],
            COLORS["stack"],
        ),
        (
            "fleet, 1,000 (idle)",
            [_phase(idle, p)["seconds"] for p in ("up", "destroy")],
            COLORS["idle"],
        ),
        (
            f"fleet, {tenk['accounts']:,} (idle)",
            [_phase(tenk, p)["seconds"] for p in ("up", "destroy")],
            COLORS["fleet10k"],
        ),
        (
            f"fleet, {tenk_shared['accounts']:,} (shared)",
            [_phase(tenk_shared, p)["seconds"] for p in ("up", "destroy")],
            COLORS["fleet10k-shared"],
        ),
    )
    width = 0.14
    for i, (name, values, color) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        bars = right.bar([x + offset for x in (0, 1)], values, width, color=color, label=name)
        right.bar_label(bars, labels=[label(v) for v in values], fontsize=6)
    right.set_xticks([0, 1], ["up", "destroy"])
    right.set_ylabel("seconds")
    right.set_title("up and destroy: fleets, one stack, Terraform")
    right.legend(fontsize=7, frameon=False)
    fig.suptitle(
        "Fleets: sharded stacks (3 resources per account, 50 ms per API call, 2 cores)", fontsize=10
    )
    fig.tight_layout()
    return fig


CHARTS = {"bench-stack.svg": stack_chart, "bench-fleet.svg": fleet_chart}


def main() -> int:
    plt = _setup()
    ASSETS.mkdir(parents=True, exist_ok=True)
    for name, draw in CHARTS.items():
        fig = draw(plt)
        fig.savefig(
            ASSETS / name, format="svg", metadata={"Date": None, "Creator": "bench/chart.py"}
        )
        plt.close(fig)
        print(f"wrote {(ASSETS / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
