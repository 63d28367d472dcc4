"""Rewriting a stack's state in place: `pulumi stack export`, a backup, `pulumi stack import`.

The state moves between the Python form and the plugin form (`plugin/migrate.py`) and between
the separate and the one-step form (`move_form.py`) this way: nothing in MotherDuck is touched,
and secrets stay the ciphertexts the export holds. The backup is the whole state, so it is
written for the owner alone (0600) and never over an existing file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class PulumiFailed(RuntimeError):
    """A `pulumi` command exited non-zero."""


def run_pulumi(options: argparse.Namespace, *args: str, stdin: str | None = None) -> str:
    """`pulumi ARGS` in `options.cwd` for `options.stack` (if set); its stdout, or raise."""
    command = [options.pulumi, *args, "--non-interactive"]
    if options.stack:
        command += ["--stack", options.stack]
    proc = subprocess.run(
        command, cwd=options.cwd, input=stdin, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise PulumiFailed(f"`pulumi {' '.join(args)}` failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def save_backup(options: argparse.Namespace, text: str, kind: str, stack: str) -> Path:
    """Write the exported state `text` to `options.backup`, or to a new dated file
    `motherduck-<kind>-<stack>-<time>.json` in the project directory; say where."""
    backup = options.backup or Path(options.cwd or ".") / (
        f"motherduck-{kind}-{stack.replace('/', '-')}-"
        f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    # The export holds secrets as ciphertext only; the file is still the stack's whole state.
    fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(
        f"saved the original state to {backup} (`pulumi stack import --file {backup}` restores it)"
    )
    return Path(backup)


def import_state(
    options: argparse.Namespace, exported: dict[str, Any], deployment: dict[str, Any], backup: Path
) -> bool:
    """Import `exported` with its deployment replaced; False (said on stderr) if that failed."""
    try:
        run_pulumi(
            options, "stack", "import", stdin=json.dumps({**exported, "deployment": deployment})
        )
    except PulumiFailed as exc:
        print(f"{exc}\nif the stack changed, restore it from {backup}", file=sys.stderr)
        return False
    return True
