"""The tokens a ServiceAccount holds (`tokens={name: settings}`): the map's face on `_token_core`.

One resource then holds an account, its tokens and its Duckling configuration, so a stack of
N accounts is N engine steps instead of 3N. Each token keeps every guarantee of a separate
`AccessToken` because it runs the same lifecycle (`_token_core.Lifecycle`): this module only
turns the map into per-token settings and states and back, plans what an `up` does per token
(add, remove, replace, rotate/record) and runs those steps side by side.

State, per account: `tokens` (name -> secret) and `previous_tokens` (name -> the secret kept
by an overlapping rotation), both Pulumi secrets; `token_ids` (name -> id); `token_details`
(name -> everything else AccessToken outputs: settings, metadata, mark, schedule), never a
secret. A token whose create failed is not recorded, so the next `up` sees it missing and
creates it (its mark lets that create sweep anything a lost answer made).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import partial
from itertools import islice
from typing import Any, Literal, TypedDict, TypeVar

import pulumi
from pulumi.dynamic import CheckFailure

from .. import config
from ..errors import MotherDuckError
from . import _token_core as core
from ._base import is_unknown, utcnow, warn
from ._props import (
    ACCOUNT_TOKEN_OUTPUTS,
    NOT_DETAILS,
    AccountInputs,
    AccountState,
    TokenSettings,
    TokenState,
    differing,
    token_outputs,
)

# Outputs of an account holding tokens; the first two hold secrets.
OUTPUTS = ACCOUNT_TOKEN_OUTPUTS
SECRET_OUTPUTS = ("tokens", "previous_tokens")
# Parts of a token's state kept elsewhere than `token_details`.
_NOT_DETAILS = NOT_DETAILS
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# At most this many API calls of one account at once (the token POSTs and the config PUT).
MAX_WORKERS = 4
# Environment variable that lowers it (a whole number from 1 to MAX_WORKERS; others are
# ignored). 1 runs them one after another in a fixed order: the config PUT, then the tokens in
# plan order. tests/e2e/killsteps.py sets it to kill a run at the same write each time.
WORKERS_ENV = "MOTHERDUCK_ACCOUNT_WORKERS"

StepKind = Literal["add", "remove", "replace", "advance", "record", "same"]
# How each step shows in preview (the engine's detailed-diff kinds).
DIFF_KIND: dict[StepKind, str] = {
    "add": "ADD",
    "remove": "DELETE",
    "replace": "UPDATE",
    "advance": "UPDATE",
    "record": "UPDATE",
}


class TokenArgsDict(TypedDict, total=False):
    """One token of a ServiceAccount's `tokens` map: AccessToken's settings, by name."""

    token_type: pulumi.Input[str]
    """read_write (the default, unless adopt_token_id is set) or read_scaling."""
    ttl: pulumi.Input[int]
    """Seconds the token is valid from its creation; unset: it never expires."""
    rotate_before: pulumi.Input[int]
    """Rotate the token (in place) this many seconds before it expires; needs `ttl`."""
    keep_previous_for: pulumi.Input[int]
    """Seconds the token a rotation replaced stays valid, in `previous_tokens`."""
    rotation_trigger: pulumi.Input[str]
    """Any string; a new value rotates the token at the next `pulumi up`."""
    adopt_token_id: pulumi.Input[str]
    """Track an existing token (`username/token_id` or the bare id), its metadata only."""


@dataclass(frozen=True)
class Step:
    """What an `up` does to one named token, and why (for preview)."""

    name: str
    kind: StepKind
    reason: str | None = None


def check(value: Any, username: Any) -> tuple[Any, list[CheckFailure]]:
    """The `tokens` map checked and normalized; failures name the path (`tokens.x.ttl: ...`).

    Pure, no call: each name follows AccessToken's `name` rule, each value its settings'.
    """
    if is_unknown(value) and not isinstance(value, Mapping):
        return value, []
    if not isinstance(value, Mapping):
        return value, [
            CheckFailure("tokens", f"tokens: must be a map of name to settings, got {value!r}")
        ]
    found: list[CheckFailure] = []
    clean: dict[str, Any] = {}
    for name, given in value.items():
        path = f"tokens.{name}"
        settings = {} if given is None else given
        if is_unknown(settings) and not isinstance(settings, Mapping):
            clean[name] = settings
            continue
        if not isinstance(settings, Mapping):
            found.append(
                CheckFailure("tokens", f"{path}: must be a map of settings, got {given!r}")
            )
            continue
        unknown = sorted(k for k in settings if k not in core.SETTINGS_ALL)
        if unknown:
            allowed = ", ".join(core.SETTINGS_ALL)
            found.append(
                CheckFailure(
                    "tokens", f"{path}: unknown setting {', '.join(unknown)} (allowed: {allowed})"
                )
            )
        inputs = {k: v for k, v in settings.items() if k in core.SETTINGS_ALL and v is not None}
        tracked = inputs.get("adopt_token_id") is not None
        for problem in core.name_problems(name, tracked=tracked):
            found.append(CheckFailure("tokens", f"{path}: name {problem}"))
        for key, problems in core.settings_problems(inputs, username).items():
            found += [CheckFailure("tokens", f"{path}.{key}: {p}") for p in problems]
        clean[name] = inputs
    return clean, found


def declared(news: Mapping[str, Any]) -> dict[str, TokenSettings]:
    """`settings_of` the account's inputs given as a dict."""
    return settings_of(AccountInputs.from_props(news))


def settings_of(inputs: AccountInputs) -> dict[str, TokenSettings]:
    """Each declared token's settings with its name, owner and account (`Lifecycle`'s inputs)."""
    owner = inputs.owner or ""
    given = inputs.tokens if isinstance(inputs.tokens, Mapping) else {}
    found: dict[str, TokenSettings] = {}
    for name, settings in given.items():
        entry = TokenSettings.from_props(settings if isinstance(settings, Mapping) else {})
        found[name] = replace(
            entry,
            username=inputs.username,
            name=name,
            owner=core.member_owner(str(owner), name),
        )
    return found


def states(olds: Mapping[str, Any]) -> dict[str, TokenState]:
    """Each recorded token's state, assembled from the account's outputs given as a dict."""
    return AccountState.from_props(olds).tokens or {}


def outputs(recorded: Mapping[str, TokenState]) -> dict[str, Any]:
    """The account's token outputs from each token's state (`OUTPUTS`)."""
    return token_outputs(recorded)


def inputs_of(recorded: Mapping[str, TokenState]) -> dict[str, Any]:
    """The `tokens` input as state records it (for refresh's inputs)."""
    return {
        name: {k: getattr(state, k) for k in core.SETTINGS_ALL if getattr(state, k) is not None}
        for name, state in recorded.items()
    }


def plan(old: Mapping[str, TokenState], new: Mapping[str, TokenSettings]) -> list[Step]:
    """One step per token recorded (`old`) or declared (`new`); reasons are what preview says.
    No call."""
    now = utcnow()
    steps = [Step(name, "remove") for name in sorted(old) if name not in new]
    for name in sorted(new):
        if name not in old:
            steps.append(Step(name, "add"))
            continue
        was, wanted = old[name], new[name]
        tracked = bool(wanted.adopt_token_id) and was.adopt_token_id == wanted.adopt_token_id
        if tracked:
            changed = differing(was, wanted, ("ttl", "rotate_before"))
            reason = core.tracked_reason(was, wanted, now)
            steps.append(Step(name, "record" if changed else "same", reason))
            continue
        if differing(was, wanted, core.REPLACE_ON_CHANGE):
            steps.append(Step(name, "replace"))
            continue
        due = core.due(was, wanted, now)
        if due:
            steps.append(Step(name, "advance", "; ".join(due)))
        elif differing(was, wanted, core.LOCAL_MANAGED):
            steps.append(Step(name, "advance"))
        else:
            steps.append(Step(name, "same", core.schedule(was, wanted, now)))
    return steps


def token_path(name: str) -> str:
    """The property path of one token as the engine reads it: `tokens.reader`, or
    `tokens["my token"]` for a name that is not a plain identifier."""
    return f"tokens.{name}" if _PLAIN.fullmatch(name) else f"tokens[{json.dumps(name)}]"


def detailed_diff(steps: list[Step]) -> dict[str, str]:
    """Property path (`token_path`) -> the kind of change preview shows."""
    return {token_path(s.name): DIFF_KIND[s.kind] for s in steps if s.kind != "same"}


_T = TypeVar("_T")


def workers() -> int:
    """How many of one account's API calls run at once: `MOTHERDUCK_ACCOUNT_WORKERS` if it is
    a whole number from 1 to `MAX_WORKERS`, else `MAX_WORKERS`."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_WORKERS else MAX_WORKERS


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _shared_pool() -> ThreadPoolExecutor:
    """One pool for the calls of every account in this process: its threads start when first
    needed and then serve every later account (a pool per create started two per account)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            # Never the bound: the provider serves at most config.MAX_WORKERS calls at once,
            # each running at most MAX_WORKERS of these.
            _pool = ThreadPoolExecutor(
                max_workers=config.MAX_WORKERS * MAX_WORKERS, thread_name_prefix="motherduck"
            )
        return _pool


def run_all(jobs: Mapping[str, Callable[[], _T]]) -> dict[str, _T | MotherDuckError]:
    """Run the jobs side by side (at most `workers()` at once); each result, or its API
    error, in the order of `jobs`."""
    if not jobs:
        return {}

    def guarded(job: Callable[[], _T]) -> _T | MotherDuckError:
        try:
            return job()
        except MotherDuckError as exc:
            return exc

    count = workers()
    if len(jobs) == 1 or count == 1:
        return {key: guarded(job) for key, job in jobs.items()}
    pool = _shared_pool()
    waiting = iter(jobs.items())
    running: dict[Future[_T | MotherDuckError], str] = {}
    results: dict[str, _T | MotherDuckError] = {}
    for key, job in islice(waiting, count):
        running[pool.submit(guarded, job)] = key
    while running:
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            results[running.pop(future)] = future.result()
            for key, job in islice(waiting, 1):
                running[pool.submit(guarded, job)] = key
    return {key: results[key] for key in jobs}


def create_job(
    lifecycle: core.Lifecycle, username: str, wanted: TokenSettings
) -> Callable[[], TokenState]:
    """A new token: minted with its mark, or tracked by `adopt_token_id`."""
    if wanted.adopt_token_id:
        return lambda: lifecycle.track(username, wanted)
    return lambda: lifecycle.create(username, wanted)


def apply(
    lifecycle: core.Lifecycle,
    username: str,
    old: Mapping[str, TokenState],
    new: Mapping[str, TokenSettings],
    extra: Mapping[str, Callable[[], Any]] | None = None,
    report: Callable[[str], None] = warn,
) -> tuple[dict[str, TokenState], dict[str, Any]]:
    """Carry out `plan` (and the `extra` jobs, such as the config PUT) side by side.

    Returns each token's new state and the results of `extra`. A token whose step failed keeps
    its old state (or, if new, stays unrecorded) and is reported (`report`, a warning unless
    the caller collects them), so the next `up` tries again and the secrets other steps made
    are not lost with a failed update.
    """
    jobs: dict[str, Callable[[], Any]] = {f"extra:{k}": job for k, job in (extra or {}).items()}
    result: dict[str, TokenState] = {}
    for step in plan(old, new):
        name = step.name
        if step.kind == "same":
            result[name] = old[name].taking(new[name], core.LOCAL_MANAGED)
        elif step.kind == "add":
            jobs[name] = create_job(lifecycle, username, new[name])
        elif step.kind == "remove":
            jobs[name] = partial(_revoke, lifecycle, username, old[name])
        elif step.kind == "replace":
            jobs[name] = _replace_job(lifecycle, username, old[name], new[name])
        elif step.kind == "record":
            result[name] = core.Lifecycle.record_tracked(old[name], new[name])
        else:
            jobs[name] = partial(_advance, lifecycle, username, old[name], new[name])
    done = run_all(jobs)
    for key, outcome in done.items():
        if key.startswith("extra:"):
            continue
        if isinstance(outcome, MotherDuckError):
            what = "created" if key not in old else "updated"
            report(
                f"token {key!r} of service account {username!r} was not {what} ({outcome}); "
                "run `pulumi up` again to finish it"
            )
            if key in old:
                result[key] = old[key]
        elif isinstance(outcome, TokenState):
            result[key] = outcome
    return result, {k.removeprefix("extra:"): v for k, v in done.items() if k.startswith("extra:")}


def _revoke(lifecycle: core.Lifecycle, username: str, was: TokenState) -> None:
    lifecycle.revoke(username, str(was.token_id), was)


def _advance(
    lifecycle: core.Lifecycle, username: str, was: TokenState, wanted: TokenSettings
) -> TokenState:
    return lifecycle.advance(username, str(was.token_id), was, wanted)


def _replace_job(
    lifecycle: core.Lifecycle, username: str, was: TokenState, wanted: TokenSettings
) -> Callable[[], TokenState]:
    """A token whose mark-relevant settings changed: the new one first, then the old revoked."""

    def replace_token() -> TokenState:
        made = create_job(lifecycle, username, wanted)()
        try:  # as a replaced AccessToken's delete does, a tracked token included
            lifecycle.revoke(username, str(was.token_id), was)
        except MotherDuckError as exc:
            warn(
                f"token {was.token_id} of {username!r} was replaced by "
                f"{made.token_id} but could not be revoked ({exc}); revoke it by hand"
            )
        return made

    return replace_token


def refresh(
    lifecycle: core.Lifecycle, username: str, recorded: Mapping[str, TokenState]
) -> dict[str, TokenState]:
    """Each recorded token refreshed from one list of the account's tokens; gone ones dropped
    (the next `up` creates them again). Never writes."""
    if not recorded:
        return {}
    live = lifecycle.client.list_tokens(username)
    found: dict[str, TokenState] = {}
    for name, state in recorded.items():
        outs = lifecycle.refresh(username, state, live)
        if outs is not None:
            found[name] = outs
    return found
