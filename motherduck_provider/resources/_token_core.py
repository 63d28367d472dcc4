"""One token's lifecycle over a client: marks, rules, mint, settle, sweep, rotation, revoke.

Written once for every face that holds tokens: `AccessToken` (one token per resource) and
`ServiceAccount(tokens=...)` (an account with its tokens, one resource). Neither pickling nor
the engine's props are known here: a token is its *settings* (`TokenSettings`) and its
*state* (`TokenState`, the flat outputs AccessToken has always stored), and `Lifecycle` turns
them into API calls and a new state. Time comes from `utcnow` (one clock tests replace).

Every token created here carries a mark in the name MotherDuck shows, `<name> [pulumi:<mark>]`:
a hash of who declared it (`owner`) and of its replace-relevant settings. A token with the mark
that state does not hold was made by a create whose answer was lost, or by an interrupted run;
nobody can hold its secret, so it is revoked ("swept").
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from .. import rules
from .._time import format_timestamp, parse_timestamp
from ..errors import MotherDuckError, NotFoundError, ServerError, TransportError
from ._base import is_unknown, utcnow, warn
from ._late import may_land_late, rerun_hint, wait_for_window, window_end

if TYPE_CHECKING:
    from ..client import AdminClient
    from ..models import CreatedToken, TokenInfo


class TokenSettings(TypedDict, total=False):
    """What a program says about one token (AccessToken's inputs but `username` and `name`)."""

    ttl: int | None
    token_type: str | None
    rotate_before: int | None
    keep_previous_for: int | None
    rotation_trigger: str | None
    adopt_token_id: str | None


class TokenState(TokenSettings, total=False):
    """One token as state holds it: its settings, who declared it, the live token, schedule."""

    username: str
    name: str
    owner: str | None
    token: str | None
    token_id: str
    expire_at: str | None
    created_ts: str
    read_only: bool
    mark: str | None
    previous_token: str | None
    previous_token_id: str | None
    previous_revoke_after: str | None
    sweep_after: str | None
    rotates_at: str | None


SETTINGS = ("ttl", "token_type", "rotate_before", "keep_previous_for", "rotation_trigger")
SETTINGS_ALL = (*SETTINGS, "adopt_token_id")
# Settings whose change makes a new token (a new mark); the rest is bookkeeping or rotation.
REPLACE_ON_CHANGE = ("ttl", "token_type", "adopt_token_id")
# Settings of a managed token that change no token by themselves (a new `rotation_trigger`
# value does rotate, but as an update: see `rotation_reason`).
LOCAL_MANAGED = ("rotate_before", "keep_previous_for", "rotation_trigger")
# The previous token of an overlapping rotation, as state; all None when none is kept.
PREVIOUS = ("previous_token", "previous_token_id", "previous_revoke_after")
# The live token's metadata, from the API.
METADATA = ("token_id", "expire_at", "created_ts", "read_only", "token_type")
KEEP_PREVIOUS_MIN = 0
KEEP_PREVIOUS_MAX = rules.TTL_MAX
# A rotation this close is announced by every preview (one line per token); later ones are
# only in the `rotates_at` output, so a stack with many tokens stays quiet.
ROTATION_NOTICE = timedelta(days=7)
NOT_TRACKED = "cannot be combined with adopt_token_id"
DEFAULT_TOKEN_TYPE = rules.DEFAULT_TOKEN_TYPE

# The mark: `<name> [pulumi:<10 hex>]` is how MotherDuck shows a token created here.
MARK_HEX = 10
MARK_SUFFIX_LENGTH = len(" [pulumi:]") + MARK_HEX
NAME_MAX = rules.TOKEN_NAME_MAX - MARK_SUFFIX_LENGTH
_MARKED = re.compile(rf"(?P<name>.*) \[pulumi:(?P<mark>[0-9a-f]{{{MARK_HEX}}})\]", re.DOTALL)
# POSTs of one token before giving up when each fails without an answer.
MAX_POSTS = 3


def owner_of(project: str, stack: str, parent: str, resource_name: str) -> str:
    """The hidden `owner` input: a short hash of who declared the token, stable across runs."""
    text = json.dumps([project, stack, parent, resource_name])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def member_owner(owner: str, name: str) -> str:
    """The owner of one token of a resource holding several (`owner` of the resource + name)."""
    return hashlib.sha256(json.dumps([owner, name]).encode()).hexdigest()[:12]


def token_mark(inputs: Mapping[str, Any]) -> str:
    """The mark of the tokens one resource creates for one set of replace-relevant inputs.

    An input change that replaces the token changes the mark, so a sweep never touches the
    token being replaced; a rotation keeps the inputs, and so the mark.
    """
    ttl = rules.whole_number(inputs.get("ttl"))
    parts = [
        inputs.get("owner") or "",
        inputs.get("username") or "",
        inputs.get("name") or "",
        "" if ttl is None else str(ttl),
        inputs.get("token_type") or DEFAULT_TOKEN_TYPE,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:MARK_HEX]


def marked_name(name: str, mark: str) -> str:
    """The name MotherDuck is given for a token the user named `name`."""
    return f"{name} [pulumi:{mark}]"


def split_marked(shown: str | None) -> tuple[str | None, str | None]:
    """(the user's name, the mark) of a name as MotherDuck shows it; no mark: (shown, None)."""
    found = _MARKED.fullmatch(shown or "")
    if found is None:
        return shown, None
    return found["name"], found["mark"]


def name_problems(value: Any, tracked: bool) -> list[str]:
    """The token name rules, with room for the mark on tokens created here."""
    problems = rules.token_name_problems(value)
    if problems or tracked or not isinstance(value, str) or len(value) <= NAME_MAX:
        return problems
    return [
        f"has {len(value)} characters; a token created by this stack has at most {NAME_MAX}, "
        f"since MotherDuck gets it as '<name> [pulumi:<mark>]' ({MARK_SUFFIX_LENGTH} more)"
    ]


def settings_problems(inputs: dict[str, Any], username: Any) -> dict[str, list[str]]:
    """Check one token's settings (`SETTINGS_ALL`), normalizing `inputs` in place.

    Pure: fills in the default `token_type` (not for a tracked token, which keeps its own)
    and turns whole numbers into int. Problems are keyed by setting name.
    """
    problems: dict[str, list[str]] = {}

    def known(key: str) -> Any:
        value = inputs.get(key)
        return None if is_unknown(value) else value

    tracking = inputs.get("adopt_token_id") is not None
    if inputs.get("token_type") is None and not tracking:
        inputs["token_type"] = DEFAULT_TOKEN_TYPE
    elif known("token_type") is not None:
        problems["token_type"] = rules.choice_problems(known("token_type"), rules.TOKEN_TYPES)
    ttl = known("ttl")
    if ttl is not None:
        problems["ttl"] = rules.range_problems(ttl, rules.TTL_MIN, rules.TTL_MAX, "seconds")
        inputs["ttl"] = rules.whole_number(ttl) if not problems["ttl"] else ttl
    rotate = known("rotate_before")
    if rotate is not None:
        found = rules.range_problems(rotate, rules.ROTATE_BEFORE_MIN, rules.TTL_MAX, "seconds")
        if not found and inputs.get("ttl") is None:
            found = ["needs ttl: a token without expiry never rotates"]
        elif not found and isinstance(inputs["ttl"], int) and rotate >= inputs["ttl"]:
            ttl_text = rules.show(inputs["ttl"])
            found = [f"{rules.show(rotate)} must be less than ttl ({ttl_text}) or every up rotates"]
        problems["rotate_before"] = found
        if not found:
            inputs["rotate_before"] = rules.whole_number(rotate)
    keep = known("keep_previous_for")
    if keep is not None:
        found = rules.range_problems(keep, KEEP_PREVIOUS_MIN, KEEP_PREVIOUS_MAX, "seconds")
        problems["keep_previous_for"] = found
        if not found:
            inputs["keep_previous_for"] = rules.whole_number(keep)
    trigger = known("rotation_trigger")
    if trigger is not None and not isinstance(trigger, str):
        problems["rotation_trigger"] = [
            f"must be a string, got {trigger!r}; any change of it rotates the token"
        ]
    adopt = known("adopt_token_id")
    if adopt is not None:
        problems["adopt_token_id"] = adopt_problems(adopt, username)
        for key in LOCAL_MANAGED:
            if inputs.get(key) is not None:
                problems.setdefault(key, []).append(
                    f"{rules.show(inputs[key])} {NOT_TRACKED}: rotating a tracked token "
                    "would revoke it; manage a token of your own to rotate it"
                )
    return problems


def adopt_problems(value: Any, username: Any) -> list[str]:
    """The rule of `adopt_token_id`: a token id, or `username/token_id` of this account."""
    if not isinstance(value, str) or not value.strip():
        return [f"must be a token id or username/token_id, got {value!r}"]
    owner, _, token_id = value.rpartition("/")
    if not token_id:
        return [f"{value!r} has no token id after '/'"]
    if owner and isinstance(username, str) and owner != username:
        return [f"{value!r} names user {owner!r} but username is {username!r}"]
    return []


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


def label(state: Mapping[str, Any]) -> str:
    """How messages name a token: its id and the name the program gave it."""
    return f"token {state.get('token_id')} ({state.get('name')!r})"


def scheduled(outs: dict[str, Any]) -> dict[str, Any]:
    """`outs` with `rotates_at` computed from its `expire_at` and `rotate_before`."""
    outs["rotates_at"] = rotates_at(outs.get("expire_at"), outs.get("rotate_before"))
    return outs


def trigger_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """A new, known `rotation_trigger` value (removing it rotates nothing)."""
    trigger = news.get("rotation_trigger")
    if trigger is None or is_unknown(trigger):
        return False
    return bool(trigger != olds.get("rotation_trigger"))


def previous_due(olds: Mapping[str, Any], now: datetime) -> bool:
    """Whether a previous token is held and its window has passed."""
    if not olds.get("previous_token_id"):
        return False
    until = olds.get("previous_revoke_after")
    return not isinstance(until, str) or parse_timestamp(until) <= now


def keep_until(olds: Mapping[str, Any], keep: int, now: datetime) -> datetime | None:
    """Until when a rotation at `now` keeps the old token (None: revoked at once).

    Never past the old token's own expiry: an expired token is not kept, and a window that
    outlasts it ends with it.
    """
    expire_at = olds.get("expire_at")
    expires = parse_timestamp(expire_at) if isinstance(expire_at, str) else None
    if keep <= 0 or (expires is not None and expires <= now):
        return None
    until = now + timedelta(seconds=keep)
    return min(until, expires) if expires is not None else until


def metadata(info: TokenInfo) -> dict[str, Any]:
    """The live token's metadata as state keeps it (`METADATA`)."""
    return {
        "token_id": info.id,
        "expire_at": info.expire_at,
        "created_ts": info.created_ts,
        "read_only": info.read_only,
        "token_type": info.token_type,
    }


def expiry_reason(olds: Mapping[str, Any], rotate_before: Any, now: datetime) -> str | None:
    """Why the stored token must be replaced for its expiry (None: it need not yet)."""
    expire_at = olds.get("expire_at")
    if not isinstance(expire_at, str):
        return None
    when = parse_timestamp(expire_at)
    if when <= now:
        return f"{label(olds)} expired at {expire_at}"
    window = rules.whole_number(rotate_before)
    if window is not None and now + timedelta(seconds=window) >= when:
        return f"{label(olds)} expires at {expire_at}, within rotate_before={window}s"
    return None


def rotation_reason(olds: Mapping[str, Any], news: Mapping[str, Any], now: datetime) -> str | None:
    """Why this `up` rotates the token (expiry, `rotate_before`, a new `rotation_trigger`).

    The one test of "rotate now" that both diff and update use, for every face.
    """
    why = expiry_reason(olds, news.get("rotate_before"), now)
    if why is None and trigger_changed(olds, news):
        why = f"{label(olds)}: rotation_trigger changed"
    if why is None:
        return None
    keep = rules.whole_number(news.get("keep_previous_for")) or 0
    if keep_until(olds, keep, now) is None:
        how = "a new token, then the old one revoked"
    else:
        how = f"a new token; the old one stays valid as previous_token for {keep}s"
    if olds.get("previous_token_id"):
        how += f"; the previous token {olds['previous_token_id']} is revoked first"
    return f"{why}; rotating now: {how}"


def sweep_reason(olds: Mapping[str, Any], now: datetime) -> str:
    """What an update does about `sweep_after` (a failed create's token that may exist)."""
    until = str(olds.get("sweep_after"))
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


def due(olds: Mapping[str, Any], news: Mapping[str, Any], now: datetime) -> list[str]:
    """Why an `up` must call the API for this token now (empty: it need not)."""
    rotation = rotation_reason(olds, news, now)
    if rotation:
        return [rotation]
    found = []
    if previous_due(olds, now):
        found.append(
            f"{label(olds)}: revoking previous token {olds['previous_token_id']} now, "
            f"its keep_previous_for window ended at {olds.get('previous_revoke_after')}"
        )
    if isinstance(olds.get("sweep_after"), str):
        found.append(sweep_reason(olds, now))
    return found


def schedule(olds: Mapping[str, Any], news: Mapping[str, Any], now: datetime) -> str | None:
    """What later runs will do: a rotation within `ROTATION_NOTICE`, a previous token kept."""
    found = []
    at = rotates_at(olds.get("expire_at"), news.get("rotate_before"))
    if at is not None and parse_timestamp(at) - now <= ROTATION_NOTICE:
        found.append(
            f"rotates in {span(parse_timestamp(at) - now)} (rotates_at {at}, "
            f"expires {olds.get('expire_at')})"
        )
    if olds.get("previous_token_id"):
        found.append(
            f"previous token {olds['previous_token_id']} valid until the first "
            f"`pulumi up` after {olds.get('previous_revoke_after')}"
        )
    return f"{label(olds)} " + "; ".join(found) if found else None


def tracked_reason(olds: Mapping[str, Any], news: Mapping[str, Any], now: datetime) -> str | None:
    """What preview says of a tracked token near or past its expiry (it is never rotated)."""
    reason = expiry_reason(olds, news.get("rotate_before"), now)
    if reason is None:
        return None
    return (
        f"{reason}; it is tracked, not managed: remove adopt_token_id to let this stack "
        "create its own token"
    )


def needs_update(olds: Mapping[str, Any], news: Mapping[str, Any], now: datetime) -> bool:
    """Whether a managed token whose settings keep its mark needs a write (or a record)."""
    return any(olds.get(k) != news.get(k) for k in LOCAL_MANAGED) or bool(due(olds, news, now))


class Lifecycle:
    """The API side of one account's tokens: mint, settle, sweep, rotate, track, revoke.

    Built per call from a provider's client and its `motherduck:lateRequestWait`; holds no
    state of its own, so one provider may run several at once (the client is thread-safe).
    """

    def __init__(self, client: AdminClient, late_wait: float) -> None:
        self.client = client
        self.late_wait = late_wait

    def create(self, username: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Mint a marked token: the new state (`inputs` are the token's settings, `name`,
        `owner`).

        Unless this process created the account, an earlier run may have been killed after
        its POST was applied: tokens with this mark are swept first. If a POST that failed
        without an answer may still land, this waits for it and sweeps (`settle`).
        """
        mark = token_mark({**inputs, "username": username})
        owed = not self.client.created_here(username) and not self.try_sweep(
            username, mark, keep=()
        )
        created, late = self.mint(username, inputs, mark, keep=())
        sweep_after = self.settled_or_owed(username, mark, {created.id}, late)
        if owed and late is None:
            sweep_after = format_timestamp(utcnow())
        outs = {
            **inputs,
            **metadata(created),
            "token": created.token.get_secret_value(),
            "mark": mark,
            **dict.fromkeys(PREVIOUS),
            "sweep_after": sweep_after,
        }
        return scheduled(outs)

    def track(self, username: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The state of an existing token tracked by `adopt_token_id` (metadata, no secret)."""
        token_id = str(inputs["adopt_token_id"]).rpartition("/")[2]
        found = {t.id: t for t in self.client.list_tokens(username)}.get(token_id)
        if found is None:
            raise MotherDuckError(
                f"token {token_id} of {username!r} was not found (expired or revoked); "
                "remove adopt_token_id to create a new token instead"
            )
        wanted = inputs.get("token_type")
        if wanted is not None and wanted != found.token_type:
            raise MotherDuckError(
                f"token {token_id} of {username!r} is a {found.token_type} token, not {wanted}; "
                "fix token_type or leave it unset"
            )
        warn(
            f"tracking existing token {token_id} of {username!r}: its secret is shown by "
            "MotherDuck only once, at creation, so the `token` output stays empty"
        )
        return {
            **inputs,
            **metadata(found),
            "token": None,
            "mark": None,
            **dict.fromkeys(PREVIOUS),
            "sweep_after": None,
            "rotates_at": None,
        }

    def advance(
        self, username: str, current: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Rotate in place when due, revoke a previous token whose window has passed, sweep
        what failed creates left, record local settings (no API call when that is all).

        `olds` is the token's state, `news` its settings (same mark), `current` the live
        token's id. Rotation: revoke the previous token still kept (if this fails, nothing has
        changed yet and it raises), create the new token (same mark), then revoke the old one
        or keep it as `previous_token` for `keep_previous_for`, then sweep (after waiting,
        bounded, for a POST that may still land: `settle`). If revoking the old one fails, it
        is kept as a previous token due now, so the next `up` revokes it and the new secret
        is not lost. A tracked token keeps its live type and is never rotated.
        """
        if news.get("adopt_token_id"):
            return self.record_tracked(olds, news)
        outs = {**olds, **{k: news.get(k) for k in LOCAL_MANAGED}}
        mark = str(olds.get("mark") or token_mark({**news, "username": username}))
        outs.update(mark=mark, owner=olds.get("owner") or news.get("owner"))
        for key in PREVIOUS:
            outs.setdefault(key, None)
        now = utcnow()
        rotating = rotation_reason(olds, news, now) is not None
        previous = olds.get("previous_token_id")
        pending = isinstance(olds.get("sweep_after"), str)
        if not rotating and not pending and not previous_due(olds, now):
            return scheduled(outs)  # local settings only: nothing remote to do
        if previous and (rotating or previous_due(olds, now)):
            self.revoke_previous(username, str(previous), rotating)
            outs.update(dict.fromkeys(PREVIOUS))
        if not rotating and not pending:
            return scheduled(outs)
        keep = {current, *([outs["previous_token_id"]] if outs["previous_token_id"] else [])}
        late = parse_timestamp(str(olds["sweep_after"])) if pending else None
        if rotating:
            created, minted = self.mint(username, {**news, **outs}, mark, keep)
            if minted is not None and (late is None or minted > late):
                late = minted
            outs.update(metadata(created), token=created.token.get_secret_value())
            keep_for = rules.whole_number(news.get("keep_previous_for")) or 0
            until = keep_until(olds, keep_for, utcnow())
            if until is None and not self.revoke_old(username, current):
                until = utcnow()  # due at once: the next `up` revokes it
            if until is not None:
                outs.update(
                    previous_token=olds.get("token"),
                    previous_token_id=current,
                    previous_revoke_after=format_timestamp(until),
                )
            keep = {created.id, *([current] if until is not None else [])}
        if late is not None:
            outs["sweep_after"] = self.settled_or_owed(username, mark, keep, late)
        elif self.try_sweep(username, mark, keep):
            outs["sweep_after"] = None
        else:
            outs["sweep_after"] = format_timestamp(utcnow())
        return scheduled(outs)

    @staticmethod
    def record_tracked(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """A tracked token's new state: its settings recorded, nothing remote (never rotated)."""
        outs = {**olds, **{k: news.get(k) for k in LOCAL_MANAGED}}
        outs.update(name=news.get("name"), ttl=news.get("ttl"))
        return scheduled(outs)

    def refresh(
        self, username: str, state: Mapping[str, Any], tokens: list[TokenInfo]
    ) -> dict[str, Any] | None:
        """The token's state from the account's live tokens (`tokens`); None: it is gone.

        Never writes: tokens with this mark that state does not hold are reported and
        `sweep_after` is set, so the next `pulumi up` revokes them.
        """
        token_id = str(state.get("token_id"))
        live = {t.id: t for t in tokens}
        found = live.get(token_id)
        previous = state.get("previous_token_id")
        if found is None:
            expire_at = state.get("expire_at")
            if not (isinstance(expire_at, str) and parse_timestamp(expire_at) <= utcnow()):
                warn(f"token {token_id} of {username!r} was revoked outside Pulumi")
            if previous in live:
                warn(
                    f"its previous token {previous} is still valid: the next `pulumi up`, "
                    "which creates this token again, revokes it (it carries this resource's mark)"
                )
            return None
        outs = {**state, **metadata(found)}
        if not outs.get("name"):
            outs["name"] = split_marked(found.name)[0]
        outs.setdefault("token", None)
        for key in PREVIOUS:
            outs.setdefault(key, None)
        if previous and previous not in live:
            if not previous_due(state, utcnow()):
                warn(
                    f"previous token {previous} of {username!r} (kept until "
                    f"{state.get('previous_revoke_after')}) was revoked outside Pulumi"
                )
            outs.update(dict.fromkeys(PREVIOUS))
        scheduled(outs)
        mark = outs.get("mark")
        if mark and not outs.get("sweep_after"):
            held = {token_id, outs.get("previous_token_id")}
            strays = [t.id for t in tokens if t.id not in held and split_marked(t.name)[1] == mark]
            if strays:
                warn(
                    f"token {token_id} of {username!r}: {len(strays)} more token(s) with this "
                    f"resource's mark that state does not hold ({', '.join(strays)}), left by a "
                    "failed or interrupted create; the next `pulumi up` revokes them"
                )
                outs["sweep_after"] = format_timestamp(utcnow())
        return outs

    def revoke(self, username: str, current: str, state: Mapping[str, Any]) -> None:
        """Revoke the token and its previous one; already revoked or expired counts as done.

        If a failed create's late token may still appear (`sweep_after`), wait for it and
        sweep, so nothing with this mark outlives the token.
        """
        for token_id in (current, state.get("previous_token_id")):
            if token_id:
                try:
                    self.client.revoke_token(username, str(token_id))
                except NotFoundError:
                    pass
        mark, sweep_after = state.get("mark"), state.get("sweep_after")
        if mark and isinstance(sweep_after, str):
            late = parse_timestamp(sweep_after)
            if self.settle(username, str(mark), (), late) is None:
                warn(
                    f"token {current} of {username!r} was revoked, but a request of its create "
                    f"that failed without an answer may still land until {sweep_after} (UTC), "
                    "later than motherduck:lateRequestWait lets this run wait: after that time "
                    f"revoke any token of {username!r} named '... [pulumi:{mark}]' (nobody "
                    "holds its secret)"
                )

    def mint(
        self, username: str, inputs: Mapping[str, Any], mark: str, keep: Iterable[str]
    ) -> tuple[CreatedToken, datetime | None]:
        """POST the token; after each ambiguous failure sweep what it may have made, retry.

        A 5xx, or a connection lost once the request was sent, may have created a token whose
        secret nobody saw. Up to `MAX_POSTS` POSTs are made, each failure followed by a sweep
        (sparing `keep`). The second result says from when a sweep is still owed, for the
        caller to `settle`: the end of the window of a request that may still land (see
        `_late`), or now if a sweep failed. When every POST failed, this settles before
        raising, so the error can say what is left.
        """
        from ..models import CreateTokenRequest  # pydantic loads at the first API call

        request = CreateTokenRequest(
            name=marked_name(str(inputs["name"]), mark),
            ttl=inputs.get("ttl"),
            token_type=inputs.get("token_type"),
        )
        late: datetime | None = None
        for attempt in range(1, MAX_POSTS + 1):
            started, clock = utcnow(), time.monotonic()
            try:
                created = self.client.create_token(username, request)
            except (ServerError, TransportError) as exc:
                if isinstance(exc, TransportError) and not exc.sent:
                    raise
                if may_land_late(exc):
                    late = window_end(started, time.monotonic() - clock, late)
                swept = self.try_sweep(username, mark, keep)
                if not swept and late is None:
                    late = utcnow()
                if attempt < MAX_POSTS:
                    continue
                if swept and (late is None or late <= utcnow()):
                    later, then = "were revoked", "run `pulumi up` again"
                else:
                    later, then = self.settle_failed(username, mark, keep, late or utcnow())
                raise MotherDuckError(
                    f"could not create token {inputs['name']!r} of {username!r}: "
                    f"{MAX_POSTS} attempts failed without an answer (last: {exc}); tokens "
                    f"they may have made {later}; {then}"
                ) from exc
            return created, late
        raise AssertionError("unreachable")

    def settle(self, username: str, mark: str, keep: Iterable[str], late: datetime) -> bool | None:
        """Wait (bounded, see `_late`) for requests that may land until `late`, then sweep.

        True: swept after the window, nothing can be left; False: the sweep failed (owed to a
        later run); None: the window ends later than `motherduck:lateRequestWait` allows
        waiting, so only what has landed so far was swept.
        """
        keep = set(keep)
        if not wait_for_window(late, self.late_wait, f"a token request for {username!r}"):
            self.try_sweep(username, mark, keep)
            return None
        return self.try_sweep(username, mark, keep)

    def settled_or_owed(
        self, username: str, mark: str, keep: Iterable[str], late: datetime | None
    ) -> str | None:
        """`settle` after a token was made: the `sweep_after` still owed (None: nothing is)."""
        if late is None:
            return None
        settled = self.settle(username, mark, keep, late)
        if settled is None:
            warn(
                f"a token request for {username!r} that failed without an answer may still "
                f"land until {format_timestamp(late)} (UTC), later than "
                f"motherduck:lateRequestWait ({self.late_wait:g}s) lets this run wait: "
                f"{rerun_hint(late)}; it revokes the token such a request made"
            )
            return format_timestamp(late)
        return None if settled else format_timestamp(utcnow())

    def settle_failed(
        self, username: str, mark: str, keep: Iterable[str], late: datetime
    ) -> tuple[str, str]:
        """`settle` after every POST failed: (what happened to late tokens, what to run)."""
        settled = self.settle(username, mark, keep, late)
        until = format_timestamp(late)
        if settled:
            return f"were revoked, late ones too (they could land until {until} UTC)", (
                "run `pulumi up` again"
            )
        if settled is False:
            return "are revoked by the next `pulumi up` (the sweep failed)", "run `pulumi up` again"
        return f"were revoked, but one may still land until {until} (UTC)", (
            f"{rerun_hint(late)}; it revokes such a token and creates this one"
        )

    def sweep(self, username: str, mark: str, keep: Iterable[str]) -> None:
        """Revoke the account's tokens with `mark` except `keep` (their secrets are lost)."""
        spared = set(keep)
        for info in self.client.list_tokens(username, fresh=True):
            if info.id in spared or split_marked(info.name)[1] != mark:
                continue
            warn(
                f"revoking token {info.id} of {username!r} ({info.name!r}): this resource "
                "made it in a create that failed before its secret was returned, or in an "
                "interrupted run; nobody holds its secret"
            )
            try:
                self.client.revoke_token(username, info.id)
            except NotFoundError:
                pass

    def try_sweep(self, username: str, mark: str, keep: Iterable[str]) -> bool:
        """`sweep`, reporting instead of raising: a sweep that failed is owed to a later run."""
        try:
            self.sweep(username, mark, keep)
        except NotFoundError:
            return True
        except MotherDuckError as exc:
            warn(
                f"could not look for tokens of {username!r} left by a failed create ({exc}); "
                "the next `pulumi up` revokes them"
            )
            return False
        return True

    def revoke_previous(self, username: str, token_id: str, rotating: bool) -> None:
        """Revoke the previous token kept by the last rotation; failing says nothing changed."""
        try:
            self.client.revoke_token(username, token_id)
        except NotFoundError:
            pass
        except MotherDuckError as exc:
            before = "before rotating, " if rotating else ""
            raise MotherDuckError(
                f"could not revoke previous token {token_id} of {username!r} ({exc}); "
                f"{before}nothing was changed: run `pulumi up` again"
            ) from exc

    def revoke_old(self, username: str, token_id: str) -> bool:
        """Revoke the token a rotation replaced; False (with a warning) if that failed."""
        try:
            self.client.revoke_token(username, token_id)
        except NotFoundError:
            pass
        except MotherDuckError as exc:
            warn(
                f"could not revoke token {token_id} of {username!r} after rotating ({exc}); "
                "it is kept as previous_token, due now: the next `pulumi up` revokes it"
            )
            return False
        return True
