"""Find and repair a file backend that a killed `pulumi` left unable to load the stack.

The file backend stores each blob `X` with a metadata sidecar `X.attrs` (gocloud.dev's
fileblob). A write puts the blob in `X.<hex>.tmp`, then writes `X.attrs` *in place*
(create, then write), then renames the tmp file over `X`. A process killed between create and
write leaves `X.attrs` empty, and every later read of `X` fails: `failed to load checkpoint: EOF`
for the stack file, for `pulumi cancel` too. The blob itself is the previous, whole version, and
fileblob treats a *missing* sidecar as "no attributes", which Pulumi never uses. So the repair
is: move a sidecar fileblob cannot decode out of the backend (keeping it), nothing else.

What is checked: `.pulumi/meta.yaml` and, for the one stack, its checkpoint, the `.bak`, its
lock, history and backup files. What is refused: a checkpoint that does not parse (the
previous version is the `.bak`; choosing is the user's call) and any non-file backend.
A truncated `*.tmp` file beside the stack file is never read (stack listing skips it): it is
reported and left alone. One in the lock directory is read as a lock (`pulumi up` fails with
`unexpected end of JSON input`) until `pulumi cancel` removes it, as it removes every lock.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import shutil
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import yaml

CLOUD_URL = "https://api.pulumi.com"
SIDECAR = ".attrs"
# Where moved sidecars go, beside `.pulumi` in the backend's root: nothing Pulumi lists.
SAVED_DIR = ".motherduck-recover"
CHECKPOINT_SUFFIXES = (".json", ".json.gz", ".json.zst")
_STRING_ATTRS = (
    "user.cache_control",
    "user.content_disposition",
    "user.content_encoding",
    "user.content_language",
    "user.content_type",
)


class StorageRefused(RuntimeError):
    """The stack file does not parse: nothing here can be proven broken; the message says why."""


class StackNotFound(LookupError):
    """Which stack, or where its file is, is unknown here: the check is skipped, not failed."""


@dataclass(frozen=True)
class Backend:
    """Where the stack's state lives and which setting said so."""

    url: str
    source: str

    def root(self, cwd: Path) -> Path | None:
        """The bucket directory of a `file://` backend (as the CLI resolves it); else None."""
        if not self.url.startswith("file://"):
            return None
        path = unquote(self.url[len("file://") :].split("?", 1)[0])
        if path == "~" or path.startswith("~/"):
            path = str(Path.home() / path[2:])
        return (cwd / path).resolve()


def find_backend(cwd: Path, env: Mapping[str, str]) -> Backend:
    """The backend URL as the CLI picks it: env, then Pulumi.yaml, then the current login."""
    if env.get("PULUMI_BACKEND_URL"):
        return Backend(env["PULUMI_BACKEND_URL"], "PULUMI_BACKEND_URL")
    backend = (_project(cwd).get("backend") or {}) if (cwd / "Pulumi.yaml").exists() else {}
    if isinstance(backend, dict) and backend.get("url"):
        return Backend(str(backend["url"]), "Pulumi.yaml backend.url")
    credentials = _pulumi_home(env) / "credentials.json"
    try:
        current = json.loads(credentials.read_text(encoding="utf-8")).get("current")
    except (OSError, ValueError):
        current = None
    if current:
        return Backend(str(current), f"the current login ({credentials})")
    return Backend(CLOUD_URL, "the default (Pulumi Cloud)")


OBJECT_STORES = ("s3", "gs", "azblob")


def object_store_note(backend: Backend) -> str:
    """What recover says about a non-file backend before it goes on (nothing to repair there)."""
    if urlsplit(backend.url).scheme in OBJECT_STORES:
        return (
            f"storage: {backend.url.split('?', 1)[0]} is an object store, which writes each "
            "object whole: nothing to repair (the lock a killed run left goes with --cancel)"
        )
    return f"storage: {backend.url} keeps the state: nothing to repair"


def other_backend_advice(backend: Backend, project: str = "", stack: str = "") -> str:
    """What to do when a non-file backend cannot load the stack: the exact commands that put
    the previous version of the stack file back (this module repairs files only)."""
    parts = urlsplit(backend.url)
    if parts.scheme in OBJECT_STORES:
        key = f".pulumi/stacks/{project or '<project>'}/{stack or '<stack>'}.json"
        prefix = parts.path.strip("/")
        if prefix:
            key = f"{prefix}/{key}"
        return (
            f"The stack lives in {backend.url} (from {backend.source}), which this command does "
            "not repair: object stores write an object and its metadata in one request, so an "
            "empty sidecar cannot be the cause. The stack file does not load; its previous "
            "version is the .bak beside it (older ones: .pulumi/backups/, or the bucket's object "
            "versions). Keep a copy of the stack file and put the .bak in its place:\n"
            + "\n".join(f"  {line}" for line in _restore_commands(parts, key))
            + "\nthen run this command again."
        )
    return (
        f"The stack lives in {backend.url} (from {backend.source}), which this command does not "
        "repair. Pulumi Cloud keeps every checkpoint: find the last good update with "
        "`pulumi stack history`, save it with `pulumi stack export --version N --file good.json`, "
        "restore it with `pulumi stack import --file good.json`, then run this command again."
    )


def _restore_commands(parts: SplitResult, key: str) -> list[str]:
    """The copy-aside and restore commands of `key` in the bucket of `parts` (its own CLI)."""
    query = parse_qs(parts.query)
    name = key.rsplit("/", 1)[-1]
    if parts.scheme == "s3":
        url = f"s3://{parts.netloc}/{key}"
        options = ""
        endpoint = (query.get("endpoint") or [""])[-1]
        if endpoint:
            plain = any(
                (query.get(flag) or ["false"])[-1].lower() in ("1", "true")
                for flag in ("disableSSL", "disable_https")
            )
            if "://" not in endpoint:
                endpoint = f"{'http' if plain else 'https'}://{endpoint}"
            options += f" --endpoint-url {endpoint}"
        region = (query.get("region") or [""])[-1]
        if region:
            options += f" --region {region}"
        return [
            f"aws s3 cp {url} ./{name}.broken{options}",
            f"aws s3 cp {url}.bak {url}{options}",
        ]
    if parts.scheme == "gs":
        url = f"gs://{parts.netloc}/{key}"
        return [f"gcloud storage cp {url} ./{name}.broken", f"gcloud storage cp {url}.bak {url}"]
    account = (query.get("storage_account") or ["$AZURE_STORAGE_ACCOUNT"])[-1]
    where = f"--account-name {account} --container-name {parts.netloc}"
    return [
        f"az storage blob download {where} --name {key} --file ./{name}.broken",
        f"az storage blob copy start --account-name {account} --destination-container "
        f"{parts.netloc} --destination-blob {key} --source-container {parts.netloc} "
        f"--source-blob {key}.bak",
    ]


@dataclass
class Diagnosis:
    """What a look at one stack's files found."""

    checkpoint: Path
    broken: list[Path] = field(default_factory=list)
    """Sidecars of existing blobs that fileblob cannot decode (each makes a read fail)."""
    strays: list[Path] = field(default_factory=list)
    """Temporary files of killed writes beside the stack file; Pulumi never reads them."""
    stray_locks: list[Path] = field(default_factory=list)
    """Temporary files in the lock directory: read as locks until `pulumi cancel` removes them."""


def diagnose(root: Path, project: str, stack: str) -> Diagnosis:
    """Look at the stack's files under `root`; refuse if its checkpoint does not parse."""
    state = root / ".pulumi"
    checkpoint, scoped = _checkpoint(state, project, stack)
    problem = _checkpoint_problem(checkpoint)
    if problem:
        raise StorageRefused(_unparsable(state, checkpoint, problem))
    parts = (project, stack) if scoped else (stack,)
    lock_parts = ("organization", project, stack) if scoped else (stack,)
    blobs = [state / "meta.yaml", checkpoint, Path(f"{checkpoint}.bak")]
    dirs = [
        state.joinpath("locks", *lock_parts),
        state.joinpath("history", *parts),
        state.joinpath("backups", *parts),
    ]
    blobs += [p for d in dirs if d.is_dir() for p in sorted(d.iterdir()) if p.is_file()]
    found = Diagnosis(checkpoint)
    for blob in blobs:
        sidecar = Path(f"{blob}{SIDECAR}")
        if blob.name.endswith(SIDECAR) or not blob.is_file() or not sidecar.exists():
            continue  # fileblob reads a sidecar only with its blob, and lists no sidecar
        if not sidecar_readable(sidecar.read_bytes()):
            found.broken.append(sidecar)
    locks = dirs[0]
    found.strays = sorted(checkpoint.parent.glob(f"{stack}.json*.tmp"))
    found.stray_locks = sorted(locks.glob("*.tmp")) if locks.is_dir() else []
    return found


def repair(root: Path, broken: list[Path], now: datetime | None = None) -> list[tuple[Path, Path]]:
    """Move each broken sidecar to `<root>/.motherduck-recover/<UTC time>/...`; (from, to) pairs."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    moved = []
    for sidecar in broken:
        target = root / SAVED_DIR / stamp / sidecar.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(sidecar, target)
        sidecar.unlink()
        moved.append((sidecar, target))
    return moved


def sidecar_readable(data: bytes) -> bool:
    """Whether fileblob (Go's json.Decoder into its attributes struct) can read this sidecar."""
    try:
        text = data.decode("utf-8").lstrip(" \t\r\n")
        value, _ = json.JSONDecoder().raw_decode(text)
    except (UnicodeDecodeError, ValueError):
        return False  # zero-length (EOF), cut short or not JSON
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    if any(not isinstance(value.get(key, ""), str | None) for key in _STRING_ATTRS):
        return False
    metadata = value.get("user.metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        return False
    md5 = value.get("md5")
    if md5 is None:
        return True
    try:
        return isinstance(md5, str) and base64.b64decode(md5, validate=True) is not None
    except (binascii.Error, ValueError):
        return False


def selected_stack(
    cwd: Path, backend: Backend, env: Mapping[str, str], requested: str | None
) -> tuple[str, str]:
    """(project, stack) of `--stack` or of the stack `pulumi stack select` chose here."""
    project = str(_project(cwd).get("name") or "")
    name = requested
    if not name:
        manifest = (cwd / "Pulumi.yaml").resolve()
        digest = hashlib.sha1(str(manifest).encode(), usedforsecurity=False).hexdigest()
        settings = _pulumi_home(env) / "workspaces" / f"{project}-{digest}-workspace.json"
        try:
            name = (json.loads(settings.read_text(encoding="utf-8")).get("stacks") or {}).get(
                backend.url
            )
        except (OSError, ValueError):
            name = None
    if not name:
        raise StackNotFound("no stack is selected here (pass --stack NAME)")
    parts = str(name).split("/")
    return (parts[-2] if len(parts) == 3 else project), parts[-1]


def project_settings(cwd: Path) -> dict[str, Any]:
    """`Pulumi.yaml` of `cwd` as a mapping ({} when missing or unreadable)."""
    return _project(cwd)


def _project(cwd: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load((cwd / "Pulumi.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _pulumi_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")


def _checkpoint(state: Path, project: str, stack: str) -> tuple[Path, bool]:
    """The stack file: project-scoped `stacks/<project>/<stack>.json[.gz]`, else legacy."""
    for scoped, folder in ((True, state / "stacks" / project), (False, state / "stacks")):
        for suffix in CHECKPOINT_SUFFIXES:
            path = folder / f"{stack}{suffix}"
            if path.is_file():
                return path, scoped
    raise StackNotFound(f"no stack file for {project}/{stack} under {state / 'stacks'}")


def _checkpoint_problem(path: Path) -> str:
    """Why the checkpoint does not parse as Pulumi reads it (by content), or ''."""
    data = path.read_bytes()
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:4] == b"\x28\xb5\x2f\xfd":
            return "it is zstd-compressed, which this command cannot read"
        parsed = json.loads(data)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return "" if isinstance(parsed, dict) else "it is not a JSON object"


def _unparsable(state: Path, checkpoint: Path, problem: str) -> str:
    backup = Path(f"{checkpoint}.bak")
    if backup.is_file() and not _checkpoint_problem(backup):
        fix = (
            f"Its previous version {backup} parses: keep a copy of the stack file, put the "
            f"backup in its place (`cp {checkpoint} {checkpoint}.broken && cp {backup} "
            f"{checkpoint}`), then run this command again"
        )
    else:
        fix = (
            f"{backup} is missing or does not parse either: restore the stack file from "
            f"{state / 'backups'} or your own copies, then run this command again"
        )
    return (
        f"the stack file {checkpoint} does not parse ({problem}); this command changes "
        f"nothing it cannot prove broken. {fix}"
    )
