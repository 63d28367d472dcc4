"""A trivial dynamic provider for the engine smoke tests.

``Marker`` writes a file on create and removes it on delete, so the tests can
observe that the engine really ran the provider process
(``pulumi-resource-pulumi-python``). The provider class lives in this importable
module, not in ``__main__``: the Python SDK pickles it by reference, so the
provider process must be able to ``import smoke_provider`` (it runs with the
project directory as its working directory; inline Automation API programs put
this directory on ``PYTHONPATH``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)


class MarkerProvider(ResourceProvider):
    """Manages one text file: ``path`` (replaces on change) holding ``content``."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        path = Path(props["path"])
        path.write_text(props["content"], encoding="utf-8")
        return CreateResult(id_=str(path), outs={**props, "size": len(props["content"])})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = Path(id_)
        if not path.exists():
            return ReadResult(None, {})
        content = path.read_text(encoding="utf-8")
        return ReadResult(id_, {**props, "path": id_, "content": content, "size": len(content)})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = ["path"] if olds.get("path") != news.get("path") else []
        changed = bool(replaces) or olds.get("content") != news.get("content")
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        Path(id_).write_text(news["content"], encoding="utf-8")
        return UpdateResult(outs={**news, "size": len(news["content"])})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        Path(id_).unlink(missing_ok=True)


class Marker(Resource):
    """A file managed by :class:`MarkerProvider`."""

    path: pulumi.Output[str]
    content: pulumi.Output[str]
    size: pulumi.Output[int]

    def __init__(
        self,
        name: str,
        path: pulumi.Input[str],
        content: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            MarkerProvider(),
            name,
            {"path": path, "content": content, "size": None},
            opts,
        )


def program() -> None:
    """The stack program, shared by ``__main__.py`` and the inline Automation API test."""
    config = pulumi.Config()
    marker = Marker("marker", path=config.require("markerPath"), content=config.require("content"))
    pulumi.export("path", marker.path)
    pulumi.export("content", marker.content)
    pulumi.export("size", marker.size)
