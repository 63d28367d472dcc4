"""The Duckling configuration's rules, take-over and write: one leaf both resources call.

`InstanceConfig` holds an account's configuration on its own; a `ServiceAccount` may hold it
inline (`read_write`/`read_scaling`). Both check, take over and write it through these
functions, so neither resource module imports the other. The API replaces the whole config in
one PUT and has no reset: a cooldown left unset keeps the live value while the size stays the
same and takes the server's default after a size change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CheckFailure

from .. import rules
from ..errors import NotFoundError
from ._base import is_unknown, warn

if TYPE_CHECKING:
    from ..client import AdminClient
    from ..models import DucklingConfig

SIDES: dict[str, tuple[str, ...]] = {
    "read_write": ("instance_size", "cooldown_seconds"),
    "read_scaling": ("instance_size", "flock_size", "cooldown_seconds"),
}


def as_props(value: Any) -> Any:
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


def show(value: Any) -> str:
    return "none" if value is None else rules.show(value)


def duckling(data: dict[str, Any]) -> DucklingConfig:
    """The API's config model; pydantic loads here, at the first API call, not with `check`."""
    from ..models import DucklingConfig

    return DucklingConfig.model_validate(data)


def config_outs(username: str, config: DucklingConfig) -> dict[str, Any]:
    """Outputs as the API reports them, server-filled cooldowns included."""
    data = config.model_dump(mode="json", exclude_none=True)
    return {"username": username, **data}


def take_over(
    username: str, live: dict[str, Any], inputs: dict[str, Any], kind: str
) -> list[CheckFailure]:
    """Say what taking over the live config changes; refuse a shrink not allowed.

    `kind` names the resource that takes it over (InstanceConfig or ServiceAccount), since the
    fix (`allow_downsize=True`) goes on that resource.
    """
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
                    f"{side}: {key} {show(new)} would shrink the live {show(old)} of "
                    f"existing account {username!r}; set allow_downsize=True on this "
                    f"{kind} to allow it, or ask for at least the live value",
                )
            )
    listed = "; ".join(f"{field}: {show(old)} -> {show(new)}" for field, old, new in changes)
    verb = "would change" if found else "will change"
    warn(
        f"{kind} for existing account {username!r} {verb} its live Duckling configuration: {listed}"
    )
    return found


def check_live(
    read_live: Callable[[str], DucklingConfig],
    olds: dict[str, Any],
    inputs: dict[str, Any],
    *,
    may_exist: bool | None,
    kind: str,
) -> list[CheckFailure]:
    """Fill in known cooldowns (in `inputs`); taking over an account that may exist reads its
    live config (`read_live`), shows what changes and refuses a shrink not allowed.

    `may_exist` True: the account may exist and is not created by this program (the one case
    where a check calls the API); False: the program creates it, so it gets the defaults.
    """
    username = inputs.get("username")
    creating = not olds or olds.get("username") != username
    live: dict[str, Any] | None = None
    if creating and may_exist is True and isinstance(username, str) and not is_unknown(username):
        try:
            live = config_outs(username, read_live(username))
        except NotFoundError:
            live = None  # not there (yet): nothing to take over
    for side in SIDES:
        reference = live.get(side) if live else (None if creating else olds.get(side))
        inputs[side] = known_cooldown(
            inputs[side], reference, new_account=creating and may_exist is False
        )
    if live is None or any(is_unknown(inputs[side]) for side in SIDES):
        return []
    return take_over(str(username), live, inputs, kind)


def write(
    client: AdminClient, username: str, inputs: Mapping[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    """PUT the whole configuration unless `current` (the live sides) already is it.

    `inputs`: each side wanted, by name (a resource's inputs, or their `sides`). `current`
    None: the account has MotherDuck's initial config (this process created it), so
    the body is the inputs alone. Returns both sides as the server applied them.
    """
    if current is not None and all(side_matches(inputs[side], current[side]) for side in SIDES):
        return {side: current[side] for side in SIDES}
    body = duckling(
        {side: merged_side(inputs[side], current[side] if current else None) for side in SIDES}
    )
    written = config_outs(username, client.set_duckling_config(username, body))
    return {side: written[side] for side in SIDES}
