"""A Python program on the generated SDK (`pulumi_motherduck`), the plugin form of the resources:
an explicit provider with the admin token as a secret, a service account holding its Duckling
configuration (typed), an expiring token that rotates, and the token's secret as a stack
output."""

import pulumi
import pulumi_motherduck as motherduck

config = pulumi.Config()
org = motherduck.Provider(
    "org", token=config.require_secret("adminToken"), api_url=config.get("apiUrl")
)
account = motherduck.ServiceAccount(
    "etl",
    username="etl_writer",
    read_write=motherduck.ReadWriteArgs(instance_size="standard"),
    read_scaling=motherduck.ReadScalingArgs(instance_size="standard", flock_size=2),
    opts=pulumi.ResourceOptions(provider=org, protect=True),
)
instance_size: pulumi.Output[str | None] = account.read_write.apply(
    lambda rw: rw.instance_size if rw else None
)
pulumi.export("instanceSize", instance_size)
ci = motherduck.AccessToken(
    "ci",
    username=account.username,
    name="ci",
    ttl=7 * 24 * 3600,
    rotate_before=24 * 3600,
    keep_previous_for=3600,
    opts=pulumi.ResourceOptions(provider=org),
)
token_id: pulumi.Output[str] = ci.token_id
pulumi.export("tokenId", token_id)
pulumi.export("token", ci.token)  # a secret: the SDK lists it in additional_secret_outputs
