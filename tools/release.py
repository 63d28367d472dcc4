"""Build a release from one version number: `bash scripts/release [VERSION] [--out DIR]`.

Into `dist/` (or `--out`), replaced as a whole:

- `motherduck_pulumi-<v>-py3-none-any.whl` and `motherduck_pulumi-<v>.tar.gz`: the package;
- `pulumi-resource-motherduck-v<v>-linux-amd64.tar.gz`: the provider plugin in Pulumi's plugin
  format (`pulumi plugin install resource motherduck <v> --file ...`): the launcher at its root
  and `site-packages/<3.x>/`, the package with every dependency, per supported Python;
- `motherduck-pulumi-motherduck-<v>.tgz` (`npm pack` of the built TypeScript SDK),
  `pulumi_motherduck-<v>-py3-none-any.whl` (the Python SDK) and
  `motherduck-go-sdk-v<v>.zip` (the Go SDK in Go's module zip layout, with its go.mod);
- `SHA256SUMS` over all of them (`sha256sum -c SHA256SUMS` in the folder checks them).

The version is the package's (`motherduck_provider/_version.py`) unless given: the build runs
on a copy of the tracked files with `_version.py` set to it, so the wheel, the plugin's
answer to the engine, the schema and every SDK carry the same number.

Why site-packages per Python rather than a virtualenv made on first run: nothing runs pip,
ensurepip (Debian's python3-venv) or writes beside the plugin when the engine starts it, so the
first `pulumi preview` is not slowed or broken by an install, and parallel starts cannot race;
a zipapp cannot hold grpcio's and pydantic-core's compiled modules. The price is size: one copy
of the dependencies per Python (3.11, 3.12, 3.13, as `scripts/find-python` supports), each with
bytecode made by that Python where the build machine has it.
Dependencies are the versions `.venv` runs (the combination the suite tests), downloaded once
per set into a wheelhouse in the toolchain cache; later builds are offline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

from tools.gobuild import cache_root, cached
from tools.sdkgen import generate, node_toolchain

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = REPO_ROOT / "tools" / "plugin-package" / "pulumi-resource-motherduck"
VERSION_FILE = Path("motherduck_provider") / "_version.py"
#: The Pythons the plugin package carries dependencies for (scripts/find-python's list).
PYTHONS = ("3.11", "3.12", "3.13")
#: glibc 2.17 or later on x86-64: every current Linux distribution except musl ones (Alpine).
PLATFORM = "manylinux_2_17_x86_64"
#: pip's `--platform` arguments for PLATFORM: its old name too, which pip does not infer, as
#: some wheels carry only that tag (protobuf's compiled one; without it the pure-Python wheel
#: was taken, which slows the plugin's start and every gRPC message).
PLATFORM_ARGS = ("--platform", PLATFORM, "--platform", "manylinux2014_x86_64")
PLUGIN = "pulumi-resource-motherduck"
#: Left out of the plugin package: the Pulumi SDK requires debugpy to debug programs run by
#: the Python language host, and the plugin is no such program (nothing in `pulumi` imports
#: it; tests/e2e/test_release.py notices when that changes). It is most of the size.
LEFT_OUT = ("debugpy",)
SUMS = "SHA256SUMS"


def log(message: str) -> None:
    print(f"release: {message}", file=sys.stderr, flush=True)


def run(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    capture: bool = False,
) -> str:
    """Run a command, its output on stderr unless captured (stdout is the script's answer)."""
    out = subprocess.PIPE if capture else sys.stderr
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, stdout=out, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, args))}` exited {proc.returncode}")
    return proc.stdout or ""


def package_version() -> str:
    """The version `_version.py` holds."""
    found = re.search(r'__version__ = "([^"]+)"', (REPO_ROOT / VERSION_FILE).read_text())
    if not found:
        raise RuntimeError(f"no __version__ in {VERSION_FILE}")
    return found.group(1)


def check_version(version: str) -> str:
    """Plain MAJOR.MINOR.PATCH: the one spelling Python, npm, Go and Pulumi's plugin cache
    all read the same way (a pre-release is `0.2.0rc1` for pip but `0.2.0-rc.1` for semver)."""
    if not re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", version):
        raise ValueError(f"version {version!r}: MAJOR.MINOR.PATCH, such as 0.2.0")
    return version


def stage(version: str, work: Path) -> Path:
    """A copy of the tracked files (as the working tree has them) with `_version.py` set."""
    src = work / "src"
    dirty = run("git", "status", "--porcelain", "--untracked-files=no", cwd=REPO_ROOT, capture=True)
    if dirty.strip():
        log("warning: tracked files have uncommitted changes, and this build holds them")
    listed = run("git", "ls-files", "-z", cwd=REPO_ROOT, capture=True).split("\0")
    for name in filter(None, listed):
        path = REPO_ROOT / name
        if path.is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    text = (src / VERSION_FILE).read_text()
    (src / VERSION_FILE).write_text(
        re.sub(r'__version__ = "[^"]+"', f'__version__ = "{version}"', text)
    )
    return src


def offline_build(house: Path, *args: str | Path) -> None:
    """`python -m build`, its isolated build env filled from `house` alone."""
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(house / "build")}
    run(sys.executable, "-m", "build", *args, env=env)


def build_package(src: Path, out: Path, house: Path) -> Path:
    """The sdist, and the wheel built from it."""
    log("building the wheel and the sdist")
    offline_build(house, "--outdir", out, src)
    (wheel,) = out.glob("motherduck_pulumi-*.whl")
    return wheel


def requirements() -> tuple[list[str], list[str]]:
    """(what building the package needs, what the package needs to run) per pyproject.toml."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return list(project["build-system"]["requires"]), list(project["project"]["dependencies"])


def pins() -> str:
    """The versions `.venv` runs, as pip constraints (the project itself left out)."""
    frozen = run(sys.executable, "-m", "pip", "freeze", "--exclude-editable", capture=True)
    return "".join(f"{line}\n" for line in frozen.splitlines() if "motherduck" not in line)


def wheelhouse(constraints: str) -> Path:
    """Wheels for building the package (`build/`) and for running it on every Python of
    PYTHONS on PLATFORM (`run/`), under `constraints`: downloaded once per set (the registry's
    answers are not cached by pip), offline afterwards."""
    build_needs, run_needs = requirements()
    stamp = json.dumps([build_needs, run_needs, constraints, PYTHONS, PLATFORM_ARGS])
    key = hashlib.sha256(stamp.encode()).hexdigest()

    def download(work: Path) -> None:
        pins = work / "constraints.txt"
        pins.write_text(constraints)
        log("downloading the build requirements")
        run(sys.executable, "-m", "pip", "download", "-q", "-d", work / "build", *build_needs)
        for python in PYTHONS:
            log(f"downloading dependency wheels for Python {python} ({PLATFORM})")
            run(sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
                *PLATFORM_ARGS, "--python-version", python, "-d", work / "run",
                "-c", pins, *run_needs)  # fmt: skip

    return cached(cache_root() / f"release-wheels-{key[:16]}", key, download)


def plugin_package(wheel: Path, house: Path, version: str, out: Path, work: Path) -> Path:
    """The plugin tarball: the launcher at its root, beside site-packages/<3.x>/ for each
    Python of PYTHONS, installed offline from `house`."""
    root = work / "plugin"
    root.mkdir()
    shutil.copy2(LAUNCHER, root / PLUGIN)
    shutil.copy2(REPO_ROOT / "LICENSE", root / "LICENSE")
    for python in PYTHONS:
        log(f"plugin package: site-packages for Python {python}")
        target = root / "site-packages" / python
        run(sys.executable, "-m", "pip", "install", "-q", "--no-index",
            "--find-links", house / "run", "--only-binary=:all:", *PLATFORM_ARGS,
            "--python-version", python, "--no-compile", "--target", target, wheel)  # fmt: skip
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts for another path
        for name in LEFT_OUT:
            for path in [target / name, *target.glob(f"{name}-*.dist-info")]:
                shutil.rmtree(path)
        compile_bytecode(python, target)
    tarball = out / f"{PLUGIN}-v{version}-linux-amd64.tar.gz"
    with tarfile.open(tarball, "w:gz", compresslevel=6) as archive:  # 9 is twice as slow
        for path in sorted(root.iterdir()):
            archive.add(path, arcname=path.name)
    return tarball


def find_python(version: str) -> str | None:
    """This machine's Python `version` (3.X), as `scripts/find-python` finds it, or None."""
    found = subprocess.run(["bash", REPO_ROOT / "scripts" / "find-python", version],
                           capture_output=True, text=True, check=False)  # fmt: skip
    return found.stdout.strip() if found.returncode == 0 else None


def compile_bytecode(python: str, target: Path) -> None:
    """Bytecode for `target`, made by that Python (pip can only compile for the one it runs
    on): without it each start of the plugin compiles everything it imports (about 0.6
    CPU-seconds) wherever it cannot write `__pycache__`, a read-only plugin folder or
    `PYTHONDONTWRITEBYTECODE=1`. Unchecked hash-based files: the sources never change after
    `pulumi plugin install`, whatever modification times the install gives them."""
    interpreter = find_python(python)
    if interpreter is None:
        log(f"plugin package: no Python {python} here, its site-packages carry no bytecode")
        return
    compiled = subprocess.run([interpreter, "-m", "compileall", "-q", "-j", "0",
                               "--invalidation-mode", "unchecked-hash", target],
                              capture_output=True, text=True, check=False)  # fmt: skip
    if compiled.returncode != 0:  # as pip does: a file that does not compile keeps its source
        log(f"plugin package: Python {python} could not compile every file:\n{compiled.stdout}")


def write_schema(src: Path, path: Path) -> Path:
    """The schema the staged package serves (its version is the release's)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    run(sys.executable, "-m", "motherduck_provider.plugin", "schema", "--out", path,
        cwd=src, env=env)  # fmt: skip
    return path


def stamp_plugin_json(folder: Path, version: str) -> None:
    """Codegen writes `pulumi-plugin.json` without a version unless the schema asks for it;
    with it, an SDK's default provider asks the engine for this release's plugin."""
    for path in folder.rglob("pulumi-plugin.json"):
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "version": version}, indent=2) + "\n")


def npm_package(schema: Path, version: str, out: Path, work: Path) -> Path:
    """`npm pack` of the TypeScript SDK, compiled into bin/ with the pinned toolchain."""
    log("TypeScript SDK: generating, compiling (tsc), packing")
    sdk = generate("nodejs", work / "nodejs", schema, local=False)
    manifest = json.loads((sdk / "package.json").read_text())
    manifest.update(version=version, main="bin/index.js", types="bin/index.d.ts")
    manifest["files"] = ["bin/", "README.md"]
    manifest["pulumi"] = {**manifest.get("pulumi", {}), "version": version}
    (sdk / "package.json").write_text(json.dumps(manifest, indent=4) + "\n")
    # The generated .gitignore lists bin/, which npm would leave out without an .npmignore.
    (sdk / ".npmignore").write_text("node_modules/\n")
    (sdk / "node_modules").symlink_to(node_toolchain())
    run(node_toolchain() / ".bin" / "tsc", "-p", sdk, cwd=sdk)
    # bin/utilities.js reads the SDK's version from `./package.json` (every resource asks the
    # engine for that plugin version): without the copy the program fails at its first import.
    shutil.copy(sdk / "package.json", sdk / "bin" / "package.json")
    (sdk / "node_modules").unlink()
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError("npm is needed to pack the TypeScript SDK")
    name = run(npm, "pack", "--silent", "--pack-destination", out, cwd=sdk, capture=True)
    return out / name.strip().splitlines()[-1]


def python_sdk(schema: Path, version: str, out: Path, work: Path, house: Path) -> Path:
    """The Python SDK's wheel (`pulumi_motherduck`)."""
    log("Python SDK: generating, building the wheel")
    sdk = generate("python", work / "python", schema, local=False)
    setup = sdk / "setup.py"
    text = setup.read_text()
    if 'VERSION = "0.0.0"' not in text:
        raise RuntimeError("the Python SDK's setup.py no longer sets its version as 0.0.0")
    setup.write_text(text.replace('VERSION = "0.0.0"', f'VERSION = "{version}"'))
    stamp_plugin_json(sdk, version)
    wheels = work / "python-dist"
    offline_build(house, "--wheel", "--outdir", wheels, sdk)
    (wheel,) = wheels.glob("pulumi_motherduck-*.whl")
    return Path(shutil.copy2(wheel, out / wheel.name))


def go_mod(module: str) -> str:
    """The Go SDK's go.mod: the `go` line and the requirements its code imports, as Pulumi's
    codegen module resolved them (tools/pulumi-sdkgen/go.mod, the SDK the CLI is built from;
    its `go` line is at least what that SDK asks for)."""
    pinned = (REPO_ROOT / "tools" / "pulumi-sdkgen" / "go.mod").read_text()
    wanted = ("go", "github.com/blang/semver", "github.com/pulumi/pulumi/sdk/v3")
    found = {w: re.search(rf"^\s*{re.escape(w)} (\S+)", pinned, re.MULTILINE) for w in wanted}
    missing = [w for w, m in found.items() if not m]
    if missing:
        raise RuntimeError(f"no {', '.join(missing)} in tools/pulumi-sdkgen/go.mod")
    go_line, *requires = (f"{w} {m[1]}" for w, m in found.items() if m)
    return (
        f"module {module}\n\n{go_line}\n\nrequire (\n"
        + "".join(f"\t{r}\n" for r in requires)
        + ")\n"
    )


def go_module(schema: Path, version: str, out: Path, work: Path) -> Path:
    """The Go SDK as a zip in Go's module layout (`<module>@v<version>/...`), with a go.mod."""
    log("Go SDK: generating, zipping")
    module = json.loads(schema.read_text())["language"]["go"]["importBasePath"]
    sdk = generate("go", work / "go", schema, local=False)
    (package,) = [p for p in sdk.iterdir() if p.is_dir()]
    stamp_plugin_json(package, version)
    (package / "go.mod").write_text(go_mod(module))
    archive_path = out / f"motherduck-go-sdk-v{version}.zip"
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in package.rglob("*") if p.is_file()):
            archive.write(path, f"{module}@v{version}/{path.relative_to(package).as_posix()}")
    return archive_path


def write_sums(out: Path) -> Path:
    """SHA256SUMS in `sha256sum`'s format, one line per artifact, by name."""
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
        for p in sorted(out.iterdir())
        if p.is_file() and p.name != SUMS
    ]
    (out / SUMS).write_text("".join(lines))
    return out / SUMS


def build(version: str | None = None, out: Path | None = None) -> Path:
    """Build every artifact of `version` (default: the package's) into `out` (default:
    dist/, replaced); return `out`."""
    version = check_version(version or package_version())
    out = (out or REPO_ROOT / "dist").resolve()
    with tempfile.TemporaryDirectory(prefix="motherduck-release-") as tmp:
        work = Path(tmp)
        log(f"version {version}, into {out}")
        staged = work / "dist"
        staged.mkdir()
        src = stage(version, work)
        house = wheelhouse(pins())
        wheel = build_package(src, staged, house)
        plugin_package(wheel, house, version, staged, work)
        schema = write_schema(src, work / "schema.json")
        npm_package(schema, version, staged, work)
        python_sdk(schema, version, staged, work, house)
        go_module(schema, version, staged, work)
        write_sums(staged)
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, out)
    for path in sorted(out.iterdir()):
        log(f"  {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bash scripts/release", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("version", nargs="?", help="MAJOR.MINOR.PATCH (default: _version.py's)")
    parser.add_argument("--out", type=Path, help="the folder to build into (default: dist/)")
    args = parser.parse_args(argv)
    try:
        print(build(args.version, args.out))
    except (ValueError, RuntimeError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
