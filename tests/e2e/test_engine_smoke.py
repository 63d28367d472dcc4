"""Smoke tests: the real Pulumi CLI, engine, Python language host and dynamic
provider plugin run a trivial dynamic resource through a whole lifecycle,
offline, both as a Pulumi.yaml project via the CLI and as an inline
Automation API program.

The first run builds the toolchain (scripts/install-pulumi), which takes
minutes; later runs reuse the cache.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pulumi import automation as auto

pytestmark = pytest.mark.e2e

RunPulumi = Callable[..., subprocess.CompletedProcess[str]]
SMOKE_PROJECT = Path(__file__).resolve().parent / "smoke_project"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
EXPECTED_TYPES = sorted(["pulumi:pulumi:Stack", "pulumi:providers:pulumi-python", DYNAMIC_TYPE])


def _resource_types(deployment: dict[str, Any]) -> list[str]:
    return sorted(r["type"] for r in deployment.get("deployment", {}).get("resources") or [])


def test_toolchain_versions(pulumi_bin: Path, run_pulumi: RunPulumi, tmp_path: Path) -> None:
    """The CLI and language host report a version >= the Python SDK in use."""
    cli = run_pulumi(tmp_path, "version").stdout.strip()
    assert cli.startswith("v3."), cli
    cli_parts = tuple(int(x) for x in cli[1:].split("-")[0].split(".")[:3])
    sdk = importlib.metadata.version("pulumi")
    sdk_parts = tuple(int(x) for x in sdk.split("+")[0].split(".")[:3])
    assert cli_parts >= sdk_parts, f"CLI {cli} is older than the Python SDK {sdk}"
    for name in (
        "pulumi-language-python",
        "pulumi-language-python-exec",
        "pulumi-resource-pulumi-python",
    ):
        assert (pulumi_bin / name).is_file(), name


@pytest.mark.parametrize("runtime", ["python-cmd", "virtualenv-option"])
def test_cli_project_lifecycle(
    runtime: str,
    run_pulumi: RunPulumi,
    copy_project: Callable[[Path], Path],
    tmp_path: Path,
) -> None:
    """up / update / preview / refresh / destroy of a Pulumi.yaml project via the CLI."""
    project = copy_project(SMOKE_PROJECT)
    env: dict[str, str] = {}
    if runtime == "virtualenv-option":
        if sys.prefix == sys.base_prefix:
            pytest.fail("the virtualenv-option variant must run inside a virtualenv")
        # The project names our venv explicitly; a broken PULUMI_PYTHON_CMD proves
        # both the language host and the provider shim (via PULUMI_RUNTIME_VIRTUALENV)
        # use the option instead.
        yaml = (project / "Pulumi.yaml").read_text(encoding="utf-8")
        yaml += f"  options:\n    toolchain: pip\n    virtualenv: {json.dumps(sys.prefix)}\n"
        (project / "Pulumi.yaml").write_text(yaml, encoding="utf-8")
        env["PULUMI_PYTHON_CMD"] = str(tmp_path / "no-such-python")

    marker = tmp_path / "marker.txt"

    def pulumi(*args: str) -> str:
        return run_pulumi(project, *args, env=env).stdout

    pulumi("stack", "init", "dev")
    pulumi("config", "set", "markerPath", str(marker))
    pulumi("config", "set", "content", "hello")

    pulumi("up", "--yes")
    assert marker.read_text(encoding="utf-8") == "hello"
    outputs = json.loads(pulumi("stack", "output", "--json"))
    assert outputs == {"path": str(marker), "content": "hello", "size": 5}
    assert _resource_types(json.loads(pulumi("stack", "export"))) == EXPECTED_TYPES

    pulumi("config", "set", "content", "hello, world")
    pulumi("up", "--yes")
    assert marker.read_text(encoding="utf-8") == "hello, world"
    assert json.loads(pulumi("stack", "output", "size")) == 12

    pulumi("preview", "--expect-no-changes")
    pulumi("refresh", "--yes", "--expect-no-changes")
    assert _resource_types(json.loads(pulumi("stack", "export"))) == EXPECTED_TYPES

    pulumi("destroy", "--yes")
    assert not marker.exists()
    assert _resource_types(json.loads(pulumi("stack", "export"))) == []


@pytest.fixture
def smoke_provider(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The smoke project's provider module, imported as top-level ``smoke_provider``
    (the name the provider process will import it by)."""
    monkeypatch.syspath_prepend(str(SMOKE_PROJECT))
    return importlib.import_module("smoke_provider")


def test_automation_inline_lifecycle(
    inline_stack: Callable[..., auto.Stack],
    smoke_provider: ModuleType,
    tmp_path: Path,
) -> None:
    """The same lifecycle as an inline Automation API program."""
    marker = tmp_path / "marker.txt"
    stack = inline_stack("smoke-inline", smoke_provider.program, SMOKE_PROJECT)
    stack.set_all_config(
        {
            "markerPath": auto.ConfigValue(str(marker)),
            "content": auto.ConfigValue("inline"),
        }
    )

    up = stack.up()
    assert up.summary.result == "succeeded"
    # Counts cover the stack and the dynamic resource, not the default provider.
    assert up.summary.resource_changes == {"create": 2}
    assert {k: v.value for k, v in up.outputs.items()} == {
        "path": str(marker),
        "content": "inline",
        "size": 6,
    }
    assert marker.read_text(encoding="utf-8") == "inline"

    preview = stack.preview(expect_no_changes=True)
    assert preview.change_summary == {"same": 2}

    refresh = stack.refresh(expect_no_changes=True)
    assert refresh.summary.result == "succeeded"
    deployment = stack.export_stack()
    assert _resource_types({"deployment": deployment.deployment}) == EXPECTED_TYPES

    destroy = stack.destroy()
    assert destroy.summary.resource_changes == {"delete": 2}
    assert not marker.exists()
    assert _resource_types({"deployment": stack.export_stack().deployment}) == []
    stack.workspace.remove_stack("dev")
