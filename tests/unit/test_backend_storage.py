"""Finding and repairing a file backend a killed checkpoint write left unreadable.

A fake backend dir in the layout of Pulumi's file backend (fileblob: every blob `X` has a
metadata sidecar `X.attrs`), put into each partial state of a checkpoint write: the backup
copy (`.bak`) first, then the stack file, each as tmp file, sidecar written in place, rename.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from motherduck_provider import backend_storage as storage

GOOD_ATTRS = (
    b'{"user.cache_control":"","user.content_disposition":"","user.content_encoding":"",'
    b'"user.content_language":"","user.content_type":"text/plain; charset=utf-8",'
    b'"user.metadata":null,"md5":"SDmFsgwcEwJk1zaNcT0USg=="}\n'
)
CHECKPOINT = {"version": 3, "checkpoint": {"stack": "organization/proj/dev", "latest": {}}}


def blob(path: Path, data: bytes, attrs: bytes | None = GOOD_ATTRS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if attrs is not None:
        Path(f"{path}.attrs").write_bytes(attrs)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A backend holding stack proj/dev after a finished `up` (stack file, .bak, history)."""
    state = tmp_path / "state" / ".pulumi"
    text = json.dumps(CHECKPOINT).encode()
    blob(state / "meta.yaml", b"version: 1\n")
    blob(state / "stacks" / "proj" / "dev.json", text)
    blob(state / "stacks" / "proj" / "dev.json.bak", text)
    blob(state / "history" / "proj" / "dev" / "dev-1.history.json", b"{}")
    blob(state / "stacks" / "proj" / "other.json", b"{}", attrs=b"")  # another stack's
    return tmp_path / "state"


def stack_file(root: Path, suffix: str = "") -> Path:
    return root / ".pulumi" / "stacks" / "proj" / f"dev.json{suffix}"


def test_a_whole_backend_has_nothing_broken(root: Path) -> None:
    found = storage.diagnose(root, "proj", "dev")
    assert found.checkpoint == stack_file(root)
    assert found.broken == [] and found.strays == []


@pytest.mark.parametrize(
    "sidecar",
    [b"", b"\n", b'{"user.cache_control":"","user.content_dis', b"\x00\x00", b"[1]"],
    ids=["empty", "blank", "cut-short", "zeros", "not-an-object"],
)
def test_an_unreadable_sidecar_of_the_stack_file_is_found_and_moved(
    root: Path, sidecar: bytes
) -> None:
    """Killed while writing the stack file's sidecar: that sidecar, and nothing else, goes."""
    attrs = Path(f"{stack_file(root)}.attrs")
    attrs.write_bytes(sidecar)
    tmp = blob(stack_file(root, ".18c0ffee.tmp"), json.dumps(CHECKPOINT).encode(), attrs=None)
    found = storage.diagnose(root, "proj", "dev")
    assert found.broken == [attrs]
    assert found.strays == [tmp]
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    [(source, saved)] = storage.repair(root, found.broken, now=when)
    assert source == attrs and not attrs.exists()
    assert saved == root / ".motherduck-recover" / "20260102T030405.000000Z" / attrs.relative_to(
        root
    )
    assert saved.read_bytes() == sidecar  # the copy is kept, outside `.pulumi`
    assert tmp.exists()  # left alone: stack listing skips it and nothing reads it
    assert storage.diagnose(root, "proj", "dev").broken == []


def test_a_truncated_tmp_file_alone_changes_nothing(root: Path) -> None:
    """Killed while writing the tmp file of the stack file or its .bak: reported, left."""
    tmps = [
        blob(stack_file(root, ".bak.1a.tmp"), b'{"version": 3, "chec', attrs=None),
        blob(stack_file(root, ".1b.tmp"), b'{"vers', attrs=None),
    ]
    found = storage.diagnose(root, "proj", "dev")
    assert found.broken == [] and found.strays == sorted(tmps)


def test_a_missing_bak_is_no_problem(root: Path) -> None:
    """Killed before the first `.bak` was renamed into place: nothing to repair."""
    stack_file(root, ".bak").unlink()
    Path(f"{stack_file(root, '.bak')}.attrs").write_bytes(b"")  # an orphan: never read
    assert storage.diagnose(root, "proj", "dev").broken == []


def test_a_broken_sidecar_of_the_bak_is_moved(root: Path) -> None:
    bak_attrs = Path(f"{stack_file(root, '.bak')}.attrs")
    bak_attrs.write_bytes(b"")
    assert storage.diagnose(root, "proj", "dev").broken == [bak_attrs]


def test_a_tmp_file_in_the_lock_directory_is_reported_as_a_lock(root: Path) -> None:
    """Killed while taking the lock: `pulumi up` reads the tmp file as a lock, cancel removes it."""
    locks = root / ".pulumi" / "locks" / "organization" / "proj" / "dev"
    tmp = blob(locks / "abc.json.18aa.tmp", b'{"pid":12', attrs=None)
    found = storage.diagnose(root, "proj", "dev")
    assert found.stray_locks == [tmp] and found.strays == [] and found.broken == []


def test_broken_sidecars_of_meta_lock_and_history_are_found(root: Path) -> None:
    state = root / ".pulumi"
    lock = blob(state / "locks" / "organization" / "proj" / "dev" / "abc.json", b"{}", b"")
    meta = Path(f"{state / 'meta.yaml'}.attrs")
    meta.write_bytes(b'{"user.cache')
    history = state / "history" / "proj" / "dev" / "dev-1.history.json.attrs"
    history.write_bytes(b"")
    found = storage.diagnose(root, "proj", "dev")
    assert sorted(found.broken) == sorted([meta, Path(f"{lock}.attrs"), history])


def test_another_stacks_files_are_not_touched(root: Path) -> None:
    other = root / ".pulumi" / "stacks" / "proj" / "other.json.attrs"
    assert other.read_bytes() == b""  # broken, but not this stack's
    assert storage.diagnose(root, "proj", "dev").broken == []


@pytest.mark.parametrize("bak_parses", [True, False])
def test_a_stack_file_that_does_not_parse_is_refused(root: Path, bak_parses: bool) -> None:
    """Nothing is moved; the message points at the .bak when that parses, and guesses nothing."""
    stack_file(root).write_bytes(b'{"version": 3, "checkpoint": {"sta')
    Path(f"{stack_file(root)}.attrs").write_bytes(b"")
    if not bak_parses:
        stack_file(root, ".bak").write_bytes(b"garbage")
    with pytest.raises(storage.StorageRefused) as refused:
        storage.diagnose(root, "proj", "dev")
    message = str(refused.value)
    assert "does not parse" in message and "changes nothing" in message
    if bak_parses:
        assert f"cp {stack_file(root, '.bak')} {stack_file(root)}" in message
    else:
        assert "does not parse either" in message
    assert Path(f"{stack_file(root)}.attrs").exists()


def test_a_gzip_stack_file_is_read_as_pulumi_reads_it(root: Path) -> None:
    stack_file(root).rename(stack_file(root, ".gz"))
    Path(f"{stack_file(root)}.attrs").rename(f"{stack_file(root, '.gz')}.attrs")
    stack_file(root, ".gz").write_bytes(gzip.compress(json.dumps(CHECKPOINT).encode()))
    assert storage.diagnose(root, "proj", "dev").checkpoint == stack_file(root, ".gz")
    stack_file(root, ".gz").write_bytes(gzip.compress(b"{}")[:-6])  # cut short
    with pytest.raises(storage.StorageRefused):
        storage.diagnose(root, "proj", "dev")


def test_legacy_layout(tmp_path: Path) -> None:
    state = tmp_path / ".pulumi"
    blob(state / "stacks" / "dev.json", json.dumps(CHECKPOINT).encode(), attrs=b"")
    found = storage.diagnose(tmp_path, "proj", "dev")
    assert found.broken == [Path(f"{state / 'stacks' / 'dev.json'}.attrs")]


def test_no_stack_file_means_the_check_is_skipped(root: Path) -> None:
    with pytest.raises(storage.StackNotFound):
        storage.diagnose(root, "proj", "prod")


def test_sidecar_decoding_follows_fileblob() -> None:
    assert storage.sidecar_readable(GOOD_ATTRS)
    assert storage.sidecar_readable(b"null")
    assert storage.sidecar_readable(b'{"md5":null} trailing')  # Go's Decoder reads one value
    assert not storage.sidecar_readable(b'{"md5":"not base64!"}')
    assert not storage.sidecar_readable(b'{"user.metadata":{"a":1}}')
    assert not storage.sidecar_readable(b'{"user.content_type":3}')


# --- where the backend is ---------------------------------------------------------------------


def test_backend_url_comes_from_env_then_project_then_login(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "credentials.json").write_text(json.dumps({"current": "s3://bucket"}))
    env = {"PULUMI_HOME": str(home)}
    assert storage.find_backend(tmp_path, env).url == "s3://bucket"
    (tmp_path / "Pulumi.yaml").write_text("name: proj\nbackend:\n  url: file://./state\n")
    found = storage.find_backend(tmp_path, env)
    assert found.source == "Pulumi.yaml backend.url"
    assert found.root(tmp_path) == tmp_path / "state"
    env["PULUMI_BACKEND_URL"] = "file://~/x?no_tmp_dir=false"
    assert storage.find_backend(tmp_path, env).root(tmp_path) == Path.home() / "x"
    nowhere = {"PULUMI_HOME": str(tmp_path / "none")}
    assert storage.find_backend(home, nowhere).url == storage.CLOUD_URL


def test_selected_stack_comes_from_the_workspace_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: proj\nruntime: python\n")
    home = tmp_path / "home"
    digest = hashlib.sha1(str((tmp_path / "Pulumi.yaml").resolve()).encode()).hexdigest()
    settings = home / "workspaces" / f"proj-{digest}-workspace.json"
    settings.parent.mkdir(parents=True)
    backend = storage.Backend(f"file://{tmp_path}/state", "env")
    settings.write_text(json.dumps({"stacks": {backend.url: "organization/proj/dev"}}))
    env = {"PULUMI_HOME": str(home)}
    assert storage.selected_stack(tmp_path, backend, env, None) == ("proj", "dev")
    assert storage.selected_stack(tmp_path, backend, env, "prod") == ("proj", "prod")
    with pytest.raises(storage.StackNotFound):
        storage.selected_stack(tmp_path, backend, {"PULUMI_HOME": str(tmp_path)}, None)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("s3://bucket/state", "object versions"),
        ("gs://bucket", "object versions"),
        ("azblob://container", "object versions"),
        ("https://api.pulumi.com", "pulumi stack export --version"),
    ],
)
def test_other_backends_get_advice_and_no_repair(url: str, says: str, tmp_path: Path) -> None:
    backend = storage.Backend(url, "PULUMI_BACKEND_URL")
    assert backend.root(tmp_path) is None
    advice = storage.other_backend_advice(backend)
    assert says in advice and "does not repair" in advice and url in advice


@pytest.mark.parametrize(
    ("url", "commands"),
    [
        (
            "s3://state/team?endpoint=127.0.0.1:9000&disableSSL=true&s3ForcePathStyle=true",
            [
                "aws s3 cp s3://state/team/.pulumi/stacks/proj/dev.json ./dev.json.broken "
                "--endpoint-url http://127.0.0.1:9000",
                "aws s3 cp s3://state/team/.pulumi/stacks/proj/dev.json.bak "
                "s3://state/team/.pulumi/stacks/proj/dev.json --endpoint-url http://127.0.0.1:9000",
            ],
        ),
        (
            "s3://state?region=eu-west-1",
            [
                "aws s3 cp s3://state/.pulumi/stacks/proj/dev.json.bak "
                "s3://state/.pulumi/stacks/proj/dev.json --region eu-west-1"
            ],
        ),
        (
            "gs://state/team",
            [
                "gcloud storage cp gs://state/team/.pulumi/stacks/proj/dev.json.bak "
                "gs://state/team/.pulumi/stacks/proj/dev.json"
            ],
        ),
        (
            "azblob://state?storage_account=acct",
            [
                "az storage blob copy start --account-name acct --destination-container state "
                "--destination-blob .pulumi/stacks/proj/dev.json --source-container state "
                "--source-blob .pulumi/stacks/proj/dev.json.bak"
            ],
        ),
    ],
)
def test_object_store_advice_names_the_exact_commands(url: str, commands: list[str]) -> None:
    """An object store cannot be repaired in place: the advice puts the .bak back, exactly."""
    advice = storage.other_backend_advice(storage.Backend(url, "env"), "proj", "dev")
    for command in commands:
        assert f"\n  {command}" in advice, advice
    assert advice.endswith("then run this command again.")
    assert "nothing to repair" in storage.object_store_note(storage.Backend(url, "env"))
