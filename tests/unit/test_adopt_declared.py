"""`recover --adopt`: the state edit, from a recorded `pulumi preview --json` and export.

Both files were recorded from tests/e2e/programs/account after a killed `pulumi up`, then
`pulumi cancel` and `pulumi refresh --clear-pending-creates` (secrets replaced).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.state_edits import ACCOUNT, AdoptRefused, adopt_declared, plan_recovery

DATA = Path(__file__).resolve().parent / "data"
URN = "urn:pulumi:dev::md-account::pulumi-python:dynamic/motherduck:ServiceAccount::account"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / name).read_text()))


@pytest.fixture
def deployment() -> dict[str, Any]:
    return load("export-after-clear-pending.json")["deployment"]


@pytest.fixture
def preview() -> dict[str, Any]:
    return load("preview-account.json")


def test_adopts_the_declared_account_as_the_engine_records_a_create(
    deployment: dict[str, Any], preview: dict[str, Any]
) -> None:
    before = copy.deepcopy(deployment["resources"])
    assert adopt_declared(deployment, preview, ["ETL_Writer"]) == [URN]  # any case
    assert deployment["resources"][:-1] == before
    record = deployment["resources"][-1]
    planned = next(s["newState"] for s in preview["steps"] if s["urn"] == URN)
    assert record["id"] == "etl_writer" and record["type"] == ACCOUNT
    for key in ("urn", "custom", "inputs", "parent", "provider", "propertyDependencies"):
        assert record[key] == planned[key], key
    assert record["outputs"] == {
        "username": "etl_writer",
        "adopt": False,
        "__provider": planned["inputs"]["__provider"],
    }
    assert record["created"] and record["modified"]
    provider = f"{before[1]['urn']}::{before[1]['id']}"
    assert record["provider"] == provider  # the provider state holds


def test_a_protected_account_stays_protected(
    deployment: dict[str, Any], preview: dict[str, Any]
) -> None:
    step = next(s for s in preview["steps"] if s["urn"] == URN)
    step["newState"]["protect"] = True
    adopt_declared(deployment, preview, ["etl_writer"])
    assert deployment["resources"][-1]["protect"] is True


def test_refuses_a_username_the_program_does_not_declare(
    deployment: dict[str, Any], preview: dict[str, Any]
) -> None:
    before = copy.deepcopy(deployment)
    with pytest.raises(AdoptRefused, match="no ServiceAccount of this program declares it"):
        adopt_declared(deployment, preview, ["etl_writer", "someone_else"])
    assert deployment == before  # all or nothing


def test_refuses_a_username_state_already_holds(
    deployment: dict[str, Any], preview: dict[str, Any]
) -> None:
    adopt_declared(deployment, preview, ["etl_writer"])
    with pytest.raises(AdoptRefused, match="state already holds it"):
        adopt_declared(deployment, preview, ["ETL_WRITER"])


def test_refuses_when_state_lacks_the_provider(
    deployment: dict[str, Any], preview: dict[str, Any]
) -> None:
    """Preview plans a new provider (unknown id): `pulumi up` must record it first."""
    deployment["resources"] = deployment["resources"][:1]
    with pytest.raises(AdoptRefused, match="run `pulumi up` once"):
        adopt_declared(deployment, preview, ["etl_writer"])


def test_a_pending_create_recovered_first_is_not_adopted_twice(
    deployment: dict[str, Any], preview: dict[str, Any]
) -> None:
    planned = next(s["newState"] for s in preview["steps"] if s["urn"] == URN)
    deployment["pending_operations"] = [{"type": "creating", "resource": planned}]
    assert plan_recovery(deployment).adopted == [URN]
    with pytest.raises(AdoptRefused, match="state already holds it"):
        adopt_declared(deployment, preview, ["etl_writer"])


def test_refuses_an_account_whose_inputs_preview_hides(
    deployment: dict[str, Any], preview: dict[str, Any]
) -> None:
    step = next(s for s in preview["steps"] if s["urn"] == URN)
    step["newState"]["inputs"]["org"] = "[secret]"
    with pytest.raises(AdoptRefused, match="hides a secret input"):
        adopt_declared(deployment, preview, ["etl_writer"])
