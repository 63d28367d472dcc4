"""The command line: `python -m motherduck_provider.emulator` serves until terminated."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time

import httpx
import pytest

TOKEN = "cli-test-admin-token"


def _read_line(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError("the emulator printed nothing")
    return proc.stdout.readline().strip()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MOTHERDUCK_EMULATOR_ADMIN_TOKEN", None)
    return env


def test_cli_serves_until_terminated() -> None:
    command = [
        sys.executable,
        "-m",
        "motherduck_provider.emulator",
        "--port",
        "0",
        "--admin-token",
        TOKEN,
        "--fault",
        "error@users-listTokens,status=503,count=1",
        "--rate-limit",
        "1000,burst=500",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    ) as proc:
        try:
            url = _read_line(proc)
            assert url.startswith("http://127.0.0.1:")
            headers = {"Authorization": f"Bearer {TOKEN}"}
            with httpx.Client(base_url=url, headers=headers) as http:
                assert http.get("/_emulator/health").json() == {"status": "ok"}
                assert http.post("/v1/users", json={"username": "alice"}).status_code == 200
                assert http.get("/v1/users/alice/tokens").status_code == 503
                assert http.get("/v1/users/alice/tokens").status_code == 200
                limit = http.get("/_emulator/faults").json()["limit"]
                assert limit == {
                    "rate": 1000.0,
                    "burst": 500,
                    "admitted": 3,
                    "limited": 0,
                    "early": 0,
                }
        finally:
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
        assert TOKEN not in stdout + stderr + url


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "--allow-remote"),
        (["--fault", "explode"], "kind"),
        (["--latency", "-1"], "latency"),
        (["--rate-limit", "0"], "rate"),
        (["--rate-limit", "20,burst=x"], "burst"),
    ],
)
def test_cli_rejects_bad_arguments(args: list[str], message: str) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "motherduck_provider.emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(),
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert time.monotonic() - started < 30
