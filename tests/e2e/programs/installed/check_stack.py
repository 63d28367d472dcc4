"""The user's own test of their program (copied as test_stack.py; see test_packaging.py).

It is the README's example with a few more checks: the `motherduck_emulator` fixture comes
from the installed package's pytest plugin, the stack runs through the Automation API.
"""

import sys
from pathlib import Path

from pulumi import automation as auto


def test_program(motherduck_emulator, tmp_path):
    env = {
        **motherduck_emulator.env,
        "PULUMI_BACKEND_URL": tmp_path.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "test",
    }
    stack = auto.create_stack("test", work_dir=".", opts=auto.LocalWorkspaceOptions(env_vars=env))
    stack.preview()
    assert motherduck_emulator.control.counters()["writes"] == 0
    up = stack.up()
    assert motherduck_emulator.control.usernames() == ["etl_writer"]
    assert up.outputs["token"].secret
    assert up.outputs["live_config"].value["read_write"]["instance_size"] == "standard"
    installed = Path(up.outputs["package_file"].value).resolve()
    assert installed.is_relative_to(Path(sys.prefix).resolve()), installed
    stack.refresh(expect_no_changes=True)
    stack.destroy()
    assert motherduck_emulator.control.usernames() == []
