"""Generate the provider plugin's SDKs (TypeScript, Go, Python) from its current schema.

`pulumi package gen-sdk` and `pulumi package add` ask a language host to generate an SDK, and
the Go module proxy here does not serve the Node.js, Go or Python hosts. Their generators are
Pulumi's own codegen packages, which it does serve: `tools/pulumi-sdkgen` (a small Go program
pinned to the pkg/v3 version the CLI is built from) calls them. It is built once into
`${MOTHERDUCK_PULUMI_CACHE:-~/.cache/motherduck-pulumi}/pulumi-sdkgen-<version>/bin` with a stamp
of its inputs, like tools/pulumi_yaml.py builds the YAML host.

    python -m tools.sdkgen nodejs|go|python OUT_DIR [--schema schema.json]

`node_toolchain()` installs, once per pinned set (tools/sdk-node/package-lock.json), the
`typescript` and `@pulumi/pulumi` the end-to-end tests compile the TypeScript SDK with.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.gobuild import cache_root, cached, digest, go, go_env, required_version

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = REPO_ROOT / "tools" / "pulumi-sdkgen"
NODE_DIR = REPO_ROOT / "tools" / "sdk-node"
BINARY = "pulumi-sdkgen"
LANGUAGES = ("nodejs", "go", "python")


def pinned_version() -> str:
    """The pulumi pkg/v3 version go.mod requires (the codegen gen-sdk would run)."""
    return required_version(MODULE_DIR, "github.com/pulumi/pulumi/pkg/v3").removeprefix("v")


def install_sdkgen() -> Path:
    """The `pulumi-sdkgen` executable, built if missing or stale (a minute or two, once)."""
    inputs = sorted(p for p in MODULE_DIR.iterdir() if p.is_file())
    stamp = f"pulumi-sdkgen pkg/v3 v{pinned_version()} inputs {digest(*inputs, Path(__file__))}"

    def build(work: Path) -> None:
        print(f"sdkgen: building {BINARY} (Pulumi codegen v{pinned_version()})", file=sys.stderr)
        subprocess.run(
            [go(), "build", "-trimpath", "-ldflags", "-s -w", "-o", f"{work}/bin/", "."],
            cwd=MODULE_DIR,
            env=go_env(),
            check=True,
            stdout=sys.stderr,
        )

    target = cached(cache_root() / f"pulumi-sdkgen-{pinned_version()}", stamp, build)
    return target / "bin" / BINARY


def write_schema(path: Path, python: str = sys.executable) -> Path:
    """The plugin's current schema, as `python -m motherduck_provider.plugin schema` writes it."""
    subprocess.run(
        [python, "-m", "motherduck_provider.plugin", "schema", "--out", str(path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        check=True,
    )
    return path


def generate(language: str, out: Path, schema: Path | None = None, *, local: bool = True) -> Path:
    """Write `language`'s SDK to `out` (replaced), from `schema` or else the current one."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: one of {', '.join(LANGUAGES)}")
    with tempfile.TemporaryDirectory() as tmp:
        schema = schema or write_schema(Path(tmp) / "schema.json")
        command = [str(install_sdkgen()), "-schema", str(schema), "-language", language]
        subprocess.run([*command, "-out", str(out), *(["-local"] if local else [])], check=True)
    return out


def node_toolchain() -> Path:
    """A `node_modules` dir with the pinned `typescript`, `@pulumi/pulumi` and `@types/node`.

    `npm ci` from tools/sdk-node/package-lock.json, once per lock file: reruns are offline."""
    files = (NODE_DIR / "package.json", NODE_DIR / "package-lock.json")
    stamp = f"sdk-node inputs {digest(*files)}"

    def build(work: Path) -> None:
        npm = shutil.which("npm")
        if not npm:
            raise RuntimeError("npm is needed to install the TypeScript toolchain")
        for file in files:
            shutil.copy(file, work / file.name)
        print("sdkgen: npm ci (typescript, @pulumi/pulumi)", file=sys.stderr)
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
        subprocess.run(command, cwd=work, check=True, stdout=sys.stderr)

    target = cached(cache_root() / f"sdk-node-{stamp.split()[-1][:16]}", stamp, build)
    return target / "node_modules"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sdkgen", description=__doc__.split("\n")[0]
    )
    parser.add_argument("language", choices=LANGUAGES)
    parser.add_argument("out", type=Path, help="the directory to write the SDK to (replaced)")
    parser.add_argument(
        "--schema", type=Path, help="a schema file (default: the plugin's current one)"
    )
    args = parser.parse_args(argv)
    print(generate(args.language, args.out.resolve(), args.schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
