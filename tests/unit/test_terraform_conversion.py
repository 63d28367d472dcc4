"""Reading Terraform states and rendering what they become (motherduck_provider.from_terraform).

The fixtures in tests/fixtures/terraform/ were made from emulator objects created as the
Terraform provider creates them (`make_fixture.py`); variants (modules, count, aliases, other
providers) are edits of that state made here.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from motherduck_provider.from_terraform import cli
from motherduck_provider.from_terraform.deployment import (
    SECRET_SIG,
    Urns,
    pickled_providers,
    plugin_resources,
    python_resources,
)
from motherduck_provider.from_terraform.layout import layout
from motherduck_provider.from_terraform.live import expired
from motherduck_provider.from_terraform.plan import ConversionRefused, plan
from motherduck_provider.from_terraform.program import python_program, yaml_program
from motherduck_provider.from_terraform.tfstate import StateUnreadable, parse_state, read_state
from motherduck_provider.resources.access_token import owner_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "terraform"
ALIAS = 'provider["registry.terraform.io/motherduckdb/motherduck"].other'


def tfstate() -> dict[str, Any]:
    return dict(json.loads((FIXTURES / "terraform.tfstate").read_text()))


def secrets() -> set[str]:
    return {
        r["instances"][0]["attributes"]["token"]
        for r in tfstate()["resources"]
        if r["type"] == "motherduck_access_token"
    }


def resource(state: dict[str, Any], name: str, kind: str) -> dict[str, Any]:
    (found,) = [r for r in state["resources"] if r["name"] == name and r["type"] == kind]
    return dict(found)


def test_both_forms_of_the_state_give_the_same_conversion() -> None:
    from_file = plan(read_state(FIXTURES / "terraform.tfstate"))
    from_show = plan(read_state(FIXTURES / "show.json"))
    assert from_file == from_show
    assert [a.name for a in from_file.accounts] == [
        "etl_account",
        "reader_account",
        "writer_account",
    ]
    tokens = {t.name: t for t in from_file.tokens}
    assert tokens["r_rs"].account == "reader_account"
    assert (tokens["r_rs"].ttl, tokens["r_rs"].token_type) == (7200, "read_scaling")
    assert tokens["w_rw"].ttl is None and tokens["w_rw"].secret in secrets()
    configs = {c.name: c for c in from_file.configs}
    assert configs["writer_config"].read_write.state() == {
        "instance_size": "mega",
        "cooldown_seconds": 300,
    }
    assert configs["writer_config"].read_write.declared() == {"instance_size": "mega"}
    assert configs["reader_config"].read_write.declared()["cooldown_seconds"] == 120
    assert configs["etl_config"].read_write.state() == {"instance_size": "pulse"}
    (export,) = from_file.exports
    assert (export.name, export.resource, export.attribute, export.secret) == (
        "w_rw_token",
        "w_rw",
        "token",
        True,
    )
    assert from_file.left == [] and from_file.notes == []


def test_the_python_program_declares_each_object_with_references() -> None:
    text = python_program(plan(read_state(FIXTURES / "terraform.tfstate")), "terraform.tfstate")
    compile(text, "__main__.py", "exec")
    assert 'writer_account = ServiceAccount("writer_account", username="tfx_writer")' in text
    assert "username=reader_account.username" in text
    assert 'token_type="read_scaling"' in text and "ttl=7200" in text
    assert 'read_write={"instance_size": "mega"}' in text
    assert 'pulumi.export("w_rw_token", w_rw.token)' in text
    for secret in secrets():
        assert secret not in text


def test_the_yaml_program_uses_the_plugin_types_and_names() -> None:
    conversion = plan(read_state(FIXTURES / "terraform.tfstate"))
    program = yaml.safe_load(yaml_program(conversion, "proj", "terraform.tfstate"))
    assert program["name"] == "proj" and program["runtime"] == "yaml"
    resources = program["resources"]
    assert resources["r_rs"] == {
        "type": "motherduck:index:AccessToken",
        "properties": {
            "username": "${reader_account.username}",
            "name": "r-rs",
            "ttl": 7200,
            "tokenType": "read_scaling",
        },
    }
    assert resources["reader_config"]["properties"]["readScaling"] == {
        "instanceSize": "standard",
        "flockSize": 1,
        "cooldownSeconds": 300,
    }
    assert program["outputs"] == {"w_rw_token": "${w_rw.token}"}


def test_the_state_records_tokens_as_created_here_without_a_mark() -> None:
    conversion = plan(read_state(FIXTURES / "terraform.tfstate"))
    settings = {"motherduck:apiUrl": "http://127.0.0.1:1"}
    resources = python_resources(conversion, Urns("proj", "org/proj/dev"), settings)
    by_name = {r["urn"].rsplit("::", 1)[1]: r for r in resources}
    stack = by_name["proj-dev"]
    assert stack["urn"] == "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"
    provider = by_name["default"]
    assert provider["inputs"] == settings
    token = by_name["w_rw"]
    (t,) = [t for t in conversion.tokens if t.name == "w_rw"]
    assert token["id"] == f"tfx_writer/{t.token_id}"
    assert token["inputs"]["owner"] == owner_of("proj", "dev", "", "w_rw")
    assert token["inputs"]["__provider"] == pickled_providers()["AccessToken"]
    assert "ttl" not in token["inputs"] and token["inputs"]["token_type"] == "read_write"
    assert "mark" not in token["outputs"]
    assert token["outputs"]["token"] == {
        SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270",
        "plaintext": json.dumps(t.secret),
    }
    assert token["provider"] == f"{provider['urn']}::{provider['id']}"
    assert token["dependencies"] == [by_name["writer_account"]["urn"]]
    assert stack["outputs"]["w_rw_token"] == token["outputs"]["token"]
    assert by_name["writer_account"]["outputs"] == {
        "__provider": pickled_providers()["ServiceAccount"],
        "username": "tfx_writer",
        "adopt": False,
    }
    config = by_name["reader_config"]
    assert config["inputs"]["read_write"] == {"instance_size": "jumbo", "cooldown_seconds": 120}


def test_the_plugin_form_is_the_python_form_moved() -> None:
    conversion = plan(read_state(FIXTURES / "terraform.tfstate"))
    resources = plugin_resources(python_resources(conversion, Urns("proj", "dev")))
    types = {r["type"] for r in resources}
    assert types == {
        "pulumi:pulumi:Stack",
        "pulumi:providers:motherduck",
        "motherduck:index:ServiceAccount",
        "motherduck:index:AccessToken",
        "motherduck:index:InstanceConfig",
    }
    (token,) = [r for r in resources if r["urn"].endswith("::r_rs")]
    assert token["inputs"]["tokenType"] == "read_scaling" and "__provider" not in token["inputs"]
    assert token["outputs"]["token"]["plaintext"]


def test_other_providers_sql_resources_and_data_sources_are_left_alone() -> None:
    state = tfstate()
    state["resources"] += [
        {"mode": "managed", "type": "aws_s3_bucket", "name": "b", "provider": 'provider["registry.terraform.io/hashicorp/aws"]', "instances": [{"attributes": {"bucket": "x"}}]},  # noqa: E501
        {"mode": "managed", "type": "motherduck_database", "name": "db", "provider": 'provider["registry.terraform.io/motherduckdb/motherduck"]', "instances": [{"attributes": {}}]},  # noqa: E501
        {"mode": "data", "type": "motherduck_tokens", "name": "all", "provider": 'provider["registry.terraform.io/motherduckdb/motherduck"]', "instances": []},  # noqa: E501
    ]  # fmt: skip
    conversion = plan(parse_state(state))
    assert len(conversion.addresses()) == 9
    assert conversion.left == [
        "aws_s3_bucket.b: another provider's; left in Terraform",
        "motherduck_database.db: a MotherDuck SQL resource (databases, shares, ...), not an "
        "Admin API object; left in Terraform",
        "data.motherduck_tokens.all: a data source; not an object to move",
    ]


def test_modules_and_count_and_for_each_instances_are_named_after_their_address() -> None:
    state = tfstate()
    token = resource(state, "e_rw", "motherduck_access_token")
    (instance,) = token["instances"]
    second = copy.deepcopy(instance)
    second["attributes"]["id"] = "another-id"
    instance["index_key"], second["index_key"] = "a", "b-c"
    token["instances"] = [instance, second]
    token["module"] = "module.team"
    state["resources"] = [r for r in state["resources"] if r["name"] != "e_rw"] + [token]
    conversion = plan(parse_state(state))
    names = {t.address: t.name for t in conversion.tokens}
    assert names['module.team.motherduck_access_token.e_rw["a"]'] == "team_e_rw_a"
    assert names['module.team.motherduck_access_token.e_rw["b-c"]'] == "team_e_rw_b_c"
    counted = copy.deepcopy(instance)
    counted["index_key"] = 0
    token["instances"] = [counted]
    token.pop("module")
    state["resources"][-1] = token
    (found,) = [
        t
        for t in plan(parse_state(state)).tokens
        if t.address.startswith("motherduck_access_token.e_rw")
    ]
    assert (found.address, found.name) == ("motherduck_access_token.e_rw[0]", "e_rw_0")


def test_several_provider_configurations_are_refused_with_the_reason() -> None:
    state = tfstate()
    for r in state["resources"]:
        if r["name"] == "etl":
            r["provider"] = ALIAS
    with pytest.raises(ConversionRefused, match="2 provider configurations") as caught:
        plan(parse_state(state))
    assert "Connection" in str(caught.value) and "motherduck_service_account.etl" in str(
        caught.value
    )


def test_names_that_collide_are_refused() -> None:
    state = tfstate()
    token = resource(state, "e_rw", "motherduck_access_token")
    twin = copy.deepcopy(token)
    twin["name"] = "e-rw"  # Terraform allows it; both become `e_rw`
    state["resources"].append(twin)
    with pytest.raises(ConversionRefused, match="would both be named"):
        plan(parse_state(state))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": 3, "modules": []}, "format 3"),
        ({"resources": []}, "neither a .tfstate"),
        ([], "not a JSON object"),
    ],
)
def test_states_this_cannot_read_are_refused(data: Any, message: str) -> None:
    with pytest.raises(StateUnreadable, match=message):
        parse_state(data)


def test_outputs_that_are_not_an_attribute_are_noted_not_carried() -> None:
    state = tfstate()
    state["outputs"]["region"] = {"value": "eu", "type": "string"}
    conversion = plan(parse_state(state))
    assert [e.name for e in conversion.exports] == ["w_rw_token"]
    assert conversion.notes == [
        "output 'region' is not one object's attribute; not carried over: declare it yourself"
    ]


def test_expired_tokens_are_known_without_a_request() -> None:
    conversion = plan(read_state(FIXTURES / "terraform.tfstate"))
    (r_rs,) = [t for t in conversion.tokens if t.name == "r_rs"]
    assert r_rs.expire_at is not None
    later = datetime(2100, 1, 1, tzinfo=UTC)
    found = expired(conversion, later)
    assert len(found) == 2 and "motherduck_access_token.r_rs" in found[1]
    assert expired(conversion, datetime(2000, 1, 1, tzinfo=UTC)) == []


def test_a_dry_run_prints_the_plan_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "terraform.tfstate"
    state.write_text((FIXTURES / "terraform.tfstate").read_text())
    assert cli.main([str(state), "--stack", "dev", "--dir", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "motherduck_access_token.w_rw -> AccessToken 'w_rw'" in out.out
    for secret in secrets():
        assert secret not in out.out + out.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["terraform.tfstate"]
    assert state.read_text() == (FIXTURES / "terraform.tfstate").read_text()


def test_a_refusal_is_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tfstate()
    for r in state["resources"]:
        if r["name"] == "etl":
            r["provider"] = ALIAS
    path = tmp_path / "s.tfstate"
    path.write_text(json.dumps(state))
    assert cli.main([str(path), "--stack", "dev", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("refused: ") and err.count("\n") == 1
    assert "nothing was written" in err


def test_a_token_name_with_no_room_for_a_mark_is_refused() -> None:
    state = tfstate()
    resource(state, "e_rw", "motherduck_access_token")["instances"][0]["attributes"]["name"] = (
        "n" * 250
    )
    with pytest.raises(ConversionRefused, match="has 250 characters; AccessToken takes at most"):
        plan(parse_state(state))


def test_an_existing_program_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "__main__.py").write_text("# mine\n")
    state = str(FIXTURES / "terraform.tfstate")
    assert cli.main([state, "--stack", "dev", "--dir", str(tmp_path)]) == 2
    assert "__main__.py exists; it would be overwritten" in capsys.readouterr().err
    assert (tmp_path / "__main__.py").read_text() == "# mine\n"
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: yaml\nresources: {}\n")
    assert cli.main([state, "--stack", "dev", "--dir", str(tmp_path), "--language", "yaml"]) == 2
    assert "declares resources already" in capsys.readouterr().err


def test_managed_accounts_record_their_children_as_the_component_names_them() -> None:
    conversion = plan(read_state(FIXTURES / "terraform.tfstate"))
    placed = layout(conversion, managed=True)
    assert sorted(placed.components) == ["etl_account", "reader_account", "writer_account"]
    resources = python_resources(conversion, Urns("proj", "dev"), None, placed)
    by_urn = {r["urn"]: r for r in resources}
    component = by_urn["urn:pulumi:dev::proj::motherduck:index:ManagedAccount::writer_account"]
    (w_rw,) = [t for t in conversion.tokens if t.name == "w_rw"]
    assert component["outputs"] == {"token_ids": {"w-rw": w_rw.token_id}, "username": "tfx_writer"}
    child = "urn:pulumi:dev::proj::motherduck:index:ManagedAccount$pulumi-python:dynamic/"
    token = by_urn[child + "motherduck:AccessToken::writer_account-w-rw"]
    assert token["parent"] == component["urn"]
    assert token["inputs"]["owner"] == owner_of(
        "proj", "dev", "writer_account", "writer_account-w-rw"
    )
    account = by_urn[child + "motherduck:ServiceAccount::writer_account"]
    assert account["protect"] is True
    assert [r["urn"] for r in resources].index(component["urn"]) < resources.index(account)
    assert by_urn[child + "motherduck:InstanceConfig::writer_account"]["dependencies"] == [
        account["urn"]
    ]
    text = python_program(conversion, "terraform.tfstate", placed)
    compile(text, "__main__.py", "exec")
    assert 'pulumi.export("w_rw_token", writer_account.tokens["w-rw"].token)' in text


def test_an_account_whose_tokens_share_a_name_stays_separate_resources() -> None:
    state = tfstate()
    twin = copy.deepcopy(resource(state, "w_rw", "motherduck_access_token"))
    twin["name"] = "w_rw_again"
    twin["instances"][0]["attributes"]["id"] = "another-id"
    state["resources"].append(twin)
    conversion = plan(parse_state(state))
    placed = layout(conversion, managed=True)
    assert "writer_account" not in placed.components and "reader_account" in placed.components
    assert any("a ManagedAccount cannot hold" in n for n in conversion.notes)


def test_a_username_of_another_spelling_is_not_a_reference() -> None:
    state = tfstate()
    attributes = resource(state, "e_rw", "motherduck_access_token")["instances"][0]["attributes"]
    attributes["username"] = "TFX_ETL"
    (token,) = [t for t in plan(parse_state(state)).tokens if t.name == "e_rw"]
    assert (token.account, token.username) == (None, "TFX_ETL")


def test_a_state_without_motherduck_objects_is_refused() -> None:
    state = tfstate()
    state["resources"] = [
        {
            "mode": "managed",
            "type": "aws_s3_bucket",
            "name": "b",
            "provider": "aws",
            "instances": [{}],
        }
    ]
    with pytest.raises(ConversionRefused, match=r"holds no MotherDuck .* \(only 1 other"):
        plan(parse_state(state))


def test_one_aliased_provider_configuration_is_noted() -> None:
    state = tfstate()
    for r in state["resources"]:
        r["provider"] = ALIAS
    conversion = plan(parse_state(state))
    assert len(conversion.addresses()) == 9
    assert any(ALIAS in n and "that organization's" in n for n in conversion.notes)
