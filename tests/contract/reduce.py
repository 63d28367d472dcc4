"""Reduce the MotherDuck Admin API OpenAPI document to the facts the oracle needs.

Why this exists: the full contract lives outside this repository, in
``<checkout>/shared/motherduck-admin-api/openapi.json``. CI and developer machines have that
folder; a user's machine does not. So the repository carries a committed, reduced copy
(``tests/contract/openapi-facts.json``) that the conformance oracle loads, and a test proves the
committed copy still equals ``reduce_spec(<shared spec>)`` whenever the shared folder exists.

The reduction keeps only what can make a request or response conform or not: paths, methods,
``operationId``, parameters (``name``, ``in``, ``required``, ``schema``), request bodies
(``required``, content type -> schema), responses (status -> content type -> schema),
``security``, ``components.schemas``, ``components.securitySchemes`` and ``servers``. Prose and
annotations (``description``, ``summary``, ``example``, ``examples``, ``title`` and every ``x-*``
extension) are dropped recursively. The walk is schema-aware: a *property* that happens to be
called ``description`` or ``title`` (a key inside a ``properties`` map) is data, not prose, and
is kept.

Run ``python tests/contract/reduce.py`` to regenerate the facts file from ``../shared``, or
``python tests/contract/reduce.py --check`` to only report whether it is up to date.

This module uses only the standard library so that it can run as a plain script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "FACTS_PATH",
    "HTTP_METHODS",
    "REPO_ROOT",
    "SHARED_DIR",
    "SHARED_SPEC_PATH",
    "dump_facts",
    "reduce_spec",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout root (the directory holding ``pyproject.toml``)."""

SHARED_DIR = REPO_ROOT.parent / "shared"
"""Sibling folder that exists in CI and on developer machines, not on users' machines."""

SHARED_SPEC_PATH = SHARED_DIR / "motherduck-admin-api" / "openapi.json"
"""The official (full) contract."""

FACTS_PATH = Path(__file__).resolve().parent / "openapi-facts.json"
"""The committed reduction that the oracle reads."""

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
"""Keys of an OpenAPI path item that are operations (anything else is not)."""

# Annotation keys: prose or samples that never affect whether a message conforms.
_ANNOTATION_KEYS = frozenset({"description", "summary", "example", "examples", "title"})

# Schema keywords whose values are maps from *names* to subschemas. Keys in these maps are
# property names (data), so they are never treated as annotations.
_NAMED_SUBSCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs"})

# Schema keywords whose values are literal JSON data, copied verbatim (an enum member or a
# default that is an object may legitimately contain a "description" key).
_LITERAL_KEYWORDS = frozenset({"enum", "const", "default", "required"})


def _is_annotation(key: str) -> bool:
    return key in _ANNOTATION_KEYS or key.startswith("x-")


def _strip(node: Any) -> Any:
    """Drop annotation keys from a non-schema object (servers, security schemes)."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if not _is_annotation(k)}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _reduce_schema(schema: Any) -> Any:
    """Drop annotations from a schema object without touching property names or literals."""
    if isinstance(schema, list):
        return [_reduce_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref":
            out[key] = value
        elif _is_annotation(key):
            continue
        elif key in _LITERAL_KEYWORDS:
            out[key] = value
        elif key in _NAMED_SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _reduce_schema(sub) for name, sub in value.items()}
        else:
            out[key] = _reduce_schema(value)
    return out


def _resolve_local(spec: dict[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` on a parameter/requestBody/response object.

    Schema ``$ref`` s are kept (``components.schemas`` is part of the facts), but references to
    ``components.parameters``/``requestBodies``/``responses`` are inlined because those
    component sections are not part of the reduced document.
    """
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref: str = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve reference {ref!r}")
        seen.add(ref)
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _reduce_content(content: Any) -> dict[str, Any]:
    """``{media type: {schema: ...}}`` -> ``{media type: schema}`` (``{}`` when no schema)."""
    if not isinstance(content, dict):
        return {}
    return {
        media_type: _reduce_schema(media.get("schema", {}) if isinstance(media, dict) else {})
        for media_type, media in content.items()
    }


def _reduce_parameters(spec: dict[str, Any], params: list[Any]) -> list[dict[str, Any]]:
    out = []
    for raw in params:
        param = _resolve_local(spec, raw)
        fact: dict[str, Any] = {
            "name": param["name"],
            "in": param["in"],
            # Path parameters are always required (OpenAPI 3.0 section 4.7.12).
            "required": bool(param.get("required", param["in"] == "path")),
            "schema": _reduce_schema(param.get("schema", {})),
        }
        out.append(fact)
    return sorted(out, key=lambda p: (p["in"], p["name"]))


def _reduce_operation(
    spec: dict[str, Any], op: dict[str, Any], path_params: list[Any]
) -> dict[str, Any]:
    # Operation-level parameters override path-item-level ones with the same (name, in).
    merged: dict[tuple[str, str], Any] = {}
    for raw in [*path_params, *op.get("parameters", [])]:
        param = _resolve_local(spec, raw)
        merged[(param["name"], param["in"])] = param
    facts: dict[str, Any] = {
        "operationId": op.get("operationId"),
        "parameters": _reduce_parameters(spec, list(merged.values())),
        "responses": {
            str(status): _reduce_content(_resolve_local(spec, response).get("content"))
            for status, response in op.get("responses", {}).items()
            if not _is_annotation(str(status))
        },
        "security": _strip(op.get("security", spec.get("security", []))),
    }
    if "requestBody" in op:
        body = _resolve_local(spec, op["requestBody"])
        facts["requestBody"] = {
            "required": bool(body.get("required", False)),
            "content": _reduce_content(body.get("content")),
        }
    return facts


def reduce_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the conformance facts of an OpenAPI 3.0 document (see the module docstring).

    Shape::

        {
          "openapi": "3.0.3",
          "servers": [{"url": ...}],
          "paths": {template: {method: {
              "operationId": str,
              "parameters": [{"name", "in", "required", "schema"}],   # sorted by (in, name)
              "requestBody": {"required": bool, "content": {media type: schema}},  # optional
              "responses": {status: {media type: schema}},
              "security": [...]}}},
          "components": {"schemas": {...}, "securitySchemes": {...}},
        }
    """
    paths: dict[str, Any] = {}
    for template, item in spec.get("paths", {}).items():
        if _is_annotation(template):
            continue
        item = _resolve_local(spec, item)
        path_params = item.get("parameters", [])
        ops = {
            method: _reduce_operation(spec, op, path_params)
            for method, op in item.items()
            if method in HTTP_METHODS
        }
        if ops:
            paths[template] = ops
    components = spec.get("components", {})
    return {
        "openapi": spec.get("openapi"),
        "servers": _strip(spec.get("servers", [])),
        "paths": paths,
        "components": {
            "schemas": {
                name: _reduce_schema(schema)
                for name, schema in components.get("schemas", {}).items()
            },
            "securitySchemes": _strip(components.get("securitySchemes", {})),
        },
    }


def dump_facts(facts: dict[str, Any]) -> str:
    """Canonical text of the facts file: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(facts, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Regenerate (or, with ``--check``, verify) the committed facts file from ../shared."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spec", type=Path, default=SHARED_SPEC_PATH, help="full openapi.json")
    parser.add_argument("--out", type=Path, default=FACTS_PATH, help="facts file to write")
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    spec_path: Path = args.spec
    out_path: Path = args.out
    if not spec_path.is_file():
        print(f"contract not found: {spec_path}", file=sys.stderr)
        return 2
    text = dump_facts(reduce_spec(json.loads(spec_path.read_text(encoding="utf-8"))))
    current = out_path.read_text(encoding="utf-8") if out_path.is_file() else None
    if args.check:
        if current != text:
            print(f"{out_path} is out of date; run: python {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{out_path} is up to date")
        return 0
    if current != text:
        out_path.write_text(text, encoding="utf-8")
        print(f"wrote {out_path}")
    else:
        print(f"{out_path} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
