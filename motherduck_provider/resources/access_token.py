"""AccessToken: a token of a service account, with expiry-aware rotation.

Every input change replaces the token. Replacement is create-before-delete, so anything wired
to `token` switches to the new secret within one `pulumi up` before the old one is revoked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import rules
from ..errors import MotherDuckError, NotFoundError, ServerError, TransportError
from ..models import CreatedToken, CreateTokenRequest, TokenInfo, parse_timestamp
from ._base import ProviderBase, failures, is_unknown, user_props, utcnow, warn

INPUTS = ("username", "name", "ttl", "token_type", "rotate_before", "adopt_token_id")
REPLACE_ON_CHANGE = ("username", "name", "ttl", "token_type", "adopt_token_id")
# A tracked token is someone else's secret: replacing it would re-adopt the same id and then
# revoke it, so only a change of *which* token is tracked replaces; the rest is bookkeeping.
REPLACE_TRACKED_ON_CHANGE = ("username", "adopt_token_id")
LOCAL_ONLY = ("name", "ttl", "rotate_before")
# Tokens created this long before our POST started may still be ours (clock skew).
CLOCK_SKEW = timedelta(seconds=30)


def split_id(id_: str) -> tuple[str, str]:
    """`username/token_id`, the id Terraform users know, as its two parts."""
    username, sep, token_id = id_.partition("/")
    if not sep or not username or not token_id:
        raise MotherDuckError(f"token id {id_!r} must have the form username/token_id")
    return username, token_id


def _metadata(info: TokenInfo) -> dict[str, Any]:
    return {
        "token_id": info.id,
        "expire_at": info.expire_at,
        "created_ts": info.created_ts,
        "read_only": info.read_only,
        "token_type": info.token_type,
    }


class AccessTokenProvider(ProviderBase):
    """Create, list and revoke through `/v1/users/{username}/tokens`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input locally and report all problems at once."""
        inputs = dict(news)
        problems: dict[str, list[str]] = {}

        def known(key: str) -> Any:
            value = inputs.get(key)
            return None if is_unknown(value) else value

        for key in ("username", "name"):
            if inputs.get(key) is None:
                problems[key] = ["is required"]
        username = known("username")
        if isinstance(username, str) and not 1 <= len(username) <= rules.USERNAME_MAX:
            problems["username"] = [f"must have 1 to {rules.USERNAME_MAX} characters"]
        elif username is not None and not isinstance(username, str):
            problems["username"] = [f"must be a string, got {username!r}"]
        if known("name") is not None:
            problems["name"] = rules.token_name_problems(known("name"))
        tracking = inputs.get("adopt_token_id") is not None
        if inputs.get("token_type") is None and not tracking:
            inputs["token_type"] = "read_write"
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
                found = [
                    f"{rules.show(rotate)} must be less than ttl ({ttl_text}) or every up rotates"
                ]
            problems["rotate_before"] = found
            if not found:
                inputs["rotate_before"] = rules.whole_number(rotate)
        adopt = known("adopt_token_id")
        if adopt is not None:
            problems["adopt_token_id"] = self._adopt_problems(adopt, username)
            if inputs.get("rotate_before") is not None:
                problems.setdefault("rotate_before", []).append(
                    "cannot be combined with adopt_token_id: rotating a tracked token would "
                    "revoke it; manage a token of your own to rotate it"
                )
        return CheckResult(inputs, failures(problems))

    @staticmethod
    def _adopt_problems(value: Any, username: Any) -> list[str]:
        if not isinstance(value, str) or not value.strip():
            return [f"must be a token id or username/token_id, got {value!r}"]
        owner, _, token_id = value.rpartition("/")
        if not token_id:
            return [f"{value!r} has no token id after '/'"]
        if owner and isinstance(username, str) and owner != username:
            return [f"{value!r} names user {owner!r} but username is {username!r}"]
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace on any input change, on expiry, and inside the `rotate_before` window.

        A tracked token (same `adopt_token_id` before and after) is never replaced here: its
        replacement would adopt the same id again and then revoke it.
        """
        tracked = bool(news.get("adopt_token_id")) and (
            olds.get("adopt_token_id") == news.get("adopt_token_id")
        )
        keys = REPLACE_TRACKED_ON_CHANGE if tracked else REPLACE_ON_CHANGE
        replaces = [k for k in keys if olds.get(k) != news.get(k)]
        reason = self._expiry_reason(olds, news.get("rotate_before"), utcnow())
        if reason and tracked:
            warn(
                f"{reason.split(';')[0]}; it is tracked, not managed: remove adopt_token_id "
                "to let this stack create its own token"
            )
        elif reason and not is_unknown(news.get("rotate_before")):
            warn(reason)
            replaces.append("expire_at")
        local = LOCAL_ONLY if tracked else ("rotate_before",)
        changed = bool(replaces) or any(olds.get(k) != news.get(k) for k in local)
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    @staticmethod
    def _expiry_reason(olds: dict[str, Any], rotate_before: Any, now: datetime) -> str | None:
        expire_at = olds.get("expire_at")
        if not isinstance(expire_at, str):
            return None
        when = parse_timestamp(expire_at)
        label = f"token {olds.get('token_id')} ({olds.get('name')!r})"
        if when <= now:
            return f"{label} expired at {expire_at}; it will be replaced by a new token"
        window = rules.whole_number(rotate_before)
        if window is not None and now + timedelta(seconds=window) >= when:
            return (
                f"{label} expires at {expire_at}, within rotate_before={window}s; "
                "rotating: the new token is created before the old one is revoked"
            )
        return None

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Mint a token (or track an existing one by id, without its secret)."""
        inputs: dict[str, Any] = {k: user_props(props).get(k) for k in INPUTS}
        username = str(inputs["username"])
        if inputs["adopt_token_id"]:
            return self._adopt(inputs)
        request = CreateTokenRequest(
            name=inputs["name"], ttl=inputs["ttl"], token_type=inputs["token_type"]
        )
        created = self._create_once_reconciled(username, request)
        outs = {**inputs, **_metadata(created), "token": created.token.get_secret_value()}
        return CreateResult(f"{username}/{created.id}", outs)

    def _create_once_reconciled(self, username: str, request: CreateTokenRequest) -> CreatedToken:
        """POST the token; after an ambiguous failure revoke any half-made twin and try again.

        A 5xx or a dropped connection after sending may have created a token whose secret we
        never saw. Such a token is useless, so it is revoked before one more attempt.
        """
        client = self.client()
        started = utcnow() - CLOCK_SKEW
        try:
            return client.create_token(username, request)
        except (ServerError, TransportError) as exc:
            if isinstance(exc, TransportError) and not exc.sent:
                raise
            for info in client.list_tokens(username):
                if info.name == request.name and parse_timestamp(info.created_ts) >= started:
                    warn(
                        f"revoking token {info.id} of {username!r}: it was created by a request "
                        "that failed before its secret was returned"
                    )
                    try:
                        client.revoke_token(username, info.id)
                    except NotFoundError:
                        pass
            return client.create_token(username, request)

    def _adopt(self, inputs: dict[str, Any]) -> CreateResult:
        username: str = inputs["username"]
        token_id = str(inputs["adopt_token_id"]).rpartition("/")[2]
        found = {t.id: t for t in self.client().list_tokens(username)}.get(token_id)
        if found is None:
            raise MotherDuckError(
                f"token {token_id} of {username!r} was not found (expired or revoked); "
                "remove adopt_token_id to create a new token instead"
            )
        wanted = inputs.get("token_type")
        if wanted is not None and wanted != found.token_type:
            raise MotherDuckError(
                f"token {token_id} of {username!r} is a {found.token_type} token, not {wanted}; "
                "fix token_type or leave it unset"
            )
        warn(
            f"tracking existing token {token_id} of {username!r}: its secret is shown by "
            "MotherDuck only once, at creation, so the `token` output stays empty"
        )
        outs = {**inputs, **_metadata(found), "token": None}
        return CreateResult(f"{username}/{token_id}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh metadata and keep the stored secret; decide quietly or loudly when gone."""
        username, token_id = split_id(id_)
        try:
            tokens = self.client().list_tokens(username)
        except NotFoundError:
            return ReadResult("", {})
        found = {t.id: t for t in tokens}.get(token_id)
        if found is None:
            expire_at = props.get("expire_at")
            if not (isinstance(expire_at, str) and parse_timestamp(expire_at) <= utcnow()):
                warn(f"token {token_id} of {username!r} was revoked outside Pulumi")
            return ReadResult("", {})
        outs = {**user_props(props), **_metadata(found), "username": username}
        if not outs.get("name"):
            outs["name"] = found.name
        outs.setdefault("token", None)
        return ReadResult(id_, outs, {k: outs.get(k) for k in INPUTS})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Record local-only input changes (no API call); a tracked token keeps its live type."""
        outs = {**user_props(olds), "rotate_before": news.get("rotate_before")}
        if news.get("adopt_token_id"):
            outs.update(name=news.get("name"), ttl=news.get("ttl"))
        return UpdateResult(outs)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Revoke the token; already revoked or expired counts as done."""
        username, token_id = split_id(id_)
        try:
            self.client().revoke_token(username, token_id)
        except NotFoundError:
            pass


class AccessToken(Resource, module="motherduck", name="AccessToken"):
    """An access token of a service account; `token` is the secret, always a Pulumi secret.

    Set `ttl` for an expiring token and `rotate_before` to replace it that many seconds
    before it expires. Set `adopt_token_id` (`username/token_id` or the bare id) to track a
    token that exists already: its metadata only, since its secret cannot be read back.
    """

    username: pulumi.Output[str]
    name: pulumi.Output[str]
    ttl: pulumi.Output[int | None]
    token_type: pulumi.Output[str]
    rotate_before: pulumi.Output[int | None]
    adopt_token_id: pulumi.Output[str | None]
    token: pulumi.Output[str | None]
    """The secret; shown once by MotherDuck, kept encrypted in state; None when adopted."""
    token_id: pulumi.Output[str]
    expire_at: pulumi.Output[str | None]
    created_ts: pulumi.Output[str]
    read_only: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        username: pulumi.Input[str],
        name: pulumi.Input[str],
        ttl: pulumi.Input[int] | None = None,
        token_type: pulumi.Input[str] | None = None,
        rotate_before: pulumi.Input[int] | None = None,
        adopt_token_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["token"])
        props: dict[str, Any] = {
            "username": username,
            "name": name,
            "ttl": ttl,
            "token_type": token_type,
            "rotate_before": rotate_before,
            "adopt_token_id": adopt_token_id,
            "token": None,
            "token_id": None,
            "expire_at": None,
            "created_ts": None,
            "read_only": None,
        }
        super().__init__(
            AccessTokenProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret),
        )
