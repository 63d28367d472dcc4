"""One ServiceAccount `onestep` with tokens and a Duckling config, in one resource.

Stack config: `tokens` (`loader,reader`): the token names (`reader` is read_scaling);
`trigger` (unset): the `rotation_trigger` of `loader`; `flock` (2): the read-scaling flock.
"""

import pulumi

from motherduck_provider import ServiceAccount

config = pulumi.Config()
names = (config.get("tokens") or "loader,reader").split(",")
settings: dict[str, dict[str, object]] = {
    "loader": {"ttl": 86_400, "rotation_trigger": config.get("trigger")},
    "reader": {"token_type": "read_scaling"},
}
account = ServiceAccount(
    "onestep",
    username="onestep",
    tokens={n: {k: v for k, v in settings.get(n, {}).items() if v is not None} for n in names},
    read_write={"instance_size": "standard"},
    read_scaling={"instance_size": "pulse", "flock_size": config.get_int("flock") or 2},
)
pulumi.export("tokens", account.tokens)
pulumi.export("token_ids", account.token_ids)
pulumi.export("token_details", account.token_details)
