"""Test-only: let the provider process read an emulator's movable clock instead of the system's.

Rotation windows (`rotate_before`, `keep_previous_for`) are decided by the provider's `utcnow`,
token expiry by the API's clock. Against the emulator, tests move the emulator's clock
(`store.clock.advance`, `POST /_emulator/clock`) rather than sleep; setting
`MOTHERDUCK_PULUMI_TEST_CLOCK_URL` to that emulator's `/_emulator/clock` URL in the environment
of `pulumi` makes the provider process it starts agree with it. Only loopback URLs are read,
so the setting can never make a provider talk to another host; unset (always, outside tests)
it costs one environment lookup.
"""

from __future__ import annotations

import os
from datetime import datetime
from urllib.parse import urlsplit

from .._time import parse_timestamp
from ..config import is_loopback
from ..errors import ConfigurationError

TEST_CLOCK_ENV = "MOTHERDUCK_PULUMI_TEST_CLOCK_URL"


def emulator_clock_now() -> datetime | None:
    """The emulator's current time if `MOTHERDUCK_PULUMI_TEST_CLOCK_URL` is set, else None."""
    url = os.environ.get(TEST_CLOCK_ENV)
    if not url:
        return None
    if not is_loopback(urlsplit(url).hostname or ""):
        raise ConfigurationError(f"{TEST_CLOCK_ENV} (test only) must be a loopback URL: {url!r}")
    import httpx  # only tests get here

    try:
        return parse_timestamp(str(httpx.get(url, timeout=5).raise_for_status().json()["now"]))
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"{TEST_CLOCK_ENV}: could not read {url} ({exc})") from exc
