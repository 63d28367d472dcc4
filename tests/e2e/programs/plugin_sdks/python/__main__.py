"""A Python program on the generated SDK (`pulumi_motherduck`), the plugin form of the resources:
an explicit provider with the admin token as a secret, a service account holding its Duckling
configuration (typed), an expiring token that rotates, and the token's secret as a stack
output; the one-step form (a ServiceAccount with `tokens`, a ManagedAccount with `one_step`)."""

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

# The one-step form: the account holds its tokens (and could hold its config), one resource.
one = motherduck.ServiceAccount(
    "one",
    username="one_step",
    tokens={
        "loader": motherduck.TokenArgs(ttl=86_400, rotation_trigger="r1"),  # typed
        "reader": {"token_type": "read_scaling"},  # or a dict
    },
    opts=pulumi.ResourceOptions(provider=org),
)
loader_id: pulumi.Output[str] = one.token_ids.apply(lambda ids: (ids or {})["loader"])
pulumi.export("loaderId", loader_id)
pulumi.export("oneTokens", one.tokens)  # a secret
team = motherduck.ManagedAccount(
    "team",
    username="team_one",
    one_step=True,
    tokens={"ci": motherduck.TokenSpecArgs(ttl=3600)},
    opts=pulumi.ResourceOptions(providers={"motherduck": org}),
)
pulumi.export("teamTokenIds", team.token_ids)
