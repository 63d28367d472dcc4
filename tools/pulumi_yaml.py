"""Build (once, cached) the Pulumi YAML language host the plugin's end-to-end tests use.

`pulumi-language-yaml` comes from the Go module proxy (`github.com/pulumi/pulumi-yaml`, pinned
by tools/pulumi-language-yaml/go.mod) and is built into
`${MOTHERDUCK_PULUMI_CACHE:-~/.cache/motherduck-pulumi}/pulumi-language-yaml-<version>/bin`,
with a stamp of the inputs' hash, as scripts/install-pulumi builds the CLI: a second call is
instant, and only the tests that run YAML programs pay for the first build.

    python tools/pulumi_yaml.py    # prints the bin dir
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = REPO_ROOT / "tools" / "pulumi-language-yaml"
PACKAGE = "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
BINARY = "pulumi-language-yaml"


def pinned_version() -> str:
    """The pulumi-yaml version go.mod requires (the one source of truth)."""
    text = (MODULE_DIR / "go.mod").read_text()
    found = re.search(r"github\.com/pulumi/pulumi-yaml v(\S+)", text)
    if not found:
        raise RuntimeError(f"no github.com/pulumi/pulumi-yaml version in {MODULE_DIR}/go.mod")
    return found.group(1)


def _stamp() -> str:
    digest = hashlib.sha256()
    for path in sorted(MODULE_DIR.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return f"pulumi-yaml v{pinned_version()} inputs {digest.hexdigest()}"


def _go() -> str:
    found = shutil.which("go") or (
        "/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go") else None
    )
    if not found:
        raise RuntimeError("Go is needed to build pulumi-language-yaml")
    return found


@functools.cache
def install_language_yaml() -> Path:
    """The bin dir holding `pulumi-language-yaml`, built if missing or stale."""
    cache = Path(
        os.environ.get("MOTHERDUCK_PULUMI_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "motherduck-pulumi"
    )
    target = cache / f"pulumi-language-yaml-{pinned_version()}"
    bin_dir, stamp = target / "bin", _stamp()

    def current() -> bool:
        stamp_file = target / "stamp"
        return (
            stamp_file.is_file()
            and stamp_file.read_text().strip() == stamp
            and (bin_dir / BINARY).is_file()
        )

    if current():
        return bin_dir
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock-language-yaml", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if current():  # another process built it while we waited
            return bin_dir
        work = Path(tempfile.mkdtemp(prefix=".build-yaml.", dir=cache))
        try:
            env = {
                **os.environ,
                "CGO_ENABLED": "0",
                "GOTOOLCHAIN": "local",
                "GOFLAGS": "-mod=readonly -buildvcs=false",
            }
            print(f"pulumi_yaml: building {BINARY} v{pinned_version()}", file=sys.stderr)
            subprocess.run(
                [_go(), "build", "-trimpath", "-ldflags", "-s -w", "-o", f"{work}/bin/", PACKAGE],
                cwd=MODULE_DIR,
                env=env,
                check=True,
                stdout=sys.stderr,
            )
            (work / "stamp").write_text(stamp + "\n")
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return bin_dir


if __name__ == "__main__":
    print(install_language_yaml())
