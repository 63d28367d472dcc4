from motherduck_provider import InstanceConfig, ReadWriteArgs

InstanceConfig(
    "etl-ducklings",
    username="etl_writer",
    read_write=ReadWriteArgs(instance_size="standard", cooldown_seconds=300),
    read_scaling={"instance_size": "pulse", "flock_size": 2},
)
