"""Provider start: what the dynamic-provider process pays before its first answer.

The engine starts `python -m pulumi.dynamic` (Pulumi's own imports: grpc, dill, the SDK); its
first Check unpickles our provider, which imports our package. This prints, as medians over
fresh processes, the milliseconds of that unpickle-and-import plus one `check` and one `diff`
of each resource, and whether httpx or pydantic were imported by then (they need not be: no
API call has happened yet).

Run: `.venv/bin/python bench/bench_import.py [--runs 9]`. Set PYTHONPATH to another checkout
to measure it instead (e.g. one made with `git archive <commit>`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, time, sys
import asyncio, grpc, dill, pulumi, pulumi.runtime, pulumi.dynamic  # pulumi.dynamic's own
from pulumi.dynamic.dynamic import serialize_provider
import pulumi.runtime.proto.provider_pb2_grpc

blobs = json.loads(sys.argv[1])
start = time.perf_counter()
import base64
providers = [dill.loads(base64.b64decode(b)) for b in blobs]
unpickled = time.perf_counter()
news = {
    "username": "etl_writer", "name": "ci", "token_type": "read_write",
    "read_write": {"instance_size": "standard"},
    "read_scaling": {"instance_size": "pulse", "flock_size": 1},
}
for p in providers:
    checked = p.check({}, dict(news)).inputs
    p.diff("etl_writer", checked, checked)
answered = time.perf_counter()
heavy = sorted(m for m in ("httpx", "pydantic") if m in sys.modules)
print(json.dumps({"import_ms": (unpickled - start) * 1000,
                  "first_answers_ms": (answered - start) * 1000, "heavy": heavy}))
"""


def blobs() -> list[str]:
    """The three providers as the SDK serializes them into state."""
    from pulumi.dynamic.dynamic import serialize_provider

    from motherduck_provider.resources import (
        AccessTokenProvider,
        InstanceConfigProvider,
        ServiceAccountProvider,
    )

    return [
        serialize_provider(p)
        for p in (ServiceAccountProvider(), AccessTokenProvider(), InstanceConfigProvider())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = max(3, min(parser.parse_args().runs, 50))
    payload = json.dumps(blobs())
    results = []
    for _ in range(runs):
        # Run outside the repo: `-c` puts the working directory first on sys.path.
        out = subprocess.run(
            [sys.executable, "-c", CHILD, payload],
            capture_output=True,
            text=True,
            check=True,
            cwd=tempfile.gettempdir(),
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    imports = statistics.median(r["import_ms"] for r in results)
    answers = statistics.median(r["first_answers_ms"] for r in results)
    heavy = ", ".join(results[-1]["heavy"]) or "neither"
    print(
        f"unpickle + import: {imports:.0f} ms; + check and diff of all three: {answers:.0f} ms "
        f"(median of {runs}); httpx/pydantic imported by then: {heavy}"
    )


if __name__ == "__main__":
    main()
