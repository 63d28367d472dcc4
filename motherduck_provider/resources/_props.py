"""Typed views of the dicts the engine hands provider methods, and of the outputs they return.

Pulumi passes `olds`, `news` and `props` as plain dicts; these views are the one place that
knows each resource's keys and their defaults. `from_props` reads values as the engine sends
them, converting nothing (numbers arrive as floats). `to_props` builds the dict state records:
the same keys, values and None entries as before these views existed, so users' state does not
change. Inputs are known in create, read and update; in `diff` during a preview any input may
still be the engine's placeholder, typed `Unknown` here. Outputs are always known.

Leaf module: it imports no resource module, so every one of them can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NewType, TypedDict, TypeVar, Unpack, cast

from ._base import PROVIDER_KEY

Unknown = NewType("Unknown", str)
"""The engine's placeholder for an input not known yet, in a preview (see `is_unknown`)."""

Side = dict[str, Any]
"""One side of a Duckling configuration (`read_write` or `read_scaling`), as the API reports it."""

_T = TypeVar("_T")


def known(value: _T | Unknown) -> _T:
    """`value` where the engine has resolved every input (create, update): never `Unknown`."""
    return cast(_T, value)


# --- ServiceAccount ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountInputs:
    """A ServiceAccount's inputs (`news`)."""

    username: str | Unknown
    adopt: bool | Unknown | None = None
    read_write: Side | Unknown | None = None
    read_scaling: Side | Unknown | None = None
    allow_downsize: bool | Unknown | None = None
    # The `tokens` map (name -> settings) as given; `_account_tokens.declared` reads each entry.
    tokens: Mapping[str, Any] | Unknown | None = None
    owner: str | None = None
    # Whether the inputs carry tokens (the program declares `token_details` too, as None).
    holds_tokens: bool = False

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> AccountInputs:
        return cls(
            username=props["username"],
            adopt=props.get("adopt"),
            read_write=props.get("read_write"),
            read_scaling=props.get("read_scaling"),
            allow_downsize=props.get("allow_downsize"),
            tokens=props.get("tokens"),
            owner=props.get("owner"),
            holds_tokens=props.get("tokens") is not None or props.get("token_details") is not None,
        )

    @property
    def holds_config(self) -> bool:
        """Whether the account itself holds its Duckling configuration (no InstanceConfig)."""
        return self.read_write is not None or self.read_scaling is not None

    @property
    def sides(self) -> dict[str, Side | Unknown | None]:
        return {"read_write": self.read_write, "read_scaling": self.read_scaling}


@dataclass(frozen=True)
class AccountState:
    """A ServiceAccount's outputs: the account, its Duckling configuration when it holds it,
    its tokens when it holds them."""

    username: str
    adopt: bool = False
    # Each side as the server applied it, or None where a write failed; in the outputs only
    # when the account holds its configuration (`records_config`).
    read_write: Side | None = None
    read_scaling: Side | None = None
    records_config: bool = False
    # The tokens by name (None: it holds none), and who declared the account.
    tokens: dict[str, TokenState] | None = None
    owner: str | None = None
    # Not an output: a read passes it on to the inputs should the props carry it.
    allow_downsize: bool | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any], username: str | None = None) -> AccountState:
        """`username`: the resource id, which names the account even where props have none
        (a read for `pulumi import`)."""
        name = username or props.get("username") or ""
        holds_tokens = props.get("tokens") is not None or props.get("token_details") is not None
        return cls(
            username=name,
            adopt=bool(props.get("adopt")),
            read_write=props.get("read_write"),
            read_scaling=props.get("read_scaling"),
            records_config="read_write" in props or "read_scaling" in props,
            tokens=recorded_tokens(props, name) if holds_tokens else None,
            owner=props.get("owner"),
            allow_downsize=props.get("allow_downsize"),
        )

    @classmethod
    def of(cls, inputs: AccountInputs) -> AccountState:
        """The outputs that follow from known inputs alone: the configuration as given."""
        return cls(
            username=known(inputs.username),
            adopt=bool(inputs.adopt),
            read_write=known(inputs.read_write),
            read_scaling=known(inputs.read_scaling),
            records_config=inputs.holds_config,
        )

    def configured(self, sides: Mapping[str, Side | None]) -> AccountState:
        """These outputs with the configuration `sides` (by side name) records."""
        return replace(self, read_write=sides["read_write"], read_scaling=sides["read_scaling"])

    @property
    def holds_config(self) -> bool:
        return self.read_write is not None or self.read_scaling is not None

    @property
    def holds_tokens(self) -> bool:
        return self.tokens is not None

    @property
    def sides(self) -> dict[str, Side | None]:
        return {"read_write": self.read_write, "read_scaling": self.read_scaling}

    def to_props(self) -> dict[str, Any]:
        outs: dict[str, Any] = {"username": self.username, "adopt": self.adopt}
        if self.records_config:
            outs.update(self.sides)
        if self.tokens is not None:
            outs.update(token_outputs(self.tokens), owner=self.owner)
        return outs


# --- InstanceConfig ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DucklingInputs:
    """An InstanceConfig's inputs (`news`): both sides are required by `check`."""

    username: str | Unknown
    read_write: Side | Unknown
    read_scaling: Side | Unknown
    allow_downsize: bool | Unknown | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> DucklingInputs:
        return cls(
            username=props["username"],
            read_write=props["read_write"],
            read_scaling=props["read_scaling"],
            allow_downsize=props.get("allow_downsize"),
        )

    @property
    def sides(self) -> dict[str, Side | Unknown]:
        return {"read_write": self.read_write, "read_scaling": self.read_scaling}


@dataclass(frozen=True)
class DucklingState:
    """An InstanceConfig's outputs: the account and both sides as the server applied them.

    Every create, read and update records both sides; a side is None only in a state edited
    by hand, which delete still reads (its warning shows `None`).
    """

    username: str
    read_write: Side | None
    read_scaling: Side | None

    @classmethod
    def from_props(cls, props: Mapping[str, Any], username: str | None = None) -> DucklingState:
        """`username`: the resource id, which names the account whatever the props hold."""
        name = username or props.get("username") or ""
        return cls(name, props.get("read_write"), props.get("read_scaling"))

    @classmethod
    def of(cls, username: str, sides: Mapping[str, Side]) -> DucklingState:
        """The outputs of a write or read: `sides` by name, as the server applied them."""
        return cls(username, sides["read_write"], sides["read_scaling"])

    @property
    def sides(self) -> dict[str, Side | None]:
        return {"read_write": self.read_write, "read_scaling": self.read_scaling}

    def to_props(self) -> dict[str, Any]:
        return {"username": self.username, **self.sides}


# --- tokens (AccessToken, and each entry of a ServiceAccount's `tokens`) ------------------------


@dataclass(frozen=True)
class TokenSettings:
    """One token as a program declares it: AccessToken's inputs, or one entry of an account's
    `tokens` with the account, the entry's name and its owner (`_account_tokens.declared`)."""

    username: str | Unknown | None = None
    name: str | Unknown | None = None
    ttl: float | Unknown | None = None
    token_type: str | Unknown | None = None
    rotate_before: float | Unknown | None = None
    keep_previous_for: float | Unknown | None = None
    rotation_trigger: str | Unknown | None = None
    adopt_token_id: str | Unknown | None = None
    # Who declared it (hidden input, see `owner_of`); never compared, so never replaces.
    owner: str | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> TokenSettings:
        return cls(**{key: props.get(key) for key in _SETTINGS_KEYS})

    def to_props(self) -> dict[str, Any]:
        """AccessToken's inputs as read records them: `owner` only when there is one."""
        props = {key: getattr(self, key) for key in _SETTINGS_KEYS if key != "owner"}
        if self.owner:
            props["owner"] = self.owner
        return props


class TokenMetadata(TypedDict):
    """The live token's metadata, as `TokenState` records it (`_token_core.metadata`)."""

    token_id: str
    expire_at: str | None
    created_ts: str
    read_only: bool
    token_type: str


class TokenFields(TypedDict, total=False):
    """The fields of `TokenState` as keywords: what `TokenState.but` may set (mypy checks it)."""

    username: str | None
    name: str | None
    ttl: float | None
    token_type: str | None
    rotate_before: float | None
    keep_previous_for: float | None
    rotation_trigger: str | None
    adopt_token_id: str | None
    owner: str | None
    token: str | None
    token_id: str | None
    expire_at: str | None
    created_ts: str | None
    read_only: bool | None
    mark: str | None
    previous_token: str | None
    previous_token_id: str | None
    previous_revoke_after: str | None
    sweep_after: str | None
    rotates_at: str | None


@dataclass(frozen=True)
class TokenState:
    """One token as state records it: its settings, the live token's metadata and secret, the
    previous token an overlapping rotation keeps, and a sweep still owed (`sweep_after`).

    AccessToken's outputs are this dict; a ServiceAccount spreads it over its token outputs.
    A stack from an older version (or an import) lacks some keys and may hold others: `absent`
    and `others` keep them so, and only what a method sets is added (`but`, `recording`).
    """

    username: str | None = None
    name: str | None = None
    ttl: float | None = None
    token_type: str | None = None
    rotate_before: float | None = None
    keep_previous_for: float | None = None
    rotation_trigger: str | None = None
    adopt_token_id: str | None = None
    owner: str | None = None
    token: str | None = None
    token_id: str | None = None
    expire_at: str | None = None
    created_ts: str | None = None
    read_only: bool | None = None
    mark: str | None = None
    previous_token: str | None = None
    previous_token_id: str | None = None
    previous_revoke_after: str | None = None
    sweep_after: str | None = None
    rotates_at: str | None = None
    # Keys of this view the recorded dict does not have: `to_props` leaves them out.
    absent: frozenset[str] = frozenset()
    # Keys the recorded dict has that this view does not know: `to_props` keeps them.
    others: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> TokenState:
        return cls(
            **{key: props.get(key) for key in TOKEN_KEYS},
            absent=frozenset(key for key in TOKEN_KEYS if key not in props),
            others={k: v for k, v in props.items() if k not in TOKEN_KEYS and k != PROVIDER_KEY},
        )

    @classmethod
    def new(cls, settings: TokenSettings) -> TokenState:
        """A new token's state before its metadata: its settings (no empty `owner`)."""
        return cls(
            username=known(settings.username),
            name=known(settings.name),
            ttl=known(settings.ttl),
            token_type=known(settings.token_type),
            rotate_before=known(settings.rotate_before),
            keep_previous_for=known(settings.keep_previous_for),
            rotation_trigger=known(settings.rotation_trigger),
            adopt_token_id=known(settings.adopt_token_id),
            owner=settings.owner,
            absent=frozenset() if settings.owner else frozenset({"owner"}),
        )

    def to_props(self) -> dict[str, Any]:
        return {
            **self.others,
            **{key: getattr(self, key) for key in TOKEN_KEYS if key not in self.absent},
        }

    def but(self, **changes: Unpack[TokenFields]) -> TokenState:
        """This state with `changes`, each recorded even where it was absent."""
        return replace(self, **changes, absent=self.absent - changes.keys())

    def without_previous(self) -> TokenState:
        """No previous token kept (its three outputs recorded as None)."""
        return self.but(previous_token=None, previous_token_id=None, previous_revoke_after=None)

    def recording(self, *keys: str) -> TokenState:
        """Record `keys` (as None where they were absent), as `dict.setdefault` did."""
        return replace(self, absent=self.absent - set(keys))

    def taking(self, news: TokenSettings, keys: Iterable[str]) -> TokenState:
        """This state with the settings `keys` taken from `news` (e.g. `LOCAL_MANAGED`, the
        settings that change no token by themselves)."""
        chosen = tuple(keys)
        return replace(
            self, **{k: getattr(news, k) for k in chosen}, absent=self.absent - set(chosen)
        )

    def over(self, news: TokenSettings) -> TokenSettings:
        """`news` with every setting this state records in its place: what a rotation mints."""
        recorded = {key: getattr(self, key) for key in _SETTINGS_KEYS if key not in self.absent}
        return replace(news, **recorded)


_SETTINGS_KEYS = tuple(f.name for f in fields(TokenSettings))
TOKEN_KEYS = tuple(f.name for f in fields(TokenState) if f.name not in ("absent", "others"))


def differing(was: TokenState, wanted: TokenSettings, keys: Iterable[str]) -> list[str]:
    """The settings among `keys` whose recorded and wanted values differ (for diff)."""
    return [key for key in keys if getattr(was, key) != getattr(wanted, key)]


# The outputs of an account holding tokens; the first two hold secrets.
ACCOUNT_TOKEN_OUTPUTS = ("tokens", "previous_tokens", "token_ids", "token_details")
# Parts of a token's state an account keeps elsewhere than `token_details`.
NOT_DETAILS = ("token", "previous_token", "username", "name")


def recorded_tokens(props: Mapping[str, Any], username: str | None) -> dict[str, TokenState]:
    """Each token an account's outputs record, by name (its state reassembled)."""
    secrets = props.get("tokens") or {}
    previous = props.get("previous_tokens") or {}
    return {
        name: TokenState.from_props(details).but(
            username=username,
            name=name,
            token=secrets.get(name),
            previous_token=previous.get(name),
        )
        for name, details in (props.get("token_details") or {}).items()
    }


def token_outputs(recorded: Mapping[str, TokenState]) -> dict[str, Any]:
    """An account's token outputs (`ACCOUNT_TOKEN_OUTPUTS`) from each token's state.

    `previous_tokens` holds only the previous secrets still kept, and is left out when none
    is (the output reads None; `recorded_tokens` reads an absent name as None). The engine
    rewrites all of state after every step, and a secret map of nulls was about 160 bytes of
    ciphertext per account (8% of a one-step account's state).
    """
    names = sorted(recorded)
    outs: dict[str, Any] = {
        "tokens": {n: recorded[n].token for n in names},
        "token_ids": {n: recorded[n].token_id for n in names},
        "token_details": {n: details_of(recorded[n].to_props()) for n in names},
    }
    kept = {n: recorded[n].previous_token for n in names if recorded[n].previous_token}
    if kept:
        outs["previous_tokens"] = kept
    return outs


def details_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """One token's entry of `token_details` from its state (or an AccessToken's outputs).

    No null field: an absent one reads the same (`TokenState.from_props`), as an AccessToken's
    null outputs do (state drops them), and the engine rewrites every byte of state after each
    step (9 of a token's 16 fields are often null).
    """
    return {
        k: v
        for k, v in props.items()
        if k not in NOT_DETAILS and not k.startswith("__") and v is not None
    }
