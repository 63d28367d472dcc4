"""What the Pulumi *program* process knows about the MotherDuck resources it declares.

Runs where `ServiceAccount(...)` and friends are constructed, never in the provider process.

* **Every problem at once.** The engine stops a deployment at the first resource whose `check`
  fails, so a program with three mistakes would need three runs to show them. Pulumi runs a
  program's top-level code before it sends any registration (they wait for the event loop), so
  each resource checks its plain inputs with its provider's own rules as it is constructed and
  carries a hidden input, the *gate*, that settles when that code has run: resolving to nothing
  (an absent property) or failing with every problem found, and then none of the resources is
  registered. Inputs that are Outputs are still checked by the provider, in preview. Should an
  SDK release change `pulumi.Output`'s constructor, the gate stands down (`_sdk.stand_down`)
  and each provider's `check` reports its own problems, as without it.
* **Accounts.** The usernames of the ServiceAccounts declared here, per organization (two
  spellings of one account, usernames being case-insensitive, are a problem), and which
  `username` Outputs come from them, so that InstanceConfig can tell an account this program
  creates from one that may already exist.
* **A plaintext admin token** in the stack's config is warned about once per run.
* **Registration.** `registering` wraps each of our resources' construction in the SDK
  workarounds that belong to it (`_type_hints`, `_pickle_guard`, `_trace_guard`,
  `_debug_lines`, then `_output_guard`).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure
from pulumi.runtime import config as runtime_config
from pulumi.runtime.rpc import UNKNOWN

from ..config import TOKEN_KEYS, plaintext_token_keys, plaintext_token_warning
from ..connection import Connection
from . import _type_hints
from ._debug_lines import quiet
from ._output_guard import hand_over
from ._pickle_guard import pickler_restored
from ._sdk import stand_down
from ._trace_guard import stack_trace_trimmed


@dataclass
class _Run:
    """One run of a program: its event loop, open gate and what it declared."""

    loop: asyncio.AbstractEventLoop | None
    gate: asyncio.Future[None] | None = None
    gate_output: pulumi.Output[None] | None = None
    problems: list[str] = field(default_factory=list)
    usernames: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    account_outputs: list[tuple[pulumi.Output[Any], Any]] = field(default_factory=list)
    token_keys_checked: set[str] = field(default_factory=set)


# The record of the running program, in the context of the task that runs its code: Automation
# API programs run one task each (in threads, possibly side by side in one process), and the
# record goes away with the task.
_RUN: ContextVar[_Run | None] = ContextVar("motherduck_program_run", default=None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _run() -> _Run:
    """This run's record; outside an event loop (not in a program) a fresh one each time."""
    loop = _running_loop()
    if loop is None:
        return _Run(None)
    run = _RUN.get()
    if run is None or run.loop is not loop:
        run = _Run(loop)
        _RUN.set(run)
    return run


def plain(value: Any) -> Any:
    """Props as `check` sees them in a first preview: anything not yet known is UNKNOWN."""
    if isinstance(value, pulumi.Output) or inspect.isawaitable(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def admit(kind: str, name: str, found: Sequence[CheckFailure]) -> pulumi.Output[None] | None:
    """Record a resource's problems; the gate Output it must carry as a hidden input.

    Without a running event loop (not inside a Pulumi program) the problems are raised at once.
    """
    run = _run()
    problems = [f"{kind} {name!r}: {f.reason}" for f in found]
    if run.loop is None:
        if problems:
            raise pulumi.RunError(_message(problems))
        return None
    if run.gate is None or run.gate.done():
        gate: asyncio.Future[None] = run.loop.create_future()
        gate_output = _gate_output(run.loop, gate)
        if gate_output is None:
            # Stock behaviour: each resource is registered and its provider's `check` reports
            # its own problems, the engine stopping at the first.
            return None
        run.gate, run.gate_output = gate, gate_output
        run.loop.call_soon(_settle, run, gate)
    run.problems.extend(problems)
    return run.gate_output


# `pulumi.Output(resources, future, is_known, is_secret)`: the SDK's own constructor, the one
# way to make an Output from a future, with these parameters in every SDK release we support.
_OUTPUT_PARAMETERS = ["resources", "future", "is_known", "is_secret"]


def _gate_output(
    loop: asyncio.AbstractEventLoop, gate: asyncio.Future[None]
) -> pulumi.Output[None] | None:
    """An Output that settles with `gate`, known and not secret; None if the SDK changed."""
    try:
        parameters = list(inspect.signature(pulumi.Output.__init__).parameters)[1:5]
    except (TypeError, ValueError):
        parameters = []
    if parameters != _OUTPUT_PARAMETERS:
        stand_down(
            "the program-side input check",
            f"pulumi.Output takes ({', '.join(parameters)}), not ({', '.join(_OUTPUT_PARAMETERS)})",
        )
        return None
    known: asyncio.Future[bool] = loop.create_future()
    known.set_result(True)
    secret: asyncio.Future[bool] = loop.create_future()
    secret.set_result(False)
    return pulumi.Output(set(), gate, known, secret)


def _settle(run: _Run, gate: asyncio.Future[None]) -> None:
    """The program's code has run (or yielded): open the gate, or fail it with every problem."""
    problems, run.problems = run.problems, []
    if gate.done():
        return
    if problems:
        gate.set_exception(pulumi.RunError(_message(problems)))
    else:
        gate.set_result(None)


def _message(problems: list[str]) -> str:
    count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
    return (
        f"invalid inputs, {count}; no MotherDuck resource of this program was registered and "
        "nothing was sent to MotherDuck:\n  " + "\n  ".join(problems)
    )


def claim_username(
    name: str, username: Any, connection: Connection | None = None
) -> list[CheckFailure]:
    """Record a ServiceAccount's plain username; another one naming the same account fails.

    MotherDuck usernames are case-insensitive, so `ETL_LOADER` and `etl_loader` are one
    account, and one account can be managed by one resource only. Accounts of another
    organization (`connection`) are other accounts.
    """
    if not isinstance(username, str) or not username:
        return []
    run = _run()
    key = (str(connection) if connection else "", username.casefold())
    other = run.usernames.get(key)
    if other is None:
        run.usernames[key] = (name, username)
        return []
    other_name, other_username = other
    same = "the same username" if other_username == username else "the same account"
    return [
        CheckFailure(
            "username",
            f"username: {username!r} is {same} as ServiceAccount {other_name!r} "
            f"({other_username!r}; usernames are case-insensitive): one account can be "
            "managed by one resource only, so rename one of them (adopt=True would make both "
            "own it, and deleting either would delete it)",
        )
    ]


def remember_account(username: pulumi.Output[Any], adopt: Any) -> None:
    """Remember that `username` is the output of a ServiceAccount declared with `adopt`."""
    _run().account_outputs.append((username, adopt))


def account_may_exist(username: Any) -> Any:
    """Whether the account named by `username` may exist already and not be this program's.

    A plain string names an account from elsewhere: True. The `username` of a ServiceAccount
    of this program: its `adopt` (True, False or an Output of it), since an account it creates
    is new. Any other Output: True, as its origin is unknown.
    """
    if not isinstance(username, pulumi.Output):
        return True
    for output, adopt in _run().account_outputs:
        if output is username:
            return adopt if adopt is not None else False
    return True


def warn_plaintext_token(connection: Connection | None = None) -> None:
    """Warn once per run when an admin token is stored in the stack config unencrypted.

    The stack's own token keys, or the config key a `connection` reads its token from.
    """
    run = _run()
    candidates = connection.config_keys if connection else TOKEN_KEYS
    keys = [key for key in candidates if key not in run.token_keys_checked]
    if not keys:
        return
    run.token_keys_checked.update(keys)
    values = {key: runtime_config.get_config(key) for key in keys}
    secret = {key for key in keys if runtime_config.is_config_secret(key)}
    plaintext = plaintext_token_keys(values, secret, keys)
    if plaintext:
        pulumi.log.warn(plaintext_token_warning(plaintext))


def declared_owner(resource_name: str, opts: pulumi.ResourceOptions | None) -> str:
    """The hidden `owner` input of a resource that creates tokens: who declared it (project,
    stack, parent, resource name), hashed; it goes into the tokens' marks."""
    from ._token_core import owner_of

    parent = opts.parent if opts is not None else None
    parent_name = str(getattr(parent, "_name", "") or "") if parent is not None else ""
    return owner_of(pulumi.get_project(), pulumi.get_stack(), parent_name, resource_name)


@contextmanager
def registering(resource: pulumi.Resource) -> Iterator[None]:
    """Around one of our resources' `super().__init__`: the SDK's pickle patches undone, a
    one-frame stack trace recorded and no debug line sent while it registers, its output types
    worked out once per class, then its Outputs handed over."""
    _type_hints.install()
    with pickler_restored(), stack_trace_trimmed(), quiet():
        yield
    hand_over(resource)
