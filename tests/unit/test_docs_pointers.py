"""Messages, docstrings and comments that send the reader to the documentation name a place that
exists: a page path (`docs/recover.md`) or "the docs, <title>" where the title is a page's nav
title or a heading of a page. The README is a front page now, so none of them points into it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
SCANNED = ("motherduck_provider", "tools", "scripts", "bench", "pyproject.toml")


def scanned_files() -> dict[str, str]:
    """The tracked files of the scanned places, each on one line: pointers wrap across comment
    lines and adjacent string literals."""
    listed = subprocess.run(
        ["git", "ls-files", *SCANNED], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    texts = {}
    for name in listed:
        path = REPO_ROOT / name
        if path.suffix in {".svg", ".png", ".json", ".sum"} or not path.is_file():
            continue
        text = re.sub(r'"\s*\n\s*f?"', "", path.read_text(encoding="utf-8"))
        text = re.sub(r"\n\s*(?:#+|//|\*)?\s*", " ", text)
        texts[name] = re.sub(r"\s+", " ", text)
    return texts


def titles() -> set[str]:
    nav = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    found = {m[1].strip() for m in re.finditer(r"^\s*- ([^:]+): \S+\.md\s*$", nav, re.M)}
    for page in DOCS.rglob("*.md"):
        found |= {
            m[1].strip().strip("`")
            for m in re.finditer(r"^#{1,6} (.+)$", page.read_text("utf-8"), re.M)
        }
    return found


def test_no_pointer_into_the_readme() -> None:
    stale = [
        f"{name}: {m[0]}"
        for name, text in scanned_files().items()
        for m in re.finditer(r"README[:,]|the README\b", text)
    ]
    assert not stale, stale


def test_every_pointer_into_the_docs_names_a_page_or_heading_that_exists() -> None:
    known = titles()
    pointers = 0
    for name, text in scanned_files().items():
        for m in re.finditer(r"\bdocs/[\w/-]+\.md\b", text):
            pointers += 1
            assert (REPO_ROOT / m[0]).is_file(), f"{name}: {m[0]}"
        for m in re.finditer(r"\bthe docs, ([A-Z][^.;:()]*)", text):
            pointers += 1
            assert m[1].strip() in known, f"{name}: {m[0]}"
    assert pointers >= 8


def test_the_recovery_messages_name_the_docs_page() -> None:
    # The two messages a user sees after a killed run, verbatim from the code.
    pointer = "see the docs, Faults and interrupted runs"
    texts = scanned_files()
    for module in ("recover.py", "resources/service_account.py"):
        assert pointer in texts[f"motherduck_provider/{module}"], module
