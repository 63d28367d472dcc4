"""A token's settings, their rules and its mark: pure, no call, no clock.

Shared by every face that holds tokens (`AccessToken`, `ServiceAccount(tokens=...)`), through
`_token_core`. Every token created here carries a mark in the name MotherDuck shows,
`<name> [pulumi:<mark>]`: a hash of who declared it (`owner`) and of its replace-relevant
settings, so a token with the mark that state does not hold can be found and revoked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .. import rules
from ._base import is_unknown
from ._props import TokenSettings

SETTINGS = ("ttl", "token_type", "rotate_before", "keep_previous_for", "rotation_trigger")
SETTINGS_ALL = (*SETTINGS, "adopt_token_id")
# Settings whose change makes a new token (a new mark); the rest is bookkeeping or rotation.
REPLACE_ON_CHANGE = ("ttl", "token_type", "adopt_token_id")
# Settings of a managed token that change no token by themselves (a new `rotation_trigger`
# value does rotate, but as an update: see `rotation_reason`).
LOCAL_MANAGED = ("rotate_before", "keep_previous_for", "rotation_trigger")
# The previous token of an overlapping rotation, as state; all None when none is kept.
PREVIOUS = ("previous_token", "previous_token_id", "previous_revoke_after")
# The live token's metadata, from the API.
METADATA = ("token_id", "expire_at", "created_ts", "read_only", "token_type")
KEEP_PREVIOUS_MIN = 0
KEEP_PREVIOUS_MAX = rules.TTL_MAX
# A rotation this close is announced by every preview (one line per token); later ones are
# only in the `rotates_at` output, so a stack with many tokens stays quiet.
ROTATION_NOTICE = timedelta(days=7)
NOT_TRACKED = "cannot be combined with adopt_token_id"
DEFAULT_TOKEN_TYPE = rules.DEFAULT_TOKEN_TYPE

# The mark: `<name> [pulumi:<10 hex>]` is how MotherDuck shows a token created here.
MARK_HEX = 10
MARK_SUFFIX_LENGTH = len(" [pulumi:]") + MARK_HEX
NAME_MAX = rules.TOKEN_NAME_MAX - MARK_SUFFIX_LENGTH
_MARKED = re.compile(rf"(?P<name>.*) \[pulumi:(?P<mark>[0-9a-f]{{{MARK_HEX}}})\]", re.DOTALL)
# POSTs of one token before giving up when each fails without an answer.
MAX_POSTS = 3


def owner_of(project: str, stack: str, parent: str, resource_name: str) -> str:
    """The hidden `owner` input: a short hash of who declared the token, stable across runs."""
    text = json.dumps([project, stack, parent, resource_name])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def member_owner(owner: str, name: str) -> str:
    """The owner of one token of a resource holding several (`owner` of the resource + name)."""
    return hashlib.sha256(json.dumps([owner, name]).encode()).hexdigest()[:12]


def token_mark(inputs: TokenSettings | Mapping[str, Any]) -> str:
    """The mark of the tokens one resource creates for one set of replace-relevant inputs.

    An input change that replaces the token changes the mark, so a sweep never touches the
    token being replaced; a rotation keeps the inputs, and so the mark. A mapping (AccessToken's
    inputs) is read as `TokenSettings`.
    """
    wanted = inputs if isinstance(inputs, TokenSettings) else TokenSettings.from_props(inputs)
    ttl = rules.whole_number(wanted.ttl)
    parts = [
        wanted.owner or "",
        wanted.username or "",
        wanted.name or "",
        "" if ttl is None else str(ttl),
        wanted.token_type or DEFAULT_TOKEN_TYPE,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:MARK_HEX]


def marked_name(name: str, mark: str) -> str:
    """The name MotherDuck is given for a token the user named `name`."""
    return f"{name} [pulumi:{mark}]"


def split_marked(shown: str | None) -> tuple[str | None, str | None]:
    """(the user's name, the mark) of a name as MotherDuck shows it; no mark: (shown, None)."""
    found = _MARKED.fullmatch(shown or "")
    if found is None:
        return shown, None
    return found["name"], found["mark"]


def name_problems(value: Any, tracked: bool) -> list[str]:
    """The token name rules, with room for the mark on tokens created here."""
    problems = rules.token_name_problems(value)
    if problems or tracked or not isinstance(value, str) or len(value) <= NAME_MAX:
        return problems
    return [
        f"has {len(value)} characters; a token created by this stack has at most {NAME_MAX}, "
        f"since MotherDuck gets it as '<name> [pulumi:<mark>]' ({MARK_SUFFIX_LENGTH} more)"
    ]


def settings_problems(inputs: dict[str, Any], username: Any) -> dict[str, list[str]]:
    """Check one token's settings (`SETTINGS_ALL`), normalizing `inputs` in place.

    Pure: fills in the default `token_type` (not for a tracked token, which keeps its own)
    and turns whole numbers into int. Problems are keyed by setting name.
    """
    problems: dict[str, list[str]] = {}

    def known(key: str) -> Any:
        value = inputs.get(key)
        return None if is_unknown(value) else value

    tracking = inputs.get("adopt_token_id") is not None
    if inputs.get("token_type") is None and not tracking:
        inputs["token_type"] = DEFAULT_TOKEN_TYPE
    elif known("token_type") is not None:
        problems["token_type"] = rules.choice_problems(known("token_type"), rules.TOKEN_TYPES)
    ttl = known("ttl")
    if ttl is not None:
        problems["ttl"] = rules.range_problems(ttl, rules.TTL_MIN, rules.TTL_MAX, "seconds")
        inputs["ttl"] = rules.whole_number(ttl) if not problems["ttl"] else ttl
    rotate = known("rotate_before")
    if rotate is not None:
        found = rules.range_problems(rotate, rules.ROTATE_BEFORE_MIN, rules.TTL_MAX, "seconds")
        if not found and inputs.get("ttl") is None:
            found = ["needs ttl: a token without expiry never rotates"]
        elif not found and isinstance(inputs["ttl"], int) and rotate >= inputs["ttl"]:
            ttl_text = rules.show(inputs["ttl"])
            found = [f"{rules.show(rotate)} must be less than ttl ({ttl_text}) or every up rotates"]
        problems["rotate_before"] = found
        if not found:
            inputs["rotate_before"] = rules.whole_number(rotate)
    keep = known("keep_previous_for")
    if keep is not None:
        found = rules.range_problems(keep, KEEP_PREVIOUS_MIN, KEEP_PREVIOUS_MAX, "seconds")
        problems["keep_previous_for"] = found
        if not found:
            inputs["keep_previous_for"] = rules.whole_number(keep)
    trigger = known("rotation_trigger")
    if trigger is not None and not isinstance(trigger, str):
        problems["rotation_trigger"] = [
            f"must be a string, got {trigger!r}; any change of it rotates the token"
        ]
    adopt = known("adopt_token_id")
    if adopt is not None:
        problems["adopt_token_id"] = adopt_problems(adopt, username)
        for key in LOCAL_MANAGED:
            if inputs.get(key) is not None:
                problems.setdefault(key, []).append(
                    f"{rules.show(inputs[key])} {NOT_TRACKED}: rotating a tracked token "
                    "would revoke it; manage a token of your own to rotate it"
                )
    return problems


def adopt_problems(value: Any, username: Any) -> list[str]:
    """The rule of `adopt_token_id`: a token id, or `username/token_id` of this account."""
    if not isinstance(value, str) or not value.strip():
        return [f"must be a token id or username/token_id, got {value!r}"]
    owner, _, token_id = value.rpartition("/")
    if not token_id:
        return [f"{value!r} has no token id after '/'"]
    if owner and isinstance(username, str) and owner != username:
        return [f"{value!r} names user {owner!r} but username is {username!r}"]
    return []
