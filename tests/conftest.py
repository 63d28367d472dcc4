"""Shared fixtures: `emulator`, a running Admin API emulator held to the official contract.

Every exchange a test makes with the emulator is checked against the contract when the test
ends: responses always, requests when our client sent them (its user agent). Exchanges shaped
by injected faults (gateway errors, dropped connections) are outside the contract; a 429 (a
fault or the shared rate limit) must still carry the contract's error body.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from motherduck_provider.emulator import EmulatorServer
from motherduck_provider.emulator.operations import OPERATIONS
from motherduck_provider.emulator.store import Exchange
from tests.contract.oracle import Contract

# The operations the emulator serves: today every operation of the contract. One the emulator
# does not serve answers "no route" there, so its exchanges are out of scope.
EMULATED = frozenset(op.operation_id for op in OPERATIONS)

ADMIN_TOKEN = "md-emulator-test-admin-token"


@pytest.fixture(autouse=True)
def _no_held_warnings() -> Iterator[None]:
    """Warnings one test's deletes held (`resources/_held.py`) never reach another's output,
    and what one test's providers saw of a "run" (accounts declared, leaving, holding their
    config: `service_account.reset_run`) never silences another's warnings."""
    yield
    accounts = sys.modules.get("motherduck_provider.resources.service_account")
    if accounts is not None:
        accounts.reset_run()
    held = sys.modules.get("motherduck_provider.resources._held")
    if held is not None:
        with held._lock:
            held._held.clear()


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The official Admin API contract (the committed, reduced copy)."""
    return Contract.load()


def contract_problems(server: EmulatorServer, contract: Contract) -> list[str]:
    """Every way the traffic of this emulator drifted from the contract.

    A 429 (a fault or the shared rate limit) has no status in the contract, but its body
    must still be the API's error shape: it is checked as the declared 500 would be.
    """
    return [
        f"{ex.method} {ex.path} -> {ex.status}: {problem}"
        for ex in server.store.exchanges
        if _in_scope(contract, ex.method, ex.path)
        for problem in _exchange_problems(contract, ex)
    ]


def _exchange_problems(contract: Contract, ex: Exchange) -> list[str]:
    if ex.fault is None:
        return contract.check_exchange(ex)
    if ex.status == 429:
        return contract.check_response(
            ex.method, ex.path, 500, ex.content_type, ex.response_json, ex.response_text
        )
    return []


def _in_scope(contract: Contract, method: str, path: str) -> bool:
    operation = contract.match(method, path)
    return operation is None or operation.operation_id in EMULATED


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[EmulatorServer]:
    """One server for the session: starting and stopping uvicorn per test costs ~0.2 s."""
    with EmulatorServer(admin_token=ADMIN_TOKEN) as server:
        yield server


@pytest.fixture
def emulator(_emulator_server: EmulatorServer, contract: Contract) -> Iterator[EmulatorServer]:
    """An emulator with empty state (accounts, logs, faults, clock reset for each test).

    The test fails if its traffic broke the contract.
    """
    _emulator_server.store.reset()
    yield _emulator_server
    problems = contract_problems(_emulator_server, contract)
    _emulator_server.store.reset()
    assert not problems, "traffic drifted from the contract:\n" + "\n".join(problems)


_skipped_e2e: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember end-to-end tests that skipped: in CI that means the engine never ran."""
    if report.skipped and "e2e" in report.keywords:
        _skipped_e2e.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (CI=true) a skipped end-to-end test is a failure, not a pass."""
    if _skipped_e2e and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        print("\nend-to-end tests skipped in CI:\n  " + "\n  ".join(_skipped_e2e))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
