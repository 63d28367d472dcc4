"""`_output_guard.hand_over`: the SDK's end-of-program wait does one round for our resources
instead of one per resource over all their Outputs, and still ends only when every Output has
resolved and fails as the stock wait does. Counted, not timed: the Outputs the SDK's rounds
wait on (`asyncio.wait(..., FIRST_COMPLETED)` in `wait_for_rpcs`), run against the installed
SDK (every matrix cell)."""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import stack
from pulumi.runtime.settings import SETTINGS

from motherduck_provider.resources import _output_guard, _sdk

OUTPUTS = 14  # a one-step ServiceAccount: 12 properties, urn and id
LOGGER = "motherduck_provider"


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_sdk, "_stood_down", set())
    monkeypatch.setattr(_output_guard, "_waiter", None)
    SETTINGS.outputs.clear()
    yield
    SETTINGS.outputs.clear()


class Rounds:
    """The SDK's rounds: how many, and how many Outputs each waited on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[int] = []
        real = asyncio.wait

        async def spy(fs: Any, **kwargs: Any) -> Any:
            if kwargs.get("return_when") == asyncio.FIRST_COMPLETED:
                self.sizes.append(len(fs))
            return await real(fs, **kwargs)

        monkeypatch.setattr(stack.asyncio, "wait", spy)


def resource(loop: asyncio.AbstractEventLoop) -> tuple[Any, list[asyncio.Future[Any]]]:
    """A stand-in for a registered resource: OUTPUTS Outputs the engine resolves later."""
    futures = [loop.create_future() for _ in range(OUTPUTS)]
    known = loop.create_future()
    known.set_result(True)
    outs = {f"p{i}": pulumi.Output(set(), f, known) for i, f in enumerate(futures)}
    return types.SimpleNamespace(**outs), futures


def deploy(n: int, hand_over: bool, fail: bool = False) -> list[Any]:
    """n resources made, then resolved one by one while the SDK waits; their Outputs."""

    async def run() -> list[Any]:
        loop = asyncio.get_running_loop()
        made = [resource(loop) for _ in range(n)]
        if hand_over:
            for res, _ in made:
                _output_guard.hand_over(res)

        async def engine() -> None:
            for i, (_, futures) in enumerate(made):
                for f in futures:
                    if fail and i == n // 2:
                        f.set_exception(ValueError("registration failed"))
                    else:
                        f.set_result(i)
                for _ in range(3):
                    await asyncio.sleep(0)

        created = asyncio.ensure_future(engine())
        await stack.wait_for_rpcs()
        await created
        return [getattr(res, f"p{i}") for res, _ in made for i in range(OUTPUTS)]

    return asyncio.run(run())


def test_the_sdk_waits_on_every_output_again_after_each_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the guard is for, on the installed SDK: 60 resources, about 60 rounds over all the
    Outputs still pending (quadratic); if this fails the SDK changed its wait and the guard may
    be obsolete."""
    rounds = Rounds(monkeypatch)
    deploy(60, hand_over=False)
    assert len(rounds.sizes) >= 30
    assert sum(rounds.sizes) >= 60 * OUTPUTS * 60 // 4


def test_handed_over_the_sdk_waits_on_one_task(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = Rounds(monkeypatch)
    outputs = deploy(60, hand_over=True)
    assert rounds.sizes == [1]
    assert all(o._data.done() and o._data.result().value is not None for o in outputs)


def test_the_program_waits_for_every_output_handed_over() -> None:
    """wait_for_rpcs returns only when the last resource resolved, as without the guard."""
    outputs = deploy(5, hand_over=True)
    values = sorted({o._data.result().value for o in outputs})
    assert values == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("hand_over", [False, True])
def test_a_failed_output_fails_the_wait_as_the_stock_one_does(hand_over: bool) -> None:
    with pytest.raises(ValueError, match="registration failed"):
        deploy(6, hand_over=hand_over, fail=True)


@pytest.mark.parametrize("hand_over", [False, True])
def test_a_failure_ends_the_wait_while_other_outputs_are_pending(hand_over: bool) -> None:
    """After a failed registration the engine may answer no other: the wait must not outlast
    the failure (the stock wait raises at the first failed Output)."""

    async def run() -> None:
        loop = asyncio.get_running_loop()
        made = [resource(loop) for _ in range(4)]
        if hand_over:
            for res, _ in made:
                _output_guard.hand_over(res)

        async def engine() -> None:
            await asyncio.sleep(0)
            for f in made[1][1]:
                f.set_exception(ValueError("registration failed"))

        failing = asyncio.ensure_future(engine())
        await asyncio.wait_for(stack.wait_for_rpcs(), timeout=10)
        await failing

    with pytest.raises(ValueError, match="registration failed"):
        asyncio.run(run())


def test_resources_made_after_the_wait_began_are_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A resource made in an apply, after the first waiter finished: a new waiter takes it."""

    async def run() -> list[Any]:
        loop = asyncio.get_running_loop()
        first, first_futures = resource(loop)
        _output_guard.hand_over(first)
        later: list[Any] = []

        async def engine() -> None:
            for f in first_futures:
                f.set_result("first")
            await asyncio.sleep(0.01)
            res, futures = resource(loop)
            _output_guard.hand_over(res)
            later.append(res)
            await asyncio.sleep(0.01)
            for f in futures:
                f.set_result("later")

        task = asyncio.ensure_future(engine())
        SETTINGS.outputs.add(task)  # as an apply's Output would be
        await stack.wait_for_rpcs()
        return [getattr(later[0], f"p{i}") for i in range(OUTPUTS)]

    outputs = asyncio.run(run())
    assert {o._data.result().value for o in outputs} == {"later"}


def test_a_cancelled_waiter_is_replaced() -> None:
    async def run() -> Any:
        loop = asyncio.get_running_loop()
        first, _ = resource(loop)
        _output_guard.hand_over(first)
        gone = _output_guard._waiter
        assert gone is not None
        gone.task.cancel()
        await asyncio.sleep(0)
        second, futures = resource(loop)
        _output_guard.hand_over(second)
        assert _output_guard._waiter is not gone
        assert second.p0._data in _output_guard._waiter.pending  # type: ignore[union-attr]
        for f in futures:
            f.set_result(2)
        await _output_guard._waiter.task  # type: ignore[union-attr]
        return second.p0._data.result().value

    assert asyncio.run(run()) == 2


def stand_down_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and " is off " in r.message]


def no_output_set(res: Any, changed: pytest.MonkeyPatch) -> None:
    changed.setattr(SETTINGS, "outputs", None)


def no_future(res: Any, changed: pytest.MonkeyPatch) -> None:
    changed.setattr(res.p0, "_data", object())


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (no_output_set, "pulumi.runtime.settings.SETTINGS has no `outputs` set"),
        (no_future, "pulumi.Output has no asyncio future `_data`"),
    ],
)
def test_stands_down_and_moves_nothing_when_the_sdk_changed(
    change: Any, why: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    async def run() -> set[Any]:
        res, futures = resource(asyncio.get_running_loop())
        before = set(SETTINGS.outputs)
        with monkeypatch.context() as changed:
            change(res, changed)
            _output_guard.hand_over(res)
        for f in futures:
            f.set_result(1)
        return before ^ SETTINGS.outputs

    assert asyncio.run(run()) == set()  # the stock tracking stays as it was
    (line,) = stand_down_lines(caplog)
    assert line == f"the output hand-over is off with pulumi {_sdk.sdk_version()}: {why}; " + (
        "Pulumi's stock behaviour applies"
    )
