"""What every Go build of the suite shares: the `go` binary, its environment, the build cache.

Modules come from Go's module cache and, for what it lacks, from the registry the machine's Go
is set up for (`go env GOPROXY`): a build never depends on what other builds happened to leave
in the module cache, and once a build has fetched its modules it runs offline. `go_env(offline=
True)` (`GOPROXY=off`) proves that: a build that would need the registry fails instead.

Built tools land in `${MOTHERDUCK_PULUMI_CACHE:-~/.cache/motherduck-pulumi}/<name>`, with a stamp
of their inputs, built in a temporary folder renamed into place under a lock (`cached`), as
scripts/install-pulumi builds the CLI.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_root() -> Path:
    """Where the project keeps what it builds and installs for the tests."""
    return Path(
        os.environ.get("MOTHERDUCK_PULUMI_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "motherduck-pulumi"
    )


def go() -> str:
    """The `go` binary: on PATH, else where the official tarball installs it."""
    found = shutil.which("go") or (
        "/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go") else None
    )
    if not found:
        raise RuntimeError("Go (1.26 or newer) is needed for this build: install it")
    return found


def go_env(*, offline: bool = False, mod: str = "readonly", **extra: str) -> dict[str, str]:
    """The environment of a Go build: this process's, with static binaries, the local
    toolchain, `-mod=<mod>` and `-trimpath`. The registry is never replaced by a local file
    proxy (which would serve only what other builds left); `offline` turns it off altogether.

    `-trimpath` in GOFLAGS reaches the `go build` a Go language host runs for a test's program
    too, so every build compiles Pulumi's sdk/v3 graph with the flags scripts/install-pulumi
    builds the CLI with (static, trimmed): the Go build cache then holds it once, whichever
    module cache or folder a build reads it from, instead of once per build setting."""
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(go()).parent), os.environ.get("PATH", "")]),
        "CGO_ENABLED": "0",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "GOFLAGS": f"-mod={mod} -buildvcs=false -trimpath",
        **extra,
    }
    if offline:
        env["GOPROXY"] = "off"
    return env


def digest(*paths: Path) -> str:
    """A hash of files' names and contents: the inputs a stamp records."""
    found = hashlib.sha256()
    for path in paths:
        found.update(path.name.encode() + b"\0" + path.read_bytes())
    return found.hexdigest()


def cached(target: Path, stamp: str, build: Callable[[Path], None]) -> Path:
    """`target`, built by `build(work_dir)` unless its stamp matches; under a lock, atomically."""
    stamp_file = target / "stamp"

    def current() -> bool:
        return stamp_file.is_file() and stamp_file.read_text().strip() == stamp

    if current():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".lock-{target.name}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if current():  # another process built it while we waited
            return target
        work = Path(tempfile.mkdtemp(prefix=f".build-{target.name}.", dir=target.parent))
        try:
            build(work)
            (work / "stamp").write_text(stamp + "\n")
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def required_version(module_dir: Path, module: str) -> str:
    """The version of `module` that `module_dir/go.mod` requires, with its `v` (one source)."""
    found = re.search(rf"{re.escape(module)} (v\S+)", (module_dir / "go.mod").read_text())
    if not found:
        raise RuntimeError(f"no {module} version in {module_dir}/go.mod")
    return found.group(1)
