"""Open every page of the built documentation site in a real headless Chromium and fail on one
that does not render.

`mkdocs build --strict` proves the links and the nav; only a browser proves that each page
comes up as a Material page: served with status 200, its scripts run without an error, header,
navigation, content and an h1 there, every picture loaded, and nothing fetched from outside the
site (the site must work offline: no CDN, no web fonts). Run by `bash scripts/docs build`.

    python -m tools.docs_check [SITE_DIR]    # default: site
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Page, Route, sync_playwright  # type: ignore[import-not-found, unused-ignore]

CHROMIUM = os.environ.get("MOTHERDUCK_CHROMIUM", "/usr/bin/chromium")
# What Chromium needs on a machine without internet: without the background-networking flags it
# keeps trying Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# What a rendered Material page has; evaluated in the page.
PROBE = """() => {
  const h1 = document.querySelector('.md-content h1');
  return {
    js: document.documentElement.classList.contains('js'),
    header: !!document.querySelector('header.md-header'),
    nav: !!document.querySelector('nav.md-nav--primary'),
    content: !!document.querySelector('.md-content article'),
    h1: h1 ? h1.textContent.trim() : '',
    title: document.title,
    brokenImages: [...document.images]
      .filter(img => !img.complete || img.naturalWidth === 0)
      .map(img => img.getAttribute('src')),
  };
}"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """The site over HTTP on a free loopback port (pages use directory URLs, not file://)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pages(site: Path) -> list[str]:
    """Every built page as a URL path; 404.html is MkDocs' not-found page, not a page of ours."""
    found = []
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site).as_posix()
        if rel == "404.html":
            continue
        found.append(rel.removesuffix("index.html"))
    return found


def check_page(page: Page, base: str, path: str) -> list[str]:
    """What is wrong with one page, empty when it rendered."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"script error: {exc}"))
    response = page.goto(base + path, wait_until="load")
    if response is None or response.status != 200:
        return [f"HTTP {response.status if response else 'no answer'}"]
    found = page.evaluate(PROBE)
    for part in ("js", "header", "nav", "content"):
        if not found[part]:
            errors.append(f"no Material {part} (the theme did not render)")
    if not found["h1"]:
        errors.append("no h1 in the content")
    if "404" in found["title"] or found["h1"].startswith("404"):
        errors.append(f"a not-found page: {found['title']!r}")
    errors.extend(f"picture did not load: {src}" for src in found["brokenImages"])
    return errors


def check_site(site: Path) -> int:
    paths = pages(site)
    if not paths:
        print(f"docs_check: no pages under {site}", file=sys.stderr)
        return 1
    failures: dict[str, list[str]] = {}
    start = time.monotonic()
    with serve(site) as base, sync_playwright() as playwright:
        outside: list[str] = []

        def only_the_site(route: Route) -> None:
            if route.request.url.startswith(base):
                route.continue_()
            else:  # a CDN, a web font, an analytics call: the site must not need the internet
                outside.append(route.request.url)
                route.abort()

        with tempfile.TemporaryDirectory(prefix="docs-check-chromium-") as profile:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                context.route("**/*", only_the_site)
                for path in paths:
                    page = context.new_page()
                    outside.clear()
                    try:
                        problems = check_page(page, base, path)
                    except Exception as exc:  # a timeout or a crashed tab is a failed page
                        problems = [f"{type(exc).__name__}: {exc}".splitlines()[0]]
                    finally:
                        page.close()
                    problems.extend(f"fetched from outside the site: {url}" for url in outside)
                    if problems:
                        failures[path or "/"] = problems
            finally:
                context.close()
    seconds = time.monotonic() - start
    for path, problems in failures.items():
        for problem in problems:
            print(f"docs_check: FAILED {path}: {problem}", file=sys.stderr)
    print(
        f"docs_check: {len(paths) - len(failures)} of {len(paths)} pages rendered in Chromium "
        f"({seconds:.1f}s)",
        file=sys.stderr,
    )
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("site", nargs="?", default="site", type=Path)
    args = parser.parse_args(argv)
    return check_site(args.site)


if __name__ == "__main__":
    sys.exit(main())
