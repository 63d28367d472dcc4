"""Upgrade: a stack made by the release users have (commit 2967b95), continued by this code.

`tests/fixtures/upgrade` holds what that release left: `pulumi stack export` of its stack
(its pickled providers and full stack traces) and the emulator's accounts at that moment. Each
test seeds the emulator with those accounts, imports the export into a fresh stack of the same
program and drives it with the current code through the real engine. Nothing may churn: preview
calls nothing and changes nothing, refresh keeps every resource with one read each, `up` only
shortens the stored stack traces; then the old tokens rotate and destroy leaves nothing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.emulator.store import parse_timestamp
from motherduck_provider.resources._test_clock import TEST_CLOCK_ENV
from tests.e2e.conftest import EmulatorStack, RunPulumi
from tests.e2e.test_faults import assert_matches_state

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "upgrade"
META = json.loads((FIXTURE / "meta.json").read_text())
DYNAMIC = "pulumi-python:dynamic/motherduck:"
DAY = 86_400
CREATE_TOKEN = "users-createToken"
DELETE_TOKEN = "users-deleteToken"
# The accounts and tokens the release made (emulator.json), by the program's resource names.
ACCOUNT, MANAGED = "etl_writer", "managed_app"
# Our resources: an account, its token and config, twice (plain and in the ManagedAccount).
OURS = 6


class FixtureStack(EmulatorStack):
    """An `EmulatorStack` whose every run uses the fixture's passphrase."""

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return super().run(
            *args, check=check, env={"PULUMI_CONFIG_PASSPHRASE": META["passphrase"], **(env or {})}
        )


@pytest.fixture
def upgraded(
    emulator: EmulatorServer,
    copy_project: Callable[[Path], Path],
    run_pulumi: RunPulumi,
    pulumi_work_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FixtureStack]:
    """The release's stack imported into a fresh `dev` stack; the emulator holds its accounts
    and its clock stands where it stood when the release ran (the provider reads it too)."""
    emulator.store.load(FIXTURE / "emulator.json")
    emulator.store.clock.freeze(parse_timestamp(META["clock"]))
    monkeypatch.setenv(TEST_CLOCK_ENV, emulator.url + "/_emulator/clock")
    project = copy_project(FIXTURE / "program")
    (project / "Pulumi.dev.yaml").write_text(f"encryptionsalt: {META['encryptionsalt']}\n")
    stack = FixtureStack(project, run_pulumi, pulumi_work_dir)
    stack.run("stack", "init", "dev")
    stack.run("config", "set", "--plaintext", "motherduck:apiUrl", emulator.url)
    stack.run("config", "set", "--secret", "motherduck:token", emulator.admin_token)
    release_state = same_api_url(FIXTURE / "stack.json", emulator.url, project / "release.json")
    stack.run("stack", "import", "--file", str(release_state))
    assert emulator.store.request_count == 0
    yield stack


def same_api_url(export: Path, url: str, out: Path) -> Path:
    """`export` with the release run's emulator URL, recorded in its default provider's inputs
    and outputs, replaced by `url`, written to `out`. For users the API URL is the same before
    and after an upgrade, and `refresh` and `destroy` take it from there; nothing else changes
    (the pickled providers hold no URL)."""
    text = export.read_text()
    deployment = json.loads(text)
    (provider,) = [
        r
        for r in deployment["deployment"]["resources"]
        if r["type"] == "pulumi:providers:pulumi-python"
    ]
    old = provider["inputs"]["motherduck:apiUrl"]
    assert text.count(json.dumps(old)) == 2, "the URL is elsewhere too"
    out.write_text(text.replace(json.dumps(old), json.dumps(url)))
    return out


def ours(stack: EmulatorStack) -> list[dict[str, Any]]:
    return [r for r in stack.resources() if str(r["type"]).startswith(DYNAMIC)]


def held(emulator: EmulatorServer) -> dict[str, Any]:
    """What MotherDuck holds: per account, its config and its tokens' ids."""
    return {
        user.username: {"config": user.config, "tokens": sorted(user.tokens)}
        for user in emulator.store.users.values()
    }


def token_of(stack: EmulatorStack, name: str) -> dict[str, Any]:
    (token,) = [r for r in ours(stack) if r["urn"].endswith(f"::{name}")]
    return dict(token["outputs"])


def resources_line(proc: subprocess.CompletedProcess[str]) -> str:
    text = proc.stdout
    assert "Resources:" in text, text
    return " ".join(text.split("Resources:", 1)[1].split("Duration:", 1)[0].split())


def writes_since(emulator: EmulatorServer, start: int) -> list[tuple[str, str]]:
    return [
        (r.operation_id or "?", r.path)
        for r in emulator.store.requests[start:]
        if r.method != "GET"
    ]


def test_fixture_holds_no_secret() -> None:
    """The committed fixture has no admin token and no token secret in plain text: no string
    in the export hashes to a token the emulator holds."""
    exported = (FIXTURE / "stack.json").read_text()
    assert META["commit"].startswith("2967b95")
    assert "md-emulator-test-admin-token" not in exported
    assert "md-emulator-test-admin-token" not in (FIXTURE / "emulator.json").read_text()
    hashes = {
        t["secret_sha256"]
        for u in json.loads((FIXTURE / "emulator.json").read_text())["users"]
        for t in u["tokens"]
    }
    assert len(hashes) == 2

    def strings(node: Any) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)

    found = {hashlib.sha256(s.encode()).hexdigest() for s in strings(json.loads(exported))}
    assert not hashes & found
    assert exported.count('"ciphertext"') >= 2  # the token secrets are there, encrypted


def test_release_stack_continues_without_churn(
    emulator: EmulatorServer, upgraded: FixtureStack
) -> None:
    """Preview and `up` change nothing anywhere; refresh reads each resource once and keeps it;
    `up` stores the one-frame stack trace; destroy then deletes exactly what MotherDuck held."""
    stack = upgraded
    before = held(emulator)
    assert sorted(before) == [ACCOUNT, MANAGED]
    release_state = ours(stack)
    assert len(release_state) == OURS
    assert all(len(r["stackTrace"]) > 1 for r in release_state)  # the release's full traces
    urns = sorted(r["urn"] for r in release_state)

    stack.preview("--expect-no-changes")
    assert emulator.store.request_count == 0  # preview calls nothing

    refresh = stack.refresh()
    # The floor: per account one GET of its config (the account and its InstanceConfig share
    # it) and one list of its tokens; no write.
    assert sorted((r.method, r.path) for r in emulator.store.requests) == sorted(
        ("GET", f"/v1/users/{user}/{what}")
        for user in (ACCOUNT, MANAGED)
        for what in ("instances", "tokens")
    )
    assert "deleted" not in resources_line(refresh)
    assert sorted(r["urn"] for r in ours(stack)) == urns

    calls = emulator.store.request_count
    up = stack.up("--expect-no-changes")
    assert resources_line(up) == f"{OURS + 2} unchanged"  # + the stack and the component
    assert emulator.store.request_count == calls  # no read, no write
    assert held(emulator) == before
    now = ours(stack)
    assert sorted(r["urn"] for r in now) == urns
    for res in now:
        (frame,) = res["stackTrace"]
        assert frame["sourcePosition"] == res["sourcePosition"]
        assert res["sourcePosition"].startswith("project:///__main__.py#")

    stack.destroy()
    deleted = sorted(
        r.path.rsplit("/", 1)[1]
        for r in emulator.store.requests
        if r.operation_id == "users-delete" and r.status == 200
    )
    assert deleted == sorted(before)  # exactly the accounts MotherDuck held
    assert emulator.store.users == {}  # 0 orphans: no account, so no token or config
    assert stack.resources() == []


def test_release_tokens_rotate(emulator: EmulatorServer, upgraded: FixtureStack) -> None:
    """The release's tokens rotate under the current code, new token first: `token` on a new
    `rotation_trigger`, then both it and the ManagedAccount's when `rotate_before` is reached."""
    stack = upgraded
    old = token_of(stack, "token")["token_id"]
    managed_old = token_of(stack, "managed-app")["token_id"]
    managed_config = held(emulator)[MANAGED]["config"]

    stack.run("config", "set", "rotationTrigger", "2026-06-01")
    start = emulator.store.request_count
    rotated = stack.up()
    assert resources_line(rotated).startswith("~ 1 updated")
    new = token_of(stack, "token")["token_id"]
    assert new != old
    assert writes_since(emulator, start) == [
        (CREATE_TOKEN, f"/v1/users/{ACCOUNT}/tokens"),
        (DELETE_TOKEN, f"/v1/users/{ACCOUNT}/tokens/{old}"),
    ]
    assert held(emulator)[ACCOUNT]["tokens"] == [new]
    assert held(emulator)[MANAGED]["tokens"] == [managed_old]

    emulator.store.clock.advance(24 * DAY)  # past both tokens' `rotates_at` (expiry - 7 days)
    start = emulator.store.request_count
    stack.up()
    newer = token_of(stack, "token")["token_id"]
    managed_new = token_of(stack, "managed-app")["token_id"]
    assert newer != new and managed_new != managed_old
    assert sorted(writes_since(emulator, start)) == sorted(
        [
            (CREATE_TOKEN, f"/v1/users/{ACCOUNT}/tokens"),
            (DELETE_TOKEN, f"/v1/users/{ACCOUNT}/tokens/{new}"),
            (CREATE_TOKEN, f"/v1/users/{MANAGED}/tokens"),
            (DELETE_TOKEN, f"/v1/users/{MANAGED}/tokens/{managed_old}"),
        ]
    )
    assert held(emulator)[MANAGED]["config"] == managed_config
    outputs = stack.outputs(show_secrets=True)
    assert emulator.store.find_token_by_secret(outputs["token"]).id == newer  # type: ignore[union-attr]
    assert_matches_state(emulator, stack)

    stack.destroy()
    assert emulator.store.users == {}
    assert stack.resources() == []
