"""Registering our resources costs the program and the engine no more than it must
(`resources/_debug_lines.py`, `resources/_type_hints.py`). Counted, not timed, under Pulumi's
mocks in a child process (the runtime settings mocks install do not leak), against the
installed SDK (every cell of scripts/matrix):

* the SDK's own debug lines ("registering resource", "beginning rpc register resource", ...),
  each a blocking call to the engine and an engine event, are not sent for our resources and
  are still sent for every other resource; `MOTHERDUCK_LOG=debug` keeps them for ours too;
* an annotated resource class's output types are worked out once per class for ours, and
  still at every registration for others; outputs convert as before (an `int` stays an `int`).
"""

from __future__ import annotations

import logging
import os
import textwrap
from typing import Any

import pytest
from pulumi import _types
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc_manager

from motherduck_provider.resources import _debug_lines, _sdk, _type_hints
from tests.child import last_json

LOGGER = "motherduck_provider"

PROGRAM = textwrap.dedent(
    """
    import json, logging
    import pulumi
    from pulumi import _types

    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    engine_log = logging.getLogger("engine")
    engine_log.setLevel(logging.DEBUG)
    engine_log.addHandler(Keep())

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return [args.name + "-id", args.inputs]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False, logger=engine_log)

    from motherduck_provider import AccessToken, ManagedAccount, ServiceAccount

    class Plain(pulumi.CustomResource):
        ttl: pulumi.Output[int]

        def __init__(self, name):
            super().__init__("test:index:Plain", name, {"ttl": 3600})

    worked_out = {}
    stock = _types._types_from_annotations

    def counted(cls):
        worked_out[cls.__name__] = worked_out.get(cls.__name__, 0) + 1
        return stock(cls)

    _types._types_from_annotations = counted

    ttls = []

    @pulumi.runtime.test
    def declare():
        outputs = []
        for i in range(3):
            account = ServiceAccount(f"acct{i}", username=f"user_{i}")
            token = AccessToken(f"tok{i}", username=account.username, name="ci", ttl=3600)
            outputs += [token.ttl.apply(ttls.append), Plain(f"plain{i}").ttl.apply(ttls.append)]
            managed = ManagedAccount(
                f"team{i}", username=f"team_{i}", tokens={"ci": {}}, one_step=True
            )
            outputs.append(managed.token_ids)
        return pulumi.Output.all(*outputs)

    declare()
    print(json.dumps({
        "lines": lines,
        "worked_out": worked_out,
        "ttls": [[type(t).__name__, t] for t in ttls],
    }))
    """
)


def run_program(**env: str) -> dict[str, Any]:
    child_env = {k: v for k, v in os.environ.items() if k != "MOTHERDUCK_LOG"}
    result: dict[str, Any] = last_json(PROGRAM, env={**child_env, **env})
    return result


def about(lines: list[str], name: str) -> list[str]:
    return [
        line
        for line in lines
        if f"name={name}," in line or line.endswith((f"name={name}", f"::{name}"))
    ]


def test_the_sdk_sends_no_debug_lines_for_our_registrations() -> None:
    lines = run_program()["lines"]
    for i in range(3):
        assert about(lines, f"acct{i}") == []
        assert about(lines, f"tok{i}") == []
        assert about(lines, f"team{i}") == []  # the ManagedAccount and its ServiceAccount
        # Every other resource still gets the SDK's lines: registering, prepared, successful.
        assert len(about(lines, f"plain{i}")) == 3, lines
    # "beginning rpc register resource" names no resource: the Stack's, one per Plain, none
    # for ours; nor does the line of a component's outputs (the Stack's only).
    assert lines.count("beginning rpc register resource") == 1 + 3
    assert lines.count("beginning rpc register resource outputs") == 1


def test_motherduck_log_debug_keeps_the_sdks_debug_lines() -> None:
    lines = run_program(MOTHERDUCK_LOG="debug")["lines"]
    for i in range(3):
        assert len(about(lines, f"acct{i}")) == 3
        assert len(about(lines, f"tok{i}")) == 3
        assert len(about(lines, f"team{i}")) == 8  # component (3 + 2 of its outputs), account
    assert lines.count("beginning rpc register resource") == 1 + 9 + 6
    assert lines.count("beginning rpc register resource outputs") == 1 + 3


def test_our_output_types_are_worked_out_once_per_class() -> None:
    result = run_program()
    assert result["worked_out"]["AccessToken"] == 1
    assert result["worked_out"]["ServiceAccount"] == 1
    assert result["worked_out"]["Plain"] >= 3  # others: at every registration, as before
    # Outputs convert as before: the engine's numbers are floats, an int annotation makes ints.
    assert result["ttls"] == [["int", 3600]] * 6


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sdk, "_stood_down", set())
    monkeypatch.setattr(_debug_lines, "_installed", None)
    monkeypatch.setattr(_type_hints, "_installed", None)
    monkeypatch.delenv("MOTHERDUCK_LOG", raising=False)


def stand_down_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if " is off with pulumi " in r.getMessage()]


@pytest.mark.parametrize("module", [sdk_resource, rpc_manager])
def test_a_changed_sdk_log_leaves_the_debug_lines_alone(
    fresh: None,
    module: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = object()
    monkeypatch.setattr(module, "log", other)
    with caplog.at_level(logging.DEBUG, logger=LOGGER), _debug_lines.quiet():
        pass
    assert module.log is other
    assert stand_down_lines(caplog) == [
        f"quiet registration is off with pulumi {_sdk.sdk_version()}: "
        f"{module.__name__}.log is not pulumi.log; Pulumi's stock behaviour applies"
    ]


def test_an_sdk_without_resource_types_is_left_alone(
    fresh: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delattr(_types, "resource_types")
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        _type_hints.install()
    assert not hasattr(_types, "resource_types")
    assert stand_down_lines(caplog) == [
        f"output types once per class is off with pulumi {_sdk.sdk_version()}: "
        "pulumi._types.resource_types is missing; Pulumi's stock behaviour applies"
    ]
