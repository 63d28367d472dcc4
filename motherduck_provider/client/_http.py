"""The only module that touches httpx: one pooled client, retries, logging, error mapping.

httpx.Client is safe to share between threads, and the dynamic provider server runs up to
four calls at once, so one instance serves a whole provider process.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from .._version import __version__
from ..config import Settings
from ..errors import ResponseShapeError, TransportError, error_from_response
from . import _retry

log = logging.getLogger("motherduck_provider.http")

USER_AGENT = f"motherduck-pulumi/{__version__}"


def path_segment(value: str, what: str) -> str:
    """One id escaped as a single path segment; refuses values that would change the path."""
    if not value or value in (".", "..") or len(value) > 1024:
        raise ValueError(f"{what} {value!r} cannot be used in a URL path")
    return quote(value, safe="")


class HttpSession:
    """Sends requests to the Admin API with auth, retries and translated errors."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._token = settings.token
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            base_url=settings.api_url,
            timeout=settings.timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            follow_redirects=False,
        )

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one logical request (retrying as the policy allows) and return parsed JSON.

        Raises an `APIError` subclass for an error status and `TransportError` when no
        answer came; a success with an empty body returns `{}` (some deployments answer
        DELETE with 204).
        """
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self._client.request(
                    method,
                    path,
                    json=body,
                    headers={"Authorization": f"Bearer {self._token.reveal()}"},
                )
            except httpx.HTTPError as exc:
                failure = self._transport_error(method, path, exc)
                log.info(
                    "%s %s -> %s after %.3fs (attempt %d)",
                    method,
                    path,
                    type(exc).__name__,
                    time.monotonic() - started,
                    attempt,
                )
                if attempt < _retry.MAX_ATTEMPTS and _retry.should_retry(
                    method, status=None, sent=failure.sent
                ):
                    self._sleep(_retry.backoff_delay(attempt, rng=self._rng))
                    continue
                raise failure from exc
            log.info(
                "%s %s -> %d in %.3fs (attempt %d)",
                method,
                path,
                response.status_code,
                time.monotonic() - started,
                attempt,
            )
            if response.is_success:
                if not response.content.strip():
                    return {}
                try:
                    return response.json()
                except ValueError as exc:
                    raise ResponseShapeError(method, path, "body is not JSON") from exc
            retry_after = response.headers.get("Retry-After")
            if attempt < _retry.MAX_ATTEMPTS and _retry.should_retry(
                method, status=response.status_code
            ):
                self._sleep(_retry.backoff_delay(attempt, retry_after, rng=self._rng))
                continue
            raise error_from_response(
                response.status_code,
                response.text,
                method=method,
                path=path,
                retry_after=retry_after,
            )

    @staticmethod
    def _transport_error(method: str, path: str, exc: httpx.HTTPError) -> TransportError:
        """Translate an httpx failure; the one place that knows httpx's exception types."""
        not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        reason = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            reason = f"timed out ({reason})"
        elif not_sent:
            reason = f"could not connect ({reason})"
        else:
            reason = f"connection failed ({reason})"
        return TransportError(method, path, reason, sent=not not_sent)
