"""The pytest plugin, as a user's own suite sees it: run by pytest in a child process, found
through the package's `pytest11` entry point (no conftest line)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

USER_TESTS = textwrap.dedent(
    """
    import httpx

    def admin_get(emulator, path):
        headers = {"Authorization": f"Bearer {emulator.admin_token}"}
        return httpx.get(emulator.url + path, headers=headers)

    def test_seed_and_read(motherduck_emulator):
        control = motherduck_emulator.control
        (seeded,) = control.seed([{"username": "legacy", "tokens": [{"name": "nightly"}]}])
        control.set_duckling("legacy", "rw", "active")
        listed = admin_get(motherduck_emulator, "/v1/active_accounts").json()
        assert listed["accounts"][0]["username"] == "legacy"
        assert seeded["tokens"][0]["token"]
        assert motherduck_emulator.env["MOTHERDUCK_API_BASE_URL"] == motherduck_emulator.url
        control.add_faults("error@users-listTokens,status=503,count=1")
        assert admin_get(motherduck_emulator, "/v1/users/legacy/tokens").status_code == 503
        assert control.counters()["requests"] == 2

    def test_state_is_fresh_for_each_test(motherduck_emulator):
        assert motherduck_emulator.control.usernames() == []
        assert motherduck_emulator.control.faults()["rules"] == []
        assert motherduck_emulator.server.store.request_count == 0
    """
)

WITHOUT_EXTRA = textwrap.dedent(
    """
    import sys

    sys.modules["starlette"] = None  # as if installed without the `emulator` extra

    def test_needs_the_extra(motherduck_emulator):
        pass
    """
)


def run_user_suite(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_entry_point_names_the_plugin() -> None:
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "motherduck_emulator"]
    assert plugin.value == "motherduck_provider.pytest_plugin"


def test_a_users_suite_gets_the_fixture(tmp_path: Path) -> None:
    proc = run_user_suite(tmp_path, USER_TESTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_without_the_extra_the_fixture_says_what_to_install(tmp_path: Path) -> None:
    proc = run_user_suite(tmp_path, WITHOUT_EXTRA)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pip install 'motherduck-pulumi[emulator]'" in proc.stdout
    assert "(starlette missing)" in proc.stdout
    assert "Traceback" not in proc.stdout
