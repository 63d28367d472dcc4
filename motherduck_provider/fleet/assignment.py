"""Which shard of a fleet owns an account: a hash of the username, or a recorded pin.

The assignment must never change by itself, or an `up` would delete an account in one stack
and create it again in another. So it depends only on the casefolded username (sha256, not
Python's salted `hash`) and on the shard count fixed when the fleet was created; an account
moved on purpose (`python -m motherduck_provider.fleet move`) is pinned to its new shard.
The program reads them from each shard stack, whose config is the same in every shard:

* the stack name `<prefix>-<k>`: this stack's shard k, 0 to count - 1;
* `motherduck:fleetShards`: the shard count;
* `motherduck:fleetPins`: optional, `{"username": shard}` for moved accounts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import ConfigurationError

CONFIG_NAMESPACE = "motherduck"
SHARDS_KEY = "fleetShards"
PINS_KEY = "fleetPins"
MAX_SHARDS = 1000

T = TypeVar("T")


def account_key(username: str) -> str:
    """The form of a username that assignment and pins compare (MotherDuck's are case-blind)."""
    return username.casefold()


def shard_of(username: str, shards: int) -> int:
    """The shard the hash gives `username` in a fleet of `shards` (0-based)."""
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards: {shards} is not within 1..{MAX_SHARDS}")
    digest = hashlib.sha256(account_key(username).encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def parse_pins(raw: Any, shards: int) -> dict[str, int]:
    """`motherduck:fleetPins` as {casefolded username: shard}; a bad one raises, naming it."""
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{CONFIG_NAMESPACE}:{PINS_KEY}: is not JSON") from exc
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{CONFIG_NAMESPACE}:{PINS_KEY}: must map usernames to shards")
    pins: dict[str, int] = {}
    for name, shard in raw.items():
        if isinstance(shard, bool) or not isinstance(shard, int) or not 0 <= shard < shards:
            raise ConfigurationError(
                f"{CONFIG_NAMESPACE}:{PINS_KEY}: {name!r} is pinned to {shard!r}, "
                f"not a shard within 0..{shards - 1}"
            )
        pins[account_key(str(name))] = shard
    return pins


@dataclass(frozen=True)
class Shard:
    """One stack's part of a fleet; `Shard()` (no fleet) owns every account.

    Declare every tenant in the program and keep only this stack's::

        shard = Shard.current()
        for tenant in shard.select(tenants):
            ManagedAccount(tenant, username=tenant, ...)
    """

    index: int = 0
    count: int = 1
    pins: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ConfigurationError(
                f"{CONFIG_NAMESPACE}:{SHARDS_KEY}: {self.count} is not within 1..{MAX_SHARDS}"
            )
        if not 0 <= self.index < self.count:
            raise ConfigurationError(
                f"shard {self.index} (from the stack name) is not within "
                f"0..{self.count - 1} ({CONFIG_NAMESPACE}:{SHARDS_KEY} is {self.count})"
            )

    @classmethod
    def from_config(cls, get: Callable[[str], Any], stack: str) -> Shard:
        """Build from a config getter (key -> raw value or None) and the stack's name.

        No `fleetShards`: one plain stack that owns everything. In a fleet the shard is the
        number the stack's name ends with (`<prefix>-<k>`): the config stays the same in every
        shard, which `pulumi state move` needs (it records the config with the provider).
        """
        count = get(SHARDS_KEY)
        if count is None:
            return cls()
        shards = _whole(SHARDS_KEY, count)
        _, sep, suffix = stack.rpartition("-")
        if not sep or not suffix.isdigit():
            raise ConfigurationError(
                f"{CONFIG_NAMESPACE}:{SHARDS_KEY} is set, but stack {stack!r} does not end "
                "with -<shard> (create shards with `python -m motherduck_provider.fleet init`)"
            )
        return cls(int(suffix), shards, parse_pins(get(PINS_KEY), shards))

    @classmethod
    def current(cls) -> Shard:
        """This stack's shard, from its name and `motherduck:fleet*` config (in a program)."""
        import pulumi

        config = pulumi.Config(CONFIG_NAMESPACE)
        return cls.from_config(config.get, pulumi.get_stack())

    @property
    def in_fleet(self) -> bool:
        return self.count > 1 or bool(self.pins)

    def shard_for(self, username: str) -> int:
        """The shard that owns `username` in this fleet (its pin, else the hash)."""
        pinned = self.pins.get(account_key(username))
        return pinned if pinned is not None else shard_of(username, self.count)

    def owns(self, username: str) -> bool:
        """Whether this stack declares `username`'s resources."""
        return self.shard_for(username) == self.index

    def select(self, items: Iterable[T], key: Callable[[T], str] | None = None) -> list[T]:
        """The items this stack owns, in their order; `key` gives an item's username."""
        name = key or str
        return [item for item in items if self.owns(name(item))]


def _whole(key: str, value: Any) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigurationError(
            f"{CONFIG_NAMESPACE}:{key}: {value!r} is not a whole number"
        ) from None
    return number
