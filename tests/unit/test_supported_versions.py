"""The supported versions are said once in each place that needs them, and agree: pyproject.toml
(bounds, classifiers, mypy and ruff targets), scripts/find-python (what bootstrap takes),
scripts/matrix (what is tested), the CLI floor (tools/pulumi-cli-floor, `pulumi_cli`), and the
table of docs/supported-versions.md (the site's Supported versions page). Also the CLI check the
recover command runs first.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from motherduck_provider import pulumi_cli, recover

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SUPPORTED_VERSIONS_PAGE = (REPO_ROOT / "docs" / "supported-versions.md").read_text(encoding="utf-8")


def floors() -> dict[str, str]:
    project = PYPROJECT["project"]
    found = {}
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["emulator"]]:
        match = re.match(r"^([a-z0-9-]+)>=([0-9.]+)", requirement)
        assert match, requirement
        found[match[1]] = match[2]
    return found


def supported_pythons() -> list[str]:
    text = (REPO_ROOT / "scripts" / "find-python").read_text(encoding="utf-8")
    match = re.search(r"^SUPPORTED=\(([^)]*)\)", text, re.M)
    assert match
    return sorted(match[1].split())


def test_python_versions_agree() -> None:
    pythons = supported_pythons()
    assert pythons == ["3.11", "3.12", "3.13"]
    classifiers = [
        c.rsplit(" :: ", 1)[1]
        for c in PYPROJECT["project"]["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert sorted(classifiers) == pythons
    assert PYPROJECT["project"]["requires-python"] == f">={pythons[0]}"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == pythons[0]
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + pythons[0].replace(".", "")
    # Every supported Python has a matrix cell (3.11, the default interpreter, has several).
    listed = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "matrix"), "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert set(re.findall(r"Python (3\.\d+)", listed)) == set(pythons)


def test_the_docs_table_says_what_pyproject_and_the_cli_floor_say() -> None:
    table = SUPPORTED_VERSIONS_PAGE.split("# Supported versions", 1)[1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")
    }
    assert "3.11" in rows["Python"] and "3.13" in rows["Python"]
    for name, floor in floors().items():
        (row,) = [line for key, line in rows.items() if f"`{name}`" in key]
        assert f"{floor}" in row.split("|")[2], (name, floor, row)
    go_mod = (REPO_ROOT / "tools" / "pulumi-cli-floor" / "go.mod").read_text(encoding="utf-8")
    assert f"github.com/pulumi/pulumi/pkg/v3 v{pulumi_cli.MIN_CLI}" in go_mod
    pinned = (REPO_ROOT / "tools" / "pulumi-cli" / "go.mod").read_text(encoding="utf-8")
    pinned_version = re.search(r"github.com/pulumi/pulumi/pkg/v3 v([0-9.]+)", pinned)
    assert pinned_version
    (cli_row,) = [line for key, line in rows.items() if "CLI" in key]
    assert pulumi_cli.MIN_CLI in cli_row.split("|")[2]
    assert pinned_version[1] in cli_row.split("|")[3]


def fake_pulumi(tmp_path: Path, version_line: str, status: int = 0) -> str:
    script = tmp_path / "pulumi"
    script.write_text(f"#!/bin/sh\necho '{version_line}'\nexit {status}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    ("line", "status", "too_old"),
    [
        ("v3.162.1", 0, True),
        ("v2.25.2", 0, True),
        ("v3.163.0", 0, False),
        ("v3.274.1-dev.0", 0, False),
        ("not a version", 0, False),  # unreadable: let the next command say what is wrong
        ("v3.100.0", 1, False),
    ],
)
def test_require_cli(tmp_path: Path, line: str, status: int, too_old: bool) -> None:
    pulumi = fake_pulumi(tmp_path, line, status)
    if too_old:
        with pytest.raises(pulumi_cli.PulumiCLITooOld) as info:
            pulumi_cli.require_cli(pulumi)
        assert str(info.value).startswith(f"the Pulumi CLI ({pulumi}) is {line};")
        assert f"needs v{pulumi_cli.MIN_CLI} or newer" in str(info.value)
    else:
        pulumi_cli.require_cli(pulumi)
    pulumi_cli.require_cli(str(tmp_path / "no-such-pulumi"))


def test_recover_refuses_an_old_cli_before_touching_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pulumi = fake_pulumi(tmp_path, "v3.150.0")
    assert recover.main(["--pulumi", pulumi, "--cwd", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"is v3.150.0; motherduck-pulumi needs v{pulumi_cli.MIN_CLI} or newer" in err
