import pulumi

from motherduck_provider import ServiceAccount, get_duckling_config, get_duckling_config_output

live = get_duckling_config("legacy_loader")  # adopt it as it is
pulumi.export("legacy_size", live.read_write.instance_size)
account = ServiceAccount("etl", username="etl_writer")
pulumi.export("etl_sizes", get_duckling_config_output(account.username).read_write)
