"""Build, one after another, the toolchains the end-to-end tests would otherwise build themselves.

`scripts/test` starts this in the background once the Pulumi CLI is built, while the tests that
need no engine run: those mostly wait, so the compiles fill idle cores instead of holding up an
end-to-end test later. Every build is the cached one the tests call (under its lock), so a test
that needs a toolchain still being built waits for it, and one that is built is instant. A
failure here only says so: the test that needs the toolchain builds it again and reports.

    python -m tools.prebuild
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from tools.language_hosts import install_language_hosts
from tools.minio import install_minio
from tools.pulumi_yaml import install_language_yaml
from tools.sdkgen import install_sdkgen, node_toolchain

BUILDS: dict[str, Callable[[], Path]] = {
    "pulumi-language-yaml": install_language_yaml,
    "pulumi-language-nodejs and pulumi-language-go": install_language_hosts,
    "pulumi-sdkgen": install_sdkgen,
    "the TypeScript toolchain": node_toolchain,
    "MinIO (the object-store tests' server)": install_minio,
}


def main() -> int:
    failed = 0
    for name, build in BUILDS.items():
        start = time.monotonic()
        try:
            where = build()
        except Exception as exc:  # noqa: BLE001 - reported; the tests build it again
            failed += 1
            print(f"prebuild: {name} failed: {exc}", file=sys.stderr)
            continue
        print(f"prebuild: {name} in {time.monotonic() - start:.0f}s: {where}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
