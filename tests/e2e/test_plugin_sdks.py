"""SDKs generated from the provider plugin's current schema, and `pulumi package` with the plugin.

Each SDK comes from tools/sdkgen.py (Pulumi's own code generators, as `pulumi package gen-sdk`
runs them inside the language hosts) and is compiled with a sample program: TypeScript with
`tsc` (pinned `typescript` and `@pulumi/pulumi`, installed once into the cache), Go with
`go build` (pulumi sdk/v3 and its graph from the module cache, and from the registry where the
cache lacks a module: tools/gobuild.py), Python imported and type-checked with mypy.
These samples are only compiled; TypeScript and Go programs run through the engine, with this
project's own Node.js and Go language hosts, in tests/e2e/test_plugin_languages.py (YAML in
tests/e2e/test_plugin_yaml.py).
Everything is generic over the schema: each resource, component and function in it must be
in every SDK.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools.gobuild import go, go_env
from tools.pulumi_env import pulumi_environment
from tools.pulumi_yaml import install_language_yaml
from tools.sdkgen import generate, node_toolchain, write_schema

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).resolve().parent / "programs" / "plugin_sdks"
PLUGIN = REPO_ROOT / "tools" / "plugin-bin" / "pulumi-resource-motherduck"
PROGRAM = Path(__file__).resolve().parent / "programs" / "plugin_package"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; fail the test with its output on a non-zero exit."""
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(map(str, args))}` exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}",
            pytrace=False,
        )
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_schema(tmp_path_factory.mktemp("schema") / "schema.json")


def schema_members(schema: Path) -> tuple[list[str], list[str]]:
    """The names of the schema's resources (components too) and functions:
    (["ServiceAccount", ...], ["getServiceAccount", ...])."""
    spec = json.loads(schema.read_text())
    resources, functions = (
        [t.split(":")[-1] for t in spec.get(k, {})] for k in ("resources", "functions")
    )
    return resources, functions


def language(schema: Path) -> dict[str, Any]:
    """The schema's per-language settings (the SDKs' package names)."""
    found: dict[str, Any] = json.loads(schema.read_text())["language"]
    return found


def secret_outputs(schema: Path) -> dict[str, list[str]]:
    spec = json.loads(schema.read_text())
    return {
        token.split(":")[-1]: sorted(
            k for k, p in r.get("properties", {}).items() if p.get("secret")
        )
        for token, r in spec["resources"].items()
    }


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_typescript_sdk_and_sample_program_compile(schema: Path, tmp_path: Path) -> None:
    """The generated Node.js SDK builds with its own tsconfig (`npm run build`: `tsc`), and a
    TypeScript program using it type-checks and compiles: a wrong input name or type, or a
    missing export, would fail here."""
    sdk = generate("nodejs", tmp_path / "sdk", schema)
    index = (sdk / "index.ts").read_text()
    resources, functions = schema_members(schema)
    for name in resources + functions:
        assert f"export const {name}: typeof" in index, f"{name} is not exported by the SDK"
    for name, secrets in secret_outputs(schema).items():
        if secrets:
            code = (sdk / f"{name[0].lower()}{name[1:]}.ts").read_text()
            assert f"additionalSecretOutputs: {json.dumps(secrets)}" in code

    node_modules = node_toolchain()
    tsc = node_modules / ".bin" / "tsc"
    (sdk / "node_modules").symlink_to(node_modules)
    run(tsc, "-p", sdk, cwd=sdk)
    assert (sdk / "bin" / "index.js").is_file() and (sdk / "bin" / "index.d.ts").is_file()

    # The program imports the package by its npm name; `paths` stands in for `npm install`.
    package = json.loads((sdk / "package.json").read_text())["name"]
    assert package == language(schema)["nodejs"]["packageName"]  # not codegen's @pulumi/...
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(SAMPLES / "nodejs" / "index.ts", app / "index.ts")
    (app / "node_modules").symlink_to(node_modules)
    tsconfig = {
        "compilerOptions": {
            "strict": True,
            "target": "ES2022",
            "module": "nodenext",
            "moduleResolution": "nodenext",
            "outDir": "bin",
            "types": ["node"],
            "skipLibCheck": True,
            "paths": {package: [str(sdk)]},
        },
        "files": ["index.ts"],
    }
    (app / "tsconfig.json").write_text(json.dumps(tsconfig))
    run(tsc, "-p", app, cwd=app)
    assert "AccessToken" in (app / "bin" / "index.js").read_text()


def go_sample(schema: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The generated Go SDK, checked for every schema member, and a sample program using it:
    (the SDK's package dir, the program's dir). The program's go.mod points at the SDK with a
    `replace` directive, as `pulumi package add` tells Go users to, and requires the
    dependency versions Pulumi's codegen module resolved (tools/pulumi-sdkgen)."""
    out = generate("go", tmp_path / "sdk", schema)
    (package,) = [p for p in out.iterdir() if p.is_dir()]
    code = "\n".join(p.read_text() for p in package.glob("*.go"))
    resources, functions = schema_members(schema)
    for name in resources:
        assert f"type {name} struct" in code, f"{name} missing from the Go SDK"
    for name in functions:  # `getX` is `LookupX` in Go when X is also a resource
        go_names = {name[0].upper() + name[1:], "Lookup" + name.removeprefix("get")}
        assert any(f"func {n}(" in code for n in go_names), f"{name} missing from the Go SDK"
    for name, secrets in secret_outputs(schema).items():
        if secrets:
            source = (package / f"{name[0].lower()}{name[1:]}.go").read_text()
            marked = source.split("pulumi.AdditionalSecretOutputs([]string{", 1)[1].split("}")[0]
            assert sorted(re.findall(r'"(\w+)"', marked)) == secrets, name
    module = re.search(r'"(\S+)/internal"', code)
    assert module, "no import of the SDK's internal package"
    module_path = module.group(1)
    assert module_path == language(schema)["go"]["importBasePath"]  # not example.com/...
    assert "type ServiceAccountArray []ServiceAccountInput" in code  # container types

    pinned = REPO_ROOT / "tools" / "pulumi-sdkgen"
    requires = pinned.joinpath("go.mod").read_text().split("\nrequire", 1)[1]
    run("go", "mod", "init", module_path, cwd=package, env=go_env())
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(SAMPLES / "go" / "main.go", app / "main.go")
    shutil.copy(pinned / "go.sum", app / "go.sum")
    (app / "go.mod").write_text(
        "module example.com/motherduck-sample\n\ngo 1.26\n\n"
        f"require {module_path} v0.0.0\n\nreplace {module_path} => {package}\n\nrequire{requires}"
    )
    return package, app


def build_sample(app: Path, *, offline: bool = False, **env: str) -> None:
    """`go build` the sample. -mod=mod: the build adds the sums it needs (`go mod tidy` would
    fetch every dependency's tests too); the checksum database is another host than the
    registry, so go.sum (from tools/pulumi-sdkgen) is the check."""
    build_env = go_env(offline=offline, mod="mod", GOSUMDB="off", **env)
    run("go", "build", "-trimpath", "-o", "sample", ".", cwd=app, env=build_env)
    assert (app / "sample").is_file()


def test_go_sdk_and_sample_program_build(schema: Path, tmp_path: Path) -> None:
    """The generated Go SDK and a `main.go` using it build, against pulumi sdk/v3 at the
    version the CLI is built from."""
    _, app = go_sample(schema, tmp_path)
    build_sample(app)


# A module the sample's build graph needs (tools/pulumi-sdkgen/go.mod) at a version no other
# build of the suite fetches: a fresh machine's module cache held only v0.5.0, from the CLI.
GRAPH_ONLY = ("github.com/!microsoft/go-winio", "v0.6.2")


def test_go_sample_builds_when_the_module_cache_lacks_a_module_of_its_graph(
    schema: Path, tmp_path: Path
) -> None:
    """On a fresh machine the sample build read only the local module cache (as a file proxy)
    and failed on a module only its own graph needs. What the cache lacks now comes from the
    registry the first time, and the build runs offline afterwards."""
    real = subprocess.run(
        [go(), "env", "GOMODCACHE"], env=go_env(), capture_output=True, text=True, check=True
    ).stdout.strip()
    modcache = tmp_path / "modcache"
    if subprocess.run(["cp", "-al", real, str(modcache)], check=False).returncode != 0:
        # hard links need one file system: copy beside the real cache instead
        remove_copy(modcache)
        modcache = Path(tempfile.mkdtemp(prefix=".motherduck-test-", dir=Path(real).parent))
        modcache.rmdir()
        subprocess.run(["cp", "-al", real, str(modcache)], check=True)
    try:
        module, version = GRAPH_ONLY
        for found in [
            *modcache.joinpath(module).parent.glob(f"{Path(module).name}@*"),
            modcache / "cache" / "download" / module,
        ]:
            remove_copy(found)
        wanted = modcache / "cache" / "download" / module / "@v" / f"{version}.mod"
        assert not wanted.exists()

        _, app = go_sample(schema, tmp_path)
        build_sample(app, GOMODCACHE=str(modcache))
        assert wanted.is_file(), "the build did not fetch the module its graph needs"
        (app / "sample").unlink()
        build_sample(app, offline=True, GOMODCACHE=str(modcache))
    finally:
        remove_copy(modcache)


def remove_copy(tree: Path) -> None:
    """Remove a hard-linked copy of module cache files: its folders are its own and made
    writable (Go makes them read-only); its files are shared with the real cache, so their
    modes are never touched (unlinking needs only the folder's)."""
    if not tree.exists():
        return
    for folder in [tree, *(p for p in tree.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(0o755)
    shutil.rmtree(tree)


def test_python_sdk_imports_and_sample_type_checks(schema: Path, tmp_path: Path) -> None:
    """The generated Python SDK (`pulumi_motherduck`) imports, holds every resource and
    function, and a program using it passes mypy."""
    out = generate("python", tmp_path / "sdk", schema)
    (package,) = [p.parent for p in out.glob("*/__init__.py")]
    assert package.name == language(schema)["python"]["packageName"]
    env = {"PYTHONPATH": str(out), "MYPYPATH": str(out)}
    # The SDK reads its version from its package metadata: `egg_info` writes it beside the
    # package, as an editable install would, without installing anything.
    run(sys.executable, "setup.py", "-q", "egg_info", cwd=out)
    resources, functions = schema_members(schema)
    names = resources + [snake(name) for name in functions]
    probe = f"import {package.name} as m; print([n for n in {names!r} if not hasattr(m, n)])"
    missing = run(sys.executable, "-c", probe, cwd=tmp_path, env=env).strip()
    assert missing == "[]", f"not in the Python SDK: {missing}"
    for name, secrets in secret_outputs(schema).items():
        if secrets:
            code = (package / f"{snake(name)}.py").read_text()
            assert f"additional_secret_outputs={json.dumps(secrets)}" in code

    sample = tmp_path / "app" / "__main__.py"
    sample.parent.mkdir()
    shutil.copy(SAMPLES / "python" / "__main__.py", sample)
    mypy = [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent"]
    run(*mypy, "--config-file=/dev/null", sample, cwd=tmp_path, env=env)


@pytest.fixture
def pulumi_env(pulumi_bin: Path, pulumi_work_dir: Path) -> dict[str, str]:
    """The e2e environment with the YAML language host on PATH, the plugin run by this
    test's interpreter, and the plugin NOT on PATH: the project must say where it is."""
    try:
        yaml_bin = install_language_yaml()
    except Exception as exc:  # a failed build: fail, never skip
        pytest.fail(f"pulumi-language-yaml could not be built: {exc}", pytrace=False)
    env = pulumi_environment(pulumi_work_dir, pulumi_bin)
    env["PATH"] = os.pathsep.join(
        [str(yaml_bin)] + [p for p in env["PATH"].split(os.pathsep) if p != str(PLUGIN.parent)]
    )
    env["MOTHERDUCK_PLUGIN_PYTHON"] = sys.executable
    return env


def test_package_get_schema_returns_the_plugin_schema(
    schema: Path, run_pulumi: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """`pulumi package get-schema <path to the plugin>` runs the plugin and prints its schema,
    the same the schema command writes."""
    got = run_pulumi(tmp_path, "package", "get-schema", str(PLUGIN))
    assert json.loads(got.stdout) == json.loads(schema.read_text())


def test_package_add_in_a_yaml_project_then_preview_up_destroy(
    schema: Path, emulator: Any, emulator_stack: Callable[..., Any]
) -> None:
    """`pulumi package add <plugin>` in a YAML project generates the YAML SDK (a package
    declaration) and then fails: the YAML language host (pulumi-yaml v1.25.0, the one the
    Go module proxy serves) does not implement the Link step, so Pulumi.yaml is left as it
    was. The `packages` entry that names the plugin's directory works: preview (no API
    call), up and destroy through the engine, with the plugin not on PATH."""
    stack = emulator_stack(PROGRAM)
    manifest = stack.project / "Pulumi.yaml"
    before = manifest.read_text()
    missing = stack.preview(check=False)
    assert missing.returncode != 0
    assert "no resource plugin 'pulumi-resource-motherduck' found" in missing.stdout

    added = stack.run("package", "add", str(PLUGIN), check=False)
    version = json.loads(schema.read_text())["version"]
    declaration = stack.project / "sdks" / "motherduck" / f"motherduck-{version}.yaml"
    assert declaration.is_file(), added.stdout + added.stderr
    assert "name: motherduck" in declaration.read_text()
    assert added.returncode != 0
    assert "linking package: method Link not implemented" in added.stderr, added.stderr
    assert manifest.read_text() == before

    manifest.write_text(before + f"packages:\n  motherduck: {PLUGIN.parent}\n")
    calls = len(emulator.store.requests)
    preview = stack.preview()
    assert "+ 3 to create" in preview.stdout, preview.stdout
    assert len(emulator.store.requests) == calls, "preview called the API"

    up = stack.up()
    outputs = stack.outputs(show_secrets=True)
    assert list(emulator.store.users.get("package_svc").tokens) == [outputs["tokenId"]]
    assert stack.outputs()["token"] == "[secret]"
    for text in (up.stdout + up.stderr, stack.state_text()):
        assert outputs["token"] not in text and emulator.admin_token not in text

    stack.destroy()
    assert not emulator.store.has_user("package_svc")
    assert stack.resources("motherduck:") == []
