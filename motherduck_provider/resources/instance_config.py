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

from dataclasses import dataclass, fields, is_dataclass
from typing import TYPE_CHECKING, Any, TypedDict

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
from ..client import DECIDING_AGE
from ..connection import Connection
from ..errors import MotherDuckError, NotFoundError
from ..rules import InstanceSize
from . import _held, _program
from ._base import ProviderBase, failures, is_unknown, user_props, warn
from ._pickle_guard import pickler_restored
from ._trace_guard import stack_trace_trimmed
from .service_account import account_holds_config, account_leaves, org_of

if TYPE_CHECKING:
    from ..models import DucklingConfig

SIDES: dict[str, tuple[str, ...]] = {
    "read_write": ("instance_size", "cooldown_seconds"),
    "read_scaling": ("instance_size", "flock_size", "cooldown_seconds"),
}
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


def _as_props(value: Any) -> Any:
    """An args dataclass as a plain dict (Outputs inside are kept, not copied)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return value


def side_problems(side: str, value: Any) -> tuple[dict[str, Any] | Any, list[str]]:
    """One side checked and normalized (whole numbers as int, unset keys dropped)."""
    if value is None:
        return value, ["is required (the API sets both sides in one call)"]
    if is_unknown(value) and not isinstance(value, dict):
        return value, []
    if not isinstance(value, dict):
        return value, [f"must be a mapping, got {value!r}"]
    keys = SIDES[side]
    problems = [
        f"{k}: unknown setting (allowed: {', '.join(keys)})" for k in value if k not in keys
    ]
    clean = {k: v for k, v in value.items() if k in keys and v is not None}
    size = clean.get("instance_size")
    if size is None:
        problems.append("instance_size: is required")
    elif not is_unknown(size):
        problems += [
            f"instance_size: {p}" for p in rules.choice_problems(size, rules.INSTANCE_SIZES)
        ]
    if side == "read_scaling":
        flock = clean.get("flock_size")
        if flock is None:
            problems.append("flock_size: is required")
        elif not is_unknown(flock):
            found = rules.range_problems(flock, rules.FLOCK_MIN, rules.FLOCK_MAX)
            problems += [f"flock_size: {p}" for p in found]
            if not found:
                clean["flock_size"] = rules.whole_number(flock)
    cooldown = clean.get("cooldown_seconds")
    if cooldown is not None and not is_unknown(cooldown) and not is_unknown(size):
        found = rules.cooldown_problems(size, cooldown)
        problems += [p if p.startswith("cooldown") else f"cooldown_seconds: {p}" for p in found]
        if not found:
            clean["cooldown_seconds"] = rules.whole_number(cooldown)
    return clean, problems


def side_matches(desired: dict[str, Any], live: Any) -> bool:
    """Whether the live side already is what the program asks for (unset cooldown: any)."""
    if not isinstance(live, dict):
        return False
    return all(live.get(k) == v for k, v in desired.items())


def merged_side(desired: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
    """What to PUT for one side: an unset cooldown keeps the live one if the size is unchanged."""
    body = dict(desired)
    keep = live is not None and live.get("instance_size") == desired.get("instance_size")
    if "cooldown_seconds" not in body and keep and live and live.get("cooldown_seconds"):
        body["cooldown_seconds"] = live["cooldown_seconds"]
    return body


def known_cooldown(
    desired: Any, reference: Any, *, new_account: bool = False
) -> dict[str, Any] | Any:
    """`desired` with its unset cooldown filled in when the value it will have is known.

    `reference` is what the side is now (old inputs, or the live config of an adopted
    account): same size, its cooldown stays; another size, or a `new_account`, gets the
    size's default, which is what the server applies. Otherwise (nothing known, pulse, an
    unknown size) `desired` is returned as it is.
    """
    if not isinstance(desired, dict) or "cooldown_seconds" in desired:
        return desired
    size = desired.get("instance_size")
    if size not in rules.DEFAULT_COOLDOWN:
        return desired
    if isinstance(reference, dict) and not is_unknown(reference.get("instance_size")):
        if reference.get("instance_size") != size:
            return {**desired, "cooldown_seconds": rules.DEFAULT_COOLDOWN[size]}
        kept = rules.whole_number(reference.get("cooldown_seconds"))
        return {**desired, "cooldown_seconds": kept} if kept is not None else desired
    if new_account:
        return {**desired, "cooldown_seconds": rules.DEFAULT_COOLDOWN[size]}
    return desired


def live_changes(live: dict[str, Any], wanted: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """`(side.field, live, wanted)` for every field the write would change."""
    changes = []
    for side, keys in SIDES.items():
        for key in keys:
            old = live.get(side, {}).get(key)
            new = wanted.get(side, {}).get(key)
            if (
                key == "cooldown_seconds"
                and new is None
                and wanted.get(side, {}).get("instance_size")
                == live.get(side, {}).get("instance_size")
            ):
                continue  # unset and unknown: the server keeps the live value
            if old != new:
                changes.append((f"{side}.{key}", old, new))
    return changes


def shrinks(field: str, old: Any, new: Any) -> bool:
    """Whether a change makes a Duckling smaller or the flock shorter."""
    if field.endswith("instance_size"):
        return rules.size_shrinks(old, new)
    if field.endswith("flock_size"):
        return isinstance(old, int) and isinstance(new, int) and new < old
    return False


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


def _show(value: Any) -> str:
    return "none" if value is None else rules.show(value)


def duckling(data: dict[str, Any]) -> DucklingConfig:
    """The API's config model; pydantic loads here, at the first API call, not with `check`."""
    from ..models import DucklingConfig

    return DucklingConfig.model_validate(data)


def config_outs(username: str, config: DucklingConfig) -> dict[str, Any]:
    """Outputs as the API reports them, server-filled cooldowns included."""
    data = config.model_dump(mode="json", exclude_none=True)
    return {"username": username, **data}


class InstanceConfigProvider(ProviderBase):
    """Read and replace the config through `GET/PUT /v1/users/{username}/instances`."""

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
        inputs = result.inputs
        username = inputs.get("username")
        creating = not olds or olds.get("username") != username
        live: dict[str, Any] | None = None
        adopting = creating and may_exist is True
        if adopting and isinstance(username, str) and not is_unknown(username):
            try:
                live = config_outs(username, self.client().get_duckling_config(username))
            except NotFoundError:
                live = None  # not there (yet): nothing to take over
        for side in SIDES:
            reference = live.get(side) if live else (None if creating else olds.get(side))
            inputs[side] = known_cooldown(
                inputs[side], reference, new_account=creating and may_exist is False
            )
        found: list[CheckFailure] = []
        if live is not None and not any(is_unknown(inputs[side]) for side in SIDES):
            found = self._take_over(str(username), live, inputs)
        return CheckResult(inputs, found)

    @staticmethod
    def _take_over(
        username: str, live: dict[str, Any], inputs: dict[str, Any], kind: str = "InstanceConfig"
    ) -> list[CheckFailure]:
        """Say what taking over the live config changes; refuse a shrink not allowed."""
        changes = live_changes(live, inputs)
        if not changes:
            return []
        allowed = inputs.get("allow_downsize") is True
        found = []
        for field, old, new in changes:
            if shrinks(field, old, new) and not allowed:
                side, _, key = field.partition(".")
                found.append(
                    CheckFailure(
                        side,
                        f"{side}: {key} {_show(new)} would shrink the live {_show(old)} of "
                        f"existing account {username!r}; set allow_downsize=True on this "
                        f"{kind} to allow it, or ask for at least the live value",
                    )
                )
        listed = "; ".join(f"{field}: {_show(old)} -> {_show(new)}" for field, old, new in changes)
        verb = "would change" if found else "will change"
        warn(
            f"{kind} for existing account {username!r} {verb} its live Duckling "
            f"configuration: {listed}"
        )
        return found

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Username replaces; sizes, flock and cooldowns update in place."""
        replaces = [k for k in REPLACE_ON_CHANGE if olds.get(k) != news.get(k)]
        changed = [
            side
            for side in SIDES
            if is_unknown(news.get(side)) or not side_matches(news.get(side) or {}, olds.get(side))
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
        inputs = user_props(props)
        username: str = inputs["username"]
        client = self.client()
        try:
            if client.created_here(username):
                body = {side: merged_side(inputs[side], None) for side in SIDES}
                written = client.set_duckling_config(username, duckling(body))
                return CreateResult(username, config_outs(username, written))
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
        inputs = user_props(news)
        live = duckling({side: olds[side] for side in SIDES})
        return UpdateResult(self._apply(inputs["username"], inputs, live))

    def _apply(self, username: str, inputs: dict[str, Any], live: DucklingConfig) -> dict[str, Any]:
        current = config_outs(username, live)
        if all(side_matches(inputs[side], current[side]) for side in SIDES):
            return current
        body = duckling({side: merged_side(inputs[side], current[side]) for side in SIDES})
        return config_outs(username, self.client().set_duckling_config(username, body))

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
        rw, rs = props.get("read_write") or {}, props.get("read_scaling") or {}
        summary = (
            f"read_write {rw.get('instance_size')}, read_scaling {rs.get('instance_size')} "
            f"x {_show(rs.get('flock_size'))}"
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
            "read_write": _as_props(read_write),
            "read_scaling": _as_props(read_scaling),
            "allow_downsize": allow_downsize,
        }
        _program.warn_plaintext_token(connection)
        found = validate(_program.plain(props)).failures
        props["__validated"] = _program.admit("InstanceConfig", resource_name, found)
        props[MAY_EXIST] = _program.account_may_exist(username)
        with pickler_restored(), stack_trace_trimmed():
            super().__init__(InstanceConfigProvider(connection), resource_name, props, opts)
