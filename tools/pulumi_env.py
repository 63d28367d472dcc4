"""The one place that says how this project runs the real Pulumi CLI offline.

``install_pulumi`` runs ``scripts/install-pulumi`` (which builds or finds the
``pulumi`` CLI, the Python language host, its executor and the dynamic-provider
shim) and returns the bin directory. ``pulumi_environment`` returns the
environment variables that make the CLI, the engine, the language host and the
dynamic-provider process work without network access:

* a local file state backend and ``PULUMI_HOME`` under a per-run work dir,
* no update checks and no automatic plugin downloads,
* ``PULUMI_PYTHON_CMD`` set to the current interpreter, so the language host
  and ``pulumi-resource-pulumi-python`` use this project's virtualenv.

From bash::

    eval "$(python tools/pulumi_env.py --work-dir "$DIR")"
"""

from __future__ import annotations

import argparse
import functools
import os
import shlex
import subprocess
import sys
from pathlib import Path

#: Passphrase for the local secrets provider of stacks under the file backend.
#: Only protects throwaway local state; callers may pass their own.
DEFAULT_PASSPHRASE = "motherduck-pulumi-local"

REPO_ROOT = Path(__file__).resolve().parent.parent


def pulumi_environment(
    work_dir: Path, bin_dir: Path, passphrase: str = DEFAULT_PASSPHRASE
) -> dict[str, str]:
    """Return the environment additions for running Pulumi offline in ``work_dir``.

    Creates ``work_dir/state`` (file backend) and ``work_dir/pulumi-home``.
    ``PATH`` is the current ``PATH`` with ``bin_dir`` first; merge the result
    over ``os.environ`` (``{**os.environ, **env}``) for a subprocess, or pass it
    as Automation API ``env_vars``.
    """
    work_dir = Path(work_dir).resolve()
    bin_dir = Path(bin_dir).resolve()
    state = work_dir / "state"
    home = work_dir / "pulumi-home"
    state.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    path = os.environ.get("PATH", "")
    return {
        "PATH": f"{bin_dir}{os.pathsep}{path}" if path else str(bin_dir),
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_HOME": str(home),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }


@functools.cache
def _install(repo_root: Path) -> Path:
    script = repo_root / "scripts" / "install-pulumi"
    proc = subprocess.run(
        [str(script)],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        stderr=None,  # progress goes straight to the caller's stderr
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{script} failed with exit code {proc.returncode}")
    bin_dir = Path(lines[-1])
    if not (bin_dir / "pulumi").is_file():
        raise RuntimeError(f"{script} printed {bin_dir}, which has no pulumi binary")
    return bin_dir


def install_pulumi(repo_root: Path | None = None) -> Path:
    """Run ``scripts/install-pulumi`` once per process and return its bin dir, or return
    ``$MOTHERDUCK_PULUMI_BIN`` when set (``scripts/matrix cli-floor`` points it at the oldest
    supported CLI).

    Raises ``RuntimeError`` when the toolchain cannot be installed.
    """
    given = os.environ.get("MOTHERDUCK_PULUMI_BIN")
    if given:
        if not (Path(given) / "pulumi").is_file():
            raise RuntimeError(f"MOTHERDUCK_PULUMI_BIN={given} has no pulumi binary")
        return Path(given)
    return _install(Path(repo_root or REPO_ROOT).resolve())


def main(argv: list[str] | None = None) -> int:
    """Print ``export K='V'`` lines for the Pulumi environment of ``--work-dir``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--work-dir", type=Path, required=True, help="state and PULUMI_HOME go here"
    )
    parser.add_argument("--bin-dir", type=Path, help="skip install-pulumi and use this bin dir")
    parser.add_argument("--passphrase", default=DEFAULT_PASSPHRASE)
    args = parser.parse_args(argv)
    bin_dir = args.bin_dir or install_pulumi()
    env = pulumi_environment(args.work_dir, bin_dir, args.passphrase)
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
