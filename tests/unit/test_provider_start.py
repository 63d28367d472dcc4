"""The provider process answers check and diff without importing httpx or pydantic.

Every `pulumi preview` starts a provider process whose first answers are `check` and `diff`;
importing the HTTP client and the API models there cost 0.2 to 0.5 s per phase for nothing.
They load at the first API call. Measured by `bench/bench_import.py`.
"""

from __future__ import annotations

import textwrap

from tests.child import last_json

PROGRAM = textwrap.dedent(
    """
    import json, sys
    import pulumi.dynamic  # what the provider server itself imports
    import motherduck_provider
    from motherduck_provider.resources import (
        AccessTokenProvider, InstanceConfigProvider, ServiceAccountProvider,
    )

    account = {"username": "etl_writer"}
    token = {"username": "etl_writer", "name": "ci", "ttl": 3600, "rotate_before": 600,
             "expire_at": "2030-01-01T00:00:00Z", "token_id": "t"}
    config = {"username": "etl_writer", "read_write": {"instance_size": "standard"},
              "read_scaling": {"instance_size": "pulse", "flock_size": 1}}
    for provider, news in ((ServiceAccountProvider(), account), (AccessTokenProvider(), token),
                           (InstanceConfigProvider(), config)):
        checked = provider.check({}, dict(news)).inputs
        provider.diff(news["username"], dict(news, **checked), checked)
    loaded = [m for m in ("httpx", "pydantic") if m in sys.modules]
    from motherduck_provider.client import shared_client  # still there when asked for
    print(json.dumps(loaded))
    """
)


def test_check_and_diff_need_neither_httpx_nor_pydantic() -> None:
    assert last_json(PROGRAM) == []
