"""`accounts` accounts `t_<i>`, each 1 ServiceAccount + 1 AccessToken + 1 InstanceConfig, of
which this shard keeps its own (`Shard.current()`). Config: `accounts`, `mode`: `motherduck`
(default) or `null` (same graph, no API call; needs `bench/` on PYTHONPATH)."""

import pulumi

from motherduck_provider.fleet import Shard

config = pulumi.Config()
names = Shard.current().select(f"t_{i}" for i in range(config.require_int("accounts")))
READ_WRITE = {"instance_size": "standard"}
READ_SCALING = {"instance_size": "pulse", "flock_size": 1}

if config.get("mode") == "null":
    from null_provider import NullAccount, NullConfig, NullToken

    for name in names:
        account = NullAccount(name, username=name)
        NullToken(f"{name}-t", username=account.username, name_="reader")
        NullConfig(
            f"{name}-cfg",
            username=account.username,
            read_write=READ_WRITE,
            read_scaling=READ_SCALING,
        )
else:
    from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

    for name in names:
        account = ServiceAccount(name, username=name)
        AccessToken(f"{name}-t", username=account.username, name="reader")
        InstanceConfig(
            f"{name}-cfg",
            username=account.username,
            read_write=READ_WRITE,
            read_scaling=READ_SCALING,
        )
