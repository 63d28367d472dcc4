"""The boundary between the engine's property values and the dynamic providers' dicts.

The schema spells properties in camelCase (`tokenType`, `readWrite`), the dynamic providers in
snake_case; an unknown value is the dynamic SDK's `UNKNOWN` string on our side and `Computed`
on the engine's; a secret is unwrapped going in, and a value from a secret input, or a secret
output (`SECRET_OUTPUTS`), is wrapped again coming out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

# Outputs that are always secrets, in the dynamic providers' spelling.
SECRET_OUTPUTS = frozenset({"token", "previous_token", "tokens", "previous_tokens"})
_UPPER = re.compile(r"[A-Z]")


def camel(name: str) -> str:
    """`token_type` -> `tokenType`; a name without `_` is kept."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """`tokenType` -> `token_type` (the inverse of `camel` for our names)."""
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), name)


# `pulumi stack export` writes a secret as an object with this key (its value a fixed sig).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"


def state_names(value: Any) -> Any:
    """A value as `pulumi stack export` writes it, with every object key in `camel` case.

    A secret (the object `SECRET_SIG_KEY` marks) is kept whole: its ciphertext stays as the
    stack's secrets manager wrote it. The moving of Python stacks uses this (`migrate.py`).
    """
    if isinstance(value, Mapping):
        if SECRET_SIG_KEY in value:
            return dict(value)
        return {camel(str(k)): state_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [state_names(v) for v in value]
    return value


def _plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {snake(k): _plain(v) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [_plain(v) for v in inner]
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)  # protobuf numbers are floats; our rules want whole numbers as int
    return inner


def to_plain(props: Mapping[str, PropertyValue], rename: bool = True) -> dict[str, Any]:
    """Engine properties as the dynamic providers take them (snake_case, secrets unwrapped).

    `rename=False` keeps the top-level names (config keys are camelCase on both sides).
    """
    return {(snake(k) if rename else k): _plain(v) for k, v in props.items()}


def secret_keys(props: Mapping[str, PropertyValue]) -> set[str]:
    """The snake_case names of the properties that are (or hold) secrets."""
    return {snake(k) for k, v in props.items() if v.contains_secret()}


def to_engine(value: Any, rename: bool = True) -> PropertyValue:
    """One plain value as an engine value; `rename=False` keeps map keys (token names)."""
    if isinstance(value, str) and value == UNKNOWN:
        # The wire form of "unknown" itself: the SDK's `Computed` cannot be marshalled (its
        # `marshal` has no case for it), and the engine reads this string as unknown.
        return PropertyValue(UNKNOWN)
    if isinstance(value, Mapping):
        keys = camel if rename else str
        return PropertyValue({keys(str(k)): to_engine(v, rename) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return PropertyValue([to_engine(v, rename) for v in value])
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return PropertyValue(value)
    if isinstance(value, int | float):
        return PropertyValue(float(value))
    raise TypeError(f"cannot pass a {type(value).__name__} to the engine")


def from_plain(
    values: Mapping[str, Any], secrets: Collection[str] = (), outputs: bool = True
) -> dict[str, PropertyValue]:
    """A dynamic provider's dict as engine properties; `secrets` and `SECRET_OUTPUTS` wrapped.

    `outputs=False` (inputs: `check`, `read`'s inputs) leaves `SECRET_OUTPUTS` alone: a one-step
    account's `tokens` input holds settings, not secrets, and preview shows them by path.
    A secret output that is None stays a plain null: there is nothing to hide, and the engine
    shows `[secret]` only for a value.
    """
    hidden = set(secrets) | (SECRET_OUTPUTS if outputs else set())
    out: dict[str, PropertyValue] = {}
    for key, value in values.items():
        converted = to_engine(value)
        if key in hidden and value is not None:
            converted = converted.with_secret(True)
        out[camel(key)] = converted
    return out
