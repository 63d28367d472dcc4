"""Typed methods for the seven Admin API operations this package manages.

The client reports outcomes and raises the errors of `errors.py`; deciding what an outcome
means for Pulumi state (gone, adopt, keep) is the resources' job.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ..config import Settings
from ..errors import ResponseShapeError
from ..models import (
    CreatedToken,
    CreateServiceAccountRequest,
    CreateTokenRequest,
    DucklingConfig,
    ServiceAccountResponse,
    SetDucklingConfigRequest,
    TokenInfo,
    TokenList,
)
from ._http import HttpSession, path_segment

Model = TypeVar("Model", bound=BaseModel)


def _parse(model: type[Model], data: Any, method: str, path: str) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise ResponseShapeError(method, path, problems) from None


class AdminClient:
    """The MotherDuck Admin API for service accounts, tokens and Duckling config."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.api_url = settings.api_url
        self._http = HttpSession(settings, transport=transport, sleep=sleep, rng=rng)

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(
        self, model: type[Model], method: str, path: str, body: BaseModel | None = None
    ) -> Model:
        payload = body.model_dump(mode="json", exclude_none=True) if body is not None else None
        return _parse(model, self._http.request(method, path, payload), method, path)

    @staticmethod
    def _user(username: str) -> str:
        return "/v1/users/" + path_segment(username, "username")

    def create_service_account(self, username: str) -> ServiceAccountResponse:
        """`POST /v1/users`: a new service account with the Member role."""
        request = CreateServiceAccountRequest(username=username)
        return self._call(ServiceAccountResponse, "POST", "/v1/users", request)

    def delete_service_account(self, username: str) -> None:
        """`DELETE /v1/users/{username}`: the account, its data and its tokens, permanently."""
        self._http.request("DELETE", self._user(username))

    def create_token(self, username: str, request: CreateTokenRequest) -> CreatedToken:
        """`POST .../tokens`: the only answer that carries the token's secret."""
        return self._call(CreatedToken, "POST", self._user(username) + "/tokens", request)

    def list_tokens(self, username: str) -> list[TokenInfo]:
        """`GET .../tokens`: metadata of the account's live tokens."""
        return self._call(TokenList, "GET", self._user(username) + "/tokens").tokens

    def revoke_token(self, username: str, token_id: str) -> None:
        """`DELETE .../tokens/{token_id}`."""
        self._http.request(
            "DELETE", self._user(username) + "/tokens/" + path_segment(token_id, "token id")
        )

    def get_duckling_config(self, username: str) -> DucklingConfig:
        """`GET .../instances`: also the only way to probe that an account exists."""
        return self._call(DucklingConfig, "GET", self._user(username) + "/instances")

    def set_duckling_config(self, username: str, config: DucklingConfig) -> DucklingConfig:
        """`PUT .../instances`: replaces both sides; the answer includes server defaults."""
        request = SetDucklingConfigRequest(config=config)
        return self._call(DucklingConfig, "PUT", self._user(username) + "/instances", request)


_shared: dict[tuple[str, float, int], AdminClient] = {}
_shared_lock = threading.Lock()


def shared_client(settings: Settings) -> AdminClient:
    """The one pooled client of this process for these settings (created on first use).

    Keyed by a hash of the token, so changing credentials gets a new client while the
    token itself is held only by the client's session.
    """
    key = (settings.api_url, settings.timeout, hash(settings.token))
    with _shared_lock:
        client = _shared.get(key)
        if client is None:
            client = _shared[key] = AdminClient(settings)
        return client
