import pulumi

from motherduck_provider import AccessToken

token = AccessToken(
    "etl-token",
    username="etl_writer",
    name="etl",
    ttl=30 * 86_400,  # 30 days
    rotate_before=7 * 86_400,  # rotated 7 days before expiry
    keep_previous_for=36 * 3_600,  # the old one stays valid 36 h
)
pulumi.export("token", token.token)  # a Pulumi secret
pulumi.export("rotates_at", token.rotates_at)
