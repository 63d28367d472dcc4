"""The oldest Pulumi CLI the providers work with, and the check of a `pulumi` executable.

What we rely on and since when (docs/supported-versions.md): `pulumi refresh --run-program`
and `pulumi destroy --run-program`, which our error hints name when the admin token changed,
came with Pulumi's releases of April 2025 (pulumi/pulumi#18868, #19044); 3.163.0 has both and
is the oldest such release the Go module proxy serves here (the one before it there, 3.106.0,
predates them); `bash scripts/matrix cli-floor` builds and tests it. Neither a program nor a
provider process is told the CLI's version by the engine, so the check runs where we start the
CLI ourselves: the recover command.
"""

from __future__ import annotations

import re
import subprocess

MIN_CLI_VERSION = (3, 163, 0)
MIN_CLI = ".".join(map(str, MIN_CLI_VERSION))


class PulumiCLITooOld(RuntimeError):
    """The `pulumi` executable is older than `MIN_CLI_VERSION`."""


def cli_version(pulumi: str) -> tuple[int, int, int] | None:
    """`pulumi version` as (major, minor, patch); None when it cannot be read."""
    try:
        proc = subprocess.run(
            [pulumi, "version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", proc.stdout) if proc.returncode == 0 else None
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def require_cli(pulumi: str) -> None:
    """Fail with a message naming the needed version when `pulumi` is too old.

    An unreadable version is let through: the command that follows says what is wrong.
    """
    found = cli_version(pulumi)
    if found is not None and found < MIN_CLI_VERSION:
        have = ".".join(map(str, found))
        raise PulumiCLITooOld(
            f"the Pulumi CLI ({pulumi}) is v{have}; motherduck-pulumi needs v{MIN_CLI} or "
            "newer (for `pulumi refresh --run-program` and `pulumi destroy --run-program`): "
            "upgrade the Pulumi CLI"
        )
