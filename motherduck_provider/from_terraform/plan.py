"""What the Terraform objects become: typed accounts, tokens and configs with Pulumi names.

Naming: a Pulumi resource is named after its Terraform address: the resource name, preceded by
its module calls and followed by its `count`/`for_each` key (`module.team.motherduck_access_token
.ci["a"]` -> `team_ci_a`). A name that two kinds share gets the kind as suffix (`etl_account`,
`etl_token`, `etl_config`), since Pulumi YAML needs one name per resource. References: a token
or config whose username is an account of the state refers to that account (Terraform's
`motherduck_service_account.x.username`; the state holds only equal values).

Refused, with the reason (`ConversionRefused`): several provider configurations of MotherDuck
(each is an organization: Pulumi declares another one with a `Connection`, which this command
does not write), names that collide after the rules above, values the resources here cannot
hold. Listed and left alone: other providers' resources, MotherDuck's SQL resources.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..resources.access_token import NAME_MAX
from .tfstate import ACCOUNT, CONFIG, PROVIDER_SOURCE, TOKEN, Instance, TerraformState

SUFFIX = {ACCOUNT: "account", TOKEN: "token", CONFIG: "config"}
# Cooldowns MotherDuck fills in for a size when none is given: the program leaves these out.
DEFAULT_COOLDOWN = {"standard": 60, "jumbo": 60, "mega": 300, "giga": 600}


class ConversionRefused(ValueError):
    """The state holds something this command cannot carry over; nothing was written."""


@dataclass(frozen=True)
class Account:
    """A `motherduck_service_account`: `name` is its Pulumi name."""

    name: str
    address: str
    username: str


@dataclass(frozen=True)
class Token:
    """A `motherduck_access_token` with what Terraform recorded of it, its secret included."""

    name: str
    address: str
    username: str
    account: str | None
    """The Pulumi name of the account it refers to (None: a username literal)."""
    token_name: str
    ttl: int | None
    token_type: str
    token_id: str
    expire_at: str | None
    created_ts: str
    read_only: bool
    secret: str | None
    """From the Terraform state (plain text there); None when Terraform had none (imported)."""
    description: str | None = None


@dataclass(frozen=True)
class Side:
    """One side of a Duckling config (Terraform keeps them as flat attributes)."""

    instance_size: str
    cooldown_seconds: int | None
    flock_size: int | None = None

    def state(self) -> dict[str, Any]:
        """As the API reports it (and our provider records it): unset keys left out."""
        found = {
            "instance_size": self.instance_size,
            "flock_size": self.flock_size,
            "cooldown_seconds": self.cooldown_seconds,
        }
        return {k: v for k, v in found.items() if v is not None}

    def declared(self) -> dict[str, Any]:
        """As the program declares it: a cooldown equal to the size's default left out."""
        found = self.state()
        default = DEFAULT_COOLDOWN.get(self.instance_size)
        if default is not None and default == self.cooldown_seconds:
            del found["cooldown_seconds"]
        return found


@dataclass(frozen=True)
class Config:
    """A `motherduck_duckling_config`; `account` as for a token."""

    name: str
    address: str
    username: str
    account: str | None
    read_write: Side
    read_scaling: Side


@dataclass(frozen=True)
class Export:
    """A Terraform output carried over as a stack output: `resource.attribute`."""

    name: str
    resource: str
    attribute: str
    secret: bool


@dataclass
class Conversion:
    """Everything the command writes, and what it leaves."""

    accounts: list[Account] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    configs: list[Config] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    """Addresses left alone, each with why."""
    notes: list[str] = field(default_factory=list)
    """What the user should know (never a secret)."""

    def objects(self) -> list[Account | Token | Config]:
        """Accounts first: what refers to an account comes after it, in state as in code."""
        return [*self.accounts, *self.tokens, *self.configs]

    def addresses(self) -> list[str]:
        return [o.address for o in self.objects()]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")


def base_name(instance: Instance) -> str:
    """The Pulumi name of an instance before kinds are told apart (see the module doc)."""
    parts = [*(_safe(m) for m in instance.module), instance.name]
    if instance.index_key is not None:
        parts.append(_safe(str(instance.index_key)))
    return "_".join(p for p in parts if p)


def python_name(name: str) -> str:
    """A Python identifier for a Pulumi name."""
    ident = _safe(name) or "resource"
    if ident[0].isdigit() or keyword.iskeyword(ident):
        ident = "r_" + ident
    return ident


def _int(value: Any, address: str, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConversionRefused(f"{address}: {key} {value!r} is not a whole number")
    return int(value)


def _text(values: Mapping[str, Any], address: str, key: str) -> str:
    value = values.get(key)
    if not isinstance(value, str) or not value:
        raise ConversionRefused(f"{address}: attribute {key!r} is missing")
    return value


def _provider_configs(ours: list[Instance], notes: list[str]) -> None:
    configs = sorted({i.provider for i in ours})
    if len(configs) == 1 and "]." in configs[0]:  # `provider["..."].<alias>`
        notes.append(
            f"every object uses the provider configuration {configs[0]} (an alias): this "
            "stack's motherduck:token and motherduck:apiUrl must be that organization's"
        )
    if len(configs) > 1:
        listed = "; ".join(
            f"{c} ({', '.join(i.address for i in ours if i.provider == c)})" for c in configs
        )
        raise ConversionRefused(
            f"the MotherDuck objects use {len(configs)} provider configurations: {listed}. "
            "Each is an organization, which a Pulumi program declares with a Connection; this "
            "command writes one organization per stack: move the others to a state of their "
            "own (`terraform state mv -state-out=...`) and convert each into its own stack"
        )


def _names(ours: list[Instance]) -> dict[str, str]:
    """Address -> unique Pulumi name."""
    bases = {i.address: base_name(i) for i in ours}
    kinds: dict[str, set[str]] = {}
    for i in ours:
        kinds.setdefault(bases[i.address], set()).add(i.type)
    names = {
        i.address: bases[i.address]
        if len(kinds[bases[i.address]]) == 1
        else f"{bases[i.address]}_{SUFFIX[i.type]}"
        for i in ours
    }
    seen: dict[str, str] = {}
    for address, name in names.items():
        ident = python_name(name)
        if ident in seen:
            raise ConversionRefused(
                f"{seen[ident]} and {address} would both be named {name!r} in Pulumi; "
                "rename one in Terraform (`terraform state mv`) first"
            )
        seen[ident] = address
    return names


def _side(values: Mapping[str, Any], side: str, address: str) -> Side:
    size = _text(values, address, f"{side}_instance_size")
    cooldown = _int(values.get(f"{side}_cooldown_seconds"), address, "cooldown_seconds")
    flock = None
    if side == "read_scaling":
        flock = _int(values.get("read_scaling_flock_size"), address, "read_scaling_flock_size")
        if flock is None:
            raise ConversionRefused(f"{address}: attribute 'read_scaling_flock_size' is missing")
    return Side(size, None if size == "pulse" else cooldown, flock)


def plan(state: TerraformState) -> Conversion:
    """The conversion of `state`; `ConversionRefused` before anything is decided otherwise."""
    result = Conversion()
    ours: list[Instance] = []
    for instance in state.instances:
        if instance.ours:
            ours.append(instance)
        elif instance.type.startswith("motherduck_") or PROVIDER_SOURCE in instance.provider:
            result.left.append(
                f"{instance.address}: a MotherDuck SQL resource (databases, shares, ...), not "
                "an Admin API object; left in Terraform"
            )
        else:
            result.left.append(f"{instance.address}: another provider's; left in Terraform")
    result.left += [f"{a}: a data source; not an object to move" for a in state.data_sources]
    _provider_configs(ours, result.notes)
    names = _names(ours)
    accounts: dict[str, str] = {}
    for i in ours:
        if i.type == ACCOUNT:
            username = _text(i.values, i.address, "username")
            if username.casefold() in {u.casefold() for u in accounts}:
                raise ConversionRefused(
                    f"{i.address}: account {username!r} is declared twice in the state "
                    "(usernames ignore case)"
                )
            accounts[username] = names[i.address]
            result.accounts.append(Account(names[i.address], i.address, username))
    for i in ours:
        if i.type == ACCOUNT:
            continue
        username = _text(i.values, i.address, "username")
        # Only the same spelling: a reference gives the account's, and a token or config
        # recorded under another spelling would then show a change.
        account = accounts.get(username)
        if i.type == TOKEN:
            result.tokens.append(_token(i, names[i.address], username, account))
        else:
            result.configs.append(
                Config(
                    names[i.address],
                    i.address,
                    username,
                    account,
                    _side(i.values, "read_write", i.address),
                    _side(i.values, "read_scaling", i.address),
                )
            )
    if not result.objects():
        raise ConversionRefused(
            f"{state.source} holds no MotherDuck service account, access token or Duckling "
            "config" + (f" (only {len(result.left)} other resource(s))" if result.left else "")
        )
    _carry_outputs(state, result)
    _note(result)
    return result


def _token(i: Instance, name: str, username: str, account: str | None) -> Token:
    values = i.values
    token_type = values.get("token_type") or "read_write"
    secret = values.get("token")
    token_name = _text(values, i.address, "name")
    if len(token_name) > NAME_MAX:
        raise ConversionRefused(
            f"{i.address}: the token's name has {len(token_name)} characters; AccessToken "
            f"takes at most {NAME_MAX}, since its rotations name the new token "
            "'<name> [pulumi:<mark>]': rename it in Terraform first (it replaces the token)"
        )
    return Token(
        name=name,
        address=i.address,
        username=username,
        account=account,
        token_name=token_name,
        ttl=_int(values.get("ttl"), i.address, "ttl"),
        token_type=str(token_type),
        token_id=_text(values, i.address, "id"),
        expire_at=values.get("expire_at") or None,
        created_ts=_text(values, i.address, "created_ts"),
        read_only=bool(values.get("read_only", token_type == "read_scaling")),
        secret=secret if isinstance(secret, str) and secret else None,
        description=values.get("description") or None,
    )


def _carry_outputs(state: TerraformState, result: Conversion) -> None:
    """Terraform outputs equal to one object's attribute become stack outputs of it."""
    candidates: list[tuple[Any, str, str, bool]] = []
    for t in result.tokens:
        if t.secret:
            candidates.append((t.secret, t.name, "token", True))
        candidates.append((t.token_id, t.name, "token_id", False))
    for a in result.accounts:
        candidates.append((a.username, a.name, "username", False))
    for output, value in sorted(state.outputs.items()):
        found = [(n, attr, s) for v, n, attr, s in candidates if v == value]
        if len(found) == 1:
            result.exports.append(Export(output, *found[0]))
        else:
            why = "matches several objects" if found else "is not one object's attribute"
            result.notes.append(f"output {output!r} {why}; not carried over: declare it yourself")


def _note(result: Conversion) -> None:
    for t in result.tokens:
        if t.secret is None:
            result.notes.append(
                f"{t.address}: Terraform holds no secret for token {t.token_id} (it was "
                "imported); the `token` output stays empty until the token is rotated"
            )
        if t.description:
            result.notes.append(
                f"{t.address}: its description stays on the token; AccessToken does not "
                "declare descriptions"
            )
    for c in result.configs:
        if c.account is None:
            result.notes.append(
                f"{c.address}: account {c.username!r} is not in this state; the config refers "
                "to it by name"
            )
