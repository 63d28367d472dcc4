"""Account `move_svc` with tokens `ci` and `reader` and a Duckling config, in either form.

Stack config: `form` (`separate`): `separate` (ServiceAccount, two AccessTokens, an
InstanceConfig) or `onestep` (one ServiceAccount with `tokens`); `trigger` (unset): the
`rotation_trigger` of `ci`. Both forms export the same outputs.
"""

import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

config = pulumi.Config()
trigger = config.get("trigger")
ci: dict[str, object] = {"ttl": 86_400, **({"rotation_trigger": trigger} if trigger else {})}
reader: dict[str, object] = {"token_type": "read_scaling"}
read_write = {"instance_size": "standard"}
read_scaling = {"instance_size": "pulse", "flock_size": 2}

if config.get("form") == "onestep":
    account = ServiceAccount(
        "account",
        username="move_svc",
        tokens={"ci": ci, "reader": reader},
        read_write=read_write,
        read_scaling=read_scaling,
    )
    secrets = {n: account.tokens.apply(lambda t, n=n: t[n]) for n in ("ci", "reader")}
    ids = {n: account.token_ids.apply(lambda t, n=n: t[n]) for n in ("ci", "reader")}
else:
    account = ServiceAccount("account", username="move_svc")
    tokens = {
        n: AccessToken(n, username=account.username, name=n, **s)  # type: ignore[arg-type]
        for n, s in (("ci", ci), ("reader", reader))
    }
    InstanceConfig(
        "ducklings", username=account.username, read_write=read_write, read_scaling=read_scaling
    )
    secrets = {n: t.token for n, t in tokens.items()}
    ids = {n: t.token_id for n, t in tokens.items()}
for name in ("ci", "reader"):
    pulumi.export(f"{name}_token", secrets[name])
    pulumi.export(f"{name}_id", ids[name])
