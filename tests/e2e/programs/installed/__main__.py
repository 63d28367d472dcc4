"""A user's own Pulumi program, run from the installed wheel (tests/e2e/test_packaging.py).

The test writes its Pulumi.yaml (pointing at a fresh virtualenv) and copies `check_stack.py`
next to it as the user's own pytest test.
"""

import pulumi

import motherduck_provider
from motherduck_provider import (
    AccessToken,
    InstanceConfig,
    ServiceAccount,
    get_duckling_config_output,
)

account = ServiceAccount("etl", username="etl_writer")
token = AccessToken("etl-token", username=account.username, name="etl-token", ttl=30 * 86_400)
ducklings = InstanceConfig(
    "etl-ducklings",
    username=account.username,
    read_write={"instance_size": "standard"},
    read_scaling={"instance_size": "pulse", "flock_size": 1},
)
pulumi.export("token", token.token)
# Read after the config is written: the input comes from the InstanceConfig's outputs.
pulumi.export("live_config", get_duckling_config_output(ducklings.username))
pulumi.export("package_file", motherduck_provider.__file__)
