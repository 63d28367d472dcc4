"""The one-frame stack trace (`resources/_trace_guard.py`) and what it assumes of the SDK.

If the SDK changes `_get_stack_trace` (its name, how register_resource calls it, what it
returns), the first tests here fail: the guard then stands down (stock traces), and this file
says why before a release ships with bigger states than it claims.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import pytest
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from motherduck_provider.resources import _trace_guard
from motherduck_provider.resources._trace_guard import stack_trace_trimmed, trim

PACKAGE = Path(_trace_guard.__file__).resolve().parent.parent.as_uri()


def frame(uri: str | None, line: int = 1) -> source_pb2.StackFrame:
    if uri is None:
        return source_pb2.StackFrame()
    return source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=line))


def test_sdk_records_the_trace_through_the_patched_name() -> None:
    assert callable(getattr(sdk_resource, "_get_stack_trace", None))
    for caller in (sdk_resource.register_resource, sdk_resource.read_resource):
        assert "_get_stack_trace()" in inspect.getsource(caller), caller.__name__
    assert isinstance(sdk_resource._get_stack_trace(), source_pb2.StackTrace)
    # The source position users see is the trace's first frame.
    stack = source_pb2.StackTrace(frames=[frame("file:///p/__main__.py", 7)])
    assert sdk_resource._get_source_position(stack) == stack.frames[0].pc


def test_trim_keeps_the_first_frame_outside_the_package() -> None:
    stack = source_pb2.StackTrace(
        frames=[
            frame(f"{PACKAGE}/resources/service_account.py", 286),
            frame(f"{PACKAGE}/component.py", 70),
            frame(None),
            frame("file:///p/__main__.py", 12),
            frame("file:///venv/pulumi/runtime/stack.py", 237),
        ]
    )
    (kept,) = trim(stack).frames
    assert (kept.pc.uri, kept.pc.line) == ("file:///p/__main__.py", 12)


def test_trim_leaves_a_trace_without_user_frames() -> None:
    only_ours = source_pb2.StackTrace(frames=[frame(f"{PACKAGE}/component.py"), frame(None)])
    assert trim(only_ours) == only_ours
    assert trim(source_pb2.StackTrace()) == source_pb2.StackTrace()


def test_patch_is_undone_and_nests() -> None:
    original = sdk_resource._get_stack_trace
    with stack_trace_trimmed():
        patched = sdk_resource._get_stack_trace
        assert patched is not original
        with stack_trace_trimmed():
            assert sdk_resource._get_stack_trace is patched
        assert sdk_resource._get_stack_trace is patched
    assert sdk_resource._get_stack_trace is original
    with pytest.raises(RuntimeError), stack_trace_trimmed():
        raise RuntimeError
    assert sdk_resource._get_stack_trace is original


def test_stands_down_when_the_sdk_changes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_trace_guard, "_stood_down", False)
    monkeypatch.delattr(sdk_resource, "_get_stack_trace")
    with caplog.at_level(logging.DEBUG, "motherduck_provider"), stack_trace_trimmed():
        pass
    assert not hasattr(sdk_resource, "_get_stack_trace")
    assert "stack trace trimming is off" in caplog.text
    # A return value of another shape passes through unchanged.
    assert trim("no frames here") == "no frames here"
