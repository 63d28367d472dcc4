"""The plugin's one-step ServiceAccount against the emulator when part of a create or update
fails: the engine's "created but failed to initialize" (`ResourceInitFailed`, sent as gRPC
`ErrorResourceInitFailed`) with what exists, which the next update finishes."""

from __future__ import annotations

import asyncio
from typing import Any

from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime import proto
from pulumi.runtime.proto import status_pb2

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.plugin.provider import ResourceInitFailed
from motherduck_provider.plugin.server import init_failed_metadata
from tests.integration.test_plugin_invokes_emulator import configured, plain

URN = "urn:pulumi:dev::proj::motherduck:index:ServiceAccount::one"
USER = "partial"


def inputs() -> dict[str, PropertyValue]:
    ttl = {"ttl": PropertyValue(86_400.0)}
    return {
        "username": PropertyValue(USER),
        "tokens": PropertyValue({"ci": PropertyValue(ttl), "loader": PropertyValue(ttl)}),
        "readWrite": PropertyValue({"instanceSize": PropertyValue("standard")}),
        "readScaling": PropertyValue(
            {"instanceSize": PropertyValue("pulse"), "flockSize": PropertyValue(1.0)}
        ),
    }


def checked(provider: Any, news: dict[str, PropertyValue]) -> dict[str, PropertyValue]:
    response = asyncio.run(provider.check(rpc.CheckRequest(URN, {}, news, b"")))
    assert not response.failures, [(f.property, f.reason) for f in response.failures]
    return dict(response.inputs or {})


def test_a_create_whose_token_fails_reports_what_exists_and_the_update_finishes(
    emulator: EmulatorServer,
) -> None:
    provider = configured(emulator)
    news = checked(provider, inputs())
    emulator.store.faults.error("users-createToken", status=400, count=1)  # one of the two
    try:
        asyncio.run(provider.create(rpc.CreateRequest(URN, news, 0, False)))
    except ResourceInitFailed as exc:
        failed = exc
    else:
        raise AssertionError("a create with a failed token succeeded")
    assert failed.resource_id == USER
    [reason] = failed.reasons
    assert "was not created" in reason and "pulumi up" in reason
    props = failed.properties
    assert props["tokens"].is_secret
    [(name, made)] = plain(props["tokenIds"]).items()
    assert [t.id for t in emulator.store.list_tokens(USER)] == [made]
    assert plain(props["readWrite"])["instanceSize"] == "standard"
    assert emulator.store.get_config(USER)["read_write"]["instance_size"] == "standard"

    # What the engine receives: the id, the properties (secrets kept) and the reasons.
    [(key, value)] = init_failed_metadata(failed)
    status = status_pb2.Status.FromString(value)
    detail = proto.ErrorResourceInitFailed()
    assert key == "grpc-status-details-bin" and status.details[0].Unpack(detail)
    assert detail.id == USER and list(detail.reasons) == [reason]
    assert set(detail.properties.fields) == set(props)

    # The next `up`: diff sees the missing token, update makes it and keeps the other.
    diff = asyncio.run(provider.diff(rpc.DiffRequest(URN, USER, props, news, [])))
    assert diff.changes, diff
    request = rpc.UpdateRequest(URN, USER, props, news, timeout=0, ignore_changes=[],
                                preview=False)  # fmt: skip
    updated = asyncio.run(provider.update(request))
    assert updated.properties is not None
    ids = plain(updated.properties["tokenIds"])
    assert sorted(ids) == ["ci", "loader"] and ids[name] == made
    assert sorted(t.id for t in emulator.store.list_tokens(USER)) == sorted(ids.values())
    assert updated.properties["tokens"].is_secret


def test_an_update_whose_new_token_fails_keeps_the_others_and_reports_init_failed(
    emulator: EmulatorServer,
) -> None:
    provider = configured(emulator)
    news = checked(provider, inputs())
    made = asyncio.run(provider.create(rpc.CreateRequest(URN, news, 0, False)))
    assert made.properties is not None
    before = plain(made.properties["tokenIds"])

    more = inputs()
    tokens = dict(more["tokens"].value)  # type: ignore[arg-type]
    tokens["writer"] = PropertyValue({})
    more["tokens"] = PropertyValue(tokens)
    wanted = checked(provider, more)
    emulator.store.faults.error("users-createToken", status=400, count=1)
    request = rpc.UpdateRequest(URN, USER, made.properties, wanted, timeout=0,
                                ignore_changes=[], preview=False)  # fmt: skip
    try:
        asyncio.run(provider.update(request))
    except ResourceInitFailed as exc:
        failed = exc
    else:
        raise AssertionError("an update with a failed token succeeded")
    assert failed.resource_id == USER
    [reason] = failed.reasons
    assert "'writer'" in reason and "was not created" in reason
    assert plain(failed.properties["tokenIds"]) == before  # the others kept, secrets too
    assert plain(failed.properties["tokens"]) == plain(made.properties["tokens"])
    assert sorted(t.id for t in emulator.store.list_tokens(USER)) == sorted(before.values())

    retry = rpc.UpdateRequest(URN, USER, failed.properties, wanted, timeout=0,
                              ignore_changes=[], preview=False)  # fmt: skip
    finished = asyncio.run(provider.update(retry))
    assert finished.properties is not None
    ids = plain(finished.properties["tokenIds"])
    assert sorted(ids) == ["ci", "loader", "writer"]
    assert sorted(t.id for t in emulator.store.list_tokens(USER)) == sorted(ids.values())
