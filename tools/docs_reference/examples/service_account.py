import pulumi

from motherduck_provider import ServiceAccount

etl = ServiceAccount(
    "etl",
    username="etl_writer",
    opts=pulumi.ResourceOptions(protect=True),  # deleting it deletes its data
)
legacy = ServiceAccount("legacy", username="legacy_loader", adopt=True)
pulumi.export("etl_username", etl.username)
