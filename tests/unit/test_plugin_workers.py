"""The plugin's worker count: how many provider calls run at once (`MOTHERDUCK_PLUGIN_WORKERS`)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from motherduck_provider.plugin import server
from motherduck_provider.plugin.provider import PluginError


def test_default_and_chosen_worker_counts() -> None:
    assert server.workers({}) == server.DEFAULT_WORKERS == 16
    assert server.workers({"MOTHERDUCK_PLUGIN_WORKERS": " 40 "}) == 40
    assert server.workers({"MOTHERDUCK_PLUGIN_WORKERS": "1"}) == 1


@pytest.mark.parametrize("raw", ["0", "257", "-3", "many", "2.5"])
def test_a_bad_worker_count_names_the_variable_the_value_and_the_rule(raw: str) -> None:
    with pytest.raises(PluginError) as caught:
        server.workers({"MOTHERDUCK_PLUGIN_WORKERS": raw})
    assert f"MOTHERDUCK_PLUGIN_WORKERS={raw!r}" in str(caught.value)
    assert "whole number from 1 to 256" in str(caught.value)


def test_a_bad_worker_count_stops_the_plugin_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from motherduck_provider.plugin.__main__ import main

    monkeypatch.setenv("MOTHERDUCK_PLUGIN_WORKERS", "0")
    monkeypatch.setattr(server, "attach", lambda _address: None)
    assert main(["127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MOTHERDUCK_PLUGIN_WORKERS='0'" in err


def test_the_provider_calls_run_on_that_many_threads() -> None:
    """More than asyncio's default (cores + 4) provider calls wait on the API at once."""
    count = 12
    barrier = threading.Barrier(count, timeout=10)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(server.executor(count))
        await asyncio.gather(*(asyncio.to_thread(barrier.wait) for _ in range(count)))

    asyncio.run(run())
