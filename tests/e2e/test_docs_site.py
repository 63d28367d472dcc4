"""The documentation checks fail when they should: `mkdocs build --strict` on a broken link or
anchor, and the headless-Chromium page check (tools/docs_check.py) on a page that does not render,
one that loads something from outside the site, and a picture that does not load.

`bash scripts/test` runs `bash scripts/docs build` on the real site (which must pass); these
tests break a copy of it. They need the docs tools in .venv (`bash scripts/docs install`, which
scripts/test runs first) and Debian's chromium.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
MKDOCS = [sys.executable, "-m", "mkdocs"]


def copy_site_sources(dst: Path) -> Path:
    shutil.copy2(REPO_ROOT / "mkdocs.yml", dst / "mkdocs.yml")
    shutil.copytree(REPO_ROOT / "docs", dst / "docs")
    return dst


def build(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MKDOCS, "build", "--strict", "-f", str(project / "mkdocs.yml"), "-d", "site"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_broken_link_or_anchor_fails_the_strict_build(tmp_path: Path) -> None:
    project = copy_site_sources(tmp_path)
    with (project / "docs" / "guides" / "rotation.md").open("a", encoding="utf-8") as page:
        page.write("\nSee [nowhere](no-such-page.md) and [no anchor](fleets.md#no-such-part).\n")
    proc = build(project)
    assert proc.returncode != 0, proc.stderr
    assert "contains a link 'no-such-page.md', but the target" in proc.stderr
    assert "does not contain an anchor '#no-such-part'" in proc.stderr
    assert "Aborted with 2 warnings in strict mode" in proc.stdout + proc.stderr


def test_a_page_left_out_of_the_nav_fails_the_strict_build(tmp_path: Path) -> None:
    project = copy_site_sources(tmp_path)
    (project / "docs" / "orphan.md").write_text("# Orphan\n", encoding="utf-8")
    proc = build(project)
    assert proc.returncode != 0
    assert "orphan.md" in proc.stderr


def test_the_browser_check_fails_on_a_page_that_does_not_render(tmp_path: Path) -> None:
    project = copy_site_sources(tmp_path)
    proc = build(project)
    assert proc.returncode == 0, proc.stderr
    site = project / "site"
    kept = {
        "index.html",
        "guides/rotation/index.html",
        "guides/fleets/index.html",
        "emulator/index.html",
    }
    for html in site.rglob("*.html"):
        if html.relative_to(site).as_posix() not in kept and html.name != "404.html":
            html.unlink()

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.docs_check", str(site)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    passed = check()
    assert passed.returncode == 0, passed.stderr
    assert "4 of 4 pages rendered" in passed.stderr

    (site / "guides" / "rotation" / "index.html").write_text(
        "<html><body><p>half a page</p></body></html>", encoding="utf-8"
    )
    fleets = site / "guides" / "fleets" / "index.html"
    fleets.write_text(
        fleets.read_text(encoding="utf-8").replace(
            "</head>", '<link rel="stylesheet" href="https://fonts.example.com/x.css"></head>'
        ),
        encoding="utf-8",
    )
    emulator = site / "emulator" / "index.html"
    emulator.write_text(
        emulator.read_text(encoding="utf-8").replace(
            "</article>", '<img src="../assets/missing.svg" alt="missing"></article>'
        ),
        encoding="utf-8",
    )
    failed = check()
    assert failed.returncode == 1, failed.stderr
    assert "FAILED guides/rotation/: no Material header" in failed.stderr
    assert "FAILED guides/rotation/: no h1 in the content" in failed.stderr
    assert (
        "FAILED guides/fleets/: fetched from outside the site: https://fonts.example.com/x.css"
        in (failed.stderr)
    )
    assert "FAILED emulator/: picture did not load: ../assets/missing.svg" in failed.stderr
    assert "1 of 4 pages rendered" in failed.stderr
