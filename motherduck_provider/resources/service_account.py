"""ServiceAccount: a MotherDuck service account (Member role), keyed by its username."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from .. import rules
from .._time import format_timestamp
from ..client import DECIDING_AGE
from ..connection import Connection
from ..errors import (
    BadRequestError,
    MotherDuckError,
    NotFoundError,
    ServerError,
    TransportError,
)
from . import _account_tokens, _detailed_diff, _duckling, _held, _program
from ._account_tokens import TokenArgsDict
from ._base import ProviderBase, failures, is_unknown, notice, utcnow, warn
from ._late import may_land_late, wait_for_window, window_end
from ._props import AccountInputs, AccountState, known
from ._token_core import Lifecycle

if TYPE_CHECKING:
    from .instance_config import (
        ReadScalingArgs,
        ReadScalingArgsDict,
        ReadWriteArgs,
        ReadWriteArgsDict,
    )

# POSTs of one account before giving up when none gets an answer that decides.
MAX_POSTS = 3
# What to run after `pulumi up` was killed while creating accounts (see `recover.py`); the
# "already exists" error adds `--adopt <username>`, which works with or without the pending create.
RECOVER_COMMAND = "python -m motherduck_provider.recover"

# What this provider process has seen of the current run (one process serves one deployment),
# per organization (`org_of`): usernames declared by `check` (casefolded -> spellings) and the
# accounts `diff` plans to delete.
_run_lock = threading.Lock()
_declared: dict[tuple[str, str], set[str]] = {}
_leaving: set[tuple[str, str]] = set()
# Accounts whose ServiceAccount holds their Duckling configuration in this run (`config_in`):
# an InstanceConfig of the same account leaving the stack then has nothing to warn about.
_holding: set[tuple[str, str]] = set()


def reset_run() -> None:
    """Forget what this process saw of a run: a new run (or test) starts from nothing."""
    with _run_lock:
        _declared.clear()
        _leaving.clear()
        _holding.clear()


# The Duckling configuration a ServiceAccount may hold (the rules are InstanceConfig's).
CONFIG_SIDES = ("read_write", "read_scaling")
# Inputs whose change makes a new account (the old one is deleted); the rest update in place.
REPLACE_ON_CHANGE = ("username",)
# The resource id (and the Terraform provider's import id).
ID_FORM = "username"
# What `check` enforces for each input, in words (the reference pages show it).
INPUT_RULES = {
    "username": rules.USERNAME_RULE,
    "adopt": "true or false",
    "read_write": "with `read_scaling` or not at all; InstanceConfig's rules (see its fields)",
    "read_scaling": "with `read_write` or not at all; InstanceConfig's rules (see its fields)",
    "allow_downsize": "true or false",
    "tokens": "a map of token name to AccessToken's settings (`token_type`, `ttl`, "
    "`rotate_before`, `keep_previous_for`, `rotation_trigger`, `adopt_token_id`), each name and "
    "setting with AccessToken's rule; an error names its path, e.g. `tokens.reader.ttl`",
}


def org_of(provider: ProviderBase) -> str:
    """Which organization a provider talks to: its connection, or "" for the stack's own."""
    connection = getattr(provider, "_connection", None)
    return str(connection) if connection else ""


def stack_twin(username: str, org: str = "") -> str | None:
    """Another spelling of `username` (case-insensitive) that this run also declares."""
    with _run_lock:
        spellings = _declared.get((org, username.casefold()), set())
    others = sorted(s for s in spellings if s != username)
    return others[0] if others else None


def account_leaves(username: str, org: str = "") -> bool:
    """Whether this run replaces the account, deleting it (and its Duckling config)."""
    with _run_lock:
        return (org, username.casefold()) in _leaving


def account_holds_config(username: str, org: str = "") -> bool:
    """Whether this run's ServiceAccount for `username` holds its Duckling configuration."""
    with _run_lock:
        return (org, username.casefold()) in _holding


def holds_config(inputs: dict[str, Any]) -> bool:
    """Whether these inputs (or outputs) carry a Duckling configuration."""
    return any(inputs.get(side) is not None for side in CONFIG_SIDES)


def validate(news: dict[str, Any]) -> CheckResult:
    """The local rules for a ServiceAccount's inputs, normalized; no call, no side effect.

    The Duckling configuration, when given, follows InstanceConfig's rules (both sides,
    `allow_downsize`), checked by the same functions (`_duckling`).
    """
    news = dict(news)
    problems: dict[str, list[str]] = {}
    if holds_config(news) or news.get("allow_downsize") is not None:
        for side in CONFIG_SIDES:
            news[side], problems[side] = _duckling.side_problems(side, news.get(side))
        allow = news.get("allow_downsize")
        if allow is not None and not is_unknown(allow) and not isinstance(allow, bool):
            problems["allow_downsize"] = [f"must be true or false, got {allow!r}"]
    username = news.get("username")
    if username is None:
        problems["username"] = ["is required"]
    elif not is_unknown(username):
        problems["username"] = rules.username_problems(username)
    adopt = news.get("adopt")
    if adopt is not None and not is_unknown(adopt) and not isinstance(adopt, bool):
        problems["adopt"] = [f"must be true or false, got {adopt!r}"]
    found = failures(problems)
    if news.get("tokens") is not None:
        news["tokens"], more = _account_tokens.check(news["tokens"], username)
        found += more
    return CheckResult(news, found)


class ServiceAccountProvider(ProviderBase):
    """CRUD for `POST/DELETE /v1/users`; existence is probed through `GET .../instances`."""

    stored_as = "account"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate the username and `adopt` locally; unknown values pass through.

        A username that differs from the old one only in case names the same account
        (usernames are case-insensitive): replacing it would create a twin of it, then delete
        it, so that is refused.
        """
        result = validate(news)
        username, old = news.get("username"), olds.get("username")
        if isinstance(username, str) and not is_unknown(username):
            with _run_lock:
                _declared.setdefault((org_of(self), username.casefold()), set()).add(username)
                if holds_config(result.inputs):
                    _holding.add((org_of(self), username.casefold()))
            if isinstance(old, str) and old != username and old.casefold() == username.casefold():
                result.failures.append(
                    CheckFailure(
                        "username",
                        f"username: {username!r} names the same account as {old!r} "
                        f"(usernames are case-insensitive); keep the spelling {old!r}",
                    )
                )
        if holds_config(result.inputs) and not result.failures:
            result.failures += self._check_config(olds, result.inputs)
        return result

    def _check_config(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        """Fill in known cooldowns as InstanceConfig does; taking over an existing account
        (`adopt`) reads its live config, shows what changes and refuses a shrink not allowed."""
        return _duckling.check_live(
            lambda username: self.client().get_duckling_config(username),
            olds,
            inputs,
            may_exist=inputs.get("adopt") is True,
            kind="ServiceAccount",
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new username is a new account; `adopt` only matters at creation; the Duckling
        configuration, when the account holds it, updates in place.

        A replacement deletes the old account with its data, so preview says so.
        """
        was, wanted = AccountState.from_props(olds), AccountInputs.from_props(news)
        old, new = was.username, wanted.username
        replaces = [k for k in REPLACE_ON_CHANGE if getattr(was, k) != getattr(wanted, k)]
        if replaces and old:
            with _run_lock:
                _leaving.add((org_of(self), old.casefold()))
            if is_unknown(new):
                what = "may be DELETED, with its data, tokens and Duckling configuration: its "
                what += "username is not known yet, and if it changes, a new account replaces it"
            else:
                what = "will be DELETED, with its data, tokens and Duckling configuration, after "
                what += f"the new account {new!r} is created: its username changed"
            warn(
                f"service account {old!r} {what}. Keep the old username to keep the account "
                "(a protected account makes the update fail)"
            )
        adopt_changed = was.adopt != bool(wanted.adopt)
        changed = bool(replaces) or adopt_changed
        detailed: dict[str, str] = {}
        if was.holds_config or wanted.holds_config:
            for side, given in wanted.sides.items():
                if (
                    is_unknown(given)
                    or not isinstance(given, dict)
                    or not _duckling.side_matches(given, was.sides[side])
                ):
                    detailed[side] = "UPDATE"
        if is_unknown(wanted.tokens) and not isinstance(wanted.tokens, dict):
            detailed["tokens"] = "UPDATE"
        elif not replaces and (was.holds_tokens or wanted.tokens):
            steps = _account_tokens.plan(was.tokens or {}, _account_tokens.settings_of(wanted))
            for step in steps:
                if step.reason:  # a schedule is information; anything due needs attention
                    (notice if step.kind == "same" else warn)(step.reason)
            detailed.update(_account_tokens.detailed_diff(steps))
        if adopt_changed:
            detailed["adopt"] = "UPDATE"
        return _detailed_diff.diff_result(
            changes=changed or bool(detailed),
            replaces=replaces,
            delete_before_replace=False,
            detailed={**dict.fromkeys(replaces, "UPDATE_REPLACE"), **detailed},
        )

    def create(self, props: dict[str, Any], unfinished: list[str] | None = None) -> CreateResult:
        """Create the account (see `_create_account`), then, side by side, write its Duckling
        configuration (a PUT, with no read for an account this process created) and create
        its tokens.

        A PUT or a token that fails leaves the account created and recorded without it, with
        a warning: the next `pulumi up` sees the difference and finishes (an error here would
        orphan the account and every token made, since a failed create records nothing).
        Given `unfinished`, those messages go there instead of warnings: the plugin reports
        them as the engine's "created but failed to initialize" (state records the account).
        """
        report = warn if unfinished is None else unfinished.append
        inputs = AccountInputs.from_props(props)
        created = self._create_account(inputs)
        username = str(created.id)
        if not inputs.holds_config and not inputs.holds_tokens:
            return created
        state = AccountState.of(inputs)  # what `created` records
        config_job = {"config": lambda: self._write_config(username, inputs, None)}
        extra = config_job if inputs.holds_config else {}
        if inputs.holds_tokens:
            lifecycle = Lifecycle(self.client(), self.late_wait())
            wanted = _account_tokens.settings_of(inputs)
            recorded, done = _account_tokens.apply(lifecycle, username, {}, wanted, extra, report)
            state = replace(state, tokens=recorded, owner=inputs.owner)
        else:
            done = _account_tokens.run_all(extra)
        written = done.get("config")
        if isinstance(written, MotherDuckError):
            report(
                f"service account {username!r} was created, but its Duckling configuration "
                f"was not written ({written}); run `pulumi up` again to write it"
            )
            state = state.configured(dict.fromkeys(CONFIG_SIDES))
        elif isinstance(written, dict):
            state = state.configured(written)
        return CreateResult(username, state.to_props())

    def _write_config(
        self, username: str, inputs: AccountInputs, olds: AccountState | None
    ) -> dict[str, Any]:
        """PUT the configuration unless the live one (old outputs, or read) already is it."""
        client = self.client()
        current: dict[str, Any] | None
        if olds is not None and all(isinstance(side, dict) for side in olds.sides.values()):
            current = dict(olds.sides)
        elif olds is None and client.created_here(username):
            current = None  # MotherDuck's initial config: write without reading
        else:
            live = client.get_duckling_config(username, max_age=DECIDING_AGE)
            current = _duckling.config_outs(username, live)
        return _duckling.write(client, username, inputs.sides, current)

    def _create_account(self, inputs: AccountInputs) -> CreateResult:
        """Create the account, or take over an existing one when `adopt` is true.

        A 5xx or a connection lost once the request was sent leaves it unknown whether the
        POST was applied: the account is probed, and if it exists the POST went through and
        it is ours. If the probe cannot tell, or says "not there" while the request may still
        land, the POST is sent again (at most `MAX_POSTS` in all): after our own unanswered
        attempt, "already taken" means that attempt landed, so the account is ours too. When
        every POST failed and one may still land (see `_late`), the create waits for it
        (bounded) and probes once more: an account that exists then is ours too.
        """
        username = known(inputs.username)
        client = self.client()
        if inputs.adopt and self._exists(username):
            return CreateResult(username, self._outs(inputs))
        unanswered: MotherDuckError | None = None
        found: bool | None = None
        late: datetime | None = None
        for _ in range(MAX_POSTS):
            started, clock = utcnow(), time.monotonic()
            try:
                client.create_service_account(username)
            except BadRequestError as exc:
                if unanswered is not None and self._probe(username) is not False:
                    warn(
                        f"service account {username!r} was created by an earlier attempt of "
                        f"this create whose answer was lost ({unanswered})"
                    )
                    return CreateResult(username, self._outs(inputs))
                twin = stack_twin(username, org_of(self))
                if twin is not None:
                    raise MotherDuckError(
                        f"service account {username!r} cannot be created: it is the account "
                        f"{twin!r}, which this stack also manages (usernames are "
                        "case-insensitive). Rename one of the two; adopt=True would make two "
                        "resources own one account"
                    ) from exc
                if self._exists(username):
                    raise MotherDuckError(
                        f"service account {username!r} already exists; set adopt=True to "
                        "manage it with this stack instead of creating it. If an interrupted "
                        f"`pulumi up` of this stack created it, run `{RECOVER_COMMAND} "
                        f"--adopt {username}`, then `pulumi up` (no program edit; see the "
                        "docs, Faults and interrupted runs)"
                    ) from exc
                raise
            except (ServerError, TransportError) as exc:
                if isinstance(exc, TransportError) and not exc.sent:
                    raise
                unanswered = exc
                if may_land_late(exc):
                    late = window_end(started, time.monotonic() - clock, late)
                found = self._probe(username)
                if found:
                    return CreateResult(username, self._outs(inputs))
                continue
            return CreateResult(username, self._outs(inputs))
        failed = f"could not create service account {username!r}: {MAX_POSTS} attempts failed"
        if late is not None:
            if not wait_for_window(late, self.late_wait(), f"an account request for {username!r}"):
                raise MotherDuckError(
                    f"{failed} (last: {unanswered}) and one may still land until "
                    f"{format_timestamp(late)} (UTC), later than motherduck:lateRequestWait "
                    f"({self.late_wait():g}s) lets this run wait: run `pulumi up` again after "
                    f"that time; if it reports that {username!r} already exists, this create "
                    "made it: take it over as that message says"
                )
            found = self._probe(username)
            if found:
                warn(
                    f"service account {username!r} was created by a request of this create "
                    f"that landed after it had failed without an answer ({unanswered})"
                )
                return CreateResult(username, self._outs(inputs))
        state = "it does not exist" if found is False else "whether it exists could not be checked"
        raise MotherDuckError(
            f"{failed} (last: {unanswered}) and {state}; run `pulumi up` again when MotherDuck "
            "answers"
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh or adopt by id (the username); JSON NOT_FOUND is the only proof of "gone"."""
        try:
            live = self.client().get_duckling_config(id_)
        except NotFoundError:
            return ReadResult("", {})
        was = AccountState.from_props(props, id_)
        state = AccountState(id_, was.adopt)
        inputs: dict[str, Any] = {"username": id_}
        # `adopt` only when the stack set it: `pulumi import` writes these inputs as the code it
        # suggests, and `adopt: false` there is noise. Outputs keep it, so a refresh of a stack
        # holding it sees no change, and diff reads an absent `adopt` as false.
        if was.adopt:
            inputs["adopt"] = True
        if was.holds_config:  # the same answer is the configuration
            outs = _duckling.config_outs(id_, live)
            inputs.update({side: outs[side] for side in CONFIG_SIDES})
            state = replace(state, records_config=True).configured(outs)
            if was.allow_downsize is not None:
                inputs["allow_downsize"] = was.allow_downsize
        if was.tokens is not None:
            lifecycle = Lifecycle(self.client(), self.late_wait())
            refreshed = _account_tokens.refresh(lifecycle, id_, was.tokens)
            state = replace(state, tokens=refreshed, owner=was.owner)
            inputs.update(tokens=_account_tokens.inputs_of(was.tokens), owner=was.owner)
        return ReadResult(id_, state.to_props(), inputs)

    def update(
        self,
        id_: str,
        olds: dict[str, Any],
        news: dict[str, Any],
        unfinished: list[str] | None = None,
    ) -> UpdateResult:
        """`adopt` touches nothing remote; a changed configuration is one PUT; each token
        added, removed, replaced or due for rotation is its own step, side by side with the PUT
        (see `_account_tokens.apply`: a failed token step is retried by the next `up`). What
        failed is a warning, or goes to `unfinished` when given (as in `create`)."""
        report = warn if unfinished is None else unfinished.append
        was, inputs = AccountState.from_props(olds, id_), AccountInputs.from_props(news)
        state = AccountState.of(inputs)
        if not inputs.holds_tokens and not was.holds_tokens:
            if inputs.holds_config:
                state = state.configured(self._write_config(id_, inputs, was))
            return UpdateResult(state.to_props())
        extra = {"config": lambda: self._write_config(id_, inputs, was)}
        lifecycle = Lifecycle(self.client(), self.late_wait())
        recorded, done = _account_tokens.apply(
            lifecycle,
            id_,
            was.tokens or {},
            _account_tokens.settings_of(inputs),
            extra if inputs.holds_config else {},
            report,
        )
        written = done.get("config")
        if isinstance(written, MotherDuckError):
            report(
                f"the Duckling configuration of {id_!r} was not written ({written}); the "
                "token changes were recorded: run `pulumi up` again to write it"
            )
            state = state.configured(was.sides)
        elif isinstance(written, dict):
            state = state.configured(written)
        owner = was.owner or inputs.owner
        return UpdateResult(replace(state, tokens=recorded, owner=owner).to_props())

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Delete the account with its data and tokens; already gone counts as done.

        Its Duckling configuration goes with it: a "keeps its configuration" warning held by
        its InstanceConfig's delete in this run is dropped (see `_held`).
        """
        try:
            self.client().delete_service_account(id_)
        except NotFoundError:
            pass
        _held.cancel((org_of(self), id_.casefold()))

    def _exists(self, username: str) -> bool:
        try:
            self.client().get_duckling_config(username)
        except NotFoundError:
            return False
        return True

    def _probe(self, username: str) -> bool | None:
        """Whether the account exists after a write whose answer was lost; None: unknown."""
        try:
            self.client().get_duckling_config(username, fresh=True)
        except NotFoundError:
            return False
        except MotherDuckError:
            return None
        return True

    @staticmethod
    def _outs(inputs: AccountInputs) -> dict[str, Any]:
        return AccountState.of(inputs).to_props()


class ServiceAccount(Resource, module="motherduck", name="ServiceAccount"):
    """A MotherDuck service account.

    Deleting it deletes the account's data and revokes its tokens: protect it with
    `opts=pulumi.ResourceOptions(protect=True)`. Set `adopt=True` to bring an account that
    already exists under management instead of failing because the name is taken.
    """

    username: pulumi.Output[str]
    """The account's username, also the resource id."""
    adopt: pulumi.Output[bool]
    """Whether an existing account of this name is taken over instead of created."""
    read_write: pulumi.Output[dict[str, Any] | None]
    """The read/write Duckling when the account holds its configuration, else None."""
    read_scaling: pulumi.Output[dict[str, Any] | None]
    """The read-scaling flock when the account holds its configuration, else None."""
    # `Any`: in the preview of an update the engine shows the inputs (settings) as outputs.
    tokens: pulumi.Output[dict[str, Any] | None]
    """Given: token name -> AccessToken's settings (`TokenArgsDict`). Output: token name -> the
    token's secret (None when tracked), a Pulumi secret."""
    token_ids: pulumi.Output[dict[str, str] | None]
    """With `tokens`: each token's current id by name (a rotation changes it)."""
    token_details: pulumi.Output[dict[str, dict[str, Any]] | None]
    """With `tokens`: by name, what an AccessToken outputs but its secrets (expire_at,
    created_ts, read_only, mark, rotates_at, previous_token_id, previous_revoke_after,
    sweep_after...); a field with no value is left out, as an AccessToken's is."""
    previous_tokens: pulumi.Output[dict[str, str] | None]
    """With `tokens`: by name, the secret of the token before the last rotation while it is
    kept (see `keep_previous_for`), only for the tokens that have one; None when none has. A
    Pulumi secret."""

    def __init__(
        self,
        resource_name: str,
        *,
        username: pulumi.Input[str],
        adopt: pulumi.Input[bool] | None = None,
        read_write: pulumi.Input[ReadWriteArgs | ReadWriteArgsDict] | None = None,
        read_scaling: pulumi.Input[ReadScalingArgs | ReadScalingArgsDict] | None = None,
        allow_downsize: pulumi.Input[bool] | None = None,
        tokens: pulumi.Input[Mapping[str, pulumi.Input[TokenArgsDict]]] | None = None,
        connection: Connection | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`read_write` and `read_scaling` (both or neither): the account's Duckling
        configuration, held by the account itself instead of an `InstanceConfig`, with the
        same rules (`allow_downsize` included): one resource and one step fewer per account.

        `tokens` (name -> AccessToken's settings): the account's tokens, held by the account
        too, each with every rule and guarantee of an AccessToken (marks, sweeps, rotation
        with overlap, `adopt_token_id`); outputs `tokens`, `token_ids`, `token_details`,
        `previous_tokens`. One resource, so one engine step, per account."""
        props: dict[str, Any] = {"username": username, "adopt": adopt}
        if read_write is not None or read_scaling is not None or allow_downsize is not None:
            props.update(
                read_write=_duckling.as_props(read_write),
                read_scaling=_duckling.as_props(read_scaling),
                allow_downsize=allow_downsize,
            )
        if tokens is not None:
            props.update(tokens=tokens, owner=_program.declared_owner(resource_name, opts))
            props.update(dict.fromkeys(_account_tokens.OUTPUTS))
            props["tokens"] = tokens
            secret = pulumi.ResourceOptions(
                additional_secret_outputs=list(_account_tokens.SECRET_OUTPUTS)
            )
            opts = pulumi.ResourceOptions.merge(opts, secret)
        _program.warn_plaintext_token(connection)
        found = validate(_program.plain(props)).failures
        found += _program.claim_username(resource_name, username, connection)
        props["__validated"] = _program.admit("ServiceAccount", resource_name, found)
        with _program.registering(self):
            super().__init__(ServiceAccountProvider(connection), resource_name, props, opts)
        _program.remember_account(self.username, adopt)


# Inside Pulumi's provider server: preview names what changes (`tokens.reader`, `read_write`).
_detailed_diff.install()
