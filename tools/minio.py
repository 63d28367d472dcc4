"""Build (once, cached) the MinIO server the object-store tests keep Pulumi's state in.

`minio` comes from the Go module proxy (`github.com/minio/minio`, served as a pseudo-version and
pinned by tools/minio/go.mod, whose `tool` line keeps its graph in go.sum) and is built into
`${MOTHERDUCK_PULUMI_CACHE:-~/.cache/motherduck-pulumi}/minio-<version>/bin`, with a stamp of
the inputs' hash, under a lock, as scripts/install-pulumi builds the CLI: a second call is
instant, and a call while another process builds waits for that build instead of starting one.
scripts/test can start it in the background early (`python -m tools.minio &`); the tests that
need it wait for it through one session fixture (tests/e2e/conftest.py, `object_store`).

    python -m tools.minio    # prints the bin dir

`serve(data_dir)` starts `minio server` on a free loopback port with fixed credentials and
creates a bucket (one SigV4-signed PUT, no boto3 needed): what `pulumi login s3://...` needs.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.gobuild import cache_root, cached, digest, go, go_env, required_version

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = REPO_ROOT / "tools" / "minio"
PACKAGE = "github.com/minio/minio"
BINARY = "minio"
# `go build` arguments (with CGO_ENABLED=0 from go_env): part of the stamp, so a change rebuilds.
# Compiled without optimisations (`-N -l`): a test server that answers a few hundred requests
# does not need them, and its build from an empty cache then takes 260 CPU-seconds instead of
# 366 (measured 2026-12-07), on a fresh machine whose two cores are busy with the tests.
BUILD_ARGS = ("-trimpath", "-gcflags=all=-N -l", "-ldflags", "-s -w")

ACCESS_KEY = "motherduck-pulumi"
SECRET_KEY = "motherduck-pulumi-secret"  # a test server's on loopback, not a secret
REGION = "us-east-1"


def pinned_version() -> str:
    """The minio pseudo-version go.mod requires (the one source of truth)."""
    return required_version(MODULE_DIR, "github.com/minio/minio")


@functools.cache
def install_minio() -> Path:
    """The bin dir holding `minio`, built if missing or stale (waits for a build under way)."""
    inputs = sorted(p for p in MODULE_DIR.iterdir() if p.is_file())
    # The stamp holds what the binary is made of (the module's files, the build's arguments),
    # not this file: changing the server's start-up below does not rebuild it.
    stamp = f"minio {pinned_version()} inputs {digest(*inputs)} build {' '.join(BUILD_ARGS)}"

    def build(work: Path) -> None:
        print(f"minio: building {BINARY} {pinned_version()}", file=sys.stderr)
        started = time.monotonic()
        subprocess.run(
            [go(), "build", *BUILD_ARGS, "-o", f"{work}/bin/", PACKAGE],
            cwd=MODULE_DIR,
            env=go_env(),
            check=True,
            stdout=sys.stderr,
        )
        print(f"minio: built in {time.monotonic() - started:.0f}s", file=sys.stderr)

    target = cache_root() / f"minio-{pinned_version()}"
    bin_dir = cached(target, stamp, build) / "bin"
    if not (bin_dir / BINARY).is_file():
        raise RuntimeError(f"{bin_dir} has no {BINARY}; remove it to build it again")
    return bin_dir


@dataclass(frozen=True)
class Server:
    """A running MinIO: where it listens, its credentials, the bucket made for the tests."""

    endpoint: str  # host:port
    bucket: str
    process: subprocess.Popen[bytes]

    def url(self, prefix: str = "") -> str:
        """The `pulumi login` URL of the bucket (or of a prefix in it: one backend per test)."""
        path = f"/{prefix.strip('/')}" if prefix else ""
        # MinIO sends no response checksums: without `when_required` the AWS SDK warns about
        # each response on stderr ("Response has no supported checksum").
        return (
            f"s3://{self.bucket}{path}?endpoint={self.endpoint}&disableSSL=true"
            "&s3ForcePathStyle=true&response_checksum_validation=when_required"
        )

    def env(self) -> dict[str, str]:
        """The variables Pulumi's S3 backend reads its credentials and region from."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signed(method: str, endpoint: str, path: str, body: bytes = b"") -> urllib.request.Request:
    """A request signed with AWS Signature Version 4, as S3 wants it (`path` URL-safe)."""
    now = datetime.datetime.now(datetime.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    headers = {"host": endpoint, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed_names = ";".join(sorted(headers))
    canonical = "\n".join(
        [method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed_names]
    )
    canonical += "\n" + payload
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{SECRET_KEY}".encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://{endpoint}{path}", data=body or None, method=method)
    for name, value in headers.items():
        if name != "host":
            request.add_header(name, value)
    request.add_header(
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, "
        f"SignedHeaders={signed_names}, Signature={signature}",
    )
    return request


def create_bucket(endpoint: str, bucket: str, wait: float = 60) -> None:
    """PUT /<bucket>: S3's CreateBucket (an existing bucket of ours is fine). A server that
    answers `ready` may still refuse with 503 while it initialises: that is tried again."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(_signed("PUT", endpoint, f"/{bucket}"), timeout=30):
                return
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            if "BucketAlreadyOwnedByYou" in body:
                return
            if error.code != 503 or time.monotonic() > deadline:
                problem = f"creating bucket {bucket}: HTTP {error.code}: {body}"
                raise RuntimeError(problem) from error
        time.sleep(0.2)


def put_object(endpoint: str, bucket: str, key: str, body: bytes) -> None:
    """PUT /<bucket>/<key>: write one object (a test's way to break a stack file)."""
    with urllib.request.urlopen(_signed("PUT", endpoint, f"/{bucket}/{key}", body), timeout=30):
        pass


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"minio exited with {process.returncode}:\n{log.read_text()}")
        try:
            url = f"http://{endpoint}/minio/health/ready"
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"minio did not get ready on {endpoint} in 60s:\n{log.read_text()}")


@contextlib.contextmanager
def serve(data_dir: Path, bucket: str = "pulumi-state") -> Iterator[Server]:
    """`minio server` on a free loopback port over `data_dir`, with `bucket` made; stopped after."""
    binary = install_minio() / BINARY
    data_dir.mkdir(parents=True, exist_ok=True)
    endpoint = f"127.0.0.1:{_free_port()}"
    log = data_dir.parent / f"{data_dir.name}.log"
    env = {
        **os.environ,
        "MINIO_ROOT_USER": ACCESS_KEY,
        "MINIO_ROOT_PASSWORD": SECRET_KEY,
        "MINIO_BROWSER": "off",
        "MINIO_UPDATE": "off",
        "MINIO_CI_CD": "1",  # no warnings about a single drive on a root disk
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(binary), "server", "--quiet", "--address", endpoint, str(data_dir / "data")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(endpoint, process, log)
        create_bucket(endpoint, bucket)
        yield Server(endpoint=endpoint, bucket=bucket, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    print(install_minio())
