"""`move` and `reshard` refuse while a run holds a shard's lock: the folder backend's check.

Lock files are laid out and written as Pulumi 3.274's self-managed backend writes them
(`.pulumi/locks/organization/<project>/<stack>/<id>.json`, `lockContent`); the object-store
path (`pulumi stack init` of an existing stack as the probe) runs in
tests/e2e/test_object_store.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi import automation as auto

from motherduck_provider.fleet.layout import FleetError
from motherduck_provider.fleet.locks import locked, refuse_if_locked
from motherduck_provider.fleet.runner import Fleet

HOLDER = {
    "pid": 13335,
    "username": "root",
    "hostname": "vm",
    "timestamp": "2026-12-06T21:18:45.123456789Z",
}


def fleet_at(tmp_path: Path) -> Fleet:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: tenant-fleet\nruntime: python\n")
    state = tmp_path / "state"
    env = {"PULUMI_BACKEND_URL": state.as_uri()}
    return Fleet(project, auto.PulumiCommand.__new__(auto.PulumiCommand), env)


def lock(tmp_path: Path, stack: str, content: str) -> Path:
    folder = tmp_path / "state" / ".pulumi" / "locks" / "organization" / "tenant-fleet" / stack
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "0b6f7e3a.json"
    path.write_text(content)
    return path


def test_no_lock_no_refusal(tmp_path: Path) -> None:
    fleet = fleet_at(tmp_path)
    (tmp_path / "state" / ".pulumi" / "locks").mkdir(parents=True)
    assert locked(fleet, ["shard-0", "shard-1"]) == {}
    refuse_if_locked(fleet, ["shard-0", "shard-1"], "reshard --shards 3")


def test_a_held_lock_names_its_holder_and_what_to_do(tmp_path: Path) -> None:
    fleet = fleet_at(tmp_path)
    lock(tmp_path, "shard-1", json.dumps(HOLDER))
    assert locked(fleet, ["shard-0", "shard-1"]) == {
        "shard-1": "root@vm (pid 13335) since 2026-12-06T21:18:45.123456789Z"
    }
    with pytest.raises(FleetError) as refused:
        refuse_if_locked(fleet, ["shard-0", "shard-1"], "move acme --to 0")
    text = str(refused.value)
    assert text.startswith("`move acme --to 0` refused, nothing was changed")
    assert "  shard-1: lock held by root@vm (pid 13335) since 2026-12-06T21:18:45" in text
    assert "Wait for that run to end" in text and "`... recover --shard K`" in text
    assert "shard-0:" not in text


def test_an_unreadable_lock_still_refuses(tmp_path: Path) -> None:
    """A killed write's empty lock file is read by Pulumi as a lock too (until `cancel`)."""
    fleet = fleet_at(tmp_path)
    path = lock(tmp_path, "shard-0", "")
    assert "unreadable lock file" in locked(fleet, ["shard-0"])["shard-0"]
    assert str(path) in locked(fleet, ["shard-0"])["shard-0"]
