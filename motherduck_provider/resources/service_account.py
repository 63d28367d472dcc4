"""ServiceAccount: a MotherDuck service account (Member role), keyed by its username."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from .. import rules
from ..errors import (
    BadRequestError,
    MotherDuckError,
    NotFoundError,
    ServerError,
    TransportError,
)
from ._base import ProviderBase, failures, is_unknown, user_props


class ServiceAccountProvider(ProviderBase):
    """CRUD for `POST/DELETE /v1/users`; existence is probed through `GET .../instances`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate the username and `adopt` locally; unknown values pass through."""
        problems: dict[str, list[str]] = {}
        username = news.get("username")
        if username is None:
            problems["username"] = ["is required"]
        elif not is_unknown(username):
            problems["username"] = rules.username_problems(username)
        adopt = news.get("adopt")
        if adopt is not None and not is_unknown(adopt) and not isinstance(adopt, bool):
            problems["adopt"] = [f"must be true or false, got {adopt!r}"]
        return CheckResult(news, failures(problems))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new username is a new account; `adopt` only matters at creation."""
        replaces = ["username"] if olds.get("username") != news.get("username") else []
        changed = bool(replaces) or bool(olds.get("adopt")) != bool(news.get("adopt"))
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the account, or take over an existing one when `adopt` is true.

        After an ambiguous failure (5xx or a dropped connection once the request was sent)
        the account is probed: if it exists now, the POST went through and it is ours.
        """
        inputs = user_props(props)
        username: str = inputs["username"]
        client = self.client()
        if inputs.get("adopt") and self._exists(username):
            return CreateResult(username, self._outs(inputs))
        try:
            client.create_service_account(username)
        except BadRequestError as exc:
            if self._exists(username):
                raise MotherDuckError(
                    f"service account {username!r} already exists; set adopt=True to manage "
                    "it with this stack instead of creating it"
                ) from exc
            raise
        except (ServerError, TransportError):
            if not self._exists(username):
                raise
        return CreateResult(username, self._outs(inputs))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh or adopt by id (the username); JSON NOT_FOUND is the only proof of "gone"."""
        if not self._exists(id_):
            return ReadResult("", {})
        inputs = {"username": id_, "adopt": bool(props.get("adopt"))}
        return ReadResult(id_, self._outs(inputs), inputs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only `adopt` can change in place, and it touches nothing remote."""
        return UpdateResult(self._outs(user_props(news)))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Delete the account with its data and tokens; already gone counts as done."""
        try:
            self.client().delete_service_account(id_)
        except NotFoundError:
            pass

    def _exists(self, username: str) -> bool:
        try:
            self.client().get_duckling_config(username)
        except NotFoundError:
            return False
        return True

    @staticmethod
    def _outs(inputs: dict[str, Any]) -> dict[str, Any]:
        return {"username": inputs["username"], "adopt": bool(inputs.get("adopt"))}


class ServiceAccount(Resource, module="motherduck", name="ServiceAccount"):
    """A MotherDuck service account.

    Deleting it deletes the account's data and revokes its tokens: protect it with
    `opts=pulumi.ResourceOptions(protect=True)`. Set `adopt=True` to bring an account that
    already exists under management instead of failing because the name is taken.
    """

    username: pulumi.Output[str]
    """The account's username, also the resource id."""
    adopt: pulumi.Output[bool]
    """Whether an existing account of this name is taken over instead of created."""

    def __init__(
        self,
        resource_name: str,
        *,
        username: pulumi.Input[str],
        adopt: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ServiceAccountProvider(),
            resource_name,
            {"username": username, "adopt": adopt},
            opts,
        )
