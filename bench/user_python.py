"""The Python a user's project runs, for the benchmarks' programs and provider processes.

A user installs motherduck-pulumi from its wheel into the project's virtualenv, beside what it
depends on and little else. `.venv` is a developer's: the package is installed editable (a
finder that every interpreter start imports, about 15 ms) and the tools (twine brings rich,
uvicorn click, pytest pygments) make `import httpx` import its command line too (about 40 ms
per provider process). A fleet starts six Pythons per shard (program, provider, the language
host's three probes and `pip --version`), so these costs are a few CPU-seconds of a fleet's
`up` that no user pays.

`user_python()` installs this checkout (not editable) with the versions `.venv` runs, from the
release wheelhouse, into one virtualenv in the toolchain cache, rebuilt when the package's
files change (about 10 s). pip itself is brought to the version `.venv` runs, from the
registry, as Pulumi upgrades pip in the virtualenvs it makes. A `PYTHONPATH` set by the
caller still comes first, so an A/B run against another checkout (`PYTHONPATH=<checkout>`)
runs that checkout's code.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tools import release  # noqa: E402
from tools.gobuild import cache_root, cached  # noqa: E402

PACKAGE = REPO / "motherduck_provider"


def _sources_key(constraints: str, house: Path) -> str:
    """What the virtualenv holds: the interpreter, the pins, the wheels and every file of the
    package."""
    digest = hashlib.sha256(f"{sys.version}\0{constraints}\0{house}\0{version('pip')}".encode())
    digest.update((REPO / "pyproject.toml").read_bytes())
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def user_python() -> Path:
    """The interpreter of the user-like virtualenv, built or refreshed first if needed."""
    constraints = release.pins()
    house = release.wheelhouse(constraints)

    def build(work: Path) -> None:
        print(f"user_python: installing this checkout into {work}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(work)], check=True)
        # Pulumi upgrades pip when it makes a project's virtualenv; the language host runs
        # `pip --version` at every `up` (an old pip takes three times as long).
        pip = f"pip=={version('pip')}"
        python = str(work / "bin" / "python")
        subprocess.run([python, "-m", "pip", "install", "-q", pip], check=True)
        (work / "constraints.txt").write_text(constraints)
        offline = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        offline["PIP_FIND_LINKS"] = f"{house / 'build'} {house / 'run'}"
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet",
             "-c", str(work / "constraints.txt"), str(REPO)],
            check=True, env=offline, cwd=work,
        )  # fmt: skip

    tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    key = _sources_key(constraints, house)
    venv = cached(cache_root() / "venvs" / f"bench-user-{tag}", key, build)
    return venv / "bin" / "python"


PYTHONS = ("user", "dev")


def python_env(which: str) -> dict[str, str]:
    """`PULUMI_PYTHON_CMD` and `PYTHONPATH` for a benchmark's programs and providers: `user`
    (the virtualenv above; bench/ on the path for its programs' helpers) or `dev` (`.venv`,
    running this checkout from source)."""
    bench = str(REPO / "bench")
    if which == "user":
        python, path = str(user_python()), (bench,)
    elif which == "dev":
        python, path = sys.executable, (bench, str(REPO))
    else:
        raise ValueError(f"--python: {which!r} is not one of {', '.join(PYTHONS)}")
    # An existing PYTHONPATH comes first: it can point at another checkout to compare.
    return {
        "PULUMI_PYTHON_CMD": python,
        "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), *path) if p),
    }


def add_python_argument(parser: argparse.ArgumentParser) -> None:
    """The benchmarks' `--python` option."""
    parser.add_argument(
        "--python",
        choices=PYTHONS,
        default="user",
        help="the programs' and providers' Python: user (this checkout installed from its wheel "
        "with its dependencies alone, as a user has it; bench/user_python.py) or dev (.venv)",
    )


if __name__ == "__main__":
    print(user_python())
