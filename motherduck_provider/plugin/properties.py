"""The boundary between the engine's property values and the dynamic providers' dicts.

The schema spells properties in camelCase (`tokenType`, `readWrite`), the dynamic providers in
snake_case; an unknown value is the dynamic SDK's `UNKNOWN` string on our side and `Computed`
on the engine's; a secret is unwrapped going in, and a value from a secret input, or a secret
output (`SECRET_OUTPUTS`), is wrapped again coming out. The keys of a map of tokens by name
(`NAMED_MAPS`) are names the program chose, and cross as they are.
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
# Properties whose keys are token names (`tokens: {CI: {...}}`), not property names; the
# values under them (a token's settings or details) are spelled like properties again.
NAMED_MAPS = frozenset({"tokens", "previous_tokens", "token_ids", "token_details"})


def camel(name: str) -> str:
    """`token_type` -> `tokenType`; a name without `_` is kept."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """`tokenType` -> `token_type` (the inverse of `camel` for our names)."""
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), name)


# `pulumi stack export` writes a secret as an object with this key (its value a fixed sig).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"


def state_names(value: Any, names: bool = False) -> Any:
    """A value as `pulumi stack export` writes it, with every property name in `camel` case;
    token names (the keys of `NAMED_MAPS`; `names`: this map's) are kept.

    A secret (the object `SECRET_SIG_KEY` marks) is kept whole: its ciphertext stays as the
    stack's secrets manager wrote it. The moving of Python stacks uses this (`migrate.py`).
    """
    if isinstance(value, Mapping):
        if SECRET_SIG_KEY in value:
            return dict(value)
        return {
            (str(k) if names else camel(str(k))): state_names(
                v, not names and snake(str(k)) in NAMED_MAPS
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [state_names(v) for v in value]
    return value


def _plain(value: PropertyValue, names: bool = False) -> Any:
    """`names`: the map's keys are names, kept as they are."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {(k if names else snake(k)): _plain(v) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [_plain(v) for v in inner]
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)  # protobuf numbers are floats; our rules want whole numbers as int
    return inner


def to_plain(props: Mapping[str, PropertyValue], rename: bool = True) -> dict[str, Any]:
    """Engine properties as the dynamic providers take them (snake_case, secrets unwrapped).

    `rename=False` keeps the top-level names (config keys are camelCase on both sides).
    """
    plain: dict[str, Any] = {}
    for key, value in props.items():
        name = snake(key) if rename else key
        plain[name] = _plain(value, names=name in NAMED_MAPS)
    return plain


def secret_keys(props: Mapping[str, PropertyValue]) -> set[str]:
    """The snake_case names of the properties that are (or hold) secrets."""
    return {snake(k) for k, v in props.items() if v.contains_secret()}


def to_engine(value: Any, rename: bool = True, names: bool = False) -> PropertyValue:
    """One plain value as an engine value; `rename=False` keeps map keys (token names), and
    `names` keeps this map's own keys (a map of tokens by name) but not those below it."""
    if isinstance(value, str) and value == UNKNOWN:
        # The wire form of "unknown" itself: the SDK's `Computed` cannot be marshalled (its
        # `marshal` has no case for it), and the engine reads this string as unknown.
        return PropertyValue(UNKNOWN)
    if isinstance(value, Mapping):
        keys = camel if rename and not names else str
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
        converted = to_engine(value, names=key in NAMED_MAPS)
        if key in hidden and value is not None:
            converted = converted.with_secret(True)
        out[camel(key)] = converted
    return out


def legacy_names(olds: dict[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """`olds` with the token names an earlier plugin respelled put back as the program gives
    them, so the same token is not taken for another.

    That plugin wrote `camel(snake(name))` (`ciLoader` for `ci_loader`) and, for a
    `ManagedAccount`'s child, `camel(snake(camel(name)))` (`NightlyCI` for `Nightly_CI`). A key
    is renamed only where the program has no token of that spelling, so the state this plugin
    writes is returned unchanged.
    """
    wanted = news.get("tokens")
    if not isinstance(wanted, Mapping):
        return olds
    fixed = dict(olds)
    for key in NAMED_MAPS & olds.keys():
        held = olds[key]
        if not isinstance(held, Mapping):
            continue
        renamed: dict[str, str] = {}
        for name in wanted:
            for old in (camel(snake(name)), camel(snake(camel(name)))):
                if name not in held and old in held and old not in wanted:
                    renamed[old] = name
        fixed[key] = {renamed.get(n, n): v for n, v in held.items()}
    return fixed
