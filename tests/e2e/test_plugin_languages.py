"""TypeScript and Go programs through the engine, the provider plugin and the generated SDKs.

The Node.js and Go language hosts are this project's own (tools/pulumi-language-hosts, built
once and cached by tools/language_hosts.py: the Go module proxy here does not serve
upstream's). Each language's program (tests/e2e/programs/plugin_languages) makes a service
account, its token, its Duckling configuration, a `ManagedAccount` and calls `getTokens`
through the stack's default provider; one `up`, one rotation by `rotationTrigger` and one
`destroy` per language, each checked against the emulator, and no token secret in plain text
in the CLI's output, `pulumi stack export` or the backend's files. The SDKs come from
tools/sdkgen.py as a release makes them (`local=False`); TypeScript runs with the pinned
toolchain's @pulumi/pulumi (tools/sdk-node), Go builds with the program's go.mod against the
generated SDK by `replace`, fetching what the module cache lacks once (tools/gobuild.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from tools.gobuild import go_env
from tools.language_hosts import install_language_hosts
from tools.pulumi_env import pulumi_environment
from tools.sdkgen import generate, node_toolchain, write_schema

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs" / "plugin_languages"
PLUGIN_BIN = REPO_ROOT / "tools" / "plugin-bin"
SDKGEN = REPO_ROOT / "tools" / "pulumi-sdkgen"
# The program's users per language: (the service account, the ManagedAccount's, the one-step
# ServiceAccount's).
USERS = {"nodejs": ("ts_svc", "ts_team", "ts_one"), "go": ("go_svc", "go_team", "go_one")}
# Go build settings the language host's `go build` inherits through the engine: the machine's
# registry for what the module cache lacks, sums added as needed (go.sum from
# tools/pulumi-sdkgen is the check), static, the local toolchain.
GO_BUILD_ENV = ("CGO_ENABLED", "GOTOOLCHAIN", "GOWORK", "GOFLAGS", "GOSUMDB")


def run(*args: str | Path, cwd: Path) -> None:
    """Run a command; fail the test with its output on a non-zero exit."""
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(map(str, args))}` exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def hosts_bin() -> Path:
    """The bin dir of our Node.js and Go language hosts; built once, then cached. Never skips."""
    try:
        return install_language_hosts()
    except Exception as exc:  # a failed `go build` too (CalledProcessError)
        pytest.fail(f"the language hosts could not be built: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_schema(tmp_path_factory.mktemp("schema") / "schema.json")


@pytest.fixture
def pulumi_env(pulumi_bin: Path, pulumi_work_dir: Path, hosts_bin: Path) -> dict[str, str]:
    """The e2e environment with our language hosts and the checkout's plugin on PATH."""
    env = pulumi_environment(pulumi_work_dir, pulumi_bin)
    build = go_env(mod="mod", GOSUMDB="off")
    env.update({key: build[key] for key in GO_BUILD_ENV})
    env["PATH"] = os.pathsep.join([str(hosts_bin), str(PLUGIN_BIN), build["PATH"]])
    env["PATH"] = os.pathsep.join([str(pulumi_bin), env["PATH"]])
    env["MOTHERDUCK_PLUGIN_PYTHON"] = sys.executable
    return env


def version_of(schema: Path) -> str:
    return str(json.loads(schema.read_text())["version"])


def install_typescript_sdk(schema: Path, project: Path, work: Path) -> None:
    """The TypeScript SDK, compiled with the pinned toolchain and versioned as a release's,
    into the project's node_modules beside the toolchain's packages (as `npm install` would
    put them)."""
    sdk = generate("nodejs", work / "sdk-nodejs", schema, local=False)
    manifest = json.loads((sdk / "package.json").read_text())
    version = version_of(schema)
    manifest.update(version=version, main="bin/index.js", types="bin/index.d.ts")
    manifest["pulumi"] = {**manifest.get("pulumi", {}), "version": version}
    (sdk / "package.json").write_text(json.dumps(manifest, indent=4) + "\n")
    toolchain = node_toolchain()
    (sdk / "node_modules").symlink_to(toolchain)
    run(toolchain / ".bin" / "tsc", "-p", sdk, cwd=sdk)
    # bin/utilities.js reads its version from `./package.json`: upstream's provider builds
    # copy the manifest into bin/ and publish that folder.
    shutil.copy(sdk / "package.json", sdk / "bin" / "package.json")

    modules = project / "node_modules"
    modules.mkdir()
    for entry in toolchain.iterdir():
        (modules / entry.name).symlink_to(entry)
    scope, name = str(manifest["name"]).split("/")
    (modules / scope).mkdir()
    (modules / scope / name).symlink_to(sdk)


def install_go_sdk(schema: Path, project: Path, work: Path) -> None:
    """The Go SDK as its own module, and the program's go.mod requiring it by `replace` (as
    `pulumi package add` tells Go users to) and Pulumi's sdk/v3 graph at the versions Pulumi's
    codegen module resolved (tools/pulumi-sdkgen)."""
    out = generate("go", work / "sdk-go", schema, local=False)
    (package,) = [p for p in out.iterdir() if p.is_dir()]
    code = "\n".join(p.read_text() for p in package.glob("*.go"))
    found = re.search(r'"(\S+)/internal"', code)
    assert found, "no import of the SDK's internal package"
    module = found.group(1)
    (package / "go.mod").write_text(f"module {module}\n\ngo 1.26\n")
    requires = (SDKGEN / "go.mod").read_text().split("\nrequire", 1)[1]
    shutil.copy(SDKGEN / "go.sum", project / "go.sum")
    (project / "go.mod").write_text(
        "module example.com/plugin-go\n\ngo 1.26\n\n"
        f"require {module} v0.0.0\n\nreplace {module} => {package}\n\nrequire{requires}"
    )
    # The first build compiles Pulumi's Go SDK and the generated one (minutes on a cold build
    # cache and a busy machine): done here, with the settings the language host's `go build`
    # inherits, so that build is a cache hit and no engine command waits on the compiler.
    build = go_env(mod="mod", GOSUMDB="off")
    subprocess.run(
        ["go", "build", "-o", str(work / "warm"), "."], cwd=project, env=build, check=True
    )


INSTALL = {"nodejs": install_typescript_sdk, "go": install_go_sdk}


@pytest.mark.parametrize("language", ["nodejs", "go"])
def test_program_up_rotate_destroy_through_the_generated_sdk(
    language: str,
    schema: Path,
    emulator: EmulatorServer,
    emulator_stack: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """One `up`, a rotation by trigger (previewed first) and a `destroy` of the same objects as
    the Python and YAML programs make: the emulator holds exactly them, the secrets stay
    secret."""
    store = emulator.store
    svc, team, one = USERS[language]
    stack = emulator_stack(PROGRAMS / language)
    INSTALL[language](schema, stack.project, tmp_path)

    up = stack.up()
    outputs = stack.outputs(show_secrets=True)
    assert outputs["username"] == svc and outputs["teamUsername"] == team
    live = {t.id: t for t in store.list_tokens(svc)}
    assert list(live) == [outputs["tokenId"]]
    secret = outputs["token"]
    assert live[outputs["tokenId"]].secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    config = store.users[svc].config
    assert config["read_write"]["instance_size"] == "standard"
    assert config["read_scaling"]["flock_size"] == 2
    team_live = {t.id: t for t in store.list_tokens(team)}
    assert sorted(team_live) == [outputs["teamTokenIds"]["deploy"]]
    team_secret = outputs["teamTokens"]["deploy"]
    assert team_live[outputs["teamTokenIds"]["deploy"]].secret_sha256 == (
        hashlib.sha256(team_secret.encode()).hexdigest()
    )
    assert outputs["listedTokenIds"] == [outputs["teamTokenIds"]["deploy"]]  # the invoke
    # The one-step form: the account, both tokens and the Duckling config in one resource.
    one_ids, one_secrets = outputs["oneTokenIds"], outputs["oneTokens"]
    assert sorted(t.id for t in store.list_tokens(one)) == sorted(one_ids.values())
    for name, token_id in one_ids.items():
        digest = hashlib.sha256(one_secrets[name].encode()).hexdigest()
        assert store.users[one].tokens[token_id].secret_sha256 == digest, name
    assert store.users[one].config["read_write"]["instance_size"] == "standard"
    assert store.users[one].config["read_scaling"]["flock_size"] == 1
    plain = stack.outputs()
    assert plain["token"] == "[secret]" and plain["teamTokens"] == "[secret]"
    assert plain["oneTokens"] == "[secret]"
    tokens = stack.resources("motherduck:index:AccessToken")  # ci, and the component's
    (resource,) = [r for r in tokens if r["urn"].endswith("::ci")]
    assert resource["id"] == f"{svc}/{outputs['tokenId']}"
    assert set(resource["outputs"]["token"]) >= {"ciphertext"}  # encrypted in state

    stack.run("config", "set", "trigger", "second")
    calls = len(store.requests)
    planned = stack.preview()  # the program in dry-run mode: the rotation planned, no write
    assert "~ 2 to update" in planned.stdout, planned.stdout  # `ci` and `one` (its `loader`)
    assert not [r for r in store.requests[calls:] if r.write], "preview wrote to the API"
    rotate = stack.up()
    rotated = stack.outputs(show_secrets=True)
    assert rotated["tokenId"] != outputs["tokenId"]
    assert [t.id for t in store.list_tokens(svc)] == [rotated["tokenId"]], "old token kept"
    assert rotated["teamTokenIds"] == outputs["teamTokenIds"]
    # One token of the one-step account rotated, its old one revoked; the other kept.
    ids = rotated["oneTokenIds"]
    assert ids["loader"] != one_ids["loader"] and ids["reader"] == one_ids["reader"]
    assert sorted(t.id for t in store.list_tokens(one)) == sorted(ids.values())
    assert rotated["oneTokens"]["reader"] == one_secrets["reader"]

    texts = [p.stdout + p.stderr for p in (up, planned, rotate)]
    texts += [json.dumps(stack.export()), stack.state_text()]
    for text in texts:
        for value in (
            secret,
            rotated["token"],
            team_secret,
            emulator.admin_token,
            *one_secrets.values(),
            rotated["oneTokens"]["loader"],
        ):
            assert value not in text

    destroy = stack.destroy()
    assert not store.has_user(svc) and not store.has_user(team) and not store.has_user(one)
    assert stack.resources("motherduck:") == []
    for value in (rotated["token"], team_secret, emulator.admin_token):
        assert value not in destroy.stdout + destroy.stderr
