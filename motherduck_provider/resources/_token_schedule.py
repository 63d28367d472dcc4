"""When a token rotates and why: the schedule and the reasons preview shows, from state alone.

Pure functions of a token's state, its settings and `now` (no call, no clock of their own), so
diff (preview) and update decide "rotate now" with the same test.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .. import rules
from .._time import format_timestamp, parse_timestamp
from ._base import is_unknown
from ._props import TokenSettings, TokenState
from ._token_rules import ROTATION_NOTICE


def span(delta: timedelta) -> str:
    """A duration as people read a schedule: `3 d 4 h`, `5 h 10 min`, `12 min`, `40 s`."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{seconds} s"


def rotates_at(expire_at: Any, rotate_before: Any) -> str | None:
    """When the first `pulumi up` rotates the token: `expire_at - rotate_before` (or None)."""
    window = rules.whole_number(rotate_before)
    if not isinstance(expire_at, str) or window is None:
        return None
    return format_timestamp(parse_timestamp(expire_at) - timedelta(seconds=window))


def label(state: TokenState) -> str:
    """How messages name a token: its id and the name the program gave it."""
    return f"token {state.token_id} ({state.name!r})"


def scheduled(outs: TokenState) -> TokenState:
    """`outs` with `rotates_at` computed from its `expire_at` and `rotate_before`."""
    return outs.but(rotates_at=rotates_at(outs.expire_at, outs.rotate_before))


def trigger_changed(olds: TokenState, news: TokenSettings) -> bool:
    """A new, known `rotation_trigger` value (removing it rotates nothing)."""
    trigger = news.rotation_trigger
    if trigger is None or is_unknown(trigger):
        return False
    return bool(trigger != olds.rotation_trigger)


def previous_due(olds: TokenState, now: datetime) -> bool:
    """Whether a previous token is held and its window has passed."""
    if not olds.previous_token_id:
        return False
    until = olds.previous_revoke_after
    return not isinstance(until, str) or parse_timestamp(until) <= now


def keep_until(olds: TokenState, keep: int, now: datetime) -> datetime | None:
    """Until when a rotation at `now` keeps the old token (None: revoked at once).

    Never past the old token's own expiry: an expired token is not kept, and a window that
    outlasts it ends with it.
    """
    expire_at = olds.expire_at
    expires = parse_timestamp(expire_at) if isinstance(expire_at, str) else None
    if keep <= 0 or (expires is not None and expires <= now):
        return None
    until = now + timedelta(seconds=keep)
    return min(until, expires) if expires is not None else until


def expiry_reason(olds: TokenState, rotate_before: Any, now: datetime) -> str | None:
    """Why the stored token must be replaced for its expiry (None: it need not yet)."""
    expire_at = olds.expire_at
    if not isinstance(expire_at, str):
        return None
    when = parse_timestamp(expire_at)
    if when <= now:
        return f"{label(olds)} expired at {expire_at}"
    window = rules.whole_number(rotate_before)
    if window is not None and now + timedelta(seconds=window) >= when:
        return f"{label(olds)} expires at {expire_at}, within rotate_before={window}s"
    return None


def rotation_reason(olds: TokenState, news: TokenSettings, now: datetime) -> str | None:
    """Why this `up` rotates the token (expiry, `rotate_before`, a new `rotation_trigger`).

    The one test of "rotate now" that both diff and update use, for every face.
    """
    why = expiry_reason(olds, news.rotate_before, now)
    if why is None and trigger_changed(olds, news):
        why = f"{label(olds)}: rotation_trigger changed"
    if why is None:
        return None
    keep = rules.whole_number(news.keep_previous_for) or 0
    if keep_until(olds, keep, now) is None:
        how = "a new token, then the old one revoked"
    else:
        how = f"a new token; the old one stays valid as previous_token for {keep}s"
    if olds.previous_token_id:
        how += f"; the previous token {olds.previous_token_id} is revoked first"
    return f"{why}; rotating now: {how}"


def sweep_reason(olds: TokenState, now: datetime) -> str:
    """What an update does about `sweep_after` (a failed create's token that may exist)."""
    until = str(olds.sweep_after)
    if parse_timestamp(until) > now:
        return (
            f"{label(olds)}: a create that failed without an answer may still land until "
            f"{until}; this update waits for that (at most motherduck:lateRequestWait), "
            "then revokes tokens with this resource's mark that state does not hold"
        )
    return (
        f"{label(olds)}: revoking tokens with this resource's mark that state does not hold "
        "(left by a create that failed without an answer, or by an interrupted run)"
    )


def due(olds: TokenState, news: TokenSettings, now: datetime) -> list[str]:
    """Why an `up` must call the API for this token now (empty: it need not)."""
    rotation = rotation_reason(olds, news, now)
    if rotation:
        return [rotation]
    found = []
    if previous_due(olds, now):
        found.append(
            f"{label(olds)}: revoking previous token {olds.previous_token_id} now, "
            f"its keep_previous_for window ended at {olds.previous_revoke_after}"
        )
    if isinstance(olds.sweep_after, str):
        found.append(sweep_reason(olds, now))
    return found


def schedule(olds: TokenState, news: TokenSettings, now: datetime) -> str | None:
    """What later runs will do: a rotation within `ROTATION_NOTICE`, a previous token kept."""
    found = []
    at = rotates_at(olds.expire_at, news.rotate_before)
    if at is not None and parse_timestamp(at) - now <= ROTATION_NOTICE:
        found.append(
            f"rotates in {span(parse_timestamp(at) - now)} (rotates_at {at}, "
            f"expires {olds.expire_at})"
        )
    if olds.previous_token_id:
        found.append(
            f"previous token {olds.previous_token_id} valid until the first "
            f"`pulumi up` after {olds.previous_revoke_after}"
        )
    return f"{label(olds)} " + "; ".join(found) if found else None


def tracked_reason(olds: TokenState, news: TokenSettings, now: datetime) -> str | None:
    """What preview says of a tracked token near or past its expiry (it is never rotated)."""
    reason = expiry_reason(olds, news.rotate_before, now)
    if reason is None:
        return None
    return (
        f"{reason}; it is tracked, not managed: remove adopt_token_id to let this stack "
        "create its own token"
    )
