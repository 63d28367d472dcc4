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

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import rules
from ..connection import Connection
from ..errors import MotherDuckError, NotFoundError
from ..rules import TokenType
from . import _program
from ._base import ProviderBase, failures, is_unknown, notice, utcnow, warn
from ._props import TokenSettings, TokenState, differing
from ._token_core import (
    KEEP_PREVIOUS_MAX,
    KEEP_PREVIOUS_MIN,
    LOCAL_MANAGED,
    MARK_HEX,
    MARK_SUFFIX_LENGTH,
    MAX_POSTS,
    NAME_MAX,
    NOT_TRACKED,
    PREVIOUS,
    ROTATION_NOTICE,
    Lifecycle,
    adopt_problems,
    due,
    keep_until,
    marked_name,
    name_problems,
    owner_of,
    previous_due,
    rotates_at,
    rotation_reason,
    schedule,
    settings_problems,
    split_marked,
    token_mark,
    tracked_reason,
)
from ._token_core import span as _span

# The token rules and lifecycle live in `_token_core` (shared with ServiceAccount's `tokens`);
# these names stay importable from here, where callers and the docs tools know them.
__all__ = [
    "ID_FORM",
    "INPUTS",
    "INPUT_RULES",
    "KEEP_PREVIOUS_MAX",
    "KEEP_PREVIOUS_MIN",
    "MARK_HEX",
    "MARK_SUFFIX_LENGTH",
    "MAX_POSTS",
    "NAME_MAX",
    "PREVIOUS",
    "ROTATION_NOTICE",
    "AccessToken",
    "AccessTokenProvider",
    "_keep_until",
    "_previous_due",
    "_span",
    "marked_name",
    "name_problems",
    "owner_of",
    "rotates_at",
    "split_id",
    "split_marked",
    "token_mark",
]

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


def split_id(id_: str) -> tuple[str, str]:
    """`username/token_id`, the id Terraform users know, as its two parts."""
    username, sep, token_id = id_.partition("/")
    if not sep or not username or not token_id:
        raise MotherDuckError(f"token id {id_!r} must have the form {ID_FORM}")
    return username, token_id


class AccessTokenProvider(ProviderBase):
    """Create, list and revoke through `/v1/users/{username}/tokens` (the lifecycle is
    `_token_core`'s; this class turns props into its inputs and its states into outputs)."""

    stored_as = "token"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input locally and report all problems at once.

        Pure (no call, no side effect): the program runs it too, before registering (`_program`).
        """
        inputs = dict(news)
        problems: dict[str, list[str]] = {}
        for key in ("username", "name"):
            if inputs.get(key) is None:
                problems[key] = ["is required"]
        username = None if is_unknown(inputs.get("username")) else inputs.get("username")
        if username is not None:
            problems["username"] = rules.username_problems(username)  # the account's own rule
        name = None if is_unknown(inputs.get("name")) else inputs.get("name")
        if name is not None:
            tracking = inputs.get("adopt_token_id") is not None
            problems["name"] = name_problems(name, tracked=tracking)
        problems.update(settings_problems(inputs, username))
        return CheckResult(inputs, failures(problems))

    @staticmethod
    def _adopt_problems(value: Any, username: Any) -> list[str]:
        return adopt_problems(value, username)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace on an input change; update to rotate, to revoke the previous token once its
        window has passed, or to sweep what a failed create left; else show what is coming.

        Says why (a warning) or what is scheduled (a notice) in one line per token at most, no API
        call. A tracked token (same `adopt_token_id` before and after) is never rotated: that
        would revoke someone else's token. `owner` never counts: stacks from before it
        existed, or a resource moved under another parent, keep their token.
        """
        was, wanted = TokenState.from_props(olds), TokenSettings.from_props(news)
        tracked = bool(wanted.adopt_token_id) and was.adopt_token_id == wanted.adopt_token_id
        keys = REPLACE_TRACKED_ON_CHANGE if tracked else REPLACE_ON_CHANGE
        replaces = differing(was, wanted, keys)
        local = LOCAL_ONLY if tracked else LOCAL_MANAGED
        changed = bool(replaces) or bool(differing(was, wanted, local))
        now = utcnow()
        if tracked:
            if reason := tracked_reason(was, wanted, now):
                warn(reason)
        elif replaces:
            pass  # a new token anyway; the old one's delete revokes it and its previous token
        elif found := due(was, wanted, now):
            warn("; ".join(found))
            changed = True
        elif coming := schedule(was, wanted, now):
            notice(coming)
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    @staticmethod
    def _rotation_reason(olds: dict[str, Any], news: dict[str, Any], now: Any) -> str | None:
        """Kept for callers of the old name (the docs' pictures): `rotation_reason`."""
        return rotation_reason(TokenState.from_props(olds), TokenSettings.from_props(news), now)

    def _lifecycle(self) -> Lifecycle:
        return Lifecycle(self.client(), self.late_wait())

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Mint a marked token (or track an existing one by id, without its secret)."""
        inputs = TokenSettings.from_props(props)
        username = str(inputs.username)
        if inputs.adopt_token_id:
            outs = self._lifecycle().track(username, inputs)
        else:
            outs = self._lifecycle().create(username, inputs)
        return CreateResult(f"{username}/{outs.token_id}", outs.to_props())

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh metadata and keep the stored secret; decide quietly or loudly when gone.

        The current token is `token_id` (the id names the first token a rotating resource
        had). Refresh never writes (see `Lifecycle.refresh`).
        """
        username, first_id = split_id(id_)
        recorded = TokenState.from_props(props)
        state = recorded.but(token_id=str(recorded.token_id or first_id))
        try:
            tokens = self.client().list_tokens(username)
        except NotFoundError:
            return ReadResult("", {})
        refreshed = self._lifecycle().refresh(username, state, tokens)
        if refreshed is None:
            return ReadResult("", {})
        outs = refreshed.but(username=username).to_props()
        inputs = TokenSettings.from_props(outs).to_props()
        for key in ("keep_previous_for", "rotation_trigger"):
            if inputs[key] is None:
                del inputs[key]  # as stacks from before they existed recorded their inputs
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rotate in place when due, revoke a previous token whose window has passed, sweep
        what failed creates left, record local inputs (see `Lifecycle.advance`); no API call
        when only local inputs changed. The id keeps naming the first token."""
        state, wanted = TokenState.from_props(olds), TokenSettings.from_props(news)
        username = str(state.username or split_id(id_)[0])
        current = str(state.token_id or split_id(id_)[1])
        if wanted.adopt_token_id:
            return UpdateResult(Lifecycle.record_tracked(state, wanted).to_props())
        return UpdateResult(self._lifecycle().advance(username, current, state, wanted).to_props())

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Revoke the current token; already revoked or expired counts as done.

        If a failed create's late token may still appear (`sweep_after`), wait for it and
        sweep, so nothing with this resource's mark outlives it.
        """
        username, first_id = split_id(id_)
        state = TokenState.from_props(props)
        self._lifecycle().revoke(username, str(state.token_id or first_id), state)


def _keep_until(olds: Mapping[str, Any], keep: int, now: datetime) -> datetime | None:
    """`keep_until` of a state given as a dict (the docs' pictures and tests call it so)."""
    return keep_until(TokenState.from_props(olds), keep, now)


def _previous_due(olds: Mapping[str, Any], now: datetime) -> bool:
    """`previous_due` of a state given as a dict (the docs' pictures call it so)."""
    return previous_due(TokenState.from_props(olds), now)


def _owner(resource_name: str, opts: pulumi.ResourceOptions | None) -> str:
    """The `owner` input of a token declared here (see `owner_of`)."""
    return _program.declared_owner(resource_name, opts)


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
        with _program.registering(self):
            super().__init__(
                AccessTokenProvider(connection),
                resource_name,
                props,
                pulumi.ResourceOptions.merge(opts, secret),
            )
