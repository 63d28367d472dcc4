"""Build (once, cached) the Pulumi YAML language host the plugin's end-to-end tests use.

`pulumi-language-yaml` comes from the Go module proxy (`github.com/pulumi/pulumi-yaml`, pinned
by tools/pulumi-language-yaml/go.mod) and is built into
`${MOTHERDUCK_PULUMI_CACHE:-~/.cache/motherduck-pulumi}/pulumi-language-yaml-<version>/bin`,
with a stamp of the inputs' hash, as scripts/install-pulumi builds the CLI: a second call is
instant, and only the tests that run YAML programs pay for the first build.

    python -m tools.pulumi_yaml    # prints the bin dir
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

from tools.gobuild import cache_root, cached, digest, go, go_env, required_version

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = REPO_ROOT / "tools" / "pulumi-language-yaml"
PACKAGE = "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
BINARY = "pulumi-language-yaml"


def pinned_version() -> str:
    """The pulumi-yaml version go.mod requires (the one source of truth)."""
    return required_version(MODULE_DIR, "github.com/pulumi/pulumi-yaml").removeprefix("v")


@functools.cache
def install_language_yaml() -> Path:
    """The bin dir holding `pulumi-language-yaml`, built if missing or stale."""
    inputs = sorted(p for p in MODULE_DIR.iterdir() if p.is_file())
    stamp = f"pulumi-yaml v{pinned_version()} inputs {digest(*inputs, Path(__file__))}"

    def build(work: Path) -> None:
        print(f"pulumi_yaml: building {BINARY} v{pinned_version()}", file=sys.stderr)
        subprocess.run(
            [go(), "build", "-trimpath", "-ldflags", "-s -w", "-o", f"{work}/bin/", PACKAGE],
            cwd=MODULE_DIR,
            env=go_env(),
            check=True,
            stdout=sys.stderr,
        )

    target = cache_root() / f"pulumi-language-yaml-{pinned_version()}"
    bin_dir = cached(target, stamp, build) / "bin"
    if not (bin_dir / BINARY).is_file():
        raise RuntimeError(f"{bin_dir} has no {BINARY}; remove it to build it again")
    return bin_dir


if __name__ == "__main__":
    print(install_language_yaml())
