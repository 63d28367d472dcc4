"""`--check`: compare the Terraform state with MotherDuck, with GET requests only.

Recording an object that is gone, or a config that changed since Terraform last saw it,
would make the first `pulumi up` recreate or rewrite it without anyone having asked; this
says so before anything is written.
"""

from __future__ import annotations

from datetime import datetime

from .._time import parse_timestamp
from ..client import AdminClient
from ..errors import NotFoundError
from ..models import DucklingConfig, TokenInfo
from .plan import Conversion, Side


def _side_text(side: Side | dict[str, object]) -> str:
    found = side.state() if isinstance(side, Side) else side
    return ", ".join(f"{k} {v}" for k, v in sorted(found.items()))


def expired(conversion: Conversion, now: datetime) -> list[str]:
    """Tokens whose recorded expiry has passed (known without any request)."""
    return [
        f"{t.address}: token {t.token_id} expired at {t.expire_at}; the first `pulumi up` "
        "replaces it with a new token"
        for t in conversion.tokens
        if t.expire_at and parse_timestamp(t.expire_at) <= now
    ]


def differences(conversion: Conversion, client: AdminClient) -> list[str]:
    """What MotherDuck holds differently from the state, one line each (never a secret)."""
    found: list[str] = []
    configs: dict[str, DucklingConfig | None] = {}
    tokens: dict[str, list[TokenInfo] | None] = {}

    def config_of(username: str) -> DucklingConfig | None:
        key = username.casefold()
        if key not in configs:
            try:
                configs[key] = client.get_duckling_config(username)
            except NotFoundError:
                configs[key] = None
        return configs[key]

    def tokens_of(username: str) -> list[TokenInfo] | None:
        key = username.casefold()
        if key not in tokens:
            try:
                tokens[key] = client.list_tokens(username)
            except NotFoundError:
                tokens[key] = None
        return tokens[key]

    for a in conversion.accounts:
        if config_of(a.username) is None:
            found.append(f"{a.address}: account {a.username!r} no longer exists (deleted)")
    for t in conversion.tokens:
        live = tokens_of(t.username)
        if live is None:
            found.append(f"{t.address}: token {t.token_id} is gone with its account {t.username!r}")
        elif t.token_id not in {info.id for info in live}:
            found.append(
                f"{t.address}: token {t.token_id} of {t.username!r} no longer exists "
                "(revoked or expired)"
            )
    for c in conversion.configs:
        config = config_of(c.username)
        if config is None:
            found.append(f"{c.address}: account {c.username!r} no longer exists (deleted)")
            continue
        now = config.model_dump(mode="json", exclude_none=True)
        for name, side in (("read_write", c.read_write), ("read_scaling", c.read_scaling)):
            if side.state() != now.get(name):
                found.append(
                    f"{c.address}: {name} is now {_side_text(now.get(name) or {})} "
                    f"(Terraform: {_side_text(side)})"
                )
    return found
