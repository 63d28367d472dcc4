"""`accounts` accounts `t_<i>`, of which this shard keeps its own (`Shard.current()`).

Config: `accounts`; `onestep` (false): each account one ServiceAccount holding its `reader`
token and its Duckling config (the form `examples/tenant-fleet` uses), else 1 ServiceAccount +
1 AccessToken + 1 InstanceConfig; `mode`: `motherduck` (default) or `null` (same graph, no API
call; needs `bench/` on PYTHONPATH)."""

import pulumi

from motherduck_provider.fleet import Shard

config = pulumi.Config()
names = Shard.current().select(f"t_{i}" for i in range(config.require_int("accounts")))
onestep = config.get_bool("onestep") or False
READ_WRITE = {"instance_size": "standard"}
READ_SCALING = {"instance_size": "pulse", "flock_size": 1}
HELD = {
    "read_write": READ_WRITE,
    "read_scaling": READ_SCALING,
    "tokens": {"reader": {"token_type": "read_write"}},
}

if config.get("mode") == "null":
    from null_provider import NullAccount, NullConfig, NullToken

    for name in names:
        if onestep:
            NullAccount(name, username=name, **HELD)
            continue
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
        if onestep:
            ServiceAccount(name, username=name, **HELD)
            continue
        account = ServiceAccount(name, username=name)
        AccessToken(f"{name}-t", username=account.username, name="reader")
        InstanceConfig(
            f"{name}-cfg",
            username=account.username,
            read_write=READ_WRITE,
            read_scaling=READ_SCALING,
        )
