"""Resources shaped like ours whose provider makes no API call: the engine's own cost.

`bench_stack.py` runs the same program with these in place of ServiceAccount, AccessToken and
InstanceConfig (same count, same inputs, outputs of the same size, the token a secret), so
the difference between the two runs is what our providers and the API add.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource

from motherduck_provider.resources._pickle_guard import pickler_restored

PROVIDER_KEY = "__provider"


class NullProvider(pulumi.dynamic.ResourceProvider):
    """Answers every call from its inputs; pickled by reference like ours."""

    serialize_as_secret_always = False

    def __init__(self, kind: str = "") -> None:
        self.kind = kind

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = [k for k in news if k not in (PROVIDER_KEY, "tokens")]
        changed = any(olds.get(k) != news.get(k) for k in keys)
        changed = changed or news.get("tokens") != olds.get("token_settings")
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        if self.kind == "token":
            token_id = str(uuid.uuid4())
            outs.update(
                token="x" * 40,
                token_id=token_id,
                expire_at=None,
                created_ts="2026-01-01T00:00:00.000Z",
                read_only=False,
                token_type="read_write",
            )
            return CreateResult(f"{outs['username']}/{token_id}", outs)
        if outs.get("tokens") is not None:  # the one-step form: outputs shaped like ours
            names = sorted(outs["tokens"])
            outs.update(
                token_settings=outs["tokens"],
                tokens={n: "x" * 40 for n in names},
                previous_tokens=dict.fromkeys(names),
                token_ids={n: str(uuid.uuid4()) for n in names},
                token_details={
                    n: {
                        "token_type": "read_write",
                        "expire_at": None,
                        "created_ts": "2026-01-01T00:00:00.000Z",
                        "read_only": False,
                        "mark": "0123456789",
                        "owner": "0123456789ab",
                        "sweep_after": None,
                        "rotates_at": None,
                    }
                    for n in names
                },
            )
        return CreateResult(str(outs["username"]), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        return ReadResult(id_, outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class NullAccount(Resource, module="bench", name="NullAccount"):
    def __init__(self, name: str, *, username: Any, **config: Any) -> None:
        """`config`: `read_write` and `read_scaling` when the account holds its config, and
        `tokens` in the one-step form (then the token secrets are secret outputs)."""
        props = {"username": username, "adopt": None, **config}
        opts = None
        if "tokens" in config:
            props.update(token_settings=None, previous_tokens=None, token_ids=None)
            props.update(token_details=None)
            opts = pulumi.ResourceOptions(additional_secret_outputs=["tokens", "previous_tokens"])
        with pickler_restored():
            super().__init__(NullProvider("account"), name, props, opts)


class NullToken(Resource, module="bench", name="NullToken"):
    def __init__(self, name: str, *, username: Any, name_: str) -> None:
        props = {
            "username": username,
            "name": name_,
            "ttl": None,
            "token_type": "read_write",
            "rotate_before": None,
            "adopt_token_id": None,
            "token": None,
            "token_id": None,
            "expire_at": None,
            "created_ts": None,
            "read_only": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["token"])
        with pickler_restored():
            super().__init__(NullProvider("token"), name, props, secret)


class NullConfig(Resource, module="bench", name="NullConfig"):
    def __init__(self, name: str, *, username: Any, read_write: Any, read_scaling: Any) -> None:
        props = {"username": username, "read_write": read_write, "read_scaling": read_scaling}
        with pickler_restored():
            super().__init__(NullProvider("config"), name, props)
