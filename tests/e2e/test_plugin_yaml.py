"""The provider plugin (`pulumi-resource-motherduck`) through the real engine, from Pulumi YAML.

The YAML language host is built on demand (tools/pulumi_yaml.py, cached); the plugin runs from
the checkout (tools/plugin-bin) with this test's interpreter. Every step is checked against
the emulator's own state, and the token's secret against the CLI output and the state files.
The `ManagedAccount` component and the data functions (invokes) have their own program.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.resources.access_token import split_marked
from tools.pulumi_env import pulumi_environment
from tools.pulumi_yaml import install_language_yaml

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "programs" / "plugin_yaml"
PLUGIN_BIN = REPO_ROOT / "tools" / "plugin-bin"
USERNAME = "yaml_svc"
KEEPS = "keeps its current Duckling configuration"
COMPONENT_PROGRAM = Path(__file__).resolve().parent / "programs" / "plugin_yaml_component"
DIVE_PROGRAM = Path(__file__).resolve().parent / "programs" / "plugin_yaml_dive"
PARTIAL_PROGRAM = Path(__file__).resolve().parent / "programs" / "plugin_yaml_partial"
TEAM = "yaml_team"
LOOKED_UP = "looked_up"
COMPONENT = "motherduck:index:ManagedAccount"
# What the invokes on existing accounts read in preview, one request each; nothing else is
# called (the invoke on the component's account, still to be created, waits for `up`).
INVOKE_READS = ["ducklings-getActiveAccounts", "ducklings-getDucklingConfigForUser",
                "users-listTokens"]  # fmt: skip


@pytest.fixture(scope="session")
def yaml_bin() -> Path:
    """The YAML language host's bin dir; built once (minutes), then cached. Never skips."""
    try:
        return install_language_yaml()
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"pulumi-language-yaml could not be built: {exc}", pytrace=False)
    except Exception as exc:  # a failed `go build` (CalledProcessError)
        pytest.fail(f"pulumi-language-yaml could not be built: {exc}", pytrace=False)


@pytest.fixture
def pulumi_env(pulumi_bin: Path, pulumi_work_dir: Path, yaml_bin: Path) -> dict[str, str]:
    """The e2e environment, with the YAML host and the checkout's plugin on PATH."""
    env = pulumi_environment(pulumi_work_dir, pulumi_bin)
    env["PATH"] = f"{yaml_bin}:{PLUGIN_BIN}:{env['PATH']}"
    env["MOTHERDUCK_PLUGIN_PYTHON"] = sys.executable
    return env


def live_tokens(emulator: EmulatorServer) -> dict[str, Any]:
    user = emulator.store.users.get(USERNAME)
    return dict(user.tokens) if user else {}


def test_yaml_program_preview_up_rotate_refresh_destroy(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    stack = emulator_stack(PROGRAM)

    calls = len(emulator.store.requests)
    preview = stack.preview()
    # 4, then the one-step form: `one`, and `team` (a component) with its one ServiceAccount
    assert "+ 7 to create" in preview.stdout, preview.stdout
    # The invokes on `${account.username}` wait for `up`: no read of an account not yet made.
    assert len(emulator.store.requests) == calls, "preview called the API"

    up = stack.up()
    assert emulator.store.has_user(USERNAME)
    outputs = stack.outputs(show_secrets=True)
    assert outputs["accountConfigUser"] == USERNAME  # the invokes read in `up`
    assert isinstance(outputs["accountTokens"], list)  # before or after `ci`'s create
    secret = outputs["token"]
    assert list(live_tokens(emulator)) == [outputs["tokenId"]]
    token = live_tokens(emulator)[outputs["tokenId"]]
    assert token.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert stack.outputs()["token"] == "[secret]"
    (resource,) = stack.resources("motherduck:index:AccessToken")
    assert resource["id"] == f"{USERNAME}/{outputs['tokenId']}"
    assert set(resource["outputs"]["token"]) >= {"ciphertext"}  # encrypted in state
    one_step = assert_one_step(emulator, stack, outputs)

    stack.run("config", "set", "trigger", "second")
    calls = len(emulator.store.requests)
    planned = stack.preview("--diff")  # the provider's update preview: no API call
    assert "~ 2 to update" in planned.stdout, planned.stdout  # `ci` and `one` (its `loader`)
    # Which token setting changes shows by path: the settings are not secrets (the outputs are).
    # `ci`, and `one`'s `tokens.loader` (each shown by its path: `~ tokens: { ~ loader: {`)
    assert planned.stdout.count('~ rotationTrigger: "first" => "second"') == 2, planned.stdout
    reads = emulator.store.requests[calls:]
    assert not [r for r in reads if r.write], "preview wrote to the API"
    assert sorted(str(r.operation_id) for r in reads) == [  # the invokes: the account exists
        "ducklings-getDucklingConfigForUser", "users-listTokens"
    ]  # fmt: skip
    rotate = stack.up()
    rotated = stack.outputs(show_secrets=True)
    assert rotated["tokenId"] != outputs["tokenId"]
    assert list(live_tokens(emulator)) == [rotated["tokenId"]], "old token not revoked"
    assert stack.resources("motherduck:index:AccessToken")[0]["id"] == resource["id"]
    # One token of the one-step account rotated, its old one revoked; nothing else changed.
    ids, was = rotated["oneTokenIds"], outputs["oneTokenIds"]
    assert ids["loader"] != was["loader"] and ids["reader"] == was["reader"]
    assert sorted(t.id for t in emulator.store.list_tokens("yaml_one")) == sorted(ids.values())
    assert rotated["teamTokenIds"] == outputs["teamTokenIds"]
    assert rotated["oneTokens"]["reader"] == outputs["oneTokens"]["reader"]

    refresh = stack.refresh()
    assert "7 unchanged" in refresh.stdout, refresh.stdout

    texts = [p.stdout + p.stderr for p in (preview, up, rotate, refresh)]
    texts += [str(stack.export()), stack.state_text()]
    for text in texts:
        for value in (secret, rotated["token"], emulator.admin_token, *one_step):
            assert value not in text
        assert rotated["oneTokens"]["loader"] not in text

    emulator.store.delete_token(USERNAME, rotated["tokenId"])  # revoked outside Pulumi
    gone = stack.refresh()
    assert "- 1 deleted" in gone.stdout, gone.stdout
    assert f"token {rotated['tokenId']} of '{USERNAME}' was revoked outside Pulumi" in gone.stdout
    assert stack.resources("motherduck:index:AccessToken") == [], "refresh kept a gone token"

    (config,) = stack.resources("motherduck:index:InstanceConfig")
    dropped = stack.run("destroy", "--yes", "--skip-preview", "--target", config["urn"])
    assert KEEPS in " ".join(dropped.stdout.split()), dropped.stdout  # held, said at exit
    assert emulator.store.has_user(USERNAME)

    stack.destroy()
    assert not emulator.store.users  # yaml_svc, yaml_one, yaml_team1
    assert stack.resources("motherduck:") == []


def live_read_only(emulator: EmulatorServer, username: str, token_id: str) -> bool:
    """Whether the live token `token_id` of `username` is a read-scaling (read-only) token."""
    return any(t.id == token_id and t.read_only for t in emulator.store.list_tokens(username))


def assert_one_step(emulator: EmulatorServer, stack: Any, outputs: dict[str, Any]) -> list[str]:
    """`one` (ServiceAccount with `tokens`) and `team` (ManagedAccount, `oneStep: true`) hold
    what the emulator holds, each one resource whose token secrets are secret; the secrets."""
    secrets: list[str] = []
    for username, prefix in (("yaml_one", "one"), ("yaml_team1", "team")):
        ids, tokens = outputs[f"{prefix}TokenIds"], outputs[f"{prefix}Tokens"]
        live = {t.id: t for t in emulator.store.list_tokens(username)}
        assert sorted(live) == sorted(ids.values()), username
        # Token names as the program gives them, in outputs and in MotherDuck alike.
        names = {split_marked(t.name)[0] for t in live.values()}
        assert (
            names
            == set(ids)
            == {
                "one": {"loader", "reader", "CI_etl"},
                "team": {"ci", "Nightly_CI", "readScaling"},
            }[prefix]
        )
        for name, value in tokens.items():
            digest = hashlib.sha256(value.encode()).hexdigest()
            assert live[ids[name]].secret_sha256 == digest, (username, name)
            secrets.append(value)
        assert stack.outputs()[f"{prefix}Tokens"] == "[secret]"
    # Named like a schema property, read by its name (`${team.tokenIds.readScaling}`).
    assert outputs["teamReadScalingId"] == outputs["teamTokenIds"]["readScaling"]
    assert live_read_only(emulator, "yaml_team1", outputs["teamReadScalingId"])
    assert emulator.store.get_config("yaml_one")["read_scaling"]["instance_size"] == "pulse"
    assert emulator.store.get_config("yaml_team1")["read_write"]["instance_size"] == "jumbo"
    details = outputs["oneTokenDetails"]
    assert details["reader"]["readOnly"] is True, details
    accounts = {r["id"]: r for r in stack.resources("motherduck:index:ServiceAccount")}
    assert sorted(accounts) == ["yaml_one", "yaml_svc", "yaml_team1"]
    for username in ("yaml_one", "yaml_team1"):
        assert set(accounts[username]["outputs"]["tokens"]) >= {"ciphertext"}
    (component,) = stack.resources("motherduck:index:ManagedAccount")
    children = [r for r in stack.resources() if r.get("parent") == component["urn"]]
    assert [r["type"] for r in children] == ["motherduck:index:ServiceAccount"]
    return secrets


def test_one_step_create_that_fails_halfway_is_recorded_and_the_next_up_finishes_it(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    """One token POST of a one-step create fails: the plugin answers the engine's "created but
    failed to initialize" (`ErrorResourceInitFailed` with the properties), so the run fails
    and state records the account, its config and the token made; the next `up`, with no
    edit, makes the other token (nothing is lost, nothing orphaned)."""
    store = emulator.store
    stack = emulator_stack(PARTIAL_PROGRAM)
    store.faults.error("users-createToken", status=400, count=1)  # not retried
    failed = stack.up(check=False)
    assert failed.returncode != 0, failed.stdout
    said = " ".join((failed.stdout + failed.stderr).split())
    assert "was not created" in said and "run `pulumi up` again" in said, said
    assert "Traceback" not in said

    (account,) = stack.resources("motherduck:index:ServiceAccount")
    assert account["id"] == "yaml_partial" and account.get("initErrors"), account
    (made,) = [t.id for t in store.list_tokens("yaml_partial")]
    assert list(account["outputs"]["tokenIds"].values()) == [made]
    assert account["outputs"]["readWrite"]["instanceSize"] == "standard"
    assert store.get_config("yaml_partial")["read_write"]["instance_size"] == "standard"

    finished = stack.up()  # no edit
    assert "1 updated" in " ".join(finished.stdout.split()), finished.stdout
    (account,) = stack.resources("motherduck:index:ServiceAccount")
    assert not account.get("initErrors"), account
    outputs = stack.outputs(show_secrets=True)
    live = {t.id: t for t in store.list_tokens("yaml_partial")}
    assert sorted(outputs["tokenIds"]) == ["ci", "loader"]
    assert sorted(live) == sorted(outputs["tokenIds"].values()) and made in live
    for name, value in outputs["tokens"].items():
        digest = hashlib.sha256(value.encode()).hexdigest()
        assert live[outputs["tokenIds"][name]].secret_sha256 == digest, name
    for text in (failed.stdout + failed.stderr, finished.stdout, stack.state_text()):
        for value in outputs["tokens"].values():
            assert value not in text
    stack.preview("--expect-no-changes")


def test_import_an_account_and_its_token_by_their_terraform_ids(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any], tmp_path: Path
) -> None:
    """`pulumi import` through the plugin: the account by username, a token by
    `username/token_id`; the generated YAML declares what was read, and nothing is written."""
    emulator.store.create_user("imported_svc")
    created = emulator.store.create_token("imported_svc", "deploy")
    stack = emulator_stack(PROGRAM)
    calls = [r for r in emulator.store.requests if r.write]

    out = tmp_path / "imported.yaml"
    stack.run(
        "import", "motherduck:index:ServiceAccount", "svc", "imported_svc",
        "--yes", "--out", str(out),
    )  # fmt: skip
    code = out.read_text()
    assert "username: imported_svc" in code and "type: motherduck:ServiceAccount" in code
    assert "adopt" not in code, code  # an input the import did not need is noise to delete
    token_id = f"imported_svc/{created.record.id}"
    stack.run("import", "motherduck:index:AccessToken", "deploy", token_id, "--yes")
    (token,) = stack.resources("motherduck:index:AccessToken")
    assert token["id"] == token_id
    assert token["outputs"]["name"] == "deploy" and token["outputs"]["token"] is None
    assert [r for r in emulator.store.requests if r.write] == calls, "import wrote to the API"

    missing = stack.run("import", "motherduck:index:ServiceAccount", "gone", "nobody", "--yes",
                        check=False)  # fmt: skip
    assert missing.returncode != 0
    assert "does not exist" in missing.stdout + missing.stderr


def test_terraform_config_names_environment_variables_and_check_names(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    """The plugin takes the Terraform provider's config names and the environment variables,
    never shows the admin token, and names bad inputs as the YAML program spells them."""
    stack = emulator_stack(PROGRAM)
    for key in ("motherduck:token", "motherduck:apiUrl"):
        stack.run("config", "rm", key)
    stack.run("config", "set", "--secret", "motherduck:adminToken", emulator.admin_token)
    stack.run("config", "set", "--plaintext", "motherduck:apiBaseUrl", emulator.url)
    up = stack.up()
    assert emulator.store.has_user(USERNAME)

    for key in ("motherduck:adminToken", "motherduck:apiBaseUrl"):
        stack.run("config", "rm", key)
    env = {"MOTHERDUCK_ADMIN_TOKEN": emulator.admin_token, "MOTHERDUCK_API_BASE_URL": emulator.url}
    calls = len(emulator.store.requests)
    refresh = stack.refresh(env=env)
    assert "7 unchanged" in refresh.stdout, refresh.stdout
    assert len(emulator.store.requests) > calls, "refresh did not reach the emulator"

    manifest = stack.project / "Pulumi.yaml"
    manifest.write_text(manifest.read_text().replace("ttl: 86400", "rotateBefore: 3600"))
    bad = stack.preview(env=env, check=False)
    assert bad.returncode != 0
    assert "rotateBefore: needs ttl" in bad.stdout + bad.stderr, bad.stdout + bad.stderr

    texts = [p.stdout + p.stderr for p in (up, refresh, bad)]
    for text in [*texts, str(stack.export()), stack.state_text()]:
        assert emulator.admin_token not in text
    stack.destroy(env=env)
    assert not emulator.store.has_user(USERNAME)


def test_yaml_managed_account_and_data_functions(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    """`ManagedAccount` built by the plugin over its own resources (named as the Python
    component's children), and the three data functions by `fn::invoke`: preview calls only
    the invokes on existing accounts, up matches the emulator, token secrets stay secret,
    destroy removes what the stack made and nothing else."""
    store = emulator.store
    store.create_user(LOOKED_UP)
    deploy = store.create_token(LOOKED_UP, "deploy")
    store.set_duckling_status(LOOKED_UP, "rw", "active")
    stack = emulator_stack(COMPONENT_PROGRAM)

    calls = len(store.requests)
    preview = stack.preview()
    assert "+ 6 to create" in preview.stdout, preview.stdout  # stack, component, 4 children
    assert "pulumi-python:dynamic" not in preview.stdout
    reads = store.requests[calls:]
    assert not [r for r in reads if r.write], "preview wrote to the API"
    assert sorted(str(r.operation_id) for r in reads) == INVOKE_READS, reads

    up = stack.up()
    outputs = stack.outputs(show_secrets=True)
    assert outputs["username"] == TEAM
    live = {t.id: t for t in store.list_tokens(TEAM)}
    assert sorted(live) == sorted(outputs["tokenIds"].values())
    for name, secret in outputs["tokens"].items():
        token = live[outputs["tokenIds"][name]]
        assert token.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest(), name
    assert live[outputs["tokenIds"]["reader"]].token_type == "read_scaling"
    config = store.users[TEAM].config
    assert config["read_write"]["instance_size"] == "jumbo"
    assert config["read_scaling"] == {**config["read_scaling"], "flock_size": 2}
    assert stack.outputs()["tokens"] == "[secret]"

    (looked_up,) = outputs["lookedUpTokens"]
    assert looked_up["id"] == deploy.record.id and looked_up["name"] == "deploy"
    assert outputs["lookedUpConfig"]["username"] == LOOKED_UP
    assert outputs["lookedUpConfig"]["readWrite"]["instanceSize"] == "pulse"
    assert [a["username"] for a in outputs["active"]] == [LOOKED_UP]
    assert outputs["ciTokenId"] == outputs["tokenIds"]["ci"]
    assert sorted(t["id"] for t in outputs["teamTokens"]) == sorted(live)  # read in `up`

    resources = stack.export()["deployment"]["resources"]
    (component,) = [r for r in resources if r["type"] == COMPONENT]
    children = [r for r in resources if r.get("parent") == component["urn"]]
    kinds = sorted(r["type"].rsplit(":", 1)[1] for r in children)
    assert kinds == ["AccessToken", "AccessToken", "InstanceConfig", "ServiceAccount"]
    assert all(r["type"].startswith("motherduck:index:") for r in children)
    (account,) = [r for r in children if r["type"].endswith(":ServiceAccount")]
    assert account["id"] == TEAM and account.get("protect") is True  # the default
    names = sorted(r["urn"].rsplit("::", 1)[1] for r in children)
    assert names == ["team", "team", "team-ci", "team-reader"]  # as the Python component's
    for token in (r for r in children if r["type"].endswith(":AccessToken")):
        assert set(token["outputs"]["token"]) >= {"ciphertext"}  # encrypted in state

    # The emulator holds exactly what state says: the looked-up account is not managed.
    assert sorted(store.users) == sorted([LOOKED_UP, TEAM])
    in_state = sorted(r["outputs"]["tokenId"] for r in children if "tokenId" in r["outputs"])
    assert sorted(live) == in_state
    assert [t.id for t in store.list_tokens(LOOKED_UP)] == [deploy.record.id]

    writes, calls = store.count(write=True), len(store.requests)
    again = stack.preview("--expect-no-changes")
    assert len(store.requests) == calls + len(INVOKE_READS) + 1  # the account exists now
    refresh = stack.refresh()
    assert "6 unchanged" in refresh.stdout, refresh.stdout
    assert store.count(write=True) == writes

    texts = [p.stdout + p.stderr for p in (preview, up, again, refresh)]
    texts += [json.dumps(stack.export()), stack.state_text()]
    for text in texts:
        for value in (*outputs["tokens"].values(), emulator.admin_token):
            assert value not in text

    stack.destroy()
    assert sorted(store.users) == [LOOKED_UP]  # only the account nobody declared
    assert [t.id for t in store.list_tokens(LOOKED_UP)] == [deploy.record.id]
    assert not [r for r in stack.export()["deployment"].get("resources") or []
                if r["type"].startswith("motherduck:")]  # fmt: skip


def test_yaml_dive_embed_session_is_secret(
    emulator: EmulatorServer, emulator_stack: Callable[..., Any]
) -> None:
    """`fn::invoke` createDiveEmbedSession: the session is a secret in outputs and state
    (the schema and the answer mark it), never printed, a new one on every run."""
    store = emulator.store
    store.create_user("dive_viewer")
    dive = store.create_dive()
    stack = emulator_stack(DIVE_PROGRAM, {"dive": dive})
    up = stack.up()
    assert store.count(operation="dashboards-createEmbedSession", status=200) >= 1
    assert stack.outputs()["embedSession"] == "[secret]"  # YAML hides the whole result
    revealed = stack.outputs(show_secrets=True)
    assert revealed["embedUsername"] == "dive_viewer"
    session = revealed["embedSession"]
    assert session.startswith("md-dive-session-")
    assert session not in up.stdout + up.stderr and session not in stack.state_text()
