"""The state rewrite that moves a Python-form stack to the plugin form (plugin/migrate.py).

The deployment below has the shape `pulumi stack export` gave for tests/e2e/programs/account
(Pulumi 3.274.1), trimmed.
"""

from __future__ import annotations

import copy
import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.plugin import migrate
from motherduck_provider.plugin.migrate import MigrationRefused, migrate_deployment
from motherduck_provider.plugin.properties import state_names

P = "urn:pulumi:dev::proj::"
STACK = P + "pulumi:pulumi:Stack::proj-dev"
OLD_PROVIDER = P + "pulumi:providers:pulumi-python::default"
ACCOUNT = P + "pulumi-python:dynamic/motherduck:ServiceAccount::account"
TOKEN = P + "pulumi-python:dynamic/motherduck:AccessToken::token"
CONFIG = P + "pulumi-python:dynamic/motherduck:InstanceConfig::ducklings"
SIG = "4dabf18193072939515e22adb298388d"


def secret(ciphertext: str) -> dict[str, str]:
    return {SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": ciphertext}


def deployment() -> dict[str, Any]:
    provider_ref = f"{OLD_PROVIDER}::97f9"
    settings = {
        "motherduck:apiUrl": "http://127.0.0.1:1",
        "motherduck:token": secret("v1:admin"),
        "aws:region": "eu-west-1",
    }
    return {
        "manifest": {"version": "v3.274.1"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:x"}},
        "resources": [
            {"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
            {
                "urn": OLD_PROVIDER,
                "custom": True,
                "id": "97f9",
                "type": "pulumi:providers:pulumi-python",
                "inputs": dict(settings),
                "outputs": dict(settings),
            },
            {
                "urn": ACCOUNT,
                "custom": True,
                "id": "etl_writer",
                "type": "pulumi-python:dynamic/motherduck:ServiceAccount",
                "inputs": {"__provider": "gASV", "username": "etl_writer"},
                "outputs": {"__provider": "gASV", "adopt": False, "username": "etl_writer"},
                "parent": STACK,
                "provider": provider_ref,
                "propertyDependencies": {"__provider": [], "username": []},
            },
            {
                "urn": TOKEN,
                "custom": True,
                "id": "etl_writer/89",
                "type": "pulumi-python:dynamic/motherduck:AccessToken",
                "inputs": {
                    "__provider": "gASV",
                    "name": "ci",
                    "owner": "db0e",
                    "token_type": "read_write",
                    "username": "etl_writer",
                },
                "outputs": {
                    "__provider": "gASV",
                    "token": secret("v1:token-secret"),
                    "token_id": "89",
                    "token_type": "read_write",
                    "previous_token": None,
                    "username": "etl_writer",
                },
                "parent": STACK,
                "dependencies": [ACCOUNT],
                "provider": provider_ref,
                "propertyDependencies": {"__provider": [], "name": [], "username": [ACCOUNT]},
                "additionalSecretOutputs": ["token", "previous_token"],
            },
            {
                "urn": CONFIG,
                "custom": True,
                "id": "etl_writer",
                "type": "pulumi-python:dynamic/motherduck:InstanceConfig",
                "inputs": {
                    "__provider": "gASV",
                    "read_scaling": {"cooldown_seconds": 60, "flock_size": 2},
                    "username": "etl_writer",
                },
                "outputs": {
                    "__provider": "gASV",
                    "read_scaling": {"cooldown_seconds": 60, "flock_size": 2},
                    "username": "etl_writer",
                },
                "parent": STACK,
                "dependencies": [ACCOUNT],
                "provider": provider_ref,
                "propertyDependencies": {"__account_may_exist": [], "username": [ACCOUNT]},
            },
        ],
    }


def by_type(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["type"]: r for r in result["resources"]}


def test_types_urns_provider_and_names_become_the_plugins() -> None:
    original = deployment()
    result, migration = migrate_deployment(original, new_id=lambda: "new-id")
    assert original == deployment(), "the input was changed"
    found = by_type(result)
    assert set(found) == {
        "pulumi:pulumi:Stack",
        "pulumi:providers:motherduck",
        "motherduck:index:ServiceAccount",
        "motherduck:index:AccessToken",
        "motherduck:index:InstanceConfig",
    }
    provider = found["pulumi:providers:motherduck"]
    assert provider["urn"] == P + "pulumi:providers:motherduck::default"
    assert provider["id"] == "new-id"
    settings = {"apiUrl": "http://127.0.0.1:1", "token": secret("v1:admin")}
    assert provider["inputs"] == settings and provider["outputs"] == settings
    new_account = P + "motherduck:index:ServiceAccount::account"
    token = found["motherduck:index:AccessToken"]
    assert token["urn"] == P + "motherduck:index:AccessToken::token"
    assert token["id"] == "etl_writer/89"
    assert token["provider"] == P + "pulumi:providers:motherduck::default::new-id"
    assert token["parent"] == STACK
    assert token["dependencies"] == [new_account]
    assert token["inputs"] == {
        "name": "ci", "owner": "db0e", "tokenType": "read_write", "username": "etl_writer"
    }  # fmt: skip
    assert token["outputs"] == {
        "token": secret("v1:token-secret"),  # the ciphertext as it was
        "tokenId": "89",
        "tokenType": "read_write",
        "previousToken": None,
        "username": "etl_writer",
    }
    assert token["propertyDependencies"] == {"name": [], "username": [new_account]}
    assert token["additionalSecretOutputs"] == ["token", "previousToken"]
    config = found["motherduck:index:InstanceConfig"]
    assert config["inputs"]["readScaling"] == {"cooldownSeconds": 60, "flockSize": 2}
    assert config["propertyDependencies"] == {"username": [new_account]}
    assert "__provider" not in json.dumps(result)
    assert [old for old, _ in migration.moved] == [OLD_PROVIDER, ACCOUNT, TOKEN, CONFIG]


def test_a_version_names_the_default_provider_as_the_engine_does() -> None:
    result, _ = migrate_deployment(deployment(), version="0.4.0", new_id=lambda: "n")
    provider = by_type(result)["pulumi:providers:motherduck"]
    assert provider["urn"] == P + "pulumi:providers:motherduck::default_0_4_0"
    assert provider["inputs"]["version"] == "0.4.0"
    account = by_type(result)["motherduck:index:ServiceAccount"]
    assert account["provider"] == P + "pulumi:providers:motherduck::default_0_4_0::n"


def test_a_stack_without_python_form_resources_is_left_as_it_is() -> None:
    moved, _ = migrate_deployment(deployment(), new_id=lambda: "n")
    again, migration = migrate_deployment(moved)
    assert again == moved and migration.moved == []


TEAM = P + "motherduck:index:ManagedAccount::team"
TEAM_ACCOUNT = (
    P + "motherduck:index:ManagedAccount$pulumi-python:dynamic/motherduck:ServiceAccount::team"
)
TEAM_TOKEN = (
    P + "motherduck:index:ManagedAccount$pulumi-python:dynamic/motherduck:AccessToken::team-ci"
)


def with_component(given: dict[str, Any]) -> dict[str, Any]:
    """`deployment()` plus a Python `ManagedAccount` (as `pulumi stack export` writes one):
    the component, its account and a token depending on it."""
    provider_ref = f"{OLD_PROVIDER}::97f9"
    given["resources"] += [
        {
            "urn": TEAM,
            "custom": False,
            "type": "motherduck:index:ManagedAccount",
            "outputs": {"token_ids": {"ci": "90"}, "username": "team_svc"},
            "parent": STACK,
        },
        {
            "urn": TEAM_ACCOUNT,
            "custom": True,
            "id": "team_svc",
            "type": "pulumi-python:dynamic/motherduck:ServiceAccount",
            "inputs": {"__provider": "gASV", "username": "team_svc"},
            "outputs": {"__provider": "gASV", "username": "team_svc"},
            "parent": TEAM,
            "provider": provider_ref,
            "protect": True,
        },
        {
            "urn": TEAM_TOKEN,
            "custom": True,
            "id": "team_svc/90",
            "type": "pulumi-python:dynamic/motherduck:AccessToken",
            "inputs": {"__provider": "gASV", "name": "ci", "username": "team_svc"},
            "outputs": {"__provider": "gASV", "token_id": "90", "token": secret("v1:t2")},
            "parent": TEAM,
            "dependencies": [TEAM_ACCOUNT],
            "provider": provider_ref,
            "propertyDependencies": {"username": [TEAM_ACCOUNT]},
        },
    ]
    return given


def test_a_managed_account_moves_with_its_children() -> None:
    """The component keeps its type and URN (the same in both forms); its children take the
    plugin's types under it, their references follow."""
    result, migration = migrate_deployment(with_component(deployment()), new_id=lambda: "n")
    found = {r["urn"]: r for r in result["resources"]}
    team = found[TEAM]
    assert team["type"] == "motherduck:index:ManagedAccount" and team["parent"] == STACK
    assert team["outputs"] == {"tokenIds": {"ci": "90"}, "username": "team_svc"}
    account_urn = P + "motherduck:index:ManagedAccount$motherduck:index:ServiceAccount::team"
    token_urn = P + "motherduck:index:ManagedAccount$motherduck:index:AccessToken::team-ci"
    assert set(found) >= {account_urn, token_urn}
    account, token = found[account_urn], found[token_urn]
    assert account["type"] == "motherduck:index:ServiceAccount" and account["parent"] == TEAM
    assert account["protect"] is True
    assert token["type"] == "motherduck:index:AccessToken" and token["parent"] == TEAM
    assert token["dependencies"] == [account_urn]
    assert token["propertyDependencies"] == {"username": [account_urn]}
    assert token["outputs"] == {"tokenId": "90", "token": secret("v1:t2")}
    assert token["provider"] == P + "pulumi:providers:motherduck::default::n"
    assert (TEAM, TEAM) in migration.moved and (TEAM_TOKEN, token_urn) in migration.moved
    again, moved = migrate_deployment(result)
    assert again == result and moved.moved == []


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            lambda d: d.update(
                pending_operations=[{"type": "creating", "resource": {"urn": TOKEN}}]
            ),
            "1 pending operation(s) (creating " + TOKEN,
        ),
        (
            lambda d: d["resources"].append(
                {"urn": P + "aws:s3/bucket:Bucket::b", "type": "aws:s3/bucket:Bucket"}
            ),
            "does not move (only the stack",
        ),
        (
            lambda d: d["resources"].append(
                {"urn": P + "acme:index:Team::m", "type": "acme:index:Team", "custom": False}
            ),
            P + "acme:index:Team::m",
        ),
        (lambda d: d["resources"][2].update(delete=True), "pending deletion: " + ACCOUNT),
        (
            lambda d: d["resources"].append(
                {
                    "urn": P + "pulumi:providers:motherduck::default",
                    "type": "pulumi:providers:motherduck",
                }
            ),
            "holds both forms (the plugin's provider " + P,
        ),
    ],
    ids=["pending", "other-provider", "component", "pending-delete", "plugin-provider"],
)
def test_refuses_what_it_cannot_carry_over(edit: Any, says: str) -> None:
    given = deployment()
    edit(given)
    kept = copy.deepcopy(given)
    with pytest.raises(MigrationRefused, match="nothing was changed") as raised:
        migrate_deployment(given)
    assert says in str(raised.value)
    assert given == kept


FAKE_PULUMI = """#!{python}
import json, pathlib, sys
log = pathlib.Path(sys.argv[0]).with_name("calls.jsonl")
with log.open("a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["stack", "export"]:
    print(pathlib.Path(sys.argv[0]).with_name("export.json").read_text())
elif sys.argv[1:3] == ["stack", "import"]:
    pathlib.Path(sys.argv[0]).with_name("imported.json").write_text(sys.stdin.read())
"""


def fake_pulumi(tmp_path: Path, exported: dict[str, Any]) -> Path:
    tool = tmp_path / "pulumi"
    tool.write_text(FAKE_PULUMI.format(python=sys.executable))
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "export.json").write_text(json.dumps({"version": 3, "deployment": exported}))
    return tool


def calls(tmp_path: Path) -> list[list[str]]:
    lines = (tmp_path / "calls.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_the_command_backs_up_then_imports(tmp_path: Path) -> None:
    tool = fake_pulumi(tmp_path, deployment())
    backup = tmp_path / "backup.json"
    code = migrate.main(["--pulumi", str(tool), "--cwd", str(tmp_path), "--backup", str(backup)])
    assert code == 0
    assert [c[:2] for c in calls(tmp_path)] == [["stack", "export"], ["stack", "import"]]
    assert json.loads(backup.read_text())["deployment"] == deployment()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    imported = json.loads((tmp_path / "imported.json").read_text())
    assert imported["version"] == 3
    assert "motherduck:index:AccessToken" in {
        r["type"] for r in imported["deployment"]["resources"]
    }


def test_the_command_backs_up_beside_the_project_by_default(tmp_path: Path) -> None:
    tool = fake_pulumi(tmp_path, deployment())
    assert migrate.main(["--pulumi", str(tool), "--cwd", str(tmp_path)]) == 0
    (backup,) = tmp_path.glob("motherduck-migrate-dev-*.json")
    assert json.loads(backup.read_text())["deployment"] == deployment()


@pytest.mark.parametrize("args", [["--dry-run"], []])
def test_dry_run_and_refusal_import_nothing(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    given = deployment()
    if not args:
        given["pending_operations"] = [{"type": "creating", "resource": {"urn": TOKEN}}]
    tool = fake_pulumi(tmp_path, given)
    code = migrate.main(["--pulumi", str(tool), "--cwd", str(tmp_path), *args])
    assert code == (0 if args else 2)
    assert [c[:2] for c in calls(tmp_path)] == [["stack", "export"]]
    assert not list(tmp_path.glob("motherduck-migrate-*"))
    if not args:
        assert "refused: the stack has 1 pending operation(s)" in capsys.readouterr().err


def test_token_names_of_a_one_step_account_move_as_they_are() -> None:
    """`plugin migrate` respells property names only: a one-step account's token names (the
    keys of `tokens`, `token_ids`, `token_details`...) stay the program's."""
    outputs = {
        "username": "svc",
        "token_ids": {"ci_loader": "t1", "CI": "t2"},
        "token_details": {"ci_loader": {"token_type": "read_write", "created_ts": "x"}},
        "tokens": secret("v1:both"),  # one ciphertext: kept whole
        "read_write": {"instance_size": "pulse"},
    }
    assert state_names(outputs) == {
        "username": "svc",
        "tokenIds": {"ci_loader": "t1", "CI": "t2"},
        "tokenDetails": {"ci_loader": {"tokenType": "read_write", "createdTs": "x"}},
        "tokens": secret("v1:both"),
        "readWrite": {"instanceSize": "pulse"},
    }
    inputs = {"tokens": {"ci_loader": {"token_type": "read_write", "rotate_before": 60}}}
    assert state_names(inputs) == {
        "tokens": {"ci_loader": {"tokenType": "read_write", "rotateBefore": 60}}
    }
