"""Typed methods for the Admin API operations this package manages or reads.

The client reports outcomes and raises the errors of `errors.py`; deciding what an outcome
means for Pulumi state (gone, adopt, keep) is the resources' job.

Reads go through a `ReadMemo` so that the several reads one operation makes of an account
(the account's existence probe, its config, one token list per token) share one request, and
every write attempt to an account forgets what was read of it. The client also remembers
which accounts it created, so the config of a new account need not be read before it is set.

httpx, pydantic and the models are imported when the first request is made, not with this
module: the provider process answers `check` and `diff` (every preview) without them.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..config import Settings
from ..errors import ResponseShapeError, remember_secret
from ._http import READ_TTL, HttpSession, ReadMemo, path_segment

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

    from ..models import (
        ActiveAccount,
        CreatedToken,
        CreateTokenRequest,
        DucklingConfig,
        EmbedSession,
        ServiceAccountResponse,
        TokenInfo,
    )

Model = TypeVar("Model", bound="BaseModel")


def _parse(model: type[Model], data: Any, method: str, path: str) -> Model:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise ResponseShapeError(method, path, problems) from None


class AdminClient:
    """The MotherDuck Admin API for service accounts, tokens and Duckling config.

    `read_ttl` is how many seconds a read answer is reused (0, the default here: never; the
    providers' `shared_client` uses `READ_TTL`). Concurrent identical reads share one
    request either way; pass `fresh=True` to a read to bypass both.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        read_ttl: float = 0.0,
    ) -> None:
        self.api_url = settings.api_url
        # Whatever its source, the admin token is blanked in every error text from now on.
        remember_secret(settings.token.reveal())
        self._http = HttpSession(settings, transport=transport, sleep=sleep, rng=rng)
        self._reads = ReadMemo(read_ttl)
        self._created: set[str] = set()
        self._created_lock = threading.Lock()

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

    def forget(self) -> None:
        """Drop memoized reads and the record of accounts created here, as a new process would."""
        self._reads.clear()
        with self._created_lock:
            self._created.clear()

    def created_here(self, username: str) -> bool:
        """Whether this client created the account (and has not deleted it since).

        Such an account has the configuration MotherDuck gives new accounts, unless someone
        changed it within the same run, so its config need not be read before it is set.
        """
        with self._created_lock:
            return ReadMemo.account_key(username) in self._created

    def _mark_created(self, username: str, created: bool) -> None:
        with self._created_lock:
            key = ReadMemo.account_key(username)
            if created:
                self._created.add(key)
            else:
                self._created.discard(key)

    def create_service_account(self, username: str) -> ServiceAccountResponse:
        """`POST /v1/users`: a new service account with the Member role."""
        from ..models import CreateServiceAccountRequest, ServiceAccountResponse

        request = CreateServiceAccountRequest(username=username)
        with self._reads.writing(username):
            made = self._call(ServiceAccountResponse, "POST", "/v1/users", request)
        self._mark_created(username, True)
        return made

    def delete_service_account(self, username: str) -> None:
        """`DELETE /v1/users/{username}`: the account, its data and its tokens, permanently."""
        self._mark_created(username, False)
        with self._reads.writing(username):
            self._http.request("DELETE", self._user(username))

    def create_token(self, username: str, request: CreateTokenRequest) -> CreatedToken:
        """`POST .../tokens`: the only answer that carries the token's secret."""
        from ..models import CreatedToken

        with self._reads.writing(username):
            created = self._call(CreatedToken, "POST", self._user(username) + "/tokens", request)
        remember_secret(created.token.get_secret_value())
        return created

    def list_tokens(
        self, username: str, *, fresh: bool = False, max_age: float | None = None
    ) -> list[TokenInfo]:
        """`GET .../tokens`: metadata of the account's live tokens.

        Shared with other reads of the account's tokens (see the module doc); `fresh=True`
        sends a request of its own, e.g. to look for a token a failed create may have made;
        `max_age` limits how old a shared answer may be (`DECIDING_AGE` before a write).
        """
        from ..models import TokenList

        path = self._user(username) + "/tokens"
        found = self._reads.read(
            username,
            "tokens",
            lambda: self._call(TokenList, "GET", path),
            fresh=fresh,
            max_age=max_age,
        )
        return list(found.tokens)

    def revoke_token(self, username: str, token_id: str) -> None:
        """`DELETE .../tokens/{token_id}`."""
        path = self._user(username) + "/tokens/" + path_segment(token_id, "token id")
        with self._reads.writing(username):
            self._http.request("DELETE", path)

    def get_duckling_config(
        self, username: str, *, fresh: bool = False, max_age: float | None = None
    ) -> DucklingConfig:
        """`GET .../instances`: also the only way to probe that an account exists.

        Shared with other reads of the account's config (see the module doc); `fresh=True`
        sends a request of its own; `max_age` limits how old a shared answer may be
        (`DECIDING_AGE` when the answer decides a write).
        """
        from ..models import DucklingConfig

        path = self._user(username) + "/instances"
        return self._reads.read(
            username,
            "instances",
            lambda: self._call(DucklingConfig, "GET", path),
            fresh=fresh,
            max_age=max_age,
        )

    def set_duckling_config(self, username: str, config: DucklingConfig) -> DucklingConfig:
        """`PUT .../instances`: replaces both sides; the answer includes server defaults."""
        from ..models import DucklingConfig, SetDucklingConfigRequest

        request = SetDucklingConfigRequest(config=config)
        with self._reads.writing(username):
            return self._call(DucklingConfig, "PUT", self._user(username) + "/instances", request)

    def list_active_accounts(self) -> list[ActiveAccount]:
        """`GET /v1/active_accounts` (Preview): accounts whose Ducklings run now; never memoized."""
        from ..models import ActiveAccountList

        return list(self._call(ActiveAccountList, "GET", "/v1/active_accounts").accounts)

    def create_dive_embed_session(
        self, dive_id: str, username: str, session_hint: str | None = None
    ) -> EmbedSession:
        """`POST /v1/dives/{dive_id}/embed-session`: a new session to embed the Dive as
        `username`; every call mints one, so it is never memoized (nor retried: a POST)."""
        from ..models import CreateEmbedSessionRequest, EmbedSession

        path = "/v1/dives/" + path_segment(dive_id, "dive id") + "/embed-session"
        request = CreateEmbedSessionRequest(username=username, session_hint=session_hint)
        made = self._call(EmbedSession, "POST", path, request)
        # From now on this session is blanked in every error text, as token secrets are.
        remember_secret(made.session.get_secret_value())
        return made


_shared: dict[tuple[str, float, float, int], AdminClient] = {}
_shared_lock = threading.Lock()


def shared_client(settings: Settings) -> AdminClient:
    """The one pooled client of this process for these settings (created on first use).

    It reuses read answers for up to `READ_TTL` seconds: a provider process lives for one
    Pulumi operation, and a write through it forgets what was read of the account. Keyed by a
    hash of the token, so changing credentials gets a new client while the token itself is
    held only by the client's session.
    """
    key = (settings.api_url, settings.timeout, settings.rate_limit_wait, hash(settings.token))
    with _shared_lock:
        client = _shared.get(key)
        if client is None:
            client = _shared[key] = AdminClient(settings, read_ttl=READ_TTL)
        return client
