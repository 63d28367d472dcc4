"""Input rules for the three resources, stated once and used by `check` and the API models.

Each rule returns human-readable problems naming the value and the rule, so `pulumi preview`
can report every failure at once before any request is sent.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, Final, Literal, get_args

InstanceSize = Literal["pulse", "standard", "jumbo", "mega", "giga"]
"""Duckling sizes, smallest first (the order `size_shrinks` uses)."""
TokenType = Literal["read_write", "read_scaling"]
"""Access token types; `read_write` is the API's default."""
DEFAULT_TOKEN_TYPE: Final[TokenType] = "read_write"

USERNAME_MIN: Final = 3
USERNAME_MAX: Final = 255
TOKEN_NAME_MAX: Final = 255
RESERVED_TOKEN_NAMES: Final = frozenset({"MotherDuck Extension", "MotherDuck Flights"})
TTL_MIN: Final = 300
TTL_MAX: Final = 31_536_000
TOKEN_TYPES: Final[tuple[str, ...]] = get_args(TokenType)
INSTANCE_SIZES: Final[tuple[str, ...]] = get_args(InstanceSize)
# The cooldown MotherDuck applies when none is sent (pulse has none): the API notes'
# "standard 60, jumbo 60, mega 300, giga 600 s".
DEFAULT_COOLDOWN: Final = {"standard": 60, "jumbo": 60, "mega": 300, "giga": 600}
FLOCK_MIN: Final = 0
FLOCK_MAX: Final = 64
COOLDOWN_MIN: Final = 60
COOLDOWN_MAX: Final = 86_400
ROTATE_BEFORE_MIN: Final = 0
ASCII_DIGITS: Final = frozenset("0123456789")

# The rules above in words, for the reference pages (`tools/docs_reference`): built from the
# same constants, so a changed limit changes the documentation with it.
USERNAME_RULE: Final = (
    f"{USERNAME_MIN}–{USERNAME_MAX:,} characters, a letter first, then letters, digits (0–9) "
    "or `_`; case-insensitive"
)
TTL_RULE: Final = f"whole seconds, {TTL_MIN:,}–{TTL_MAX:,}"
FLOCK_RULE: Final = f"whole number, {FLOCK_MIN}–{FLOCK_MAX}"
COOLDOWN_RULE: Final = f"whole seconds, {COOLDOWN_MIN}–{COOLDOWN_MAX:,}; not with `pulse`"
RESERVED_NAMES_RULE: Final = "not " + " or ".join(f"`{n}`" for n in sorted(RESERVED_TOKEN_NAMES))


def choices_rule(choices: tuple[str, ...]) -> str:
    """`one of a, b, c`: the rule `choice_problems` enforces, in words."""
    return "one of " + ", ".join(f"`{c}`" for c in choices)


def username_problems(value: Any) -> list[str]:
    """Service account names: 3-255 chars, a letter first, then letters, ASCII digits or `_`."""
    if not isinstance(value, str):
        return [f"must be a string, got {value!r}"]
    problems = []
    if not USERNAME_MIN <= len(value) <= USERNAME_MAX:
        problems.append(
            f"{value!r} has {len(value)} characters; a username has "
            f"{USERNAME_MIN} to {USERNAME_MAX}"
        )
    if value and not value[0].isalpha():
        problems.append(f"{value!r} must start with a letter")
    bad = sorted({c for c in value if not (c.isalpha() or c in ASCII_DIGITS or c == "_")})
    if bad:
        problems.append(
            f"{value!r} may only contain letters, digits and '_' (found {''.join(bad)!r})"
        )
    return problems


def token_name_problems(value: Any) -> list[str]:
    """Token names: 1-255 characters and not one of MotherDuck's reserved labels."""
    if not isinstance(value, str):
        return [f"must be a string, got {value!r}"]
    if not 1 <= len(value) <= TOKEN_NAME_MAX:
        return [f"{value!r} has {len(value)} characters; a token name has 1 to {TOKEN_NAME_MAX}"]
    if value in RESERVED_TOKEN_NAMES:
        return [f"{value!r} is reserved by MotherDuck; choose another name"]
    return []


def dive_id_problems(value: Any) -> list[str]:
    """Dive ids: a UUID (the contract's `format: uuid`), as the Dive's URL shows it."""
    if not isinstance(value, str):
        return [f"must be a string, got {value!r}"]
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value.lower():  # the 36-character form only
        return [f"{value!r} is not a Dive id (a UUID such as 6f1c2f4e-3b0a-4c55-9d6b-1f2e3d4c5b6a)"]
    return []


def session_hint_problems(value: Any) -> list[str]:
    """Embed session hints: absent, or a non-empty string."""
    if value is None or (isinstance(value, str) and value):
        return []
    return [f"must be a non-empty string or unset, got {value!r}"]


def show(value: Any) -> str:
    """A value as users wrote it: the engine sends every number as a float (300 -> 300.0)."""
    number = whole_number(value)
    return str(number) if number is not None else repr(value)


def whole_number(value: Any) -> int | None:
    """The int a JSON number stands for when it is whole (2 or 2.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def range_problems(value: Any, low: int, high: int, unit: str = "") -> list[str]:
    """A whole number between low and high inclusive."""
    number = whole_number(value)
    suffix = f" {unit}" if unit else ""
    if number is None:
        return [f"must be a whole number, got {value!r}"]
    if not low <= number <= high:
        return [f"{number} is out of range; allowed {low} to {high}{suffix}"]
    return []


def choice_problems(value: Any, choices: tuple[str, ...]) -> list[str]:
    """One of a fixed set of strings."""
    if value not in choices:
        return [f"{value!r} is not one of {', '.join(choices)}"]
    return []


def cooldown_problems(size: Any, cooldown: Any) -> list[str]:
    """Cooldowns are 60-86,400 s and cannot be set for `pulse`, which has none."""
    if cooldown is None:
        return []
    if size == "pulse":
        return [f"cooldown_seconds ({show(cooldown)}) cannot be set with instance_size 'pulse'"]
    return range_problems(cooldown, COOLDOWN_MIN, COOLDOWN_MAX, "seconds")


def size_shrinks(live: Any, wanted: Any) -> bool:
    """Whether going from Duckling size `live` to `wanted` makes it smaller."""
    if live not in INSTANCE_SIZES or wanted not in INSTANCE_SIZES:
        return False
    return INSTANCE_SIZES.index(wanted) < INSTANCE_SIZES.index(live)
