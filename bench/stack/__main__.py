"""`accounts` accounts x (1 ServiceAccount + `tokens` AccessTokens + 1 InstanceConfig).

Stack config: `accounts` (required), `tokens` (default 1), `prefix` (usernames `<prefix>_<i>`,
default `bench`), `mode`: `motherduck` (default) or `null` (same graph, no API calls; needs
`bench/` on PYTHONPATH for `null_provider`), `compact` (false): the account holds its Duckling
configuration (`ManagedAccount(config_in_account=True)`), no InstanceConfig; `onestep` (false):
one ServiceAccount per account holding its config and its `tokens` (one resource per account).
"""

import pulumi

config = pulumi.Config()
accounts = config.require_int("accounts")
tokens = config.get_int("tokens")
tokens = 1 if tokens is None else tokens
prefix = config.get("prefix") or "bench"
onestep = config.get_bool("onestep") or False
compact = (config.get_bool("compact") or False) or onestep
READ_WRITE = {"instance_size": "standard"}
READ_SCALING = {"instance_size": "pulse", "flock_size": 1}
HELD = {"read_write": READ_WRITE, "read_scaling": READ_SCALING} if compact else {}
if onestep:
    HELD["tokens"] = {f"t{j}": {"token_type": "read_write"} for j in range(tokens)}

if config.get("mode") == "null":
    from null_provider import NullAccount, NullConfig, NullToken

    for i in range(accounts):
        account = NullAccount(f"acct-{i}", username=f"{prefix}_{i}", **HELD)
        for j in range(0 if onestep else tokens):
            NullToken(f"acct-{i}-t{j}", username=account.username, name_=f"t{j}")
        if compact:
            continue
        NullConfig(
            f"acct-{i}-cfg",
            username=account.username,
            read_write=READ_WRITE,
            read_scaling=READ_SCALING,
        )
else:
    from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

    for i in range(accounts):
        account = ServiceAccount(f"acct-{i}", username=f"{prefix}_{i}", **HELD)
        for j in range(0 if onestep else tokens):
            AccessToken(f"acct-{i}-t{j}", username=account.username, name=f"t{j}")
        if compact:
            continue
        InstanceConfig(
            f"acct-{i}-cfg",
            username=account.username,
            read_write=READ_WRITE,
            read_scaling=READ_SCALING,
        )
