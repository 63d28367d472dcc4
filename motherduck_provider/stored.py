"""The names a resource's pickled provider (`__provider` in state) refers to.

Pulumi keeps each dynamic resource's provider in state, pickled, in its inputs and again in its
outputs, and the engine rewrites all of state after every step. Pickled by class, a provider
names its module and class (`motherduck_provider.resources.service_account` and
`ServiceAccountProvider`: 124 characters of base64); pickled as a call of one of these
functions, 76. That is 96 bytes fewer per resource in every rewrite (5% of a one-step
account with one token).

These names are recorded in users' state: never rename, move or remove them. Pickles written
before them name the provider classes, which keep their module paths (`tests/e2e/test_upgrade.py`
runs a stack that holds them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .resources._base import ProviderBase
    from .resources.access_token import AccessTokenProvider
    from .resources.instance_config import InstanceConfigProvider
    from .resources.service_account import ServiceAccountProvider


def account(state: dict[str, Any] | None = None) -> ServiceAccountProvider:
    """A `ServiceAccountProvider`, with the connection names `state` holds."""
    from .resources.service_account import ServiceAccountProvider

    return _made(ServiceAccountProvider(), state)


def token(state: dict[str, Any] | None = None) -> AccessTokenProvider:
    """An `AccessTokenProvider`, with the connection names `state` holds."""
    from .resources.access_token import AccessTokenProvider

    return _made(AccessTokenProvider(), state)


def config(state: dict[str, Any] | None = None) -> InstanceConfigProvider:
    """An `InstanceConfigProvider`, with the connection names `state` holds."""
    from .resources.instance_config import InstanceConfigProvider

    return _made(InstanceConfigProvider(), state)


_P = TypeVar("_P", bound="ProviderBase")


def _made(provider: _P, state: dict[str, Any] | None) -> _P:
    if state:
        provider.__setstate__(state)
    return provider
