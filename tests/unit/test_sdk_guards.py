"""What our SDK workarounds rely on, checked against the installed Pulumi SDK, and what each
does when a release changes it (docs/supported-versions.md). Every cell of `scripts/matrix`
runs these, so a new SDK release that moves something fails here, loudly, before a user's
deployment meets it; the fallback tests simulate such a release.

* the SDK floor (pyproject.toml): `ReadResult` takes `inputs`, the server aborts with a message.
* `_pickle_guard`: the SDK's `serialize_provider` patches `pickle._Pickler._batch_setitems`
  and `save_dict` while it pickles a provider.
* `_report.install`: Pulumi's provider server (`python -m pulumi.dynamic`) reports provider
  errors through its module global `traceback`, in `_abort_with_traceback`.
* the gate in `_program`: `pulumi.Output(resources, future, is_known, is_secret)` makes an
  Output whose failure stops the serialization of the inputs that carry it (registration).
"""

from __future__ import annotations

import ast
import asyncio
import importlib.metadata
import importlib.util
import inspect
import logging
import pickle
import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import CheckFailure, ReadResult, ResourceProvider
from pulumi.dynamic import dynamic as sdk_dynamic
from pulumi.runtime import rpc

from motherduck_provider import errors
from motherduck_provider.resources import _program, _report, _sdk, _server_workers
from motherduck_provider.resources._pickle_guard import pickler_restored

SERVER_MODULE = "pulumi.dynamic.__main__"
SDK_FLOOR = (3, 260)
LOGGER = "motherduck_provider"


def sdk_version() -> tuple[int, int]:
    major, minor = importlib.metadata.version("pulumi").split(".")[:2]
    return int(major), int(minor)


@pytest.fixture(autouse=True)
def fresh_stand_downs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sdk, "_stood_down", set())


def stand_down_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.DEBUG and " is off with pulumi " in r.message
    ]


# --- what the SDK floor was chosen for ------------------------------------------------------------


def test_the_sdk_floor_has_what_we_need() -> None:
    """pulumi < 3.216: `ReadResult` had no `inputs` (every refresh crashed); < 3.260: the provider
    server had no `_abort_with_traceback` (errors were multi-line tracebacks)."""
    assert sdk_version() >= SDK_FLOOR, importlib.metadata.version("pulumi")
    assert "inputs" in inspect.signature(ReadResult.__init__).parameters
    assert "_abort_with_traceback" in server_source()[0]


# --- the pickle guard --------------------------------------------------------------------------


class _Provider(ResourceProvider):
    pass


def test_the_sdk_patches_the_pickler_methods_the_guard_restores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    originals = {name: vars(pickle._Pickler)[name] for name in ("_batch_setitems", "save_dict")}
    seen: dict[str, Any] = {}
    real_dumps = sdk_dynamic.dill.dumps

    def spy(*args: Any, **kwargs: Any) -> bytes:
        seen.update({name: vars(pickle._Pickler)[name] for name in originals})
        return real_dumps(*args, **kwargs)

    monkeypatch.setattr(sdk_dynamic.dill, "dumps", spy)
    try:
        with pickler_restored():
            sdk_dynamic.serialize_provider(_Provider())
        patched = [name for name in originals if seen[name] is not originals[name]]
        assert patched == list(originals), (
            f"pulumi {importlib.metadata.version('pulumi')} no longer patches "
            f"{sorted(set(originals) - set(patched))} while pickling a provider: "
            "resources/_pickle_guard.py may be obsolete"
        )
        assert {name: vars(pickle._Pickler)[name] for name in originals} == originals
    finally:
        for name, value in originals.items():
            setattr(pickle._Pickler, name, value)


def test_pickle_guard_stands_down_without_the_pickler(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    monkeypatch.delattr(pickle, "_Pickler")
    for _ in range(2):
        with pickler_restored():
            pass
    (line,) = stand_down_lines(caplog)
    assert line.startswith("the pickle guard is off with pulumi ")
    assert "pickle._Pickler._batch_setitems, pickle._Pickler.save_dict not found" in line


def test_pickle_guard_restores_what_is_there(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    monkeypatch.delattr(pickle._Pickler, "save_dict")
    original = vars(pickle._Pickler)["_batch_setitems"]
    with pickler_restored():
        monkeypatch.setattr(pickle._Pickler, "_batch_setitems", lambda *a: None)
    assert vars(pickle._Pickler)["_batch_setitems"] is original
    (line,) = stand_down_lines(caplog)
    assert "pickle._Pickler.save_dict not found" in line


# --- one-line errors in Pulumi's provider server ------------------------------------------------


def server_source() -> tuple[str, Any]:
    spec = importlib.util.find_spec(SERVER_MODULE)
    assert spec is not None and spec.origin, f"{SERVER_MODULE} is not in this pulumi"
    with open(spec.origin, encoding="utf-8") as f:
        return f.read(), spec


@pytest.fixture
def real_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The installed SDK's provider server module as `__main__`, without starting the server."""
    source, spec = server_source()
    tree = ast.parse(source)
    # Drop the module-level `main()` call (some releases guard it with `if __name__ == ...`).
    tree.body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))
        and not isinstance(node, ast.If)
    ]
    module = types.ModuleType("__main__")
    module.__spec__ = spec
    module.__file__ = spec.origin
    exec(compile(tree, spec.origin, "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "__main__", module)
    monkeypatch.setattr(sys, "argv", ["pulumi.dynamic", "127.0.0.1:1"])
    monkeypatch.setattr(_report.log, "handlers", [])
    yield module


def test_the_server_reports_errors_through_its_traceback_global() -> None:
    source, _ = server_source()
    tree = ast.parse(source)
    imports = {
        alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names
    }
    assert "traceback" in imports, f"{SERVER_MODULE} no longer imports traceback"
    (wrapper,) = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_abort_with_traceback"
    ]
    assert "traceback.format_exc()" in ast.unparse(wrapper)
    servicer = next(n for n in tree.body if isinstance(n, ast.ClassDef) and "Servicer" in n.name)
    wrapped = {
        n.name
        for n in servicer.body
        if isinstance(n, ast.FunctionDef)
        and any(ast.unparse(d) == "_abort_with_traceback" for d in n.decorator_list)
    }
    assert {"Check", "Diff", "Create", "Read", "Update", "Delete"} <= wrapped


class _Context:
    def __init__(self) -> None:
        self.details: str | None = None

    def abort(self, code: Any, details: str) -> None:
        self.details = details


def test_one_line_errors_in_the_real_server(real_server: types.ModuleType) -> None:
    assert _report.install() is True
    context = _Context()

    def create(self: Any, request: Any, context: Any) -> None:
        raise errors.ConfigurationError("no MotherDuck admin token")

    real_server._abort_with_traceback(create)(None, None, context)
    assert context.details == "no MotherDuck admin token"


def test_errors_stay_tracebacks_when_the_server_changed(
    real_server: types.ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    del real_server._abort_with_traceback
    assert _report.install() is False and _report.install() is False
    assert real_server.traceback is sys.modules["traceback"]
    (line,) = stand_down_lines(caplog)
    assert line.startswith("one-line errors is off with pulumi ")


# --- the registration gate ----------------------------------------------------------------------


def test_a_failed_gate_stops_the_serialization_of_inputs() -> None:
    async def run() -> tuple[str, Any]:
        gate = _program.admit("ServiceAccount", "a", [CheckFailure("username", "username: bad")])
        assert isinstance(gate, pulumi.Output)
        with pytest.raises(pulumi.RunError) as failed:
            await rpc.serialize_properties({"username": "a", "gate": gate}, {})
        fine = _program.admit("ServiceAccount", "b", [])
        serialized = await rpc.serialize_properties({"username": "b", "gate": fine}, {})
        return str(failed.value), dict(serialized)

    failed, serialized = asyncio.run(run())
    assert "invalid inputs, 1 problem" in failed and "ServiceAccount 'a': username: bad" in failed
    assert serialized == {"username": "b"}  # an open gate is an absent property


def test_the_gate_stands_down_when_output_changed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    def changed_init(self: Any, future: Any, *, dependencies: Any = None) -> None:
        raise AssertionError("not to be called")

    monkeypatch.setattr(pulumi.Output, "__init__", changed_init)

    async def run() -> list[Any]:
        bad = [CheckFailure("username", "username: bad")]
        return [_program.admit("ServiceAccount", n, bad) for n in ("a", "b")]

    assert asyncio.run(run()) == [None, None]  # no gate: each provider's check reports
    (line,) = stand_down_lines(caplog)
    assert line.startswith("the program-side input check is off with pulumi ")
    assert "pulumi.Output takes (future, dependencies)" in line


# --- detailed diffs from Pulumi's provider server ----------------------------------------------


def test_detailed_diffs_reach_the_real_servers_response(real_server: types.ModuleType) -> None:
    """`_detailed_diff` wraps the server's Diff: what a provider notes is in the response."""
    from google.protobuf import struct_pb2
    from pulumi.runtime import proto

    from motherduck_provider.resources import _detailed_diff

    class Fake:
        def diff(self, _id: str, _olds: Any, _news: Any) -> Any:
            return _detailed_diff.diff_result(
                changes=True,
                replaces=[],
                delete_before_replace=False,
                detailed={"tokens.reader": "ADD", "read_write": "UPDATE"},
            )

    real_server.get_provider = lambda props, config: Fake()
    assert _detailed_diff.install() is True and _detailed_diff.install() is True
    props = struct_pb2.Struct()
    props.update({"__provider": "x"})
    servicer = object.__new__(real_server.DynamicResourceProviderServicer)
    servicer._config = {}
    request = proto.DiffRequest(id="etl", olds=props, news=props)
    response = servicer.Diff(request, _Context())
    assert response.hasDetailedDiff and response.changes == proto.DiffResponse.DIFF_SOME
    kinds = {k: proto.PropertyDiff.Kind.Name(v.kind) for k, v in response.detailedDiff.items()}
    assert kinds == {"tokens.reader": "ADD", "read_write": "UPDATE"}
    assert all(v.inputDiff for v in response.detailedDiff.values())


def test_no_detailed_diff_when_the_server_changed(
    real_server: types.ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    from motherduck_provider.resources import _detailed_diff

    caplog.set_level(logging.DEBUG, logger=LOGGER)
    del real_server.DynamicResourceProviderServicer
    assert _detailed_diff.install() is False
    (line,) = stand_down_lines(caplog)
    assert line.startswith("detailed diffs is off with pulumi ")


# --- more calls at once in Pulumi's provider server ---------------------------------------------


@pytest.fixture
def undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_server_workers, "_outcome", None)


def at_once(pool: ThreadPoolExecutor, count: int) -> bool:
    """Whether `count` calls submitted to `pool` can all be running at the same moment."""
    barrier = threading.Barrier(count, timeout=1)
    calls = [pool.submit(barrier.wait) for _ in range(count)]
    try:
        for call in calls:
            call.result()
    except threading.BrokenBarrierError:
        return False
    return True


def test_the_server_runs_its_calls_on_a_pool_of_four() -> None:
    """What `_server_workers` raises: the pool `main()` gives its gRPC server."""
    source, _ = server_source()
    assert "futures.ThreadPoolExecutor(max_workers=4)" in source


def test_more_calls_at_once_in_the_real_server(
    real_server: types.ModuleType, undecided: None
) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert not at_once(pool, 5)  # the server's limit: a fifth call waits
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert pool.submit(_server_workers.raise_limit, 16).result() is True
        assert at_once(pool, 16)
        assert pool.submit(_server_workers.raise_limit, 32).result() is True  # once only
        assert pool._max_workers == 16


def test_no_change_outside_the_server(undecided: None) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert pool.submit(_server_workers.raise_limit, 16).result() is False
        assert pool._max_workers == 4


def test_more_calls_stand_down_off_a_pool_thread(
    real_server: types.ModuleType, undecided: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert _server_workers.raise_limit(16) is False  # the test's own thread: no pool
    (line,) = stand_down_lines(caplog)
    assert line.startswith("more calls at once in the dynamic-provider server is off with pulumi")


def test_calls_queued_before_the_raise_run_at_once_too(
    real_server: types.ModuleType, undecided: None
) -> None:
    """A destroy's deletes all arrive before the first one configures the provider."""
    queued = threading.Event()
    barrier = threading.Barrier(12, timeout=2)

    def first() -> None:
        queued.wait()
        _server_workers.raise_limit(16)
        barrier.wait()

    with ThreadPoolExecutor(max_workers=4) as pool:
        calls = [pool.submit(first)] + [pool.submit(barrier.wait) for _ in range(11)]
        queued.set()  # 8 of them wait in the pool's queue
        for call in calls:
            call.result()
