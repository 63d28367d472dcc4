"""Nothing the long README said was lost when it became the documentation site.

`data/readme-before-docs-site.md` is the README as it stood when the site was made from it
(1,245 lines, main at 350b9ae). Every section heading of it must be a heading of a page under
`docs/`, and every command, name and value it quoted (code spans, lines of code blocks), every
phrase it set in bold and the first cell of each table row must appear in the site or in the new
README. The input tables of the resources are the exception: the generated reference pages
(docs/reference/) hold those, and their own test keeps them in step with the code.

Also: the README stays a front page, its links into the site resolve, and every page of docs/
is in mkdocs.yml's nav (mkdocs build --strict says so too, but this runs without MkDocs).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
BEFORE = (Path(__file__).parent / "data" / "readme-before-docs-site.md").read_text(encoding="utf-8")
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def prose_and_code(text: str) -> tuple[list[str], list[str]]:
    """The lines outside fenced code blocks, and the lines inside them."""
    prose: list[str] = []
    code: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            code.append(line)
        else:
            prose.append(line)
    return prose, code


def headings(text: str) -> list[str]:
    prose, _ = prose_and_code(text)
    return [m[1].strip() for line in prose if (m := re.match(r"^#{1,6} (.+)$", line))]


def site_text() -> str:
    pages = [page.read_text(encoding="utf-8") for page in sorted(DOCS.rglob("*.md"))]
    return squash("\n".join([*pages, README]))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def before_facts() -> list[str]:
    """What the old README quoted or stressed, each a string the site must contain."""
    prose, code = prose_and_code(BEFORE)
    facts = {line.strip() for line in code if line.strip()}
    body = " ".join(prose)
    facts |= {m[2].strip() for m in re.finditer(r"(`+)(.+?)\1", body)}
    facts |= {m[1].strip() for m in re.finditer(r"\*\*(.+?)\*\*", body)}
    in_input_table = False
    for line in prose:
        if line.startswith("| input |"):
            in_input_table = True
        elif not line.startswith("|"):
            in_input_table = False
        elif not in_input_table and not line.startswith("|---"):
            facts.add(line.split("|")[1].strip())
    return sorted(fact for fact in facts if fact)


def test_every_readme_section_is_a_heading_of_the_site() -> None:
    site_headings = {
        heading for page in DOCS.rglob("*.md") for heading in headings(page.read_text("utf-8"))
    }
    old = headings(BEFORE)
    assert len(old) >= 38
    missing = [heading for heading in old if heading not in site_headings]
    assert not missing, f"README sections with no heading in docs/: {missing}"


def test_every_command_name_and_value_of_the_readme_is_in_the_site() -> None:
    text = site_text()
    facts = before_facts()
    assert len(facts) > 600
    missing = [fact for fact in facts if squash(fact) not in text]
    assert not missing, f"quoted in the old README, found nowhere in docs/ or README.md: {missing}"


def test_the_readme_is_a_front_page_whose_links_resolve() -> None:
    assert len(README.splitlines()) <= 300
    for command in ("bash scripts/up", "bash scripts/test", "bash scripts/docs serve"):
        assert command in README
    targets = re.findall(r"\]\(((?:docs/|LICENSE)[^)#]*)(?:#[^)]*)?\)", README)
    assert len(targets) > 20
    for target in targets:
        assert (REPO_ROOT / target).exists(), target


def nav_pages() -> set[str]:
    text = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    return set(re.findall(r":\s+(\S+\.md)\s*$", nav, re.M))


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    pages = {page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md")}
    assert nav_pages() == pages


@pytest.mark.parametrize(
    "option", ["font: false", "strict: true", "name: material", "anchors: warn"]
)
def test_the_site_is_strict_and_offline(option: str) -> None:
    # No Google fonts (Material loads them unless font is false), no CDN script, warnings fail.
    config = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert option in config
    assert "https://" not in config.split("\nnav:\n", 1)[0].replace("site_url", "")
