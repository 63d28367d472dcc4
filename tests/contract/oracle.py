# mypy: disable-error-code="import-untyped"
"""Conformance oracle: does an HTTP exchange conform to the MotherDuck Admin API contract?

Why this exists: the provider's client and the in-repo emulator are both written from our reading
of the API. Checking them only against each other would let a shared misreading pass unnoticed.
This oracle checks each exchange against the official contract instead
(``shared/motherduck-admin-api/openapi.json``). It reads the committed reduction of that contract
(``openapi-facts.json``, produced by :mod:`tests.contract.reduce`), so it works on machines that
do not have the ``shared`` folder.

Schema validation follows OpenAPI 3.0, which differs from plain JSON Schema:

* The base dialect is Draft 4. OpenAPI 3.0 schemas use Draft 4 semantics (for example a boolean
  ``exclusiveMinimum``). ``type: number`` accepts integers. ``type: integer`` rejects ``1.5`` and
  also ``1.0``, because the JSON text ``1.0`` is not an integer literal.
* ``nullable: true`` lets ``null`` through ``type`` and ``enum``.
* ``pattern`` runs on the third-party :mod:`regex` module, because the contract uses ``\\p{L}``
  and the standard :mod:`re` module cannot compile it. The pattern is first made to behave like
  ECMA-262 (the dialect JSON Schema specifies): ``\\d`` and ``\\w`` are ASCII only, and ``$``
  matches only at the very end of the string. Python's ``$`` would also match before a trailing
  newline, so ``"abc\\n"`` would wrongly pass as a username.
* ``format`` is an annotation only. No format checker is installed, so ``format: uuid`` never
  causes a failure. The contract does not say which formats a server enforces.

Problems are plain strings. An empty list means the exchange conforms. A schema violation is
rendered as ``"<json path>: <message>"``, for example ``"$.config.read_scaling: 'flock_size' is a
required property"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import regex
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

__all__ = [
    "CLIENT_USER_AGENT_PREFIX",
    "FACTS_PATH",
    "Contract",
    "Exchange",
    "Operation",
    "OpenAPI30Validator",
    "ecma_pattern",
]

FACTS_PATH = Path(__file__).resolve().parent / "openapi-facts.json"
"""The committed contract reduction (regenerate with ``python tests/contract/reduce.py``)."""

CLIENT_USER_AGENT_PREFIX = "motherduck-pulumi/"
"""Our client's ``User-Agent`` prefix. Only requests carrying it are held to the contract."""


# --------------------------------------------------------------------------------------------
# Schema validation (OpenAPI 3.0 flavoured Draft 4)
# --------------------------------------------------------------------------------------------


def ecma_pattern(pattern: str) -> str:
    """Rewrite an ECMA-262 ``pattern`` so that :mod:`regex` matches it the same way.

    Only the differences that matter for realistic contract patterns are handled:
    ``$`` outside a character class becomes ``\\Z`` (end of string only), and ``\\d``/``\\w``
    (and ``\\D``/``\\W`` outside a class) become their ASCII ranges. ``\\p{..}`` and everything
    else pass through unchanged.
    """
    ascii_inside = {"d": "0-9", "w": "A-Za-z0-9_"}
    ascii_outside = {"d": "[0-9]", "w": "[A-Za-z0-9_]", "D": "[^0-9]", "W": "[^A-Za-z0-9_]"}
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            table = ascii_inside if in_class else ascii_outside
            out.append(table.get(nxt, ch + nxt))
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            # A ']' straight after '[' or '[^' is a literal member, not the end of the class.
            j = i + 1
            if j < len(pattern) and pattern[j] == "^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                out.append(pattern[i : j + 1])
                i = j + 1
                continue
        elif ch == "$":
            ch = r"\Z"
        out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> regex.Pattern[str]:
    return regex.compile(ecma_pattern(pattern))


def _pattern(
    validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` keyword on the :mod:`regex` module (``\\p{L}`` support, ECMA-like)."""
    if isinstance(instance, str) and not _compile(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_BASE_TYPE = Draft4Validator.VALIDATORS["type"]
_BASE_ENUM = Draft4Validator.VALIDATORS["enum"]


def _type(
    validator: Validator, types: object, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``type`` that lets ``null`` through when the schema says ``nullable: true``."""
    if instance is None and schema.get("nullable") is True:
        return
    yield from _BASE_TYPE(validator, types, instance, schema)


def _enum(
    validator: Validator, enums: object, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``enum`` that lets ``null`` through when the schema says ``nullable: true``."""
    if instance is None and schema.get("nullable") is True:
        return
    yield from _BASE_ENUM(validator, enums, instance, schema)


# ``extend`` is untyped in types-jsonschema; going through ``Any`` keeps mypy --strict clean
# both with and without the stub package installed.
_extend: Any = extend
OpenAPI30Validator: Any = _extend(
    Draft4Validator, {"pattern": _pattern, "type": _type, "enum": _enum}
)
"""Draft 4 validator class adjusted for OpenAPI 3.0 schema objects (see module docstring)."""


def _deref(node: object, root: Mapping[str, Any], stack: tuple[str, ...] = ()) -> object:
    """Inline every local ``$ref``, so that each operation's schemas are self-contained.

    In OpenAPI 3.0, keys next to a ``$ref`` are ignored, so the reference replaces the whole
    object. The contract has no recursive schemas, so a cycle is an error rather than a case
    to support.
    """
    if isinstance(node, list):
        return [_deref(v, root, stack) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, got {ref!r}")
        if ref in stack:
            raise ValueError(f"recursive reference {ref!r} is not supported")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return _deref(target, root, (*stack, ref))
    return {k: _deref(v, root, stack) for k, v in node.items()}


def _schema_problems(schema: Mapping[str, Any], instance: object) -> list[str]:
    validator = OpenAPI30Validator(schema)
    errors: list[ValidationError] = list(validator.iter_errors(instance))
    rendered = sorted({f"{e.json_path}: {e.message}" for e in errors})
    return rendered


# --------------------------------------------------------------------------------------------
# Operations and path matching
# --------------------------------------------------------------------------------------------

_TEMPLATE_VAR = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class _Route:
    """One ``(method, template)`` of the contract with its dereferenced facts."""

    method: str
    template: str
    regex: re.Pattern[str]
    literal_chars: int
    facts: Mapping[str, Any]


@dataclass(frozen=True)
class Operation:
    """A contract operation matched against a concrete request path.

    ``path_params`` holds the percent-decoded values taken from the concrete path.
    ``facts`` is the operation's entry in the facts file, with every ``$ref`` inlined.
    """

    method: str
    template: str
    operation_id: str
    path_params: dict[str, str] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def parameters(self) -> list[dict[str, Any]]:
        """Declared parameters (``name``, ``in``, ``required``, ``schema``)."""
        params: list[dict[str, Any]] = self.facts.get("parameters", [])
        return params

    @property
    def request_body(self) -> Mapping[str, Any] | None:
        """``{"required": bool, "content": {media type: schema}}`` or ``None``."""
        body: Mapping[str, Any] | None = self.facts.get("requestBody")
        return body

    @property
    def responses(self) -> Mapping[str, Mapping[str, Any]]:
        """``{status: {media type: schema}}`` as declared."""
        responses: Mapping[str, Mapping[str, Any]] = self.facts.get("responses", {})
        return responses


class Exchange(Protocol):
    """What :meth:`Contract.check_exchange` needs from one recorded HTTP exchange.

    The emulator's recording dataclass satisfies this structurally, so the oracle does not
    import the emulator. The members are read-only properties so that narrower attribute types
    in the dataclass (``str`` instead of ``str | None``) still match.
    """

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def user_agent(self) -> str | None: ...
    @property
    def request_json(self) -> object: ...
    @property
    def status(self) -> int: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def response_json(self) -> object: ...
    @property
    def response_text(self) -> str | None: ...


def _media_type(content_type: str | None) -> str:
    """``"application/json; charset=utf-8"`` -> ``"application/json"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _declared_schema(content: Mapping[str, Any], media_type: str) -> tuple[bool, Any]:
    """Find the schema declared for ``media_type``, honouring ``type/*`` and ``*/*`` ranges."""
    major = media_type.split("/", 1)[0]
    for key in (media_type, f"{major}/*", "*/*"):
        if key in content:
            return True, content[key]
    return False, None


def _declared_response(
    responses: Mapping[str, Mapping[str, Any]], status: int
) -> Mapping[str, Any] | None:
    """Exact status first, then an ``NXX`` range, then ``default`` (OpenAPI 3.0 precedence)."""
    for key in (str(status), f"{status // 100}XX", "default"):
        for declared, content in responses.items():
            if declared.upper() == key.upper():
                return content
    return None


def _coerce_path_value(raw: str, schema: Mapping[str, Any]) -> object:
    """Path values are strings on the wire; coerce for non-string schemas before validating."""
    if schema.get("type") in ("integer", "number", "boolean"):
        try:
            value: object = json.loads(raw)
        except ValueError:
            return raw
        return value
    return raw


class Contract:
    """The contract's operations, loaded from the committed facts file."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        """Build the oracle from reduced facts (use :meth:`load` for the committed file)."""
        routes: list[_Route] = []
        for template, item in facts.get("paths", {}).items():
            pattern, literal_chars = self._template_regex(template)
            for method, op in item.items():
                deref = _deref(op, facts)
                assert isinstance(deref, dict)
                routes.append(_Route(method.upper(), template, pattern, literal_chars, deref))
        # Concrete paths win over templated ones (OpenAPI 3.0 "Paths Object").
        routes.sort(key=lambda r: (-r.literal_chars, r.template, r.method))
        self._routes: tuple[_Route, ...] = tuple(routes)
        self.facts: Mapping[str, Any] = facts

    @classmethod
    def load(cls, path: Path | None = None) -> Contract:
        """Read the committed facts file (or another reduction, for tests)."""
        with (path or FACTS_PATH).open(encoding="utf-8") as fh:
            facts: dict[str, Any] = json.load(fh)
        return cls(facts)

    @staticmethod
    def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
        parts: list[str] = []
        literal_chars = 0
        pos = 0
        for var in _TEMPLATE_VAR.finditer(template):
            literal = template[pos : var.start()]
            parts.append(re.escape(literal))
            literal_chars += len(literal)
            parts.append(f"(?P<{var.group(1)}>[^/]+)")
            pos = var.end()
        parts.append(re.escape(template[pos:]))
        literal_chars += len(template) - pos
        return re.compile("".join(parts)), literal_chars

    @property
    def operations(self) -> list[tuple[str, str, str]]:
        """``(METHOD, template, operationId)`` for every operation, in a stable order."""
        return sorted((r.method, r.template, str(r.facts.get("operationId"))) for r in self._routes)

    def match(self, method: str, path: str) -> Operation | None:
        """Find the operation for a concrete request, e.g. ``DELETE /v1/users/a/tokens/b``.

        The query string and fragment are ignored. Templates match whole segments on the raw
        (still percent-encoded) path, so an encoded ``/`` (``%2F``) stays inside one parameter.
        The captured values are then percent-decoded (``%C3%9Cn`` -> ``Ün``). Returns ``None``
        when no operation has this method and path.
        """
        raw_path = urlsplit(path).path or "/"
        wanted = method.upper()
        for route in self._routes:
            if route.method != wanted:
                continue
            m = route.regex.fullmatch(raw_path)
            if m is None:
                continue
            params = {
                name: unquote(value, errors="strict") for name, value in m.groupdict().items()
            }
            return Operation(
                method=route.method,
                template=route.template,
                operation_id=str(route.facts.get("operationId")),
                path_params=params,
                facts=route.facts,
            )
        return None

    def _safe_match(self, method: str, path: str) -> tuple[Operation | None, list[str]]:
        try:
            return self.match(method, path), []
        except UnicodeDecodeError as exc:
            return None, [f"path {path!r} is not valid percent-encoded UTF-8: {exc.reason}"]

    def check_request(self, method: str, path: str, body: object | None) -> list[str]:
        """Problems with a request our client sent. An empty list means it conforms.

        Checked, in order: the operation exists; each path parameter matches its schema (for
        example ``maxLength: 255``); a required body is present; a body sent to an operation
        without a ``requestBody`` is a problem; the body validates against the ``application/json``
        request schema. ``body is None`` means that no body was sent.
        """
        op, problems = self._safe_match(method, path)
        if problems:
            return problems
        if op is None:
            return [f"no operation in the contract for {method.upper()} {urlsplit(path).path}"]
        for param in op.parameters:
            if param.get("in") != "path":
                continue
            name = str(param["name"])
            schema: Mapping[str, Any] = param.get("schema", {})
            if name not in op.path_params:
                problems.append(f"path parameter {name!r} is missing")
                continue
            value = _coerce_path_value(op.path_params[name], schema)
            problems.extend(f"path parameter {name!r} {p}" for p in _schema_problems(schema, value))
        request_body = op.request_body
        if request_body is None:
            if body is not None:
                problems.append(f"{op.operation_id} declares no request body, but one was sent")
            return problems
        if body is None:
            if request_body.get("required"):
                problems.append(f"{op.operation_id} requires a request body, but none was sent")
            return problems
        found, schema = _declared_schema(request_body.get("content", {}), "application/json")
        if not found:
            problems.append(f"{op.operation_id} does not declare an application/json request body")
            return problems
        problems.extend(_schema_problems(schema, body))
        return problems

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str | None,
        body: object | None,
        text: str | None,
    ) -> list[str]:
        """Problems with a response. An empty list means it conforms.

        Rule for statuses and plain-text 404s:

        1. **No operation matches** ``method path``. This is the router's "no route" answer
           and lies outside the contract, but the API has a documented behaviour for it
           (NOTES.md: a plain-text ``Not Found`` without a code). A 404 whose body is not JSON
           is therefore accepted (``[]``). Anything else is reported as a problem: a 2xx means
           the server implements an endpoint the contract lacks, and a JSON 404 or a 405 differs
           from the real API.
        2. **The operation is known, but the status is not declared** for it. The contract
           declares exactly 200/400/401/403/404/500, so 201/204/409/429/502/503 are reported.
           Statuses produced on purpose (fault injection of 429/503 in the emulator) are the
           caller's business: it should leave those exchanges out, not ask the oracle to allow
           them.
        3. **The status is declared.** The content type must be one the contract declares for
           that status, and a JSON body must validate against its schema. A non-JSON response
           to a known operation is a problem, including a plain-text 404. The route exists in
           the contract, so the server must answer with the declared JSON error body (a JSON
           ``NOT_FOUND`` for a missing user or token). The one exception mirrors rule 1: when a
           decoded path parameter contains ``/`` (the client sent ``%2F``), real routers
           usually decode before routing, so a plain-text 404 is the legitimate "no route"
           answer.

        ``body`` is the decoded JSON (``None`` if absent or not JSON) and ``text`` the raw
        body. When ``body`` is ``None``, ``text`` is parsed to tell a JSON ``null`` from a
        non-JSON body.
        """
        media_type = _media_type(content_type)
        op, problems = self._safe_match(method, path)
        if problems:
            return problems
        if op is None or any("/" in v for v in op.path_params.values()):
            if status == 404 and not _is_json(media_type):
                return []
            if op is None:
                return [
                    f"no operation in the contract for {method.upper()} {urlsplit(path).path}"
                    f" (got {status} {media_type or 'without content type'})"
                ]
        assert op is not None
        declared = _declared_response(op.responses, status)
        if declared is None:
            allowed = ", ".join(sorted(op.responses))
            return [f"status {status} is not declared for {op.operation_id} (declares {allowed})"]
        if not declared:
            # A response without content: the body must be empty.
            if (text or "").strip() or body is not None:
                problems.append(f"status {status} of {op.operation_id} declares no body")
            return problems
        found, schema = _declared_schema(declared, media_type)
        if not found:
            kinds = ", ".join(sorted(declared))
            return [
                f"content type {media_type or '(none)'!r} is not declared for status {status}"
                f" of {op.operation_id} (declares {kinds})"
            ]
        if not _is_json(media_type):
            return problems
        instance: object = body
        if body is None:
            try:
                instance = json.loads(text or "")
            except ValueError:
                snippet = (text or "")[:80]
                return [f"status {status} of {op.operation_id}: body is not JSON: {snippet!r}"]
        problems.extend(_schema_problems(schema, instance))
        return problems

    def check_exchange(self, ex: Exchange) -> list[str]:
        """Problems with one recorded exchange, each prefixed with ``request:``/``response:``.

        The response is always checked, because whatever the server answers must conform. The
        request is checked only when ``user_agent`` starts with ``motherduck-pulumi/``, i.e. it
        came from our client. Tests deliberately send invalid requests under other user agents
        to probe the emulator's validation, and those requests are not supposed to conform.
        """
        problems: list[str] = []
        if (ex.user_agent or "").startswith(CLIENT_USER_AGENT_PREFIX):
            problems.extend(
                f"request: {p}" for p in self.check_request(ex.method, ex.path, ex.request_json)
            )
        problems.extend(
            f"response: {p}"
            for p in self.check_response(
                ex.method,
                ex.path,
                ex.status,
                ex.content_type,
                ex.response_json,
                ex.response_text,
            )
        )
        return problems
