"""End to end: the root stack and every example under `examples/`, against the emulator.

Each project runs `up`, the emulator's state is checked against a small expectation table
(accounts, their tokens, Duckling configs), then `refresh` and `preview` must find no change
and make no write, the token secrets revealed by `--show-secrets` must appear nowhere else
(plain outputs, `stack export`, the backend's files, CLI output), and `destroy` must leave
the emulator as the example documents: empty, except what adopt-existing adopted.

A new directory under `examples/` with a `Pulumi.yaml` is picked up automatically; the
coverage test then asks for its row in `EXPECTED`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.emulator.store import Store, parse_timestamp
from tests.e2e.conftest import EmulatorStack

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"
EXAMPLES = sorted(p.parent.name for p in EXAMPLES_DIR.glob("*/Pulumi.yaml"))
ROOT = "root-stack"
DAY = 86_400

# Secrets are 64 URL-safe characters; a connection string embeds one after `=`.
SECRETISH = re.compile(r"[A-Za-z0-9_-]{32,}")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

Seed = Callable[[Store], dict[str, str]]
Check = Callable[[EmulatorStack, Store, Mapping[str, Any]], None]


@dataclass(frozen=True)
class Expected:
    """What one project does to the emulator.

    `tokens`: every account after `up`, with the sorted types of its live tokens.
    `configs`: per account and side, settings its Duckling config must have after `up`.
    `secrets`: how many distinct token secrets `--show-secrets` reveals.
    `after_destroy`: accounts (with token types) that must outlive `destroy`.
    `writes_on_up`: exact API writes `up` makes, when the example promises it.
    `seed`: prepares the emulator before `up` and returns extra stack config.
    """

    tokens: Mapping[str, Sequence[str]]
    configs: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    secrets: int = 0
    config: Mapping[str, str] = field(default_factory=dict)
    after_destroy: Mapping[str, Sequence[str]] = field(default_factory=dict)
    writes_on_up: int | None = None
    seed: Seed | None = None
    check: Check | None = None


LEGACY = "legacy_loader"
LEGACY_CONFIG = {
    "read_write": {"instance_size": "standard", "cooldown_seconds": 600},
    "read_scaling": {"instance_size": "standard", "flock_size": 2},
}


def seed_legacy_account(store: Store) -> dict[str, str]:
    """An account made outside Pulumi, with a config and a token tracked by its Terraform id."""
    store.create_user(LEGACY, config=LEGACY_CONFIG)
    token = store.create_token(LEGACY, "nightly-load", ttl=90 * DAY).record
    return {
        "username": LEGACY,
        "adoptTokenId": f"{LEGACY}/{token.id}",
        "adoptTokenName": "nightly-load",
        "readWriteSize": "standard",
        "readScalingSize": "standard",
        "flockSize": "2",
    }


def check_adopted(stack: EmulatorStack, store: Store, outputs: Mapping[str, Any]) -> None:
    """The seeded token is tracked by id, without a secret; the seeded config is untouched."""
    (token,) = store.list_tokens(LEGACY)
    assert outputs["token_id"] == token.id
    assert outputs["token_expire_at"] is not None
    assert store.count(operation="users-createServiceAccount") == 0
    assert store.count(operation="users-createToken") == 0
    assert store.get_config(LEGACY)["read_write"]["cooldown_seconds"] == 600
    (state,) = stack.resources("AccessToken")
    assert state["outputs"].get("token") is None


def check_rotation(stack: EmulatorStack, store: Store, outputs: Mapping[str, Any]) -> None:
    """One token, 30 days to live, rotated 7 days before; outputs name it and its expiry."""
    (token,) = store.list_tokens("etl_loader")
    assert outputs["token_id"] == token.id
    assert token.expire_at is not None
    assert parse_timestamp(outputs["expire_at"]) == token.expire_at
    assert token.expire_at - token.created_at == timedelta(days=30)
    (state,) = stack.resources("AccessToken")
    assert state["inputs"]["rotate_before"] == 7 * DAY


def check_overlap_schedule(stack: EmulatorStack, store: Store, outputs: Mapping[str, Any]) -> None:
    """No rotation yet: no previous token; `rotates_at` is 7 days before expiry."""
    (token,) = store.list_tokens("bi_service")
    assert token.expire_at is not None
    assert parse_timestamp(outputs["rotates_at"]) == token.expire_at - timedelta(days=7)
    assert outputs.get("previous_token_id") is None


EXPECTED: dict[str, Expected] = {
    ROOT: Expected(
        tokens={"etl_writer": ["read_write"], "bi_reader": ["read_scaling"]},
        configs={
            "etl_writer": {"read_write": {"instance_size": "standard", "cooldown_seconds": 300}},
            "bi_reader": {
                "read_write": {"instance_size": "pulse"},
                "read_scaling": {"instance_size": "standard", "flock_size": 4},
            },
        },
        secrets=2,
    ),
    "account-with-token": Expected(tokens={"app_service": ["read_write"]}, secrets=1),
    "read-scaling-fleet": Expected(
        tokens={"dashboards_reader": ["read_scaling"] * 3},
        configs={
            "dashboards_reader": {
                "read_write": {"instance_size": "pulse"},
                "read_scaling": {"instance_size": "standard", "flock_size": 4},
            }
        },
        secrets=3,
    ),
    "token-rotation": Expected(
        tokens={"etl_loader": ["read_write"]}, secrets=1, check=check_rotation
    ),
    "adopt-existing": Expected(
        tokens={LEGACY: ["read_write"]},
        configs={LEGACY: LEGACY_CONFIG},
        after_destroy={LEGACY: ["read_write"]},
        writes_on_up=0,
        seed=seed_legacy_account,
        check=check_adopted,
    ),
    "token-to-consumer": Expected(tokens={"app_backend": ["read_write"]}, secrets=1),
    "tenant-fleet": Expected(  # as one plain stack (no fleet config): every tenant
        tokens={
            t: ["read_scaling"]
            for t in json.loads((EXAMPLES_DIR / "tenant-fleet" / "tenants.json").read_text())
        },
        configs={"acme": {"read_scaling": {"instance_size": "pulse", "flock_size": 1}}},
        secrets=8,
        config={"protect": "false"},
    ),
    "token-overlap-rotation": Expected(
        tokens={"bi_service": ["read_write"]}, secrets=1, check=check_overlap_schedule
    ),
}


def project_dir(name: str) -> Path:
    return REPO_ROOT if name == ROOT else EXAMPLES_DIR / name


def configured_stack(
    make: Callable[..., EmulatorStack], project: Path, config: Mapping[str, str]
) -> EmulatorStack:
    """The project's `dev` stack with `config` set as plain values.

    `--plaintext`: the CLI refuses values that look random (token ids) without it.
    """
    stack = make(project)
    for key, value in config.items():
        stack.run("config", "set", "--plaintext", key, value)
    return stack


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def token_secrets(store: Store, value: Any) -> set[str]:
    """The live token secrets inside `value` (whole strings or embedded, as in a DSN)."""
    found: set[str] = set()
    for text in strings(value):
        for candidate in {text, *SECRETISH.findall(text)}:
            if store.find_token_by_secret(candidate) is not None:
                found.add(candidate)
    return found


def token_types(store: Store) -> dict[str, list[str]]:
    return {
        username: sorted(t.token_type for t in store.list_tokens(username))
        for username in store.users
    }


def expected_types(table: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {username: sorted(types) for username, types in table.items()}


def test_examples_are_found_and_covered() -> None:
    """Examples exist, each is a runnable project, and each has its row in EXPECTED."""
    assert EXAMPLES, f"no examples found under {EXAMPLES_DIR}"
    for name in EXAMPLES:
        for part in ("__main__.py", "README.md"):
            assert (EXAMPLES_DIR / name / part).is_file(), f"examples/{name} has no {part}"
        manifest = (EXAMPLES_DIR / name / "Pulumi.yaml").read_text()
        assert f"name: {name}\n" in manifest, f"examples/{name}/Pulumi.yaml must say name: {name}"
        assert "virtualenv: ../../.venv" in manifest
    missing = sorted(set(EXAMPLES) - set(EXPECTED))
    assert not missing, f"add a row to EXPECTED in {Path(__file__).name} for: {missing}"


@pytest.mark.parametrize("name", [ROOT, *EXAMPLES])
def test_project_lifecycle(
    name: str, emulator: EmulatorServer, emulator_stack: Callable[..., EmulatorStack]
) -> None:
    """up, state as documented, no drift, secrets stay secret, destroy as documented."""
    store = emulator.store
    expected = EXPECTED.get(name)
    if expected is None:
        pytest.fail(f"add a row to EXPECTED for {name!r}", pytrace=False)
    config = dict(expected.config)
    if expected.seed is not None:
        config.update(expected.seed(store))
    store.clear_logs()
    stack = configured_stack(emulator_stack, project_dir(name), config)
    logs = [stack.up()]

    # The emulator holds what the project declares.
    if expected.writes_on_up is not None:
        assert store.write_count == expected.writes_on_up
    assert token_types(store) == expected_types(expected.tokens)
    for username, sides in expected.configs.items():
        live = store.get_config(username)
        for side, settings in sides.items():
            assert {k: live[side].get(k) for k in settings} == dict(settings), (username, side)

    # Outputs refer to live tokens; the example's own checks.
    outputs = stack.outputs()
    live_ids = {t.id for u in store.users for t in store.list_tokens(u)}
    output_ids = {s for s in strings(outputs) if UUID.match(s)}
    assert output_ids <= live_ids, output_ids - live_ids
    if expected.check is not None:
        expected.check(stack, store, outputs)

    # A refresh and a preview find nothing to change and write nothing.
    writes = store.write_count
    logs.append(stack.refresh("--expect-no-changes"))
    requests = store.request_count
    logs.append(stack.preview("--expect-no-changes"))
    assert store.request_count == requests, "preview called the API"
    assert store.write_count == writes, "refresh or a no-change preview wrote to the API"

    # Secrets: revealed only on request, found nowhere else.
    shown = stack.outputs(show_secrets=True)
    secrets = token_secrets(store, shown)
    assert len(secrets) == expected.secrets, f"expected {expected.secrets} token secrets"
    places = {
        "stack output --json": json.dumps(outputs),
        "stack export": json.dumps(stack.export()),
        "backend files": stack.state_text(),
        "CLI output": "\n".join(p.stdout + p.stderr for p in logs),
    }
    for place, text in places.items():
        assert not [s for s in secrets if s in text], f"a token secret is plaintext in {place}"
        assert emulator.admin_token not in text, f"the admin token is plaintext in {place}"

    stack.destroy()
    assert stack.resources() == []
    assert token_types(store) == expected_types(expected.after_destroy)
    for username in expected.after_destroy:
        sides = expected.configs.get(username, {})
        live = store.get_config(username)
        for side, settings in sides.items():
            assert {k: live[side].get(k) for k in settings} == dict(settings), (username, side)


def test_token_to_consumer_via_stack_reference(
    emulator: EmulatorServer, emulator_stack: Callable[..., EmulatorStack]
) -> None:
    """The consumer project reads the connection string through a StackReference, as a secret."""
    producer = emulator_stack(EXAMPLES_DIR / "token-to-consumer")
    producer.up()
    consumer = emulator_stack(EXAMPLES_DIR / "token-to-consumer" / "consumer")
    consumer.up()

    shown = consumer.outputs(show_secrets=True)
    assert shown["connection_string"] == producer.outputs(show_secrets=True)["connection_string"]
    assert shown["connection_string"].startswith("md:my_db?motherduck_token=")
    (secret,) = token_secrets(emulator.store, shown)
    hidden = consumer.outputs()
    assert hidden == {"connection_string": "[secret]", "database": "md:my_db"}
    assert secret not in json.dumps(consumer.export())

    consumer.destroy()
    producer.destroy()
    assert emulator.store.users == {}


def test_token_overlap_rotation_consumer_keeps_working(
    emulator: EmulatorServer,
    emulator_stack: Callable[..., EmulatorStack],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The consumer's copy of the token works across a rotation until it has moved on.

    The provider reads the emulator's clock (test only), so the day's window passes at once.
    """
    from motherduck_provider.resources._test_clock import TEST_CLOCK_ENV

    monkeypatch.setenv(TEST_CLOCK_ENV, emulator.url + "/_emulator/clock")
    store = emulator.store
    project = EXAMPLES_DIR / "token-overlap-rotation"
    producer = emulator_stack(project)
    producer.up()
    consumer = emulator_stack(project / "consumer")
    consumer.up()

    def consumer_token() -> str:
        (secret,) = token_secrets(store, consumer.outputs(show_secrets=True))
        return secret

    old = consumer_token()
    old_id = producer.outputs()["token_id"]
    producer.run("config", "set", "rotationTrigger", "1")
    producer.up()
    rotated = producer.outputs(show_secrets=True)
    assert rotated["previous_token_id"] == old_id and rotated["token"] != old
    assert consumer_token() == old  # not redeployed yet, and still working
    consumer.up()
    assert consumer_token() == rotated["token"]
    assert consumer.outputs()["connection_string"] == "[secret]"

    store.clock.advance(24 * 3600 + 1)
    producer.up()
    assert store.find_token_by_secret(old) is None  # the window is over: revoked
    assert producer.outputs().get("previous_token_id") is None
    assert consumer_token() == rotated["token"]
    assert [t.id for t in store.list_tokens("bi_service")] == [rotated["token_id"]]

    consumer.destroy()
    producer.destroy()
    assert store.users == {}


def test_adopt_existing_read_scaling_token_by_bare_id(
    emulator: EmulatorServer, emulator_stack: Callable[..., EmulatorStack]
) -> None:
    """A read-scaling token tracked by its bare id: no drift, no write, kept on destroy."""
    store = emulator.store
    store.create_user(LEGACY)
    token = store.create_token(LEGACY, "bi", token_type="read_scaling").record
    config = {
        "username": LEGACY,
        "adoptTokenId": token.id,
        "adoptTokenName": "bi",
    }
    stack = configured_stack(emulator_stack, EXAMPLES_DIR / "adopt-existing", config)
    stack.up()
    assert store.write_count == 0
    assert stack.outputs()["token_id"] == token.id
    stack.refresh("--expect-no-changes")
    stack.preview("--expect-no-changes")
    stack.up("--expect-no-changes")
    assert store.write_count == 0
    # Relabelling a tracked token must not replace it: that would revoke the token it tracks.
    stack.run("config", "set", "--plaintext", "adoptTokenName", "bi-relabelled")
    stack.up()
    assert [t.id for t in store.list_tokens(LEGACY)] == [token.id]
    assert store.write_count == 0

    stack.destroy()
    assert [t.id for t in store.list_tokens(LEGACY)] == [token.id]
    assert store.write_count == 0
