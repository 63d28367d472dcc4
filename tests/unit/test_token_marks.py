"""The mark on tokens this stack creates, the diffs it drives, and the recovery plan.

Everything here runs without the API: marks and names, `check`'s room for the mark, `diff`
never churning on `owner`, rotation and pending sweeps as in-place updates, and what
`python -m motherduck_provider.recover` changes in an exported deployment.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from motherduck_provider import recover
from motherduck_provider.plugin import schema
from motherduck_provider.resources import AccessTokenProvider
from motherduck_provider.resources.access_token import (
    MARK_SUFFIX_LENGTH,
    NAME_MAX,
    _owner,
    marked_name,
    owner_of,
    split_marked,
    token_mark,
)

INPUTS = {
    "owner": "0123456789ab",
    "username": "etl",
    "name": "loader",
    "ttl": 3600,
    "token_type": "read_write",
}


def test_owner_tells_declarations_apart() -> None:
    owner = owner_of("proj", "dev", "", "token")
    assert owner == owner_of("proj", "dev", "", "token") and len(owner) == 12
    others = {
        owner_of("proj", "prod", "", "token"),
        owner_of("other", "dev", "", "token"),
        owner_of("proj", "dev", "etl", "token"),
        owner_of("proj", "dev", "", "token2"),
    }
    assert owner not in others and len(others) == 4


def test_owner_of_a_declared_token_uses_the_parents_name() -> None:
    import pulumi

    parent = SimpleNamespace(_name="etl-account")
    with_parent = _owner("etl-token", pulumi.ResourceOptions(parent=parent))  # type: ignore[arg-type]
    assert with_parent == owner_of(
        pulumi.get_project(), pulumi.get_stack(), "etl-account", "etl-token"
    )
    assert _owner("etl-token", None) == owner_of(
        pulumi.get_project(), pulumi.get_stack(), "", "etl-token"
    )


def test_mark_follows_the_replace_relevant_inputs_only() -> None:
    mark = token_mark(INPUTS)
    assert len(mark) == 10 and int(mark, 16) >= 0
    assert token_mark({**INPUTS, "ttl": 3600.0}) == mark  # the engine sends numbers as floats
    assert token_mark({**INPUTS, "rotate_before": 60}) == mark  # rotation keeps the mark
    for key, value in [
        ("owner", "ba9876543210"),
        ("username", "etl2"),
        ("name", "loader2"),
        ("ttl", 7200),
        ("token_type", "read_scaling"),
    ]:
        assert token_mark({**INPUTS, key: value}) != mark, key
    assert token_mark({**INPUTS, "token_type": None}) == mark  # read_write is the default


@pytest.mark.parametrize("name", ["loader", "a [pulumi:0123456789] b", "x" * NAME_MAX, "é ☃"])
def test_marked_names_split_back(name: str) -> None:
    shown = marked_name(name, "abcdef0123")
    assert len(shown) == len(name) + MARK_SUFFIX_LENGTH
    assert split_marked(shown) == (name, "abcdef0123")


def test_unmarked_names_have_no_mark() -> None:
    assert split_marked("loader") == ("loader", None)
    assert split_marked("loader [pulumi:XYZ]") == ("loader [pulumi:XYZ]", None)
    assert split_marked(None) == (None, None)


def name_problems(name: str, **extra: Any) -> list[str]:
    news = {"username": "etl", "name": name, **extra}
    result = AccessTokenProvider().check({}, news)
    return [f.reason for f in result.failures if f.property == "name"]


def test_check_leaves_room_for_the_mark() -> None:
    assert NAME_MAX == 235
    assert name_problems("x" * NAME_MAX) == []
    (problem,) = name_problems("x" * (NAME_MAX + 1))
    assert "236 characters" in problem and "at most 235" in problem
    assert "[pulumi:<mark>]" in problem and problem.startswith("name: ")
    # A tracked token keeps its own name: MotherDuck's full 255.
    assert name_problems("x" * 255, adopt_token_id="etl/abc") == []
    assert "reserved" in name_problems("MotherDuck Extension")[0]


OLDS = {
    "username": "etl",
    "name": "loader",
    "ttl": 3600,
    "token_type": "read_write",
    "rotate_before": None,
    "adopt_token_id": None,
    "token_id": "t2",
    "expire_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    "mark": "abcdef0123",
    "previous_token_id": None,
    "sweep_after": None,
}
NEWS = {k: OLDS[k] for k in ("username", "name", "ttl", "token_type", "rotate_before")}
NEWS = {**NEWS, "adopt_token_id": None, "owner": "0123456789ab"}


def test_owner_never_changes_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    diff = AccessTokenProvider().diff
    assert diff("etl/t1", dict(OLDS), dict(NEWS)).changes is False  # no owner in old state
    moved = diff("etl/t1", {**OLDS, "owner": "ba9876543210"}, dict(NEWS))
    assert moved.changes is False and moved.replaces == []
    assert capsys.readouterr().err == ""


def test_a_pending_sweep_is_an_update_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    diff = AccessTokenProvider().diff
    later = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    pending = diff("etl/t1", {**OLDS, "sweep_after": later}, dict(NEWS))
    assert pending.changes and pending.replaces == []
    err = capsys.readouterr().err
    assert "may still land until" in err and err.count("\n") == 1
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    due = diff("etl/t1", {**OLDS, "sweep_after": past}, dict(NEWS))
    assert due.changes and "state does not hold" in capsys.readouterr().err
    # Replaced anyway: the old token's delete sweeps.
    renamed = diff("etl/t1", {**OLDS, "sweep_after": past}, {**NEWS, "name": "other"})
    assert renamed.replaces == ["name"]


def test_rotation_is_an_update() -> None:
    soon = {**OLDS, "expire_at": (datetime.now(UTC) + timedelta(seconds=60)).isoformat()}
    result = AccessTokenProvider().diff("etl/t1", soon, {**NEWS, "rotate_before": 600})
    assert result.changes and result.replaces == []


# --- recovery plan --------------------------------------------------------------------------

PREFIX = "urn:pulumi:dev::proj::"
PROVIDER = "urn:pulumi:dev::proj::pulumi:providers:pulumi-python::default::1234"


def pending(kind: str, name: str, inputs: dict[str, Any], op: str = "creating") -> dict[str, Any]:
    return {
        "type": op,
        "resource": {
            "urn": f"{PREFIX}pulumi-python:dynamic/motherduck:{kind}::{name}",
            "custom": True,
            "type": f"pulumi-python:dynamic/motherduck:{kind}",
            "inputs": {"__provider": "pickled", **inputs},
            "provider": PROVIDER,
        },
    }


def test_recovery_adopts_accounts_and_drops_token_and_config_creates() -> None:
    account = pending("ServiceAccount", "etl", {"username": "etl_writer"})
    token = pending("AccessToken", "tok", {"username": "etl_writer", "name": "ci"})
    config = pending("InstanceConfig", "cfg", {"username": "etl_writer"})
    update = pending("AccessToken", "old", {"username": "x"}, op="updating")
    foreign = copy.deepcopy(account)
    foreign["resource"]["type"] = "aws:s3/bucket:Bucket"
    deployment = {
        "resources": [{"urn": "stack", "type": "pulumi:pulumi:Stack"}],
        "pending_operations": [account, token, config, update, foreign],
    }
    plan = recover.plan_recovery(deployment)
    assert plan.adopted == [account["resource"]["urn"]]
    assert plan.dropped == [token["resource"]["urn"], config["resource"]["urn"]]
    assert plan.foreign == [foreign["resource"]["urn"]]
    adopted = deployment["resources"][-1]
    assert adopted["id"] == "etl_writer" and adopted["provider"] == PROVIDER
    assert adopted["outputs"] == {"username": "etl_writer", "adopt": False, "__provider": "pickled"}
    assert deployment["pending_operations"] == [update, foreign]


def test_recovery_treats_the_plugins_resources_as_the_dynamic_ones() -> None:
    """The provider plugin's types (`motherduck:index:*`, camelCase state) are ours too.

    Found by tests/e2e/test_kill_every_step_plugin.py: a killed plugin-form `up` left a pending
    `motherduck:index:ServiceAccount` create that recovery refused as another provider's.
    """
    ops = [
        pending("ServiceAccount", "one", {"username": "ks_plugin", "tokens": {"ci": {}}}),
        pending("AccessToken", "tok", {"username": "ks_plugin", "name": "ci"}),
        pending("InstanceConfig", "cfg", {"username": "ks_plugin"}),
    ]
    for op in ops:
        resource = op["resource"]
        kind, name = resource["urn"].rsplit(":", 3)[1], resource["urn"].rsplit("::", 1)[1]
        resource["type"] = schema.token(kind)
        resource["urn"] = f"{PREFIX}{schema.token(kind)}::{name}"
        del resource["inputs"]["__provider"]
    deployment = {"resources": [], "pending_operations": ops}
    plan = recover.plan_recovery(deployment)
    assert plan.adopted == [ops[0]["resource"]["urn"]] and plan.foreign == []
    assert plan.dropped == [ops[1]["resource"]["urn"], ops[2]["resource"]["urn"]]
    [adopted] = deployment["resources"]
    assert adopted["id"] == "ks_plugin"
    assert adopted["outputs"] == {"username": "ks_plugin", "adopt": False}


def test_recovery_of_a_replacing_account_marks_the_old_one_for_deletion() -> None:
    account = pending("ServiceAccount", "etl", {"username": "etl_v2"})
    old = {**copy.deepcopy(account["resource"]), "id": "etl_v1", "outputs": {}}
    deployment = {"resources": [old], "pending_operations": [account]}
    recover.plan_recovery(deployment)
    assert [r.get("delete", False) for r in deployment["resources"]] == [True, False]
    assert deployment["resources"][1]["id"] == "etl_v2"


def test_an_account_already_recorded_is_never_adopted_twice() -> None:
    """After `cancel` + `up` (with adopt=True, say) state holds it: only the op goes."""
    account = pending("ServiceAccount", "etl", {"username": "etl_writer"})
    recorded = {**copy.deepcopy(account["resource"]), "id": "ETL_writer", "outputs": {}}
    deployment = {"resources": [recorded], "pending_operations": [account]}
    plan = recover.plan_recovery(deployment)
    assert plan.adopted == [] and plan.dropped == [account["resource"]["urn"]]
    assert deployment["resources"] == [recorded] and "delete" not in recorded


def test_nothing_pending_is_nothing_to_do() -> None:
    deployment: dict[str, Any] = {"resources": []}
    plan = recover.plan_recovery(deployment)
    assert plan == recover.Plan() and deployment["pending_operations"] == []


def test_pending_creates_that_touch_nothing_outside_state_are_dropped() -> None:
    """A kill in the first steps of a first `up`: the stack, a provider or a component.

    The engine makes them itself (a provider resource only loads and configures its plugin),
    so the next `up` makes them again; refusing them as other providers' creates made the
    documented recovery fail (found by tests/e2e/test_kill_every_step.py).
    """
    stack = {
        "type": "creating",
        "resource": {
            "urn": f"{PREFIX}pulumi:pulumi:Stack::proj-dev",
            "custom": False,
            "type": "pulumi:pulumi:Stack",
        },
    }
    provider = {
        "type": "creating",
        "resource": {
            "urn": PROVIDER.rsplit("::", 1)[0],
            "custom": True,
            "type": "pulumi:providers:pulumi-python",
        },
    }
    component = {
        "type": "creating",
        "resource": {
            "urn": f"{PREFIX}motherduck:index:ManagedAccount::etl",
            "custom": False,
            "type": "motherduck:index:ManagedAccount",
        },
    }
    for op in (stack, provider, component):
        deployment = {"resources": [], "pending_operations": [op]}
        plan = recover.plan_recovery(deployment)
        assert (plan.dropped, plan.foreign) == ([op["resource"]["urn"]], [])
        assert deployment["pending_operations"] == []
