"""InstanceConfig: the Duckling (compute) configuration of one account.

The API replaces the whole config in one PUT and has no reset. A cooldown left unset keeps
the live value while the size stays the same and takes the server's default after a size
change, so refreshes and imports never show a perpetual diff. `check` writes that cooldown into
the inputs whenever it is known, so a preview shows it instead of a value that seems to vanish.

Taking over an account that exists already (not one this program creates) is the one case
where `check`, and so preview, calls the API: it reads the live config, shows what will change
field by field, and refuses to shrink it unless `allow_downsize=True`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from .. import rules
from ..client import DECIDING_AGE
from ..connection import Connection
from ..errors import MotherDuckError, NotFoundError
from ..rules import InstanceSize
from . import _held, _program
from ._base import ProviderBase, failures, is_unknown
from ._duckling import (
    SIDES,
    as_props,
    check_live,
    config_outs,
    duckling,
    known_cooldown,
    live_changes,
    merged_side,
    show,
    shrinks,
    side_matches,
    side_problems,
    write,
)
from ._props import DucklingInputs, DucklingState, known
from .service_account import account_holds_config, account_leaves, org_of

if TYPE_CHECKING:
    from ..models import DucklingConfig

# Re-exported: the rules moved to `_duckling`, callers of these names keep working.
__all__ = [
    "SIDES",
    "InstanceConfig",
    "InstanceConfigProvider",
    "ReadScalingArgs",
    "ReadScalingArgsDict",
    "ReadWriteArgs",
    "ReadWriteArgsDict",
    "as_props",
    "config_outs",
    "duckling",
    "known_cooldown",
    "live_changes",
    "merged_side",
    "shrinks",
    "side_matches",
    "side_problems",
    "validate",
]
# Hidden input from the program (popped by `check`, never stored): True when the account may
# exist already and is not created by this program, so `check` reads its live config.
MAY_EXIST = "__account_may_exist"
# Inputs whose change replaces the resource; sizes, flock and cooldowns update in place.
REPLACE_ON_CHANGE = ("username",)
# The resource id (and the Terraform provider's import id).
ID_FORM = "username"
# What `check` enforces for each input and each setting of a side, in words (reference pages).
INPUT_RULES = {
    "username": rules.USERNAME_RULE,
    "read_write": "required (the API sets both sides in one call); see its fields",
    "read_scaling": "required (the API sets both sides in one call); see its fields",
    "allow_downsize": "true or false",
}
SETTING_RULES = {
    "instance_size": rules.choices_rule(rules.INSTANCE_SIZES),
    "flock_size": rules.FLOCK_RULE,
    "cooldown_seconds": rules.COOLDOWN_RULE,
}


class ReadWriteArgsDict(TypedDict, total=False):
    """The read/write Duckling as a dict: `instance_size` and optional `cooldown_seconds`."""

    instance_size: pulumi.Input[InstanceSize]
    cooldown_seconds: pulumi.Input[int]


class ReadScalingArgsDict(TypedDict, total=False):
    """The read-scaling flock as a dict: `instance_size`, `flock_size`, `cooldown_seconds`."""

    instance_size: pulumi.Input[InstanceSize]
    flock_size: pulumi.Input[int]
    cooldown_seconds: pulumi.Input[int]


@dataclass(frozen=True)
class ReadWriteArgs:
    """The read/write Duckling: one of pulse, standard, jumbo, mega, giga."""

    instance_size: pulumi.Input[InstanceSize]
    """The Duckling size; a smaller one than the live size of an adopted account needs
    `allow_downsize`."""
    cooldown_seconds: pulumi.Input[int] | None = None
    """Idle seconds before the Duckling stops; unset keeps the live value while the size
    stays, else takes the server's default for the size."""


@dataclass(frozen=True)
class ReadScalingArgs:
    """The read-scaling flock: its Duckling size and how many replicas (0 to 64)."""

    instance_size: pulumi.Input[InstanceSize]
    """The size of each replica's Duckling."""
    flock_size: pulumi.Input[int]
    """How many read-scaling replicas; fewer than an adopted account has needs
    `allow_downsize`."""
    cooldown_seconds: pulumi.Input[int] | None = None
    """Idle seconds before the replicas stop; unset keeps the live value while the size
    stays, else takes the server's default for the size."""


def validate(news: dict[str, Any]) -> CheckResult:
    """The local rules for an InstanceConfig's inputs, normalized; no call, no side effect."""
    inputs = dict(news)
    problems: dict[str, list[str]] = {}
    username = inputs.get("username")
    if username is None:
        problems["username"] = ["is required"]
    elif not is_unknown(username):
        problems["username"] = rules.username_problems(username)
    for side in SIDES:
        inputs[side], problems[side] = side_problems(side, inputs.get(side))
    allow = inputs.get("allow_downsize")
    if allow is not None and not is_unknown(allow) and not isinstance(allow, bool):
        problems["allow_downsize"] = [f"must be true or false, got {allow!r}"]
    return CheckResult(inputs, failures(problems))


class InstanceConfigProvider(ProviderBase):
    """Read and replace the config through `GET/PUT /v1/users/{username}/instances`."""

    stored_as = "config"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate both sides and the username; unknown values pass through.

        Taking over an account that may exist (the program says so through a hidden input)
        reads its live config: the fields that will change are shown as `old -> new`, and a
        smaller Duckling or flock fails the check unless `allow_downsize` is true. Known
        cooldowns are filled in (see `known_cooldown`).
        """
        news = dict(news)
        may_exist = news.pop(MAY_EXIST, None)
        result = validate(news)
        if result.failures:
            return result
        found = check_live(
            lambda username: self.client().get_duckling_config(username),
            olds,
            result.inputs,
            may_exist=may_exist,
            kind="InstanceConfig",
        )
        return CheckResult(result.inputs, found)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Username replaces; sizes, flock and cooldowns update in place."""
        was, wanted = DucklingState.from_props(olds), DucklingInputs.from_props(news)
        replaces = [k for k in REPLACE_ON_CHANGE if getattr(was, k) != getattr(wanted, k)]
        changed = [
            side
            for side, given in wanted.sides.items()
            if is_unknown(given)
            or not side_matches(given if isinstance(given, dict) else {}, was.sides[side])
        ]
        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Take over the account's config: read it, then write only if it differs.

        An account this process has just created holds MotherDuck's initial config, so it
        is written without reading it first: one call, not two, per new account.
        """
        inputs = DucklingInputs.from_props(props)
        username = known(inputs.username)
        client = self.client()
        try:
            if client.created_here(username):
                written = write(client, username, inputs.sides, None)
                return CreateResult(username, DucklingState.of(username, written).to_props())
            # This answer decides what is written: at most seconds old, whatever refresh read.
            live = client.get_duckling_config(username, max_age=DECIDING_AGE)
            return CreateResult(username, self._apply(username, inputs, live))
        except NotFoundError as exc:
            raise MotherDuckError(
                f"service account {username!r} does not exist; create it first "
                "(for example with a ServiceAccount resource passed as `username`)"
            ) from exc

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """PUT the whole config; the outputs come back complete from the response."""
        inputs = DucklingInputs.from_props(news)
        live = duckling(DucklingState.from_props(olds, _id).sides)
        return UpdateResult(self._apply(known(inputs.username), inputs, live))

    def _apply(self, username: str, inputs: DucklingInputs, live: DucklingConfig) -> dict[str, Any]:
        current = config_outs(username, live)
        written = write(self.client(), username, inputs.sides, current)
        return DucklingState.of(username, written).to_props()

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from `GET .../instances`; JSON NOT_FOUND means the account is gone."""
        try:
            live = self.client().get_duckling_config(id_)
        except NotFoundError:
            return ReadResult("", {})
        outs = config_outs(id_, live)
        return ReadResult(id_, outs, dict(outs))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """The API has no reset: leave the remote config as it is, and say so.

        Nothing is said when this run deletes or replaces the account itself (its config goes
        with it): the warning is held until the provider process ends, and the account's
        delete cancels it (see `_held`).
        """
        org = org_of(self)
        if account_leaves(id_, org) or account_holds_config(id_, org):
            return  # its config goes with the account, or the account now holds it
        was = DucklingState.from_props(props, id_)
        rw, rs = was.read_write or {}, was.read_scaling or {}
        summary = (
            f"read_write {rw.get('instance_size')}, read_scaling {rs.get('instance_size')} "
            f"x {show(rs.get('flock_size'))}"
        )
        _held.hold(
            (org, id_.casefold()),
            f"InstanceConfig for {id_!r} removed from the stack; MotherDuck has no reset, so "
            f"the account keeps its current Duckling configuration ({summary}) for as long as "
            "it exists",
        )


class InstanceConfig(Resource, module="motherduck", name="InstanceConfig"):
    """The Duckling configuration of an account: read/write size and read-scaling flock.

    Creating it adopts whatever the account has and applies the given settings; for an account
    that exists already (not created by this program) preview shows what changes and a smaller
    Duckling or flock needs `allow_downsize=True`. Removing it leaves the remote configuration
    unchanged (there is no reset in the API).
    """

    username: pulumi.Output[str]
    """The account whose Duckling configuration this is."""
    read_write: pulumi.Output[dict[str, Any]]
    """`instance_size` and, except for pulse, `cooldown_seconds` as the server applied them."""
    read_scaling: pulumi.Output[dict[str, Any]]
    """`instance_size`, `flock_size` and, except for pulse, `cooldown_seconds`."""

    def __init__(
        self,
        resource_name: str,
        *,
        username: pulumi.Input[str],
        read_write: pulumi.Input[ReadWriteArgs | ReadWriteArgsDict],
        read_scaling: pulumi.Input[ReadScalingArgs | ReadScalingArgsDict],
        allow_downsize: pulumi.Input[bool] | None = None,
        connection: Connection | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "username": username,
            "read_write": as_props(read_write),
            "read_scaling": as_props(read_scaling),
            "allow_downsize": allow_downsize,
        }
        _program.warn_plaintext_token(connection)
        found = validate(_program.plain(props)).failures
        props["__validated"] = _program.admit("InstanceConfig", resource_name, found)
        props[MAY_EXIST] = _program.account_may_exist(username)
        with _program.registering(self):
            super().__init__(InstanceConfigProvider(connection), resource_name, props, opts)
