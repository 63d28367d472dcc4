"""A release as users get it: `bash scripts/release VERSION` (tools/release.py), built once for
this module with a version other than the package's, then each artifact installed offline into
a clean environment and used.

The plugin package goes into a fresh PULUMI_HOME with `pulumi plugin install ... --file` and
serves a YAML program found through the plugin cache alone: no `packages` entry, no
`pulumi-resource-motherduck` on PATH, no MOTHERDUCK_PLUGIN_PYTHON, automatic plugin downloads
off (tools/pulumi_env.py). With the same package installed the same way, a TypeScript program
whose node_modules get the npm tarball by `npm install --offline` and a Go program on the Go
module zip (unzipped, by `replace`) each make a service account and its token and destroy them,
through the engine's Node.js and Go language hosts (tools/language_hosts.py) alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.e2e.test_plugin_languages import GO_BUILD_ENV, SDKGEN
from tools import release
from tools.gobuild import go, go_env
from tools.language_hosts import install_language_hosts
from tools.pulumi_env import pulumi_environment
from tools.pulumi_yaml import install_language_yaml
from tools.sdkgen import NODE_DIR, node_toolchain

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "programs" / "plugin_package"
LANGUAGE_PROGRAMS = Path(__file__).resolve().parent / "programs" / "release_languages"
VERSION = "9.8.7"  # not the package's: every artifact must carry the one given
PLUGIN = "pulumi-resource-motherduck"
ARTIFACTS = {
    f"motherduck_pulumi-{VERSION}-py3-none-any.whl",
    f"motherduck_pulumi-{VERSION}.tar.gz",
    f"{PLUGIN}-v{VERSION}-linux-amd64.tar.gz",
    f"motherduck-pulumi-motherduck-{VERSION}.tgz",
    f"pulumi_motherduck-{VERSION}-py3-none-any.whl",
    f"motherduck-go-sdk-v{VERSION}.zip",
    "SHA256SUMS",
}


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command; fail the test with its output on a non-zero exit."""
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(map(str, args))}` exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}",
            pytrace=False,
        )
    return proc.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release, built once through the script users run."""
    out = tmp_path_factory.mktemp("release") / "dist"
    printed = run("bash", REPO_ROOT / "scripts" / "release", VERSION, "--out", out)
    assert Path(printed.strip()) == out
    return out


def test_every_artifact_is_there_and_sha256sums_verify(dist: Path) -> None:
    assert {p.name for p in dist.iterdir()} == ARTIFACTS
    checked = run("sha256sum", "--strict", "-c", "SHA256SUMS", cwd=dist)
    assert sorted(line.split(":")[0] for line in checked.splitlines()) == sorted(
        ARTIFACTS - {"SHA256SUMS"}
    )


def test_plugin_package_carries_the_compiled_protobuf(dist: Path, tmp_path: Path) -> None:
    """The plugin is a gRPC server: protobuf's pure-Python fallback slows its start (about
    0.1 s) and every message. protobuf's compiled wheel is tagged `manylinux2014` alone, which
    pip matches to `manylinux_2_17` only when it is given both names."""
    with tarfile.open(dist / f"{PLUGIN}-v{VERSION}-linux-amd64.tar.gz") as archive:
        names = archive.getnames()
        for python in release.PYTHONS:
            for compiled in ("google/_upb/_message", "wrapt/_wrappers"):
                compiled = f"site-packages/{python}/{compiled}"
                assert any(n.startswith(compiled) and n.endswith(".so") for n in names), compiled
        mine = f"{sys.version_info.major}.{sys.version_info.minor}"
        members = [m for m in archive.getmembers() if m.name.startswith(f"site-packages/{mine}/")]
        archive.extractall(tmp_path, members=members, filter="data")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path / "site-packages" / mine)}
    probe = "from google.protobuf.internal import api_implementation as a; print(a.Type())"
    assert run(sys.executable, "-c", probe, cwd=tmp_path, env=env).strip() == "upb"


def test_plugin_package_carries_bytecode_for_each_python(dist: Path) -> None:
    """Without it every start of the plugin compiles Pulumi's SDK, grpc, pydantic and the rest
    (about 0.6 CPU-seconds) wherever bytecode cannot be written: a read-only plugin folder, or
    `PYTHONDONTWRITEBYTECODE=1`, which many container images set. Hash-based and unchecked, as
    the files never change after `pulumi plugin install`, whatever times it gives them."""
    probe = "import importlib.util as u, sys; print(*sys.version_info[:2], u.MAGIC_NUMBER.hex())"
    with tarfile.open(dist / f"{PLUGIN}-v{VERSION}-linux-amd64.tar.gz") as archive:
        for python in pythons():
            major, minor, magic = run(python, "-c", probe).split()
            pycache = f"site-packages/{major}.{minor}/pulumi/__pycache__"
            cached = f"{pycache}/__init__.cpython-{major}{minor}.pyc"
            member = archive.extractfile(cached)
            assert member is not None, cached
            header = member.read(8)
            assert header[:4].hex() == magic, cached
            assert int.from_bytes(header[4:8], "little") == 0b01, f"not unchecked-hash: {cached}"


@pytest.fixture
def pulumi_env(pulumi_bin: Path, pulumi_work_dir: Path) -> dict[str, str]:
    """The e2e environment with the YAML host on PATH and no way to the plugin but the
    plugin cache: every PATH entry holding a `pulumi-resource-motherduck` (tools/plugin-bin,
    .venv/bin) is dropped."""
    try:
        yaml_bin = install_language_yaml()
    except Exception as exc:  # a failed build: fail, never skip
        pytest.fail(f"pulumi-language-yaml could not be built: {exc}", pytrace=False)
    env = pulumi_environment(pulumi_work_dir, pulumi_bin)
    kept = [p for p in env["PATH"].split(os.pathsep) if p and not (Path(p) / PLUGIN).exists()]
    env["PATH"] = os.pathsep.join([str(yaml_bin), *kept])
    assert shutil.which(PLUGIN, path=env["PATH"]) is None
    return env


def pythons() -> list[str]:
    """The supported Pythons this machine has (scripts/find-python), this test's among them."""
    found = [p for p in map(release.find_python, release.PYTHONS) if p is not None]
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in release.PYTHONS
    return found or [sys.executable]


def test_plugin_package_installs_and_serves_a_yaml_program(
    dist: Path,
    pulumi_env: dict[str, str],
    emulator: EmulatorServer,
    emulator_stack: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MOTHERDUCK_PLUGIN_PYTHON", raising=False)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    stack = emulator_stack(PROGRAM)
    assert "packages:" not in (stack.project / "Pulumi.yaml").read_text()
    tarball = dist / f"{PLUGIN}-v{VERSION}-linux-amd64.tar.gz"
    stack.run("plugin", "install", "resource", "motherduck", VERSION, "--file", str(tarball))
    installed = Path(pulumi_env["PULUMI_HOME"]) / "plugins" / f"resource-motherduck-v{VERSION}"
    assert os.access(installed / PLUGIN, os.X_OK)
    # What the package leaves out is never imported by the Pulumi SDK it carries.
    for left_out in release.LEFT_OUT:
        for site in (installed / "site-packages").iterdir():
            assert not list(site.glob(f"{left_out}*"))
            sdk = (site / "pulumi").rglob("*.py")
            assert not [p for p in sdk if left_out in p.read_text()], f"pulumi uses {left_out}"

    for python in pythons():  # each Python's site-packages loads the compiled dependencies
        env = {**os.environ, "MOTHERDUCK_PLUGIN_PYTHON": python}
        schema = json.loads(run(installed / PLUGIN, "schema", env=env))
        assert schema["version"] == VERSION, python
    wrong = subprocess.run([installed / PLUGIN], env={**os.environ, "MOTHERDUCK_PLUGIN_PYTHON":
                           "/bin/false"}, capture_output=True, text=True, check=False)  # fmt: skip
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert wrong.stderr == (
        "pulumi-resource-motherduck: MOTHERDUCK_PLUGIN_PYTHON=/bin/false is not a Python "
        "3.11, 3.12, 3.13\n"
    )

    calls = len(emulator.store.requests)
    preview = stack.preview()
    assert "+ 3 to create" in preview.stdout, preview.stdout
    assert len(emulator.store.requests) == calls, "preview called the API"
    stack.up()
    outputs = stack.outputs(show_secrets=True)
    assert list(emulator.store.users.get("package_svc").tokens) == [outputs["tokenId"]]
    assert stack.outputs()["token"] == "[secret]"
    (account,) = stack.resources("motherduck:index:ServiceAccount")
    (provider,) = stack.resources("pulumi:providers:motherduck")
    assert account["provider"].startswith(provider["urn"])
    stack.destroy()
    assert not emulator.store.has_user("package_svc")


def install_npm_tarball(project: Path, tarball: Path) -> None:
    """The project's node_modules: the pinned toolchain's packages (typescript, @pulumi/pulumi;
    tools/sdk-node) copied in and kept as the project's devDependencies, then the release's
    tarball by `npm install --offline`: from the file and npm's cache alone, no registry."""
    shutil.copytree(node_toolchain(), project / "node_modules", symlinks=True)
    manifest = json.loads((project / "package.json").read_text())
    manifest["devDependencies"] = json.loads((NODE_DIR / "package.json").read_text())[
        "devDependencies"
    ]
    (project / "package.json").write_text(json.dumps(manifest, indent=4) + "\n")
    npm = shutil.which("npm")
    assert npm, "npm is needed to install the npm tarball"
    run(npm, "install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", tarball,
        cwd=project)  # fmt: skip
    installed = project / "node_modules" / "@motherduck-pulumi" / "motherduck"
    assert json.loads((installed / "package.json").read_text())["version"] == VERSION


def use_go_module_zip(project: Path, archive: Path, work: Path) -> dict[str, str]:
    """The Go module zip unzipped and required by the program's go.mod through `replace` (as
    test_plugin_languages does with a generated SDK), Pulumi's sdk/v3 graph at the versions
    Pulumi's codegen module resolved. Built once here, offline if the module cache holds the
    graph (else fetching what it lacks): the language host's `go build`, with the settings
    returned, is then a cache hit."""
    with zipfile.ZipFile(archive) as opened:
        module = opened.namelist()[0].split(f"@v{VERSION}/")[0]
        opened.extractall(work / "go-sdk")
    sdk = work / "go-sdk" / f"{module}@v{VERSION}"
    requires = (SDKGEN / "go.mod").read_text().split("\nrequire", 1)[1]
    shutil.copy(SDKGEN / "go.sum", project / "go.sum")
    (project / "go.mod").write_text(
        "module example.com/release-go\n\ngo 1.26\n\n"
        f"require {module} v0.0.0\n\nreplace {module} => {sdk}\n\nrequire{requires}"
    )
    for build in (go_env(offline=True, mod="mod", GOSUMDB="off"), go_env(mod="mod", GOSUMDB="off")):
        warm = subprocess.run(["go", "build", "-o", str(work / "warm"), "."], cwd=project,
                              env=build, capture_output=True, text=True, check=False)  # fmt: skip
        if warm.returncode == 0:
            return {key: build[key] for key in (*GO_BUILD_ENV, "GOPROXY") if key in build}
    pytest.fail(f"the Go program does not build on the module zip\n{warm.stderr}", pytrace=False)


def test_npm_tarball_and_go_module_zip_run_programs_on_the_plugin_package(
    dist: Path,
    pulumi_env: dict[str, str],
    emulator: EmulatorServer,
    emulator_stack: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A TypeScript and a Go program, each on its SDK from dist/ and the plugin package
    installed into the clean PULUMI_HOME: `up`, the token a secret output, `destroy`. The
    language hosts are the engine's (a standard Pulumi install ships them); nothing of ours is
    on PATH."""
    monkeypatch.delenv("MOTHERDUCK_PLUGIN_PYTHON", raising=False)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    try:
        hosts_bin = install_language_hosts()
    except Exception as exc:  # a failed `go build` too: fail, never skip
        pytest.fail(f"the language hosts could not be built: {exc}", pytrace=False)
    pulumi_env["PATH"] = os.pathsep.join([str(hosts_bin), pulumi_env["PATH"]])
    plugin = dist / f"{PLUGIN}-v{VERSION}-linux-amd64.tar.gz"
    projects = {"nodejs": "release_ts_svc", "go": "release_go_svc"}
    for language, username in projects.items():
        stack = emulator_stack(LANGUAGE_PROGRAMS / language)
        if language == "nodejs":
            stack.run("plugin", "install", "resource", "motherduck", VERSION, "--file", str(plugin))
            install_npm_tarball(stack.project, dist / f"motherduck-pulumi-motherduck-{VERSION}.tgz")
        else:
            build = use_go_module_zip(
                stack.project, dist / f"motherduck-go-sdk-v{VERSION}.zip", tmp_path
            )
            pulumi_env.update(build)  # and `go` on PATH, for the Go host's `go build`
            pulumi_env["PATH"] = os.pathsep.join([str(Path(go()).parent), pulumi_env["PATH"]])
        assert shutil.which(PLUGIN, path=pulumi_env["PATH"]) is None

        stack.up()
        outputs = stack.outputs(show_secrets=True)
        assert list(emulator.store.users.get(username).tokens) == [outputs["tokenId"]], language
        assert stack.outputs()["token"] == "[secret]", language
        (account,) = stack.resources("motherduck:index:ServiceAccount")
        (provider,) = stack.resources("pulumi:providers:motherduck")  # the default one
        assert account["provider"].startswith(provider["urn"]), language
        stack.destroy()
        assert not emulator.store.has_user(username), language
        assert stack.resources("motherduck:") == [], language


def test_python_wheels_install_offline_and_import(dist: Path, tmp_path: Path) -> None:
    """The package and the Python SDK from dist/ alone, their dependencies from the
    release's wheelhouse (the plugin package's own, downloaded once), no index."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    # The wheelhouse the build used: asked of the interpreter scripts/release runs (its pins).
    ask = "from tools import release; print(release.wheelhouse(release.pins()))"
    house = Path(run(REPO_ROOT / ".venv" / "bin" / "python", "-c", ask, cwd=REPO_ROOT).strip())
    house = house / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    run(python, "-m", "pip", "install", "-q", "--no-index", "--find-links", dist,
        "--find-links", house, f"motherduck-pulumi=={VERSION}",
        f"pulumi_motherduck=={VERSION}", env=env)  # fmt: skip
    probe = (
        "import motherduck_provider, pulumi_motherduck; "
        "print(motherduck_provider.__version__, pulumi_motherduck._utilities.get_version())"
    )
    env.pop("PYTHONPATH", None)
    assert run(python, "-c", probe, cwd=tmp_path, env=env).split() == [VERSION, VERSION]


def test_npm_tarball_is_the_built_sdk(dist: Path) -> None:
    with tarfile.open(dist / f"motherduck-pulumi-motherduck-{VERSION}.tgz") as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]
    assert {"package/bin/index.js", "package/bin/index.d.ts"} <= names
    assert "package/bin/package.json" in names  # bin/utilities.js reads its version there
    assert (manifest["name"], manifest["version"]) == ("@motherduck-pulumi/motherduck", VERSION)
    assert manifest["main"] == "bin/index.js" and manifest["pulumi"]["version"] == VERSION


def test_go_module_zip_has_its_go_mod(dist: Path) -> None:
    schema = json.loads(
        run(sys.executable, "-m", "motherduck_provider.plugin", "schema", cwd=REPO_ROOT)
    )
    module = schema["language"]["go"]["importBasePath"]
    with zipfile.ZipFile(dist / f"motherduck-go-sdk-v{VERSION}.zip") as archive:
        prefix = f"{module}@v{VERSION}/"
        assert all(n.startswith(prefix) for n in archive.namelist())
        go_mod = archive.read(prefix + "go.mod").decode()
        plugin = json.loads(archive.read(prefix + "pulumi-plugin.json"))
    assert go_mod.startswith(f"module {module}\n")
    assert "github.com/pulumi/pulumi/sdk/v3 v3." in go_mod
    assert plugin == {"resource": True, "name": "motherduck", "version": VERSION}
