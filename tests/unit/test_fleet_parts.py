"""The fleet's local parts: assignment, pins, output merging and masking, the account units a
move takes, the run record, the summary, and the API call log."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.client._calls import CALL_LOG_ENV, count_calls, record_call
from motherduck_provider.errors import ConfigurationError
from motherduck_provider.fleet import Shard, merge_values, shard_of
from motherduck_provider.fleet.layout import FleetError, FleetFile, RunRecord
from motherduck_provider.fleet.moves import account_units
from motherduck_provider.fleet.outputs import MASK, merge_outputs
from motherduck_provider.fleet.runner import ShardOutcome
from motherduck_provider.fleet.summary import render


def config(**values: Any) -> Any:
    return lambda key: values.get(key)


def test_assignment_is_sha256_of_the_casefolded_username() -> None:
    digest = hashlib.sha256(b"acme").digest()
    assert shard_of("ACME", 7) == int.from_bytes(digest[:8], "big") % 7 == shard_of("acme", 7)
    names = [f"tenant_{i}" for i in range(3000)]
    counts = [sum(shard_of(n, 3) == k for n in names) for k in range(3)]
    assert all(900 < c < 1100 for c in counts), counts  # spread evenly
    assert shard_of("anything", 1) == 0


def test_no_fleet_config_owns_everything() -> None:
    shard = Shard.from_config(config(), "dev")
    assert shard == Shard() and shard.select(["a", "b", "c"]) == ["a", "b", "c"]


def test_each_account_is_owned_by_exactly_one_shard() -> None:
    names = [f"t{i}" for i in range(50)]
    shards = [Shard.from_config(config(fleetShards="4"), f"shard-{k}") for k in range(4)]
    owned = [n for s in shards for n in s.select(names)]
    assert sorted(owned) == sorted(names)
    assert shards[2].select(names) == [n for n in names if shard_of(n, 4) == 2]


def test_pins_override_the_hash() -> None:
    home = shard_of("acme", 3)
    away = (home + 1) % 3
    pins = f'{{"ACME": {away}}}'
    assert Shard.from_config(config(fleetShards="3", fleetPins=pins), f"x-{away}").owns("acme")
    assert not Shard.from_config(config(fleetShards="3", fleetPins=pins), f"x-{home}").owns("Acme")


@pytest.mark.parametrize(
    ("values", "stack", "message"),
    [
        ({"fleetShards": "3"}, "dev", "does not end with -<shard>"),
        ({"fleetShards": "3"}, "shard-3", "shard 3 (from the stack name) is not within 0..2"),
        ({"fleetShards": "three"}, "shard-0", "fleetShards: 'three' is not a whole number"),
        ({"fleetShards": "0"}, "shard-0", "fleetShards: 0 is not within"),
        ({"fleetShards": "2", "fleetPins": '{"a": 5}'}, "s-0", "'a' is pinned to 5"),
        ({"fleetShards": "2", "fleetPins": "[1]"}, "s-0", "must map usernames to shards"),
    ],
)
def test_bad_fleet_config_names_the_key(values: dict[str, str], stack: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Shard.from_config(config(**values), stack)


def test_merging_maps_and_finding_an_account_in_two_shards() -> None:
    assert merge_values("accounts", ["s-0", "s-1"], [{"a": 1}, {"b": 2}]) == {"a": 1, "b": 2}
    assert merge_values("count", ["s-0", "s-1"], [3, None]) == {"s-0": 3}
    with pytest.raises(ValueError, match="key 'a' is in stacks 's-0' and 's-1'"):
        merge_values("accounts", ["s-0", "s-1"], [{"a": 1}, {"a": 2}])


def test_script_outputs_mask_secrets_but_keep_usernames() -> None:
    per_stack = {
        "s-0": {"tokens": ({"a": "sekrit-a"}, True), "accounts": ({"a": {"id": 1}}, False)},
        "s-1": {"tokens": ({"b": "sekrit-b"}, True), "accounts": ({"b": {"id": 2}}, False)},
    }
    masked = merge_outputs(per_stack, show_secrets=False)
    assert masked == {
        "accounts": {"a": {"id": 1}, "b": {"id": 2}},
        "tokens": {"a": MASK, "b": MASK},
    }
    assert merge_outputs(per_stack, show_secrets=True)["tokens"] == {
        "a": "sekrit-a",
        "b": "sekrit-b",
    }


def resource(urn: str, type_: str, parent: str = "", username: str | None = None) -> Any:
    return {"urn": urn, "type": type_, "parent": parent, "outputs": {"username": username}}


def test_account_units_are_the_top_level_parents() -> None:
    dyn = "pulumi-python:dynamic/motherduck:"
    resources = [
        resource("stack", "pulumi:pulumi:Stack"),
        resource("ma-acme", "motherduck:index:ManagedAccount", "stack"),
        resource("acct-acme", dyn + "ServiceAccount", "ma-acme", "acme"),
        resource("tok-acme", dyn + "AccessToken", "ma-acme", "acme"),
        resource("acct-bob", dyn + "ServiceAccount", "stack", "Bob"),
        resource("cfg-bob", dyn + "InstanceConfig", "stack", "bob"),
    ]
    assert account_units(resources) == {"acme": {"ma-acme"}, "bob": {"acct-bob", "cfg-bob"}}


def test_fleet_file_and_run_record(tmp_path: Path) -> None:
    FleetFile("tenants", 4).save(tmp_path)
    spec = FleetFile.load(tmp_path)
    assert spec.stacks == ["tenants-0", "tenants-1", "tenants-2", "tenants-3"]
    with pytest.raises(FleetError, match="shards: 0 is not within"):
        FleetFile("x", 0)
    record = RunRecord(tmp_path)
    record.save("up", {"tenants-0": {"result": "failed"}, "tenants-1": {"result": "succeeded"}})
    record.save("preview", {"tenants-0": {"result": "succeeded"}})
    record.save("up", {"tenants-2": {"result": "failed"}})  # one CI job's shard
    assert record.failed("up") == ["tenants-0", "tenants-2"]
    assert record.failed("preview") == []
    record.save("up", {"tenants-1": {"result": "running"}})  # its runner was killed
    assert record.failed("up") == ["tenants-0", "tenants-1", "tenants-2"]


def test_summary_has_a_row_per_shard_a_total_and_the_errors() -> None:
    ok = ShardOutcome("shard-0", "succeeded", created=4, calls=9, seconds=3.0)
    bad = ShardOutcome("shard-1", "failed", created=1, failed=1, calls=2, errors=["boom"])
    text = render("up", [ok, bad], 3.5)
    assert "total   1/2 ok" in text and "shard-1: boom" in text
    assert "--failed" in text
    assert len(text.splitlines()) <= 10


def test_call_log_counts_attempts_without_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.log"
    record_call("GET", 200)  # unset: nothing written, nothing raised
    monkeypatch.setenv(CALL_LOG_ENV, str(log))
    record_call("POST", 201)
    record_call("GET", None)
    assert count_calls(log) == 2
    assert log.read_text() == "POST 201\nGET -\n"
    assert count_calls(tmp_path / "missing.log") == 0
