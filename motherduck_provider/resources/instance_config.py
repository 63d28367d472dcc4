"""InstanceConfig: the Duckling (compute) configuration of one account.

The API replaces the whole config in one PUT and has no reset. A cooldown left unset keeps
the live value while the size stays the same and takes the server's default after a size
change, so refreshes and imports never show a perpetual diff.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any, TypedDict

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import rules
from ..errors import MotherDuckError, NotFoundError
from ..models import DucklingConfig
from ._base import ProviderBase, failures, is_unknown, user_props, warn

SIDES: dict[str, tuple[str, ...]] = {
    "read_write": ("instance_size", "cooldown_seconds"),
    "read_scaling": ("instance_size", "flock_size", "cooldown_seconds"),
}


class ReadWriteArgsDict(TypedDict, total=False):
    """The read/write Duckling as a dict: `instance_size` and optional `cooldown_seconds`."""

    instance_size: pulumi.Input[str]
    cooldown_seconds: pulumi.Input[int]


class ReadScalingArgsDict(TypedDict, total=False):
    """The read-scaling flock as a dict: `instance_size`, `flock_size`, `cooldown_seconds`."""

    instance_size: pulumi.Input[str]
    flock_size: pulumi.Input[int]
    cooldown_seconds: pulumi.Input[int]


@dataclass(frozen=True)
class ReadWriteArgs:
    """The read/write Duckling: one of pulse, standard, jumbo, mega, giga."""

    instance_size: pulumi.Input[str]
    cooldown_seconds: pulumi.Input[int] | None = None


@dataclass(frozen=True)
class ReadScalingArgs:
    """The read-scaling flock: its Duckling size and how many replicas (0 to 64)."""

    instance_size: pulumi.Input[str]
    flock_size: pulumi.Input[int]
    cooldown_seconds: pulumi.Input[int] | None = None


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


def config_outs(username: str, config: DucklingConfig) -> dict[str, Any]:
    """Outputs as the API reports them, server-filled cooldowns included."""
    data = config.model_dump(mode="json", exclude_none=True)
    return {"username": username, **data}


class InstanceConfigProvider(ProviderBase):
    """Read and replace the config through `GET/PUT /v1/users/{username}/instances`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate both sides and the username; unknown values pass through."""
        inputs = dict(news)
        problems: dict[str, list[str]] = {}
        username = inputs.get("username")
        if username is None:
            problems["username"] = ["is required"]
        elif not is_unknown(username):
            problems["username"] = rules.username_problems(username)
        for side in SIDES:
            inputs[side], problems[side] = side_problems(side, inputs.get(side))
        return CheckResult(inputs, failures(problems))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Username replaces; sizes, flock and cooldowns update in place."""
        replaces = ["username"] if olds.get("username") != news.get("username") else []
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
        """Take over the account's config: read it, then write only if it differs."""
        inputs = user_props(props)
        username: str = inputs["username"]
        try:
            live = self.client().get_duckling_config(username)
        except NotFoundError as exc:
            raise MotherDuckError(
                f"service account {username!r} does not exist; create it first "
                "(for example with a ServiceAccount resource passed as `username`)"
            ) from exc
        return CreateResult(username, self._apply(username, inputs, live))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """PUT the whole config; the outputs come back complete from the response."""
        inputs = user_props(news)
        live = DucklingConfig.model_validate({side: olds[side] for side in SIDES})
        return UpdateResult(self._apply(inputs["username"], inputs, live))

    def _apply(self, username: str, inputs: dict[str, Any], live: DucklingConfig) -> dict[str, Any]:
        current = config_outs(username, live)
        if all(side_matches(inputs[side], current[side]) for side in SIDES):
            return current
        body = DucklingConfig.model_validate(
            {side: merged_side(inputs[side], current[side]) for side in SIDES}
        )
        return config_outs(username, self.client().set_duckling_config(username, body))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from `GET .../instances`; JSON NOT_FOUND means the account is gone."""
        try:
            live = self.client().get_duckling_config(id_)
        except NotFoundError:
            return ReadResult("", {})
        outs = config_outs(id_, live)
        return ReadResult(id_, outs, dict(outs))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """The API has no reset: leave the remote config as it is, and say so."""
        warn(
            f"InstanceConfig for {id_!r} removed from the stack; MotherDuck has no reset, so "
            "the account keeps its current Duckling configuration"
        )


class InstanceConfig(Resource, module="motherduck", name="InstanceConfig"):
    """The Duckling configuration of an account: read/write size and read-scaling flock.

    Creating it adopts whatever the account has and applies the given settings; removing it
    leaves the remote configuration unchanged (there is no reset in the API).
    """

    username: pulumi.Output[str]
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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "username": username,
            "read_write": _as_props(read_write),
            "read_scaling": _as_props(read_scaling),
        }
        super().__init__(InstanceConfigProvider(), resource_name, props, opts)
