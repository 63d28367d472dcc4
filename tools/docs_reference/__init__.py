"""Reference pages and pictures generated from the code, so they cannot drift from it.

`python -m tools.docs_reference` writes docs/reference/*.md and the diagrams under
docs/assets/; `--check` writes nothing and fails naming each page that differs (the unit test
`tests/unit/test_docs_reference.py` does the same). The benchmark charts are `bench/chart.py`'s.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
COMMAND = "python -m tools.docs_reference"


def render() -> dict[Path, str]:
    """Every generated file (path relative to the repository root) and its content."""
    from .pages import PAGES
    from .pictures import PICTURES

    files = {Path("docs/reference") / name: build() for name, build in PAGES.items()}
    files.update({Path("docs/assets") / name: build() for name, build in PICTURES.items()})
    return files


def stale(root: Path = ROOT) -> list[Path]:
    """The generated files whose committed content differs from what the code gives now."""
    return [
        path
        for path, text in render().items()
        if not (root / path).exists() or (root / path).read_text() != text
    ]


def write(root: Path = ROOT) -> list[Path]:
    """Write every generated file; returns the ones that changed."""
    changed = stale(root)
    for path, text in render().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return changed
