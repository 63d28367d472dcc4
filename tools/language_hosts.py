"""Build (once, cached) this project's Node.js and Go language hosts for the end-to-end tests.

`pulumi-language-nodejs` and `pulumi-language-go` are our own (tools/pulumi-language-hosts,
a Go module on Pulumi's sdk/v3 at the version the CLI is built from): upstream's host modules
are not served by the Go module proxy reachable here. Built with tools/gobuild.py's
environment into `${MOTHERDUCK_PULUMI_CACHE:-~/.cache/motherduck-pulumi}/
pulumi-language-hosts-<version>/bin` with a stamp of the inputs' hash, as tools/pulumi_yaml.py
builds the YAML host: the first build fetches what the module cache lacks from the registry,
later calls are instant and offline.

    python -m tools.language_hosts    # prints the bin dir
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

from tools.gobuild import cache_root, cached, digest, go, go_env, required_version

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = REPO_ROOT / "tools" / "pulumi-language-hosts"
BINARIES = ("pulumi-language-nodejs", "pulumi-language-go")


def pinned_version() -> str:
    """The pulumi sdk/v3 version go.mod requires (the one source of truth)."""
    return required_version(MODULE_DIR, "github.com/pulumi/pulumi/sdk/v3").removeprefix("v")


def inputs() -> list[Path]:
    """Every file of the module: go.mod, go.sum and the hosts' sources."""
    return sorted(p for p in MODULE_DIR.rglob("*") if p.is_file())


@functools.cache
def install_language_hosts() -> Path:
    """The bin dir holding both hosts, built if missing or stale (minutes, once)."""
    version = pinned_version()
    stamp = f"pulumi-language-hosts sdk/v3 v{version} inputs {digest(*inputs(), Path(__file__))}"

    def build(work: Path) -> None:
        print(
            f"language_hosts: building {', '.join(BINARIES)} (sdk/v3 v{version})", file=sys.stderr
        )
        ldflags = f"-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v{version}"
        subprocess.run(
            [go(), "build", "-trimpath", "-ldflags", ldflags, "-o", f"{work}/bin/",
             *(f"./cmd/{name}" for name in BINARIES)],
            cwd=MODULE_DIR,
            env=go_env(),
            check=True,
            stdout=sys.stderr,
        )  # fmt: skip

    bin_dir = cached(cache_root() / f"pulumi-language-hosts-{version}", stamp, build) / "bin"
    for name in BINARIES:
        if not (bin_dir / name).is_file():
            raise RuntimeError(f"{bin_dir} has no {name}; remove it to build it again")
    return bin_dir


if __name__ == "__main__":
    print(install_language_hosts())
