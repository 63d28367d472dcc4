"""The state rewrites of `python -m motherduck_provider.move_form` on small deployments.

The shapes are those `pulumi stack export` and `pulumi preview --json` gave for
tests/e2e/programs/move_form (Pulumi 3.274.1), trimmed.
"""

from __future__ import annotations

import copy
import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider import move_form
from motherduck_provider.move_form import MoveRefused, to_one_step, to_separate
from motherduck_provider.resources import _account_tokens
from motherduck_provider.resources._props import TokenState, token_outputs

P = "urn:pulumi:dev::proj::"
STACK = P + "pulumi:pulumi:Stack::proj-dev"
PROVIDER = P + "pulumi:providers:pulumi-python::default"
PROVIDER_REF = PROVIDER + "::4c1e0d"
ACCOUNT = P + "pulumi-python:dynamic/motherduck:ServiceAccount::account"
CI = P + "pulumi-python:dynamic/motherduck:AccessToken::ci"
CONFIG = P + "pulumi-python:dynamic/motherduck:InstanceConfig::ducklings"
USER_OF_CI = P + "pulumi-python:dynamic/motherduck:Other::app"
SIG = move_form.SECRET_SIG
RW = {"instance_size": "standard", "cooldown_seconds": 60}
RS = {"instance_size": "pulse", "flock_size": 2}


def secret(ciphertext: str) -> dict[str, str]:
    return {SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": ciphertext}


def resource(urn: str, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    kind = urn.split("::")[2]
    return {
        "urn": urn,
        "custom": True,
        "id": id_,
        "type": kind,
        "inputs": {"__provider": f"pickle:{kind}", **inputs},
        "outputs": {"__provider": f"pickle:{kind}", **outputs},
        "parent": STACK,
        "provider": PROVIDER_REF,
        "dependencies": [ACCOUNT] if urn != ACCOUNT else [],
    }


CI_OUTPUTS = {
    "username": "svc",
    "name": "ci",
    "ttl": 86400,
    "token_type": "read_write",
    "owner": "8b5595dc7dc2",
    "token_id": "t-1",
    "expire_at": "2026-12-07T21:37:07.866Z",
    "created_ts": "2026-12-06T21:37:07.866Z",
    "read_only": False,
    "mark": "5a8657052a",
    "token": secret("ct-ci"),
}


def separate() -> dict[str, Any]:
    """An account, its token `ci` and its config, separately (what `up` recorded)."""
    stack = {"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack"}
    provider = {"urn": PROVIDER, "custom": True, "id": "4c1e0d", "type": PROVIDER.split("::")[2]}
    ci_inputs = {"username": "svc", "name": "ci", "ttl": 86400, "token_type": "read_write"}
    return {
        "resources": [
            stack,
            provider,
            resource(ACCOUNT, "svc", {"username": "svc", "adopt": False}, {"username": "svc"}),
            resource(CI, "svc/t-0", {**ci_inputs, "owner": "8b5595dc7dc2"}, CI_OUTPUTS),
            resource(
                CONFIG,
                "svc",
                {"username": "svc", "read_write": RW, "read_scaling": RS},
                {"username": "svc", "read_write": RW, "read_scaling": RS},
            ),  # fmt: skip
        ]
    }


def step(op: str, urn: str, inputs: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    state = {"urn": urn, "type": urn.split("::")[2], "inputs": copy.deepcopy(inputs or {}), **more}
    return {"op": op, "urn": urn, "newState": state}


ONE_STEP_INPUTS = {
    "__provider": "pickle:new",
    "username": "svc",
    "adopt": False,
    "owner": "9a1958bb504a",
    "tokens": {"ci": {"ttl": 86400, "token_type": "read_write"}},
    "read_write": {"instance_size": "standard"},
    "read_scaling": RS,
}


def one_step_steps() -> list[dict[str, Any]]:
    """`pulumi preview --json` of the program edited to the one-step form."""
    return [
        step("same", STACK),
        step("update", ACCOUNT, ONE_STEP_INPUTS, dependencies=[], parent=STACK),
        step("delete", CI),
        step("delete", CONFIG),
    ]


def separate_steps() -> list[dict[str, Any]]:
    """`pulumi preview --json` of the program edited back to the separate form."""
    ci_inputs = dict(separate()["resources"][3]["inputs"])
    config_inputs = dict(separate()["resources"][4]["inputs"])
    return [
        step("update", ACCOUNT, {"__provider": "p", "username": "svc", "adopt": False}),
        step("create", CI, ci_inputs, parent=STACK, provider=PROVIDER_REF, dependencies=[ACCOUNT]),
        step(
            "create",
            CONFIG,
            config_inputs,
            parent=STACK,
            provider=PROVIDER_REF,
            dependencies=[ACCOUNT],
        ),  # fmt: skip
    ]


def test_the_constants_are_the_one_step_forms() -> None:
    assert move_form.TOKEN_OUTPUTS == _account_tokens.OUTPUTS
    assert move_form.SECRET_OUTPUTS == _account_tokens.SECRET_OUTPUTS
    assert move_form.NOT_DETAILS == _account_tokens._NOT_DETAILS
    recorded = _account_tokens.outputs({"ci": TokenState(mark="m")})["token_details"]["ci"]
    assert recorded == {"mark": "m"}  # no null field, as `_details` moves them
    moved = {"mark": "m", "ttl": None, "token": "s", "name": "ci"}
    assert token_outputs({"ci": TokenState.from_props(moved)})["token_details"]["ci"] == recorded


def test_to_one_step_folds_tokens_and_config_keeping_ids_marks_and_ciphertexts() -> None:
    before = separate()
    moved, move = to_one_step(before, one_step_steps())
    assert before == separate()  # the input is not edited
    assert [r["urn"] for r in moved["resources"]] == [STACK, PROVIDER, ACCOUNT]
    assert move.moved == [(CI, ACCOUNT), (CONFIG, ACCOUNT)]
    (account,) = [r for r in moved["resources"] if r["urn"] == ACCOUNT]
    assert account["inputs"] == ONE_STEP_INPUTS
    outs = account["outputs"]
    assert outs["tokens"] == {"ci": secret("ct-ci")}  # the ciphertext as it was
    assert "previous_tokens" not in outs  # none kept, as the provider writes it
    assert outs["token_ids"] == {"ci": "t-1"}
    details = outs["token_details"]["ci"]
    assert (details["mark"], details["owner"]) == ("5a8657052a", "8b5595dc7dc2")  # kept
    assert None not in details.values() and "rotation_trigger" not in details
    assert outs["owner"] == "9a1958bb504a"  # the program's, for tokens added later
    assert (outs["read_write"], outs["read_scaling"]) == (RW, RS)
    assert account["additionalSecretOutputs"] == ["tokens", "previous_tokens"]
    assert "plaintext" not in str(moved)


def test_dependents_of_a_folded_resource_depend_on_the_account() -> None:
    before = separate()
    app = resource(USER_OF_CI, "app", {}, {})
    app.update(dependencies=[CI, CONFIG], propertyDependencies={"key": [CI]}, deletedWith=CI)
    before["resources"].append(app)
    steps = [*one_step_steps(), step("same", USER_OF_CI)]
    moved, move = to_one_step(before, steps)
    (after,) = [r for r in moved["resources"] if r["urn"] == USER_OF_CI]
    assert after["dependencies"] == [ACCOUNT]
    assert after["propertyDependencies"] == {"key": [ACCOUNT]}
    assert after["deletedWith"] == ACCOUNT
    assert move.rewired == [USER_OF_CI]


def test_a_child_of_a_folded_resource_is_refused() -> None:
    before = separate()
    child = resource(USER_OF_CI, "app", {}, {})
    child["parent"] = CI
    before["resources"].append(child)
    with pytest.raises(MoveRefused, match="is a child of .*::ci"):
        to_one_step(before, one_step_steps())


def test_the_round_trip_gives_back_the_separate_state() -> None:
    moved, _ = to_one_step(separate(), one_step_steps())
    back, move = to_separate(moved, separate_steps())
    assert move.moved == [(ACCOUNT, CI), (ACCOUNT, CONFIG)]
    want = {r["urn"]: r for r in separate()["resources"]}
    got = {r["urn"]: r for r in back["resources"]}
    assert list(got) == list(want)
    assert got[CI]["outputs"] == {**CI_OUTPUTS, "__provider": "pickle:pulumi-python:dynamic/"
                                  "motherduck:AccessToken"}  # fmt: skip
    assert got[CI]["id"] == "svc/t-1"  # the current token (the first is gone from state)
    assert got[CONFIG]["outputs"]["read_write"] == RW
    assert got[ACCOUNT]["outputs"] == {"__provider": want[ACCOUNT]["outputs"]["__provider"],
                                       "username": "svc"}  # fmt: skip
    assert "additionalSecretOutputs" not in got[ACCOUNT]


def test_a_kept_previous_secret_moves_both_ways() -> None:
    """A token in its overlap window: the one-step form records its previous secret (and only
    such secrets: `previous_tokens` is absent when none is kept)."""
    rotated = {**CI_OUTPUTS, "previous_token_id": "t-0", "previous_token": secret("ct-old")}
    before = separate()
    before["resources"][3]["outputs"] = rotated
    moved, _ = to_one_step(before, one_step_steps())
    (account,) = [r for r in moved["resources"] if r["urn"] == ACCOUNT]
    assert account["outputs"]["previous_tokens"] == {"ci": secret("ct-old")}
    assert account["outputs"]["token_details"]["ci"]["previous_token_id"] == "t-0"
    back, _ = to_separate(moved, separate_steps())
    (token,) = [r for r in back["resources"] if r["urn"] == CI]
    assert token["outputs"]["previous_token"] == secret("ct-old")
    assert token["outputs"]["previous_token_id"] == "t-0"


def test_to_separate_refuses_tokens_encrypted_as_one_value() -> None:
    moved, _ = to_one_step(separate(), one_step_steps())
    outs = moved["resources"][2]["outputs"]
    outs["tokens"] = secret("the-whole-map")
    with pytest.raises(MoveRefused, match="never decrypts"):
        to_separate(moved, separate_steps())


def test_a_moved_account_is_left_alone() -> None:
    moved, _ = to_one_step(separate(), one_step_steps())
    again, move = to_one_step(moved, one_step_steps())
    assert again == moved and not move.moved


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d, s: d.update(pending_operations=[{"resource": {"urn": CI}}]), "pending"),
        (lambda d, s: d["resources"][3].update(delete=True), "pending deletion"),
        (
            lambda d, s: d["resources"].append(
                copy.deepcopy(d["resources"][3]) | {"urn": CI + "2"}
            ),
            "both token 'ci'",
        ),  # fmt: skip
        (lambda d, s: s[2].update(op="same"), "still declares it and gives token 'ci'"),
        (lambda d, s: s[3].update(op="same"), "still declares it and gives 'svc'"),
        (lambda d, s: s[1]["newState"]["inputs"].update(username="[secret]"), "hides a secret"),
    ],
)
def test_refusals_name_what_and_change_nothing(edit: Any, match: str) -> None:
    deployment, steps = separate(), one_step_steps()
    edit(deployment, steps)
    kept = copy.deepcopy(deployment)
    with pytest.raises(MoveRefused, match=match):
        to_one_step(deployment, steps)
    assert deployment == kept


def fake_pulumi(tmp_path: Path, deployment: dict[str, Any], steps: list[Any]) -> Path:
    """A `pulumi` that answers export and preview from files and saves what is imported."""
    (tmp_path / "export.json").write_text(json.dumps({"version": 3, "deployment": deployment}))
    (tmp_path / "preview.json").write_text(json.dumps({"steps": steps}))
    script = tmp_path / "pulumi"
    script.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        f"here = pathlib.Path({str(tmp_path)!r})\n"
        "args = sys.argv[1:3]\n"
        "if args == ['stack', 'export']: print((here / 'export.json').read_text())\n"
        "elif args == ['preview', '--json']: print((here / 'preview.json').read_text())\n"
        "elif args == ['stack', 'import']: (here / 'imported.json').write_text(sys.stdin.read())\n"
        "else: sys.exit(f'unexpected: {sys.argv}')\n"
    )
    script.chmod(0o755)
    return script


def test_the_command_saves_the_stack_then_imports_the_moved_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pulumi = fake_pulumi(tmp_path, separate(), one_step_steps())
    args = ["to-one-step", "--pulumi", str(pulumi), "--cwd", str(tmp_path)]
    assert move_form.main([*args, "--dry-run"]) == 0
    assert CI in capsys.readouterr().out
    assert not (tmp_path / "imported.json").exists()
    assert not list(tmp_path.glob("motherduck-move-*.json"))

    assert move_form.main(args) == 0
    assert "moved 2 resource(s) to-one-step" in capsys.readouterr().out
    (backup,) = tmp_path.glob("motherduck-move-dev-*.json")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert json.loads(backup.read_text())["deployment"] == separate()
    imported = json.loads((tmp_path / "imported.json").read_text())
    assert [r["urn"] for r in imported["deployment"]["resources"]] == [STACK, PROVIDER, ACCOUNT]


def test_a_refusal_is_one_line_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = one_step_steps()
    steps[2]["op"] = "same"
    pulumi = fake_pulumi(tmp_path, separate(), steps)
    assert move_form.main(["to-one-step", "--pulumi", str(pulumi), "--cwd", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("refused: ") and len(err.strip().splitlines()) == 1
    assert "nothing was changed" in err
    assert not (tmp_path / "imported.json").exists()


def test_an_account_whose_urn_changed_is_refused() -> None:
    steps = one_step_steps()
    renamed = ACCOUNT.replace("::account", "::renamed")
    steps[1] = step("create", renamed, ONE_STEP_INPUTS)
    with pytest.raises(MoveRefused, match="keep its resource name and parent"):
        to_one_step(separate(), steps)


def test_an_account_holding_its_config_already_takes_its_tokens_only() -> None:
    before = separate()
    del before["resources"][4]  # no InstanceConfig: the account holds the configuration
    account = before["resources"][2]
    for values in (account["inputs"], account["outputs"]):
        values.update(read_write=RW, read_scaling=RS)
    moved, move = to_one_step(before, one_step_steps()[:3])
    assert move.moved == [(CI, ACCOUNT)]
    outs = moved["resources"][2]["outputs"]
    assert (outs["read_write"], outs["read_scaling"], outs["token_ids"]) == (RW, RS, {"ci": "t-1"})
