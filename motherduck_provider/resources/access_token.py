"""AccessToken: a service account's token, rotated on expiry or on demand, with an overlap window.

A change of `username`, `name`, `ttl`, `token_type` or `adopt_token_id` replaces the token,
create-before-delete, so anything wired to `token` switches to the new secret within one
`pulumi up` before the old one is revoked. Rotation (expiry with `rotate_before`, or a new
`rotation_trigger`) is an in-place update of the same resource: new token first, then the old
one revoked, or, with `keep_previous_for`, kept as `previous_token` until that window has
passed and the first `pulumi up` after it revokes it (one previous token at most, as secret
managers keep a current and a previous version).

Every token created here carries a mark in the name MotherDuck shows, `<name> [pulumi:<mark>]`:
a hash of who declared it (project, stack, parent, resource name: the hidden `owner` input)
and of its replace-relevant inputs. A token with this resource's mark that state does not hold
(neither `token_id` nor `previous_token_id`) was made by a create whose answer was lost, or by
an interrupted run; nobody can hold its secret, so it is revoked ("swept"). A create whose
request may still land waits for it (bounded, see `_late`) and sweeps before it returns; only a
longer window is left to the next `up` (`sweep_after`). The resource id
stays `username/<first token id>` for the resource's life; the current token is `token_id`
(read, update and delete use that, not the id).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import rules
from .._time import format_timestamp, parse_timestamp
from ..connection import Connection
from ..errors import MotherDuckError, NotFoundError, ServerError, TransportError
from ..rules import TokenType
from . import _program
from ._base import ProviderBase, failures, is_unknown, notice, user_props, utcnow, warn
from ._late import may_land_late, rerun_hint, wait_for_window, window_end
from ._pickle_guard import pickler_restored
from ._trace_guard import stack_trace_trimmed

if TYPE_CHECKING:
    from ..models import CreatedToken, TokenInfo

INPUTS = (
    "username",
    "name",
    "ttl",
    "token_type",
    "rotate_before",
    "keep_previous_for",
    "rotation_trigger",
    "adopt_token_id",
)
REPLACE_ON_CHANGE = ("username", "name", "ttl", "token_type", "adopt_token_id")
# A tracked token is someone else's secret: replacing it would re-adopt the same id and then
# revoke it, so only a change of *which* token is tracked replaces; the rest is bookkeeping.
REPLACE_TRACKED_ON_CHANGE = ("username", "adopt_token_id")
LOCAL_ONLY = ("name", "ttl", "rotate_before")
# Inputs of a managed token that change no token by themselves (a new `rotation_trigger`
# value does rotate, but as an update: see `_rotation_reason`).
LOCAL_MANAGED = ("rotate_before", "keep_previous_for", "rotation_trigger")
# The previous token of an overlapping rotation, as outputs; all None when none is kept.
PREVIOUS = ("previous_token", "previous_token_id", "previous_revoke_after")
KEEP_PREVIOUS_MIN = 0
KEEP_PREVIOUS_MAX = rules.TTL_MAX
# A rotation this close is announced by every preview (one line per token); later ones are
# only in the `rotates_at` output, so a stack with many tokens stays quiet.
ROTATION_NOTICE = timedelta(days=7)
NOT_TRACKED = "cannot be combined with adopt_token_id"

# The mark: `<name> [pulumi:<10 hex>]` is how MotherDuck shows a token created here.
MARK_HEX = 10
MARK_SUFFIX_LENGTH = len(" [pulumi:]") + MARK_HEX
NAME_MAX = rules.TOKEN_NAME_MAX - MARK_SUFFIX_LENGTH
_MARKED = re.compile(rf"(?P<name>.*) \[pulumi:(?P<mark>[0-9a-f]{{{MARK_HEX}}})\]", re.DOTALL)
# POSTs of one token before giving up when each fails without an answer.
MAX_POSTS = 3
# Defaults `check` fills in (`token_type`: not for a tracked token, which keeps its own).
INPUT_DEFAULTS = {"token_type": rules.DEFAULT_TOKEN_TYPE}
# The resource id (and the Terraform provider's import id): the first token's.
ID_FORM = "username/token_id"
# What `check` enforces for each input, in words (the reference pages show it).
INPUT_RULES = {
    "username": f"the account's rule: {rules.USERNAME_RULE}",
    "name": f"1–{NAME_MAX} characters ({rules.TOKEN_NAME_MAX} for a tracked token: a token "
    f"created here carries its mark, {MARK_SUFFIX_LENGTH} more); {rules.RESERVED_NAMES_RULE}",
    "ttl": f"{rules.TTL_RULE}; unset: the token never expires",
    "token_type": rules.choices_rule(rules.TOKEN_TYPES),
    "rotate_before": f"whole seconds, {rules.ROTATE_BEFORE_MIN} or more and less than `ttl`; "
    f"needs `ttl`; {NOT_TRACKED}",
    "keep_previous_for": f"whole seconds, {KEEP_PREVIOUS_MIN}–{KEEP_PREVIOUS_MAX:,} (0: the "
    f"old token is revoked at once); {NOT_TRACKED}",
    "rotation_trigger": f"any string; a new value rotates; {NOT_TRACKED}",
    "adopt_token_id": f"`{ID_FORM}` or the bare token id; its username must be `username`",
}


def owner_of(project: str, stack: str, parent: str, resource_name: str) -> str:
    """The hidden `owner` input: a short hash of who declared the token, stable across runs."""
    text = json.dumps([project, stack, parent, resource_name])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
        inputs.get("token_type") or rules.DEFAULT_TOKEN_TYPE,
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


def _span(delta: timedelta) -> str:
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


def _label(olds: Mapping[str, Any]) -> str:
    return f"token {olds.get('token_id')} ({olds.get('name')!r})"


def _scheduled(outs: dict[str, Any]) -> dict[str, Any]:
    """`outs` with `rotates_at` computed from its `expire_at` and `rotate_before`."""
    outs["rotates_at"] = rotates_at(outs.get("expire_at"), outs.get("rotate_before"))
    return outs


def _trigger_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """A new, known `rotation_trigger` value (removing it rotates nothing)."""
    trigger = news.get("rotation_trigger")
    if trigger is None or is_unknown(trigger):
        return False
    return bool(trigger != olds.get("rotation_trigger"))


def _previous_due(olds: Mapping[str, Any], now: datetime) -> bool:
    """Whether a previous token is held and its window has passed."""
    if not olds.get("previous_token_id"):
        return False
    until = olds.get("previous_revoke_after")
    return not isinstance(until, str) or parse_timestamp(until) <= now


def _keep_until(olds: Mapping[str, Any], keep: int, now: datetime) -> datetime | None:
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


def split_id(id_: str) -> tuple[str, str]:
    """`username/token_id`, the id Terraform users know, as its two parts."""
    username, sep, token_id = id_.partition("/")
    if not sep or not username or not token_id:
        raise MotherDuckError(f"token id {id_!r} must have the form {ID_FORM}")
    return username, token_id


def _metadata(info: TokenInfo) -> dict[str, Any]:
    return {
        "token_id": info.id,
        "expire_at": info.expire_at,
        "created_ts": info.created_ts,
        "read_only": info.read_only,
        "token_type": info.token_type,
    }


class AccessTokenProvider(ProviderBase):
    """Create, list and revoke through `/v1/users/{username}/tokens`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input locally and report all problems at once.

        Pure (no call, no side effect): the program runs it too, before registering (`_program`).
        """
        inputs = dict(news)
        problems: dict[str, list[str]] = {}

        def known(key: str) -> Any:
            value = inputs.get(key)
            return None if is_unknown(value) else value

        for key in ("username", "name"):
            if inputs.get(key) is None:
                problems[key] = ["is required"]
        username = known("username")
        if username is not None:
            problems["username"] = rules.username_problems(username)  # the account's own rule
        tracking = inputs.get("adopt_token_id") is not None
        if known("name") is not None:
            problems["name"] = name_problems(known("name"), tracked=tracking)
        if inputs.get("token_type") is None and not tracking:
            inputs["token_type"] = INPUT_DEFAULTS["token_type"]
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
                found = [
                    f"{rules.show(rotate)} must be less than ttl ({ttl_text}) or every up rotates"
                ]
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
            problems["adopt_token_id"] = self._adopt_problems(adopt, username)
            for key in ("rotate_before", "keep_previous_for", "rotation_trigger"):
                if inputs.get(key) is not None:
                    problems.setdefault(key, []).append(
                        f"{rules.show(inputs[key])} {NOT_TRACKED}: rotating a tracked token "
                        "would revoke it; manage a token of your own to rotate it"
                    )
        return CheckResult(inputs, failures(problems))

    @staticmethod
    def _adopt_problems(value: Any, username: Any) -> list[str]:
        if not isinstance(value, str) or not value.strip():
            return [f"must be a token id or username/token_id, got {value!r}"]
        owner, _, token_id = value.rpartition("/")
        if not token_id:
            return [f"{value!r} has no token id after '/'"]
        if owner and isinstance(username, str) and owner != username:
            return [f"{value!r} names user {owner!r} but username is {username!r}"]
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace on an input change; update to rotate, to revoke the previous token once its
        window has passed, or to sweep what a failed create left; else show what is coming.

        Says why (a warning) or what is scheduled (a notice) in one line per token at most, no API
        call. A tracked token (same `adopt_token_id` before and after) is never rotated: that
        would revoke someone else's token. `owner` never counts: stacks from before it
        existed, or a resource moved under another parent, keep their token.
        """
        tracked = bool(news.get("adopt_token_id")) and (
            olds.get("adopt_token_id") == news.get("adopt_token_id")
        )
        keys = REPLACE_TRACKED_ON_CHANGE if tracked else REPLACE_ON_CHANGE
        replaces = [k for k in keys if olds.get(k) != news.get(k)]
        local = LOCAL_ONLY if tracked else LOCAL_MANAGED
        changed = bool(replaces) or any(olds.get(k) != news.get(k) for k in local)
        now = utcnow()
        if tracked:
            reason = self._expiry_reason(olds, news.get("rotate_before"), now)
            if reason:
                warn(
                    f"{reason}; it is tracked, not managed: remove adopt_token_id "
                    "to let this stack create its own token"
                )
        elif replaces:
            pass  # a new token anyway; the old one's delete revokes it and its previous token
        elif due := self._due(olds, news, now):
            warn("; ".join(due))
            changed = True
        elif coming := self._schedule(olds, news, now):
            notice(coming)
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    @classmethod
    def _due(cls, olds: dict[str, Any], news: dict[str, Any], now: datetime) -> list[str]:
        """Why an `up` must call the API for this token now (empty: it need not)."""
        rotation = cls._rotation_reason(olds, news, now)
        if rotation:
            return [rotation]
        found = []
        if _previous_due(olds, now):
            found.append(
                f"{_label(olds)}: revoking previous token {olds['previous_token_id']} now, "
                f"its keep_previous_for window ended at {olds.get('previous_revoke_after')}"
            )
        if isinstance(olds.get("sweep_after"), str):
            found.append(cls._sweep_reason(olds, now))
        return found

    @classmethod
    def _rotation_reason(
        cls, olds: dict[str, Any], news: dict[str, Any], now: datetime
    ) -> str | None:
        """Why this `up` rotates the token (expiry, `rotate_before`, a new `rotation_trigger`).

        The one test of "rotate now" that both `diff` and `update` use.
        """
        why = cls._expiry_reason(olds, news.get("rotate_before"), now)
        if why is None and _trigger_changed(olds, news):
            why = f"{_label(olds)}: rotation_trigger changed"
        if why is None:
            return None
        keep = rules.whole_number(news.get("keep_previous_for")) or 0
        if _keep_until(olds, keep, now) is None:
            how = "a new token, then the old one revoked"
        else:
            how = f"a new token; the old one stays valid as previous_token for {keep}s"
        if olds.get("previous_token_id"):
            how += f"; the previous token {olds['previous_token_id']} is revoked first"
        return f"{why}; rotating now: {how}"

    @staticmethod
    def _expiry_reason(olds: dict[str, Any], rotate_before: Any, now: datetime) -> str | None:
        expire_at = olds.get("expire_at")
        if not isinstance(expire_at, str):
            return None
        when = parse_timestamp(expire_at)
        if when <= now:
            return f"{_label(olds)} expired at {expire_at}"
        window = rules.whole_number(rotate_before)
        if window is not None and now + timedelta(seconds=window) >= when:
            return f"{_label(olds)} expires at {expire_at}, within rotate_before={window}s"
        return None

    @staticmethod
    def _schedule(olds: dict[str, Any], news: dict[str, Any], now: datetime) -> str | None:
        """What later runs will do: a rotation within `ROTATION_NOTICE`, a previous token kept."""
        found = []
        at = rotates_at(olds.get("expire_at"), news.get("rotate_before"))
        if at is not None and parse_timestamp(at) - now <= ROTATION_NOTICE:
            found.append(
                f"rotates in {_span(parse_timestamp(at) - now)} (rotates_at {at}, "
                f"expires {olds.get('expire_at')})"
            )
        if olds.get("previous_token_id"):
            found.append(
                f"previous token {olds['previous_token_id']} valid until the first "
                f"`pulumi up` after {olds.get('previous_revoke_after')}"
            )
        return f"{_label(olds)} " + "; ".join(found) if found else None

    @staticmethod
    def _sweep_reason(olds: dict[str, Any], now: datetime) -> str:
        label = _label(olds)
        until = str(olds.get("sweep_after"))
        if parse_timestamp(until) > now:
            return (
                f"{label}: a create that failed without an answer may still land until "
                f"{until}; this update waits for that (at most motherduck:lateRequestWait), "
                "then revokes tokens with this resource's mark that state does not hold"
            )
        return (
            f"{label}: revoking tokens with this resource's mark that state does not hold "
            "(left by a create that failed without an answer, or by an interrupted run)"
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Mint a marked token (or track an existing one by id, without its secret).

        Unless this process created the account, an earlier run may have been killed after
        its POST was applied: tokens with this resource's mark are swept first. If a POST that
        failed without an answer may still land, the create waits for it and sweeps (`_settle`).
        """
        given = user_props(props)
        inputs: dict[str, Any] = {k: given.get(k) for k in INPUTS}
        if given.get("owner"):
            inputs["owner"] = given["owner"]
        username = str(inputs["username"])
        if inputs["adopt_token_id"]:
            return self._adopt(inputs)
        mark = token_mark(inputs)
        owed = not self.client().created_here(username) and not self._try_sweep(
            username, mark, keep=()
        )
        created, late = self._mint(username, inputs, mark, keep=())
        sweep_after = self._settled_or_owed(username, mark, {created.id}, late)
        if owed and late is None:
            sweep_after = format_timestamp(utcnow())
        outs = {
            **inputs,
            **_metadata(created),
            "token": created.token.get_secret_value(),
            "mark": mark,
            **dict.fromkeys(PREVIOUS),
            "sweep_after": sweep_after,
        }
        return CreateResult(f"{username}/{created.id}", _scheduled(outs))

    def _mint(
        self, username: str, inputs: Mapping[str, Any], mark: str, keep: Iterable[str]
    ) -> tuple[CreatedToken, datetime | None]:
        """POST the token; after each ambiguous failure sweep what it may have made, retry.

        A 5xx, or a connection lost once the request was sent, may have created a token whose
        secret nobody saw. Up to `MAX_POSTS` POSTs are made, each failure followed by a sweep
        (sparing `keep`). The second result says from when a sweep is still owed, for the
        caller to `_settle`: the end of the window of a request that may still land (see
        `_late`), or now if a sweep failed. When every POST failed, this settles before
        raising, so the error can say what is left.
        """
        from ..models import CreateTokenRequest  # pydantic loads at the first API call

        client = self.client()
        request = CreateTokenRequest(
            name=marked_name(str(inputs["name"]), mark),
            ttl=inputs.get("ttl"),
            token_type=inputs.get("token_type"),
        )
        late: datetime | None = None
        for attempt in range(1, MAX_POSTS + 1):
            started, clock = utcnow(), time.monotonic()
            try:
                created = client.create_token(username, request)
            except (ServerError, TransportError) as exc:
                if isinstance(exc, TransportError) and not exc.sent:
                    raise
                if may_land_late(exc):
                    late = window_end(started, time.monotonic() - clock, late)
                swept = self._try_sweep(username, mark, keep)
                if not swept and late is None:
                    late = utcnow()
                if attempt < MAX_POSTS:
                    continue
                if swept and (late is None or late <= utcnow()):
                    later, then = "were revoked", "run `pulumi up` again"
                else:
                    later, then = self._settle_failed(username, mark, keep, late or utcnow())
                raise MotherDuckError(
                    f"could not create token {inputs['name']!r} of {username!r}: "
                    f"{MAX_POSTS} attempts failed without an answer (last: {exc}); tokens "
                    f"they may have made {later}; {then}"
                ) from exc
            return created, late
        raise AssertionError("unreachable")

    def _settle(self, username: str, mark: str, keep: Iterable[str], late: datetime) -> bool | None:
        """Wait (bounded, see `_late`) for requests that may land until `late`, then sweep.

        True: swept after the window, nothing can be left; False: the sweep failed (owed to a
        later run); None: the window ends later than `motherduck:lateRequestWait` allows
        waiting, so only what has landed so far was swept.
        """
        keep = set(keep)
        if not wait_for_window(late, self.late_wait(), f"a token request for {username!r}"):
            self._try_sweep(username, mark, keep)
            return None
        return self._try_sweep(username, mark, keep)

    def _settled_or_owed(
        self, username: str, mark: str, keep: Iterable[str], late: datetime | None
    ) -> str | None:
        """`_settle` after a token was made: the `sweep_after` still owed (None: nothing is)."""
        if late is None:
            return None
        settled = self._settle(username, mark, keep, late)
        if settled is None:
            warn(
                f"a token request for {username!r} that failed without an answer may still "
                f"land until {format_timestamp(late)} (UTC), later than "
                f"motherduck:lateRequestWait ({self.late_wait():g}s) lets this run wait: "
                f"{rerun_hint(late)}; it revokes the token such a request made"
            )
            return format_timestamp(late)
        return None if settled else format_timestamp(utcnow())

    def _settle_failed(
        self, username: str, mark: str, keep: Iterable[str], late: datetime
    ) -> tuple[str, str]:
        """`_settle` after every POST failed: (what happened to late tokens, what to run)."""
        settled = self._settle(username, mark, keep, late)
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

    def _sweep(self, username: str, mark: str, keep: Iterable[str]) -> None:
        """Revoke the account's tokens with `mark` except `keep` (their secrets are lost)."""
        client = self.client()
        spared = set(keep)
        for info in client.list_tokens(username, fresh=True):
            if info.id in spared or split_marked(info.name)[1] != mark:
                continue
            warn(
                f"revoking token {info.id} of {username!r} ({info.name!r}): this resource "
                "made it in a create that failed before its secret was returned, or in an "
                "interrupted run; nobody holds its secret"
            )
            try:
                client.revoke_token(username, info.id)
            except NotFoundError:
                pass

    def _try_sweep(self, username: str, mark: str, keep: Iterable[str]) -> bool:
        """`_sweep`, reporting instead of raising: a sweep that failed is owed to a later run."""
        try:
            self._sweep(username, mark, keep)
        except NotFoundError:
            return True
        except MotherDuckError as exc:
            warn(
                f"could not look for tokens of {username!r} left by a failed create ({exc}); "
                "the next `pulumi up` revokes them"
            )
            return False
        return True

    def _adopt(self, inputs: dict[str, Any]) -> CreateResult:
        username: str = inputs["username"]
        token_id = str(inputs["adopt_token_id"]).rpartition("/")[2]
        found = {t.id: t for t in self.client().list_tokens(username)}.get(token_id)
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
        outs = {
            **inputs,
            **_metadata(found),
            "token": None,
            "mark": None,
            **dict.fromkeys(PREVIOUS),
            "sweep_after": None,
            "rotates_at": None,
        }
        return CreateResult(f"{username}/{token_id}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh metadata and keep the stored secret; decide quietly or loudly when gone.

        The current token is `token_id` (the id names the first token a rotating resource
        had). Refresh never writes: tokens with this resource's mark that state does not hold
        are reported and `sweep_after` is set, so the next `pulumi up` revokes them.
        """
        username, first_id = split_id(id_)
        token_id = str(props.get("token_id") or first_id)
        try:
            tokens = self.client().list_tokens(username)
        except NotFoundError:
            return ReadResult("", {})
        live = {t.id: t for t in tokens}
        found = live.get(token_id)
        previous = props.get("previous_token_id")
        if found is None:
            expire_at = props.get("expire_at")
            if not (isinstance(expire_at, str) and parse_timestamp(expire_at) <= utcnow()):
                warn(f"token {token_id} of {username!r} was revoked outside Pulumi")
            if previous in live:
                warn(
                    f"its previous token {previous} is still valid: the next `pulumi up`, "
                    "which creates this token again, revokes it (it carries this resource's mark)"
                )
            return ReadResult("", {})
        outs = {**user_props(props), **_metadata(found), "username": username}
        if not outs.get("name"):
            outs["name"] = split_marked(found.name)[0]
        outs.setdefault("token", None)
        for key in PREVIOUS:
            outs.setdefault(key, None)
        if previous and previous not in live:
            if not _previous_due(props, utcnow()):
                warn(
                    f"previous token {previous} of {username!r} (kept until "
                    f"{props.get('previous_revoke_after')}) was revoked outside Pulumi"
                )
            outs.update(dict.fromkeys(PREVIOUS))
        _scheduled(outs)
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
        inputs = {k: outs.get(k) for k in INPUTS}
        for key in ("keep_previous_for", "rotation_trigger"):
            if inputs[key] is None:
                del inputs[key]  # as stacks from before they existed recorded their inputs
        if outs.get("owner"):
            inputs["owner"] = outs["owner"]
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rotate in place when due, revoke a previous token whose window has passed, sweep
        what failed creates left, record local inputs (no API call when that is all).

        Rotation: revoke the previous token still kept (if this fails, nothing has changed
        yet and the update fails), create the new token (same mark), then revoke the old one
        or keep it as `previous_token` for `keep_previous_for`, then sweep (after waiting,
        bounded, for a POST that may still land: `_settle`). If revoking the
        old one fails, it is kept as a previous token due now, so the next `up` revokes it and
        the new secret is not lost. The id keeps naming the first token; `token_id` is the
        current one. A tracked token keeps its live type and is never rotated.
        """
        outs = {**user_props(olds), **{k: news.get(k) for k in LOCAL_MANAGED}}
        if news.get("adopt_token_id"):
            outs.update(name=news.get("name"), ttl=news.get("ttl"))
            return UpdateResult(_scheduled(outs))
        username = str(olds.get("username") or split_id(id_)[0])
        mark = str(olds.get("mark") or token_mark(news))
        outs.update(mark=mark, owner=olds.get("owner") or news.get("owner"))
        for key in PREVIOUS:
            outs.setdefault(key, None)
        now = utcnow()
        rotating = self._rotation_reason(olds, news, now) is not None
        previous = olds.get("previous_token_id")
        pending = isinstance(olds.get("sweep_after"), str)
        if not rotating and not pending and not _previous_due(olds, now):
            return UpdateResult(_scheduled(outs))  # local inputs only: nothing remote to do
        if previous and (rotating or _previous_due(olds, now)):
            self._revoke_previous(username, str(previous), rotating)
            outs.update(dict.fromkeys(PREVIOUS))
        if not rotating and not pending:
            return UpdateResult(_scheduled(outs))
        current = str(olds.get("token_id") or split_id(id_)[1])
        keep = {current, *([outs["previous_token_id"]] if outs["previous_token_id"] else [])}
        late = parse_timestamp(str(olds["sweep_after"])) if pending else None
        if rotating:
            created, minted = self._mint(username, {**news, **outs}, mark, keep)
            if minted is not None and (late is None or minted > late):
                late = minted
            outs.update(_metadata(created), token=created.token.get_secret_value())
            keep_for = rules.whole_number(news.get("keep_previous_for")) or 0
            until = _keep_until(olds, keep_for, utcnow())
            if until is None and not self._revoke_old(username, current):
                until = utcnow()  # due at once: the next `up` revokes it
            if until is not None:
                outs.update(
                    previous_token=olds.get("token"),
                    previous_token_id=current,
                    previous_revoke_after=format_timestamp(until),
                )
            keep = {created.id, *([current] if until is not None else [])}
        if late is not None:
            outs["sweep_after"] = self._settled_or_owed(username, mark, keep, late)
        elif self._try_sweep(username, mark, keep):
            outs["sweep_after"] = None
        else:
            outs["sweep_after"] = format_timestamp(utcnow())
        return UpdateResult(_scheduled(outs))

    def _revoke_previous(self, username: str, token_id: str, rotating: bool) -> None:
        """Revoke the previous token kept by the last rotation; failing says nothing changed."""
        try:
            self.client().revoke_token(username, token_id)
        except NotFoundError:
            pass
        except MotherDuckError as exc:
            before = "before rotating, " if rotating else ""
            raise MotherDuckError(
                f"could not revoke previous token {token_id} of {username!r} ({exc}); "
                f"{before}nothing was changed: run `pulumi up` again"
            ) from exc

    def _revoke_old(self, username: str, token_id: str) -> bool:
        """Revoke the token a rotation replaced; False (with a warning) if that failed."""
        try:
            self.client().revoke_token(username, token_id)
        except NotFoundError:
            pass
        except MotherDuckError as exc:
            warn(
                f"could not revoke token {token_id} of {username!r} after rotating ({exc}); "
                "it is kept as previous_token, due now: the next `pulumi up` revokes it"
            )
            return False
        return True

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Revoke the current token; already revoked or expired counts as done.

        If a failed create's late token may still appear (`sweep_after`), wait for it and
        sweep, so nothing with this resource's mark outlives it.
        """
        username, first_id = split_id(id_)
        current = str(props.get("token_id") or first_id)
        for token_id in (current, props.get("previous_token_id")):
            if token_id:
                try:
                    self.client().revoke_token(username, str(token_id))
                except NotFoundError:
                    pass
        mark, sweep_after = props.get("mark"), props.get("sweep_after")
        if mark and isinstance(sweep_after, str):
            late = parse_timestamp(sweep_after)
            if self._settle(username, str(mark), (), late) is None:
                warn(
                    f"token {current} of {username!r} was revoked, but a request of its create "
                    f"that failed without an answer may still land until {sweep_after} (UTC), "
                    "later than motherduck:lateRequestWait lets this run wait: after that time "
                    f"revoke any token of {username!r} named '... [pulumi:{mark}]' (nobody "
                    "holds its secret)"
                )


def _owner(resource_name: str, opts: pulumi.ResourceOptions | None) -> str:
    """The `owner` input of a token declared here (see `owner_of`)."""
    parent = opts.parent if opts is not None else None
    parent_name = str(getattr(parent, "_name", "") or "") if parent is not None else ""
    return owner_of(pulumi.get_project(), pulumi.get_stack(), parent_name, resource_name)


class AccessToken(Resource, module="motherduck", name="AccessToken"):
    """An access token of a service account; `token` is the secret, always a Pulumi secret.

    Set `ttl` for an expiring token and `rotate_before` to rotate it (in place: a new token,
    then the old one revoked) that many seconds before it expires; change `rotation_trigger`
    (any string) to rotate now. With `keep_previous_for` (seconds) the old token stays valid
    that long after a rotation, as `previous_token`, so consumers outside the stack can
    switch over; the first `pulumi up` after that revokes it. Set `adopt_token_id`
    (`username/token_id` or the bare id) to track a token that exists already: its metadata
    only, since its secret cannot be read back. MotherDuck shows a token created here as
    `<name> [pulumi:<mark>]` (see the docs, How tokens are named).
    """

    username: pulumi.Output[str]
    """The service account the token belongs to."""
    name: pulumi.Output[str]
    """The token's name (MotherDuck shows a token created here as `<name> [pulumi:<mark>]`)."""
    ttl: pulumi.Output[int | None]
    """Seconds the token is valid from its creation; unset: it never expires."""
    token_type: pulumi.Output[str]
    """read_write (the default, unless adopt_token_id is set) or read_scaling."""
    rotate_before: pulumi.Output[int | None]
    """Rotate the token (in place) this many seconds before it expires; needs `ttl`."""
    keep_previous_for: pulumi.Output[int | None]
    """Seconds the token a rotation replaced stays valid, as `previous_token`."""
    rotation_trigger: pulumi.Output[str | None]
    """Any string; a new value rotates the token at the next `pulumi up`."""
    adopt_token_id: pulumi.Output[str | None]
    """Track an existing token (`username/token_id` or the bare id), its metadata only."""
    token: pulumi.Output[str | None]
    """The secret; shown once by MotherDuck, kept encrypted in state; None when adopted."""
    token_id: pulumi.Output[str]
    """The current token's id (a rotation changes it; the resource id stays)."""
    expire_at: pulumi.Output[str | None]
    """When the current token expires (UTC); None without `ttl`."""
    created_ts: pulumi.Output[str]
    """When the current token was created (UTC)."""
    read_only: pulumi.Output[bool]
    """Whether the token is read-only (a read_scaling token)."""
    mark: pulumi.Output[str | None]
    """This resource's mark: MotherDuck shows the token as `<name> [pulumi:<mark>]`."""
    rotates_at: pulumi.Output[str | None]
    """When the next rotation is due (`expire_at - rotate_before`); None without them."""
    previous_token: pulumi.Output[str | None]
    """The secret of the token before the last rotation while it is kept; a Pulumi secret."""
    previous_token_id: pulumi.Output[str | None]
    """The token before the last rotation while it is kept (see `keep_previous_for`)."""
    previous_revoke_after: pulumi.Output[str | None]
    """When its window ends: the first `pulumi up` after this revokes the previous token."""
    sweep_after: pulumi.Output[str | None]
    """Set while a failed create's token may exist or still land (its window was longer than
    `motherduck:lateRequestWait`, or a sweep failed): the next `up` after it revokes it."""

    def __init__(
        self,
        resource_name: str,
        *,
        username: pulumi.Input[str],
        name: pulumi.Input[str],
        ttl: pulumi.Input[int] | None = None,
        token_type: pulumi.Input[TokenType] | None = None,
        rotate_before: pulumi.Input[int] | None = None,
        keep_previous_for: pulumi.Input[int] | None = None,
        rotation_trigger: pulumi.Input[str] | None = None,
        adopt_token_id: pulumi.Input[str] | None = None,
        connection: Connection | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["token", "previous_token"])
        props: dict[str, Any] = {
            "username": username,
            "name": name,
            "ttl": ttl,
            "token_type": token_type,
            "rotate_before": rotate_before,
            "keep_previous_for": keep_previous_for,
            "rotation_trigger": rotation_trigger,
            "adopt_token_id": adopt_token_id,
            "token": None,
            "token_id": None,
            "expire_at": None,
            "created_ts": None,
            "read_only": None,
            "mark": None,
            "rotates_at": None,
            **dict.fromkeys(PREVIOUS),
            "sweep_after": None,
        }
        props["owner"] = _owner(resource_name, opts)
        _program.warn_plaintext_token(connection)
        found = AccessTokenProvider().check({}, _program.plain(props)).failures
        props["__validated"] = _program.admit("AccessToken", resource_name, found)
        with pickler_restored(), stack_trace_trimmed():
            super().__init__(
                AccessTokenProvider(connection),
                resource_name,
                props,
                pulumi.ResourceOptions.merge(opts, secret),
            )
