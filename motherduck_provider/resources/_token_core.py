"""One token's lifecycle over a client: mint, settle, sweep, rotate, track, refresh, revoke.

Written once for every face that holds tokens: `AccessToken` (one token per resource) and
`ServiceAccount(tokens=...)` (an account with its tokens, one resource). Neither pickling nor
the engine's props are known here: a token is its settings (`TokenSettings`) and its state
(`TokenState`, the flat outputs AccessToken has always stored), and `Lifecycle` turns them
into API calls and a new state. The rules and marks are in `_token_rules`, the schedule in
`_token_schedule`; their names are re-exported here. Time comes from `utcnow` (one clock
tests replace).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from .. import rules
from .._time import format_timestamp, parse_timestamp
from ..errors import MotherDuckError, NotFoundError, ServerError, TransportError
from ._base import utcnow, warn
from ._late import may_land_late, rerun_hint, wait_for_window, window_end
from ._props import TokenMetadata, TokenSettings, TokenState, known
from ._token_rules import (
    DEFAULT_TOKEN_TYPE,
    KEEP_PREVIOUS_MAX,
    KEEP_PREVIOUS_MIN,
    LOCAL_MANAGED,
    MARK_HEX,
    MARK_SUFFIX_LENGTH,
    MAX_POSTS,
    METADATA,
    NAME_MAX,
    NOT_TRACKED,
    PREVIOUS,
    REPLACE_ON_CHANGE,
    ROTATION_NOTICE,
    SETTINGS,
    SETTINGS_ALL,
    adopt_problems,
    marked_name,
    member_owner,
    name_problems,
    owner_of,
    settings_problems,
    split_marked,
    token_mark,
)
from ._token_schedule import (
    due,
    expiry_reason,
    keep_until,
    label,
    previous_due,
    rotates_at,
    rotation_reason,
    schedule,
    scheduled,
    span,
    sweep_reason,
    tracked_reason,
    trigger_changed,
)

if TYPE_CHECKING:
    from ..client import AdminClient
    from ..models import CreatedToken, TokenInfo

__all__ = [
    "DEFAULT_TOKEN_TYPE",
    "KEEP_PREVIOUS_MAX",
    "KEEP_PREVIOUS_MIN",
    "LOCAL_MANAGED",
    "MARK_HEX",
    "MARK_SUFFIX_LENGTH",
    "MAX_POSTS",
    "METADATA",
    "NAME_MAX",
    "NOT_TRACKED",
    "PREVIOUS",
    "REPLACE_ON_CHANGE",
    "ROTATION_NOTICE",
    "SETTINGS",
    "SETTINGS_ALL",
    "Lifecycle",
    "TokenSettings",
    "TokenState",
    "adopt_problems",
    "due",
    "expiry_reason",
    "keep_until",
    "label",
    "marked_name",
    "member_owner",
    "metadata",
    "name_problems",
    "owner_of",
    "previous_due",
    "rotates_at",
    "rotation_reason",
    "schedule",
    "scheduled",
    "settings_problems",
    "span",
    "split_marked",
    "sweep_reason",
    "token_mark",
    "tracked_reason",
    "trigger_changed",
]


def metadata(info: TokenInfo) -> TokenMetadata:
    """The live token's metadata as state keeps it (`METADATA`)."""
    return {
        "token_id": info.id,
        "expire_at": info.expire_at,
        "created_ts": info.created_ts,
        "read_only": info.read_only,
        "token_type": info.token_type,
    }


class Lifecycle:
    """The API side of one account's tokens: mint, settle, sweep, rotate, track, revoke.

    Built per call from a provider's client and its `motherduck:lateRequestWait`; holds no
    state of its own, so one provider may run several at once (the client is thread-safe).
    """

    def __init__(self, client: AdminClient, late_wait: float) -> None:
        self.client = client
        self.late_wait = late_wait

    def create(self, username: str, inputs: TokenSettings) -> TokenState:
        """Mint a marked token: the new state (`inputs` are the token's settings, `name`,
        `owner`).

        Unless this process created the account, an earlier run may have been killed after
        its POST was applied: tokens with this mark are swept first. If a POST that failed
        without an answer may still land, this waits for it and sweeps (`settle`).
        """
        mark = token_mark(replace(inputs, username=username))
        owed = not self.client.created_here(username) and not self.try_sweep(
            username, mark, keep=()
        )
        created, late = self.mint(username, inputs, mark, keep=())
        sweep_after = self.settled_or_owed(username, mark, {created.id}, late)
        if owed and late is None:
            sweep_after = format_timestamp(utcnow())
        outs = (
            TokenState.new(inputs)
            .but(**metadata(created), token=created.token.get_secret_value(), mark=mark)
            .without_previous()
            .but(sweep_after=sweep_after)
        )
        return scheduled(outs)

    def track(self, username: str, inputs: TokenSettings) -> TokenState:
        """The state of an existing token tracked by `adopt_token_id` (metadata, no secret)."""
        token_id = str(inputs.adopt_token_id).rpartition("/")[2]
        found = {t.id: t for t in self.client.list_tokens(username)}.get(token_id)
        if found is None:
            raise MotherDuckError(
                f"token {token_id} of {username!r} was not found (expired or revoked); "
                "remove adopt_token_id to create a new token instead"
            )
        wanted = inputs.token_type
        if wanted is not None and wanted != found.token_type:
            raise MotherDuckError(
                f"token {token_id} of {username!r} is a {found.token_type} token, not {wanted}; "
                "fix token_type or leave it unset"
            )
        warn(
            f"tracking existing token {token_id} of {username!r}: its secret is shown by "
            "MotherDuck only once, at creation, so the `token` output stays empty"
        )
        return (
            TokenState.new(inputs)
            .but(**metadata(found), token=None, mark=None)
            .without_previous()
            .but(sweep_after=None, rotates_at=None)
        )

    def advance(
        self, username: str, current: str, olds: TokenState, news: TokenSettings
    ) -> TokenState:
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
        if news.adopt_token_id:
            return self.record_tracked(olds, news)
        mark = str(olds.mark or token_mark(replace(news, username=username)))
        outs = olds.taking(news, LOCAL_MANAGED).but(mark=mark, owner=olds.owner or news.owner)
        outs = outs.recording(*PREVIOUS)
        now = utcnow()
        rotating = rotation_reason(olds, news, now) is not None
        previous = olds.previous_token_id
        pending = isinstance(olds.sweep_after, str)
        if not rotating and not pending and not previous_due(olds, now):
            return scheduled(outs)  # local settings only: nothing remote to do
        if previous and (rotating or previous_due(olds, now)):
            self.revoke_previous(username, str(previous), rotating)
            outs = outs.without_previous()
        if not rotating and not pending:
            return scheduled(outs)
        keep = {current, *([outs.previous_token_id] if outs.previous_token_id else [])}
        late = parse_timestamp(str(olds.sweep_after)) if pending else None
        if rotating:
            created, minted = self.mint(username, outs.over(news), mark, keep)
            if minted is not None and (late is None or minted > late):
                late = minted
            outs = outs.but(**metadata(created), token=created.token.get_secret_value())
            keep_for = rules.whole_number(news.keep_previous_for) or 0
            until = keep_until(olds, keep_for, utcnow())
            if until is None and not self.revoke_old(username, current):
                until = utcnow()  # due at once: the next `up` revokes it
            if until is not None:
                outs = outs.but(
                    previous_token=olds.token,
                    previous_token_id=current,
                    previous_revoke_after=format_timestamp(until),
                )
            keep = {created.id, *([current] if until is not None else [])}
        if late is not None:
            outs = outs.but(sweep_after=self.settled_or_owed(username, mark, keep, late))
        elif self.try_sweep(username, mark, keep):
            outs = outs.but(sweep_after=None)
        else:
            outs = outs.but(sweep_after=format_timestamp(utcnow()))
        return scheduled(outs)

    @staticmethod
    def record_tracked(olds: TokenState, news: TokenSettings) -> TokenState:
        """A tracked token's new state: its settings recorded, nothing remote (never rotated)."""
        outs = olds.taking(news, LOCAL_MANAGED).but(name=known(news.name), ttl=known(news.ttl))
        return scheduled(outs)

    def refresh(
        self, username: str, state: TokenState, tokens: list[TokenInfo]
    ) -> TokenState | None:
        """The token's state from the account's live tokens (`tokens`); None: it is gone.

        Never writes: tokens with this mark that state does not hold are reported and
        `sweep_after` is set, so the next `pulumi up` revokes them.
        """
        token_id = str(state.token_id)
        live = {t.id: t for t in tokens}
        found = live.get(token_id)
        previous = state.previous_token_id
        if found is None:
            expire_at = state.expire_at
            if not (isinstance(expire_at, str) and parse_timestamp(expire_at) <= utcnow()):
                warn(f"token {token_id} of {username!r} was revoked outside Pulumi")
            if previous in live:
                warn(
                    f"its previous token {previous} is still valid: the next `pulumi up`, "
                    "which creates this token again, revokes it (it carries this resource's mark)"
                )
            return None
        outs = state.but(**metadata(found))
        if not outs.name:
            outs = outs.but(name=split_marked(found.name)[0])
        outs = outs.recording("token", *PREVIOUS)
        if previous and previous not in live:
            if not previous_due(state, utcnow()):
                warn(
                    f"previous token {previous} of {username!r} (kept until "
                    f"{state.previous_revoke_after}) was revoked outside Pulumi"
                )
            outs = outs.without_previous()
        outs = scheduled(outs)
        mark = outs.mark
        if mark and not outs.sweep_after:
            held = {token_id, outs.previous_token_id}
            strays = [t.id for t in tokens if t.id not in held and split_marked(t.name)[1] == mark]
            if strays:
                warn(
                    f"token {token_id} of {username!r}: {len(strays)} more token(s) with this "
                    f"resource's mark that state does not hold ({', '.join(strays)}), left by a "
                    "failed or interrupted create; the next `pulumi up` revokes them"
                )
                outs = outs.but(sweep_after=format_timestamp(utcnow()))
        return outs

    def revoke(self, username: str, current: str, state: TokenState) -> None:
        """Revoke the token and its previous one; already revoked or expired counts as done.

        If a failed create's late token may still appear (`sweep_after`), wait for it and
        sweep, so nothing with this mark outlives the token.
        """
        for token_id in (current, state.previous_token_id):
            if token_id:
                try:
                    self.client.revoke_token(username, str(token_id))
                except NotFoundError:
                    pass
        mark, sweep_after = state.mark, state.sweep_after
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
        self, username: str, inputs: TokenSettings, mark: str, keep: Iterable[str]
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

        # Validated as a dict: the engine's numbers are floats (`3600.0`), which the model takes.
        request = CreateTokenRequest.model_validate(
            {
                "name": marked_name(str(inputs.name), mark),
                "ttl": inputs.ttl,
                "token_type": inputs.token_type,
            }
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
                    f"could not create token {inputs.name!r} of {username!r}: "
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
