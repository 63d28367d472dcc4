"""An account, a token with a secret and a Duckling config: the stack to move (plugin.yaml)."""

import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

account = ServiceAccount("account", username="migrate_svc")
ci = AccessToken("ci", username=account.username, name="ci", ttl=86400)
InstanceConfig(
    "ducklings",
    username=account.username,
    read_write={"instance_size": "standard"},
    read_scaling={"instance_size": "standard", "flock_size": 2},
)
pulumi.export("username", account.username)
pulumi.export("tokenId", ci.token_id)
pulumi.export("token", ci.token)
