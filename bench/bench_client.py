"""Benchmarks that print figures: client round trips against the emulator, and the local work
(`check`/`diff`) that every `pulumi preview` does per resource.

Run: `.venv/bin/python bench/bench_client.py [--requests N]`. Loopback only, bounded in count.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from motherduck_provider.client import AdminClient
from motherduck_provider.config import Secret, Settings
from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.models import CreateTokenRequest
from motherduck_provider.resources import AccessTokenProvider, InstanceConfigProvider


def timed(label: str, count: int, fn: Callable[[int], object]) -> None:
    """Run fn count times; print throughput and latency percentiles."""
    samples = []
    start = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - start
    q = statistics.quantiles(samples, n=100)
    print(f"{label:<44} {count / total:>9.0f} ops/s   p50 {q[49]:.3f} ms   p99 {q[98]:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500, help="requests per figure")
    n = max(100, min(parser.parse_args().requests, 20_000))

    with EmulatorServer(admin_token="bench-admin") as server:
        server.store.create_user("bench_user")
        settings = Settings(api_url=server.url, token=Secret("bench-admin"), timeout=10)
        with AdminClient(settings) as client:
            timed(
                "GET instances (pooled keep-alive)",
                n,
                lambda _: client.get_duckling_config("bench_user"),
            )
            timed("GET tokens", n, lambda _: client.list_tokens("bench_user"))

            def create_and_revoke(i: int) -> None:
                made = client.create_token("bench_user", CreateTokenRequest(name=f"t{i}"))
                client.revoke_token("bench_user", made.id)

            timed("POST token + DELETE token", n // 2, create_and_revoke)

            start = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:  # the provider server's own concurrency
                list(pool.map(lambda _: client.get_duckling_config("bench_user"), range(n)))
            print(
                f"{'GET instances, 4 threads sharing one client':<44} "
                f"{n / (time.perf_counter() - start):>9.0f} ops/s"
            )

    token, config = AccessTokenProvider(), InstanceConfigProvider()
    token_news = {"username": "etl", "name": "loader", "ttl": 86400, "rotate_before": 3600}
    config_news = {
        "username": "etl",
        "read_write": {"instance_size": "standard", "cooldown_seconds": 300},
        "read_scaling": {"instance_size": "pulse", "flock_size": 4},
    }
    olds = dict(config_news, read_scaling={"instance_size": "pulse", "flock_size": 4})
    timed("AccessToken.check (local, per preview)", n * 10, lambda _: token.check({}, token_news))
    timed(
        "InstanceConfig.check (local, per preview)", n * 10, lambda _: config.check({}, config_news)
    )
    timed(
        "InstanceConfig.diff (local, per preview)",
        n * 10,
        lambda _: config.diff("etl", olds, config_news),
    )


if __name__ == "__main__":
    main()
