"""Diagrams for the docs, drawn by code as plain SVG (deterministic: no dates of drawing).

The rotation timeline runs the token provider's own rotation rules (`rotates_at`, the
"rotate now" test `diff` uses, `_keep_until`, `_previous_due`) over a month of daily
`pulumi up`s, so its bars are where the provider puts them. The interrupted-run picture lays
out, per stage of a killed `pulumi up`, what is left and what the recovery does (the docs,
Faults and interrupted runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from motherduck_provider._time import format_timestamp
from motherduck_provider.resources import access_token as tokens
from motherduck_provider.resources.service_account import RECOVER_COMMAND

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
COLORS = {"token": "#2b6cb0", "previous": "#90cdf4", "window": "#fefcbf", "up": "#4a5568"}


@dataclass
class Svg:
    """A minimal SVG document: shapes appended in drawing order."""

    width: int
    height: int
    parts: list[str] = field(default_factory=list)

    def rect(self, x: float, y: float, w: float, h: float, fill: str, **extra: str) -> None:
        attrs = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in extra.items())
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{attrs}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, **extra: str) -> None:
        extra.setdefault("stroke", "#333")
        attrs = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in extra.items())
        self.parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{attrs}/>')

    def arrow(self, x: float, y: float, fill: str) -> None:
        """A small right-pointing head ending at (x, y)."""
        points = f"{x - 8:.1f},{y - 5:.1f} {x:.1f},{y:.1f} {x - 8:.1f},{y + 5:.1f}"
        self.parts.append(f'<polygon points="{points}" fill="{fill}"/>')

    def text(self, x: float, y: float, value: str, size: int = 12, **extra: str) -> None:
        extra.setdefault("font_family", FONT)
        attrs = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in extra.items())
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{attrs}>{escape(value)}</text>'
        )

    def lines(
        self, x: float, y: float, values: Sequence[str], size: int = 11, **extra: str
    ) -> None:
        for i, value in enumerate(values):
            self.text(x, y + i * (size + 3), value, size, **extra)

    def render(self, title: str) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img">'
        )
        background = '<rect width="100%" height="100%" fill="white"/>'
        body = "\n".join([head, f"<title>{escape(title)}</title>", background, *self.parts])
        return body + "\n</svg>\n"


# The example the picture runs: the access-token page's example inputs, daily `pulumi up`.
TTL = 30 * 86_400
ROTATE_BEFORE = 7 * 86_400
KEEP_PREVIOUS_FOR = 36 * 3_600
FIRST_UP = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
DAYS = 32


@dataclass(frozen=True)
class Rotation:
    """What a month of daily `pulumi up`s does to one token, by the provider's rules."""

    created: datetime
    expires: datetime
    rotates_at: datetime
    rotated: datetime
    kept_until: datetime
    revoked: datetime
    next_expires: datetime
    ups: tuple[datetime, ...]


def simulate() -> Rotation:
    """Daily `up`s from `FIRST_UP`, asking the token provider at each whether to rotate
    (its `diff` test) and whether the previous token's window has passed."""
    expire = FIRST_UP + timedelta(seconds=TTL)
    olds: dict[str, Any] = {
        "token_id": "A",
        "name": "etl",
        "expire_at": format_timestamp(expire),
    }
    news = {"rotate_before": ROTATE_BEFORE, "keep_previous_for": KEEP_PREVIOUS_FOR}
    due = tokens.rotates_at(olds["expire_at"], ROTATE_BEFORE)
    assert due is not None
    rotated = kept = revoked = None
    next_expires = expire
    ups = tuple(FIRST_UP + timedelta(days=d) for d in range(DAYS))
    for now in ups[1:]:
        if rotated is None and tokens.AccessTokenProvider._rotation_reason(olds, news, now):
            rotated, kept = now, tokens._keep_until(olds, KEEP_PREVIOUS_FOR, now)
            assert kept is not None
            next_expires = now + timedelta(seconds=TTL)
            olds = {
                **olds,
                "token_id": "B",
                "expire_at": format_timestamp(next_expires),
                "previous_token_id": "A",
                "previous_revoke_after": format_timestamp(kept),
            }
        elif revoked is None and tokens._previous_due(olds, now):
            revoked = now
    assert rotated is not None and kept is not None and revoked is not None
    return Rotation(
        FIRST_UP, expire, datetime.fromisoformat(due), rotated, kept, revoked, next_expires, ups
    )


def _day(when: datetime) -> str:
    return f"{when:%b} {when.day} {when:%H:%M}"


def rotation_timeline() -> str:
    run = simulate()
    svg = Svg(960, 310)
    left, right = 40.0, 920.0
    start = FIRST_UP - timedelta(hours=6)
    span = timedelta(days=DAYS).total_seconds()

    def x(when: datetime) -> float:
        return left + (right - left) * (when - start).total_seconds() / span

    svg.text(
        left,
        24,
        "AccessToken rotation: ttl 30 d, rotate_before 7 d, keep_previous_for 36 h, "
        "pulumi up daily at 06:00",
        14,
        font_weight="bold",
    )
    # The overlap window, behind everything.
    svg.rect(x(run.rotated), 40, x(run.kept_until) - x(run.rotated), 200, COLORS["window"])
    svg.text(x(run.rotated) + 3, 52, "keep_previous_for (36 h)", 10)
    # Token A: current, then previous, then revoked; its own expiry dashed.
    svg.text(left, 76, "token A", 12, font_weight="bold")
    svg.rect(x(run.created), 82, x(run.rotated) - x(run.created), 22, COLORS["token"])
    svg.text(x(run.created) + 6, 97, "token (current)", 11, fill="white")
    svg.rect(x(run.rotated), 82, x(run.revoked) - x(run.rotated), 22, COLORS["previous"])
    svg.text(x(run.rotated) + 3, 118, "previous_token", 10)
    svg.rect(
        x(run.revoked),
        82,
        x(run.expires) - x(run.revoked),
        22,
        "none",
        stroke="#a0aec0",
        stroke_dasharray="4 3",
    )
    svg.lines(
        x(run.revoked) + 4,
        91,
        ["revoked; it would have", f"expired {_day(run.expires)}"],
        9,
        fill="#4a5568",
    )
    # Token B from the rotation on.
    svg.text(left, 146, "token B", 12, font_weight="bold")
    svg.rect(x(run.rotated), 152, right - x(run.rotated), 22, COLORS["token"])
    svg.text(
        x(run.rotated) + 6, 167, f"token (current) until {_day(run.next_expires)}", 11, fill="white"
    )
    # rotate_before: from rotates_at to A's expiry.
    svg.line(x(run.rotates_at), 186, x(run.expires), 186, stroke="#2d3748")
    svg.line(x(run.rotates_at), 181, x(run.rotates_at), 191, stroke="#2d3748")
    svg.line(x(run.expires), 181, x(run.expires), 191, stroke="#2d3748")
    svg.text(x(run.rotates_at) + 40, 200, "rotate_before (7 d) before A's expire_at", 10)
    # The daily ups; the two that act are labelled.
    for up in run.ups:
        acts = up in (run.rotated, run.revoked)
        color = "#c53030" if acts else COLORS["up"]
        svg.rect(x(up) - 2.5, 222, 5, 12, color)
    svg.text(left, 216, "pulumi up (daily)", 10)
    svg.lines(
        x(run.rotated) - 150,
        276,
        [
            f"{_day(run.rotated)}: first up at or after",
            "rotates_at: rotates in place",
        ],
        10,
        fill="#c53030",
    )
    svg.lines(
        x(run.revoked) + 6,
        276,
        [
            f"{_day(run.revoked)}: first up after",
            f"previous_revoke_after ({_day(run.kept_until)})",
            "revokes token A",
        ],
        10,
        fill="#c53030",
    )
    # Axis: a tick a day, a date a week.
    svg.line(left, 240, right, 240, stroke="#718096")
    for d in range(DAYS + 1):
        day = start + timedelta(days=d)
        svg.line(x(day), 240, x(day), 244 if d % 7 else 248, stroke="#718096")
        if d % 7 == 0:
            svg.text(x(day) - 12, 258, f"{day:%b} {day.day}", 10, fill="#4a5568")
    return svg.render("AccessToken rotation timeline")


@dataclass(frozen=True)
class Stage:
    killed: str
    motherduck: tuple[str, ...]
    state: tuple[str, ...]
    after: tuple[str, ...]


# Per stage of a killed `pulumi up`: what is left, and what `recover --cancel` + `up` do.
STAGES = (
    Stage(
        "service account POST",
        ("the account, if the POST", "landed (even after the kill)"),
        ("a pending create", "+ the stack's lock"),
        (
            "recover records it as created",
            "and refreshes it: gone if it",
            "never landed; up creates it",
        ),
    ),
    Stage(
        "token POST or a rotation",
        ("a token with the resource's", "mark whose secret nobody", "holds"),
        ("a pending create (a rotation:", "the old token, no pending op)"),
        (
            "recover drops the pending create;",
            "up sweeps the marked token",
            "and creates (rotates) again",
        ),
    ),
    Stage(
        "Duckling config PUT",
        ("the config, if the PUT landed",),
        ("a pending create",),
        ("recover drops it; up reads", "the live config and writes", "only what differs"),
    ),
    Stage(
        "checkpoint write (file backend)",
        ("whatever the run did", "before (state says so)"),
        ("X.attrs empty or cut short:", "the stack cannot load", "('failed to load checkpoint')"),
        (
            "recover moves the bad sidecar",
            "aside (a copy kept); up goes on",
            "from the saved state",
        ),
    ),
)
COLUMNS = ("killed during", "left in MotherDuck", "left in state", "recover --cancel, then up")


def interrupted_run() -> str:
    svg = Svg(960, 445)
    xs = (20, 250, 470, 690)
    svg.text(
        20,
        26,
        "A pulumi up killed mid-run: what is left, and how it is recovered",
        14,
        font_weight="bold",
    )
    for col, label in zip(xs, COLUMNS, strict=True):
        svg.text(col, 56, label, 12, font_weight="bold")
    svg.line(20, 64, 940, 64, stroke="#718096")
    row_height = 62
    for i, stage in enumerate(STAGES):
        y = 84 + i * row_height
        if i % 2:
            svg.rect(16, y - 16, 928, row_height, "#f7fafc")
        svg.text(xs[0], y, stage.killed, 11, font_weight="bold")
        svg.lines(xs[1], y, stage.motherduck)
        svg.lines(xs[2], y, stage.state)
        svg.lines(xs[3], y, stage.after, fill="#22543d")
    # The recovery sequence.
    steps = (
        ("run killed", "lock, pending ops, maybe", "an unreadable stack file"),
        (
            f"{RECOVER_COMMAND} --cancel",
            "repairs storage, removes the lock,",
            "settles pending creates",
        ),
        ("pulumi up", "sweeps marked tokens, finishes", "the run, no program edit"),
        ("MotherDuck = state", "nothing lost, orphaned", "or duplicated"),
    )
    top, x, gap = 350.0, 20.0, 27.0
    widths = (150.0, 320.0, 200.0, 160.0)
    for i, ((head, *rest), box_w) in enumerate(zip(steps, widths, strict=True)):
        fill = "#ebf8ff" if 0 < i < 3 else "#edf2f7"
        svg.rect(x, top, box_w, 80, fill, stroke="#2b6cb0", rx="6")
        svg.text(
            x + 8, top + 22, head, 11, font_weight="bold", font_family="DejaVu Sans Mono, monospace"
        )
        svg.lines(x + 8, top + 44, rest, 11)
        if i < len(steps) - 1:
            svg.line(
                x + box_w + 3,
                top + 40,
                x + box_w + gap - 4,
                top + 40,
                stroke="#2b6cb0",
                stroke_width="2",
            )
            svg.arrow(x + box_w + gap - 2, top + 40, "#2b6cb0")
        x += box_w + gap
    svg.text(
        20,
        336,
        "Recovery, in the project directory with the run's environment:",
        12,
        font_weight="bold",
    )
    return svg.render("What a killed pulumi up leaves, and the recovery sequence")


PICTURES: dict[str, Callable[[], str]] = {
    "rotation-timeline.svg": rotation_timeline,
    "interrupted-run.svg": interrupted_run,
}
