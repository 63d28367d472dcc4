"""A program with more than 1,000 dynamic resources constructs without RecursionError.

The SDK's `serialize_provider` wraps pickle's dict writer once more per dynamic resource and
never unwraps it (see `resources/_pickle_guard.py`); before the guard, the 985th resource of a
program raised RecursionError. The program runs in a child process under Pulumi's mocks, so
the runtime settings it installs do not leak into other tests.
"""

from __future__ import annotations

import textwrap

from tests.child import last_json

PROGRAM = textwrap.dedent(
    """
    import json, pickle
    import pulumi

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return [args.name + "-id", args.inputs]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)

    from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

    before = pickle._Pickler._batch_setitems
    size = {"instance_size": "standard"}
    flock = {"instance_size": "standard", "flock_size": 1}
    made = 0
    for i in range(400):
        account = ServiceAccount(f"a{i}", username=f"user_{i}")
        AccessToken(f"t{i}", username=account.username, name="ci")
        InstanceConfig(f"c{i}", username=account.username, read_write=size, read_scaling=flock)
        made += 3
    print(json.dumps({"made": made, "restored": pickle._Pickler._batch_setitems is before}))
    """
)


def test_more_than_a_thousand_dynamic_resources_construct() -> None:
    assert last_json(PROGRAM) == {"made": 1200, "restored": True}
