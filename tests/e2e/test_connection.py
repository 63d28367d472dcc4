"""Two organizations in one program: the second through a `Connection`, each its own emulator.

Each organization gets exactly its own objects; the second's admin token is read in the
provider process from the stack config key the connection names, and appears nowhere in
plain text: not in state, the pickled provider, or the CLI output.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from motherduck_provider.emulator import EmulatorServer
from tests.conftest import contract_problems
from tests.contract.oracle import Contract
from tests.e2e.conftest import EmulatorStack

pytestmark = pytest.mark.e2e

PROGRAM = Path(__file__).resolve().parent / "programs" / "two_orgs"
SECOND_TOKEN = "md-second-organization-admin-token"


@pytest.fixture
def second(contract: Contract) -> Iterator[EmulatorServer]:
    """The second organization's emulator, held to the contract like the first."""
    with EmulatorServer(admin_token=SECOND_TOKEN) as server:
        yield server
        problems = contract_problems(server, contract)
    assert not problems, "traffic drifted from the contract:\n" + "\n".join(problems)


def test_resources_of_two_organizations(
    emulator: EmulatorServer,
    second: EmulatorServer,
    emulator_stack: Callable[..., EmulatorStack],
) -> None:
    stack = emulator_stack(PROGRAM, {"secondUrl": second.url})
    stack.run("config", "set", "--secret", "second:token", SECOND_TOKEN)

    printed = [stack.preview(), stack.up()]
    assert list(emulator.store.users) == ["etl_writer"]
    assert list(second.store.users) == ["bi_reader"]
    assert emulator.store.list_tokens("etl_writer") == []
    (live,) = second.store.list_tokens("bi_reader")
    outputs = stack.outputs()
    assert outputs["their_token_id"] == live.id
    assert [t["id"] for t in outputs["their_tokens"]["tokens"]] == [live.id]

    # The second organization's provider carries the names of the token's sources only.
    (theirs,) = [
        r for r in stack.resources("ServiceAccount") if r["outputs"]["username"] == "bi_reader"
    ]
    pickle = base64.b64decode(theirs["inputs"]["__provider"])
    assert b"second:token" in pickle and second.url.encode() in pickle
    everything = [
        stack.state_text(),
        json.dumps(stack.export()),
        pickle.decode("latin-1"),
        *(p.stdout + p.stderr for p in printed),
    ]
    assert not [text for text in everything if SECOND_TOKEN in text]

    writes = (emulator.store.write_count, second.store.write_count)
    stack.refresh("--expect-no-changes")
    assert (emulator.store.write_count, second.store.write_count) == writes
    stack.destroy()
    assert emulator.store.users == {} and second.store.users == {}
