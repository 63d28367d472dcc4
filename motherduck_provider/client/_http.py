"""The only module that touches httpx: one pooled client, retries, logging, error mapping;
and `ReadMemo`, which lets the reads of one account share one request.

httpx.Client is safe to share between threads, and the provider server runs several calls at
once (16 by default, `config.worker_count`), so one instance serves a whole provider process.
httpx is imported when the first session is made: a provider process that only answers `check`
and `diff` never needs it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from .._version import __version__
from ..config import Settings
from ..errors import NotFoundError, ResponseShapeError, TransportError, error_from_response
from . import _retry
from ._calls import record_call

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("motherduck_provider.http")

USER_AGENT = f"motherduck-pulumi/{__version__}"

# How long a read answer is reused by reads that only report (refresh). A refresh reads an
# account's config twice (the account's probe, then the config itself) and its token list once
# per token, but not together: state lists resources in the order `up` finished them, accounts
# first, so at 1,000 accounts an account's probe and its config's read are tens of seconds apart
# (a 10 s memo gave 3 calls per account there, this one 2).
# A provider process serves one Pulumi operation, and any write through it forgets the account.
READ_TTL = 300.0
# The most a read that decides a write (adopting an existing config) reuses: seconds, enough
# for the reads of one adoption (probe, preview check, create) to share one request.
DECIDING_AGE = 10.0

T = TypeVar("T")


def path_segment(value: str, what: str) -> str:
    """One id escaped as a single path segment; refuses values that would change the path."""
    if not value or value in (".", "..") or len(value) > 1024:
        raise ValueError(f"{what} {value!r} cannot be used in a URL path")
    return quote(value, safe="")


@dataclass
class _Flight(Generic[T]):
    """One read on the wire; readers that arrive meanwhile wait for its outcome."""

    seq: int
    generation: int
    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class _Answer(Generic[T]):
    seq: int
    at: float
    value: T | None
    error: NotFoundError | None


class ReadMemo:
    """Recent read answers per account, shared between threads, dropped by any write.

    * Single flight: a read that finds the same read on the wire waits for it instead of
      sending another; waiters share its outcome, errors included.
    * Memo: a successful answer, or a JSON NOT_FOUND (the proof of "gone", an answer
      like any other), is reused for `ttl` seconds, or `max_age` if a read asks for less.
      Other errors are never kept.
    * Writes: `writing(account)` drops the account's answers and in-flight reads before the
      write is sent and again when it ends, so nothing read before or during a write is
      served after it (answers of reads that overlapped the write are not stored).
    * `fresh=True` skips both memo and in-flight reads: for callers that must see changes
      made outside this process (or landed late) since the last read.

    Accounts are keyed case-insensitively, as MotherDuck compares usernames.
    """

    def __init__(self, ttl: float = READ_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0
        self._generation: dict[str, int] = {}
        # Both by account, then by what was read, so a write forgets an account in O(1).
        self._answers: dict[str, dict[str, _Answer[Any]]] = {}
        self._flights: dict[str, dict[str, _Flight[Any]]] = {}

    @staticmethod
    def account_key(username: str) -> str:
        """The key of an account: usernames are unique regardless of case."""
        return username.casefold()

    def read(
        self,
        account: str,
        what: str,
        fetch: Callable[[], T],
        *,
        fresh: bool = False,
        max_age: float | None = None,
    ) -> T:
        """`fetch()`'s answer for (account, what), shared as described in the class doc."""
        account = self.account_key(account)
        joined: _Flight[T] | None = None
        age = self.ttl if max_age is None else min(self.ttl, max_age)
        with self._lock:
            if not fresh:
                answer = self._answers.get(account, {}).get(what)
                if answer is not None and self._clock() - answer.at < age:
                    kept: T | None = answer.value
                    return self._give(kept, answer.error)
                joined = self._flights.get(account, {}).get(what)
            if joined is None:
                self._seq += 1
                flight: _Flight[T] = _Flight(self._seq, self._generation.get(account, 0))
                self._flights.setdefault(account, {})[what] = flight
        if joined is not None:
            joined.done.wait()
            return self._give(joined.value, joined.error)
        try:
            flight.value = fetch()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            self._land(account, what, flight)
            flight.done.set()
        return flight.value

    def _land(self, account: str, what: str, flight: _Flight[Any]) -> None:
        """Retire a finished flight and keep its answer unless a write or a newer read won."""
        with self._lock:
            flights = self._flights.get(account, {})
            if flights.get(what) is flight:
                del flights[what]
            if not flights:
                self._flights.pop(account, None)
            gone = flight.error if isinstance(flight.error, NotFoundError) else None
            if flight.error is not None and gone is None:
                return
            if self.ttl <= 0 or self._generation.get(account, 0) != flight.generation:
                return
            answers = self._answers.setdefault(account, {})
            current = answers.get(what)
            if current is None or current.seq < flight.seq:
                now = self._clock()
                answers[what] = _Answer(flight.seq, now, flight.value, gone)
                if len(self._answers) > 16384:
                    self._answers = {
                        a: kept
                        for a, held in self._answers.items()
                        if (kept := {w: x for w, x in held.items() if now - x.at < self.ttl})
                    }

    @staticmethod
    def _give(value: T | None, error: BaseException | None) -> T:
        if error is not None:
            # Shared by several readers: drop the traceback so it does not grow with each one.
            raise error.with_traceback(None)
        return value  # type: ignore[return-value]  # only a fetch that returned None gives None

    def invalidate(self, account: str) -> None:
        """Forget the account's answers; reads on the wire now will not be stored or joined."""
        account = self.account_key(account)
        with self._lock:
            self._generation[account] = self._generation.get(account, 0) + 1
            self._answers.pop(account, None)
            self._flights.pop(account, None)

    @contextmanager
    def writing(self, account: str) -> Iterator[None]:
        """Bracket a write attempt to `account`: invalidate before it is sent and after it ends."""
        self.invalidate(account)
        try:
            yield
        finally:
            self.invalidate(account)

    def clear(self) -> None:
        """Forget every answer (reads on the wire finish but are not stored or joined)."""
        with self._lock:
            for account in {*self._answers, *self._flights}:
                self._generation[account] = self._generation.get(account, 0) + 1
            self._answers.clear()
            self._flights.clear()


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
        import httpx

        self._token = settings.token
        self._rate_limit_wait = settings.rate_limit_wait
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            base_url=settings.api_url,
            timeout=settings.timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            # No cap of its own: the worker settings bound the calls at once, and every
            # connection stays open for the next call (a new one is a TLS handshake).
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
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
        import httpx

        attempt = 0
        tries = _retry.Tries()
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
                record_call(method, None)
                failure = self._transport_error(method, path, exc)
                log.info(
                    "%s %s -> %s after %.3fs (attempt %d)",
                    method,
                    path,
                    type(exc).__name__,
                    time.monotonic() - started,
                    attempt,
                )
                wait = _retry.next_wait(
                    method,
                    tries,
                    sent=failure.sent,
                    rate_limit_wait=self._rate_limit_wait,
                    rng=self._rng,
                )
                if wait is not None:
                    delay, tries = wait
                    self._sleep(delay)
                    continue
                raise failure from exc
            record_call(method, response.status_code)
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
            wait = _retry.next_wait(
                method,
                tries,
                status=response.status_code,
                retry_after=retry_after,
                rate_limit_wait=self._rate_limit_wait,
                rng=self._rng,
            )
            if wait is not None:
                delay, tries = wait
                self._sleep(delay)
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
        import httpx

        not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        reason = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            reason = f"timed out ({reason})"
        elif not_sent:
            reason = f"could not connect ({reason})"
        else:
            reason = f"connection failed ({reason})"
        return TransportError(method, path, reason, sent=not not_sent)
