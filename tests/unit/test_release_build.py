"""The pure parts of the release build (tools/release.py); the build itself and every
artifact are tested end to end in tests/e2e/test_release.py."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from tools import release


@pytest.mark.parametrize("version", ["0.1.0", "1.20.3", "10.0.0"])
def test_plain_versions_are_taken(version: str) -> None:
    assert release.check_version(version) == version


@pytest.mark.parametrize("version", ["0.1", "v0.1.0", "0.2.0rc1", "0.2.0-rc.1", "01.0.0", ""])
def test_other_spellings_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="MAJOR.MINOR.PATCH"):
        release.check_version(version)


def test_the_default_version_is_the_package_s() -> None:
    from motherduck_provider._version import __version__

    assert release.package_version() == __version__


def test_the_plugin_package_carries_the_pythons_bootstrap_supports() -> None:
    find_python = (release.REPO_ROOT / "scripts" / "find-python").read_text()
    supported = re.search(r"^SUPPORTED=\(([^)]*)\)", find_python, re.MULTILINE)
    assert supported and sorted(supported[1].split()) == list(release.PYTHONS)


def test_sha256sums_is_what_sha256sum_checks(tmp_path: Path) -> None:
    (tmp_path / "b.whl").write_bytes(b"wheel")
    (tmp_path / "a.tgz").write_bytes(b"npm")
    sums = release.write_sums(tmp_path)
    assert sums.read_text() == "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in [("a.tgz", b"npm"), ("b.whl", b"wheel")]
    )
    subprocess.run(["sha256sum", "--strict", "-c", sums.name], cwd=tmp_path, check=True)
    assert release.write_sums(tmp_path).read_text() == sums.read_text()  # not summed itself


def test_pulumi_plugin_json_gets_the_version(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pulumi-plugin.json").write_text('{"resource": true, "name": "m"}')
    release.stamp_plugin_json(tmp_path, "1.2.3")
    written = json.loads((tmp_path / "pkg" / "pulumi-plugin.json").read_text())
    assert written == {"resource": True, "name": "m", "version": "1.2.3"}


def test_the_go_module_requires_what_its_code_imports_at_the_pinned_versions() -> None:
    text = release.go_mod("example.com/sdk/motherduck")
    assert text.startswith("module example.com/sdk/motherduck\n\ngo 1.")
    assert re.search(r"\nrequire \(\n\tgithub\.com/blang/semver v\S+\n", text)
    assert re.search(r"\n\tgithub\.com/pulumi/pulumi/sdk/v3 v3\.\d+\.\d+\n\)\n$", text)
