"""Upgrade: a stack made by the release users have (commit 2967b95), continued by this code.

`tests/fixtures/upgrade` holds what that release left: `pulumi stack export` of its stack (its
pickled providers and full stack traces) and the accounts of the two organizations it manages
(emulators; the second through a `Connection`) at that moment. Each test seeds emulators with
those accounts, imports the export into a fresh stack of the same program and drives it with
the current code through the real engine. Nothing may churn: preview calls nothing and changes
nothing, refresh keeps every resource at the floor of reads, `up` only shortens the stored
stack traces; then the release's tokens rotate and destroy leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pickletools
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.emulator.store import parse_timestamp
from motherduck_provider.resources._test_clock import TEST_CLOCK_ENV
from tests.e2e.conftest import EmulatorStack, RunPulumi

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "upgrade"
META = json.loads((FIXTURE / "meta.json").read_text())
DYNAMIC = "pulumi-python:dynamic/motherduck:"
PROVIDER_KEY = "__provider"
DAY = 86_400
CREATE_TOKEN = "users-createToken"
DELETE_TOKEN = "users-deleteToken"
# The program's accounts (fixture `program/`): plain, in the ManagedAccount, in the other org.
ACCOUNT, MANAGED, OTHER = "etl_writer", "managed_app", "other_reader"
# Our resources: account, token and config twice (plain, ManagedAccount), account and token.
OURS = 8
OTHER_ENV, OTHER_ORG_TOKEN = "UPGRADE_OTHER_ORG_TOKEN", "md-emulator-other-org-token"
SECRETS_IN_TESTS = ("md-emulator-test-admin-token", OTHER_ORG_TOKEN)


class FixtureStack(EmulatorStack):
    """An `EmulatorStack` whose every run uses the fixture's passphrase and the other
    organization's admin token (in the environment, where its `Connection` says it is)."""

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        fixed = {"PULUMI_CONFIG_PASSPHRASE": META["passphrase"], OTHER_ENV: OTHER_ORG_TOKEN}
        return super().run(*args, check=check, env={**fixed, **(env or {})})


@dataclass
class Upgrade:
    """The imported stack and the two organizations it manages (the second via `Connection`)."""

    stack: FixtureStack
    main: EmulatorServer
    other: EmulatorServer

    @property
    def orgs(self) -> tuple[EmulatorServer, EmulatorServer]:
        return self.main, self.other

    def calls(self) -> int:
        return sum(org.store.request_count for org in self.orgs)

    def writes(self) -> int:
        return sum(org.store.write_count for org in self.orgs)

    def held(self) -> dict[str, Any]:
        """What MotherDuck holds: per account, its config and its tokens' ids."""
        return {
            user.username: {"config": user.config, "tokens": sorted(user.tokens)}
            for org in self.orgs
            for user in org.store.users.values()
        }

    def advance(self, seconds: int) -> None:
        for org in self.orgs:
            org.store.clock.advance(seconds)


@pytest.fixture
def upgraded(
    emulator: EmulatorServer,
    copy_project: Callable[[Path], Path],
    run_pulumi: RunPulumi,
    pulumi_work_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Upgrade]:
    """The release's stack imported into a fresh `dev` stack; the emulators hold its accounts
    and their clocks stand where they stood when the release ran (the provider reads them)."""
    with EmulatorServer(admin_token=OTHER_ORG_TOKEN) as other:
        for org, accounts in ((emulator, "emulator.json"), (other, "other-org.json")):
            org.store.load(FIXTURE / accounts)
            org.store.clock.freeze(parse_timestamp(META["clock"]))
        monkeypatch.setenv(TEST_CLOCK_ENV, emulator.url + "/_emulator/clock")
        project = copy_project(FIXTURE / "program")
        (project / "Pulumi.dev.yaml").write_text(f"encryptionsalt: {META['encryptionsalt']}\n")
        stack = FixtureStack(project, run_pulumi, pulumi_work_dir)
        stack.run("stack", "init", "dev")
        stack.run("config", "set", "--plaintext", "motherduck:apiUrl", emulator.url)
        stack.run("config", "set", "--secret", "motherduck:token", emulator.admin_token)
        stack.run("config", "set", "otherApiUrl", other.url)
        moved = {META["api_url"]: emulator.url, META["other_api_url"]: other.url}
        release_state = project / "release.json"
        release_state.write_text(json.dumps(same_urls(FIXTURE / "stack.json", moved)))
        stack.run("stack", "import", "--file", str(release_state))
        upgrade = Upgrade(stack, emulator, other)
        assert upgrade.calls() == 0
        yield upgrade


def same_urls(export: Path, moved: dict[str, str]) -> dict[str, Any]:
    """`export` with the URLs of the emulators the release ran against replaced by this test's
    (in the default provider's config and in the `Connection` pickled with each provider).

    For users the API URL is the same before and after an upgrade; nothing else is touched:
    each pickle keeps the release's bytes but for that one string (and its length fields).
    """
    deployment = json.loads(export.read_text())
    for res in deployment["deployment"]["resources"]:
        for section in ("inputs", "outputs"):
            props = res.get(section) or {}
            for key, value in props.items():
                if key == PROVIDER_KEY:
                    props[key] = repointed(value, moved)
                elif isinstance(value, str) and value in moved:
                    props[key] = moved[value]
    return dict(deployment)


def repointed(blob: str, moved: dict[str, str]) -> str:
    """A base64 pickle (protocol 4, one frame) with a short string in `moved` replaced."""
    raw = base64.b64decode(blob)
    ops = list(pickletools.genops(raw))
    (frame,) = [(arg, pos) for op, arg, pos in ops if op.name == "FRAME"]
    header = frame[1] + 9  # FRAME opcode and its 8-byte length
    assert frame[0] == len(raw) - header, "one frame holds the whole pickle"
    hits = [(arg, pos) for op, arg, pos in ops if op.name == "SHORT_BINUNICODE" and arg in moved]
    for old, pos in reversed(hits):  # from the end: earlier positions stay valid
        new = moved[old].encode()
        raw = raw[:pos] + bytes([0x8C, len(new)]) + new + raw[pos + 2 + len(old.encode()) :]
    raw = raw[: frame[1] + 1] + (len(raw) - header).to_bytes(8, "little") + raw[header:]
    assert [arg for op, arg, _ in pickletools.genops(raw) if arg in moved.values()] == [
        moved[old] for old, _ in hits
    ]
    return base64.b64encode(raw).decode()


def ours(stack: EmulatorStack) -> list[dict[str, Any]]:
    return [r for r in stack.resources() if str(r["type"]).startswith(DYNAMIC)]


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


def assert_orgs_match_state(upgrade: Upgrade) -> None:
    """Both organizations hold exactly the stack's accounts and tokens; nothing is pending
    (`test_faults.assert_matches_state`, over two emulators)."""
    exported = upgrade.stack.export()["deployment"]
    assert not exported.get("pending_operations"), exported.get("pending_operations")
    managed = [r for r in exported["resources"] if r["type"].startswith(DYNAMIC)]
    accounts = sorted(r["id"] for r in managed if r["type"].endswith(":ServiceAccount"))
    assert sorted(upgrade.held()) == accounts
    in_state = sorted(r["outputs"]["token_id"] for r in managed if r["type"].endswith("Token"))
    live = sorted(t for account in upgrade.held().values() for t in account["tokens"])
    assert live == in_state, f"MotherDuck holds {live}, state {in_state}"
    upgrade.stack.refresh()
    upgrade.stack.preview("--expect-no-changes")


def test_fixture_holds_no_secret() -> None:
    """The committed fixture has no admin token and no token secret in plain text: no string
    in the export hashes to a token the emulators hold; the token secrets are encrypted."""
    exported = (FIXTURE / "stack.json").read_text()
    accounts = [(FIXTURE / name).read_text() for name in ("emulator.json", "other-org.json")]
    assert META["commit"].startswith("2967b95")
    for admin_token in SECRETS_IN_TESTS:
        assert all(admin_token not in text for text in (exported, *accounts))
    hashes = {
        t["secret_sha256"]
        for text in accounts
        for u in json.loads(text)["users"]
        for t in u["tokens"]
    }
    assert len(hashes) == 3

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
    assert exported.count('"ciphertext"') >= 3  # the token secrets are there, encrypted


def test_release_stack_continues_without_churn(upgraded: Upgrade) -> None:
    """Preview and `up` change nothing anywhere; refresh reads each account once and keeps
    every resource; `up` stores the one-frame stack trace; destroy then deletes exactly what
    MotherDuck held."""
    stack = upgraded.stack
    before = upgraded.held()
    assert sorted(before) == [ACCOUNT, MANAGED, OTHER]
    release_state = ours(stack)
    assert len(release_state) == OURS
    assert all(len(r["stackTrace"]) > 1 for r in release_state)  # the release's full traces
    urns = sorted(r["urn"] for r in release_state)

    stack.preview("--expect-no-changes")
    assert upgraded.calls() == 0  # preview calls nothing

    refresh = stack.refresh()
    # The floor: per account one GET of its config (the account and its InstanceConfig share
    # it) and one list of its tokens; no write.
    assert sorted(
        (r.method, r.path) for org in upgraded.orgs for r in org.store.requests
    ) == sorted(
        ("GET", f"/v1/users/{user}/{what}")
        for user in (ACCOUNT, MANAGED, OTHER)
        for what in ("instances", "tokens")
    )
    assert "deleted" not in resources_line(refresh)
    assert sorted(r["urn"] for r in ours(stack)) == urns

    calls = upgraded.calls()
    up = stack.up("--expect-no-changes")
    assert resources_line(up) == f"{OURS + 2} unchanged"  # + the stack and the component
    assert upgraded.calls() == calls  # no read, no write
    assert upgraded.held() == before
    now = ours(stack)
    assert sorted(r["urn"] for r in now) == urns
    for res in now:
        (frame,) = res["stackTrace"]
        assert frame["sourcePosition"] == res["sourcePosition"]
        assert res["sourcePosition"].startswith("project:///__main__.py#")

    stack.destroy()
    deleted = sorted(
        r.path.rsplit("/", 1)[1]
        for org in upgraded.orgs
        for r in org.store.requests
        if r.operation_id == "users-delete" and r.status == 200
    )
    assert deleted == sorted(before)  # exactly the accounts MotherDuck held
    revoked = [
        tuple(r.path.split("/")[3::2])
        for org in upgraded.orgs
        for r in org.store.requests
        if r.operation_id == DELETE_TOKEN
    ]
    assert all(token in before[user]["tokens"] for user, token in revoked), revoked
    assert upgraded.held() == {}  # 0 orphans: no account, so no token or config
    assert stack.resources() == []


def test_release_tokens_rotate(upgraded: Upgrade) -> None:
    """The release's tokens rotate under the current code, new token first: `token` on a new
    `rotation_trigger`, then all three when `rotate_before` is reached."""
    stack, main, other = upgraded.stack, upgraded.main, upgraded.other
    old = token_of(stack, "token")["token_id"]
    managed_old = token_of(stack, "managed-app")["token_id"]
    other_old = token_of(stack, "other-token")["token_id"]
    configs = {user: account["config"] for user, account in upgraded.held().items()}

    stack.run("config", "set", "rotationTrigger", "2026-06-01")
    start = main.store.request_count
    rotated = stack.up()
    assert resources_line(rotated).startswith("~ 1 updated")
    new = token_of(stack, "token")["token_id"]
    assert new != old
    assert writes_since(main, start) == [
        (CREATE_TOKEN, f"/v1/users/{ACCOUNT}/tokens"),
        (DELETE_TOKEN, f"/v1/users/{ACCOUNT}/tokens/{old}"),
    ]
    assert other.store.write_count == 0
    assert upgraded.held()[ACCOUNT]["tokens"] == [new]
    assert upgraded.held()[MANAGED]["tokens"] == [managed_old]

    upgraded.advance(24 * DAY)  # past every token's `rotates_at` (expiry - 7 days)
    start, other_start = main.store.request_count, other.store.request_count
    stack.up()
    newer = token_of(stack, "token")["token_id"]
    managed_new = token_of(stack, "managed-app")["token_id"]
    other_new = token_of(stack, "other-token")["token_id"]
    assert newer != new and managed_new != managed_old and other_new != other_old
    assert sorted(writes_since(main, start)) == sorted(
        [
            (CREATE_TOKEN, f"/v1/users/{ACCOUNT}/tokens"),
            (DELETE_TOKEN, f"/v1/users/{ACCOUNT}/tokens/{new}"),
            (CREATE_TOKEN, f"/v1/users/{MANAGED}/tokens"),
            (DELETE_TOKEN, f"/v1/users/{MANAGED}/tokens/{managed_old}"),
        ]
    )
    assert writes_since(other, other_start) == [
        (CREATE_TOKEN, f"/v1/users/{OTHER}/tokens"),
        (DELETE_TOKEN, f"/v1/users/{OTHER}/tokens/{other_old}"),
    ]
    assert {user: account["config"] for user, account in upgraded.held().items()} == configs
    secret = stack.outputs(show_secrets=True)["token"]
    assert getattr(main.store.find_token_by_secret(secret), "id", None) == newer
    assert_orgs_match_state(upgraded)

    stack.destroy()
    assert upgraded.held() == {}
    assert stack.resources() == []
