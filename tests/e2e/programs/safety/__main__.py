"""One program, several cases, chosen by stack config `case`.

* `adopt` (default): take over the existing account `username` (ServiceAccount adopt=True) and
  set its Ducklings from `rwSize`, `rsSize`, `flockSize`; `allowDownsize` permits shrinking.
* `invalid`: plain invalid inputs in several resources, and two spellings of one account.
* `twin`: a managed `etl_loader` and `ETL_LOADER` given as an Output (known only later).
"""

import pulumi

from motherduck_provider import AccessToken, InstanceConfig, ServiceAccount

config = pulumi.Config()
case = config.get("case") or "adopt"

if case == "adopt":
    account = ServiceAccount("account", username=config.require("username"), adopt=True)
    ducklings = InstanceConfig(
        "ducklings",
        username=account.username,
        read_write={"instance_size": config.get("rwSize") or "standard"},
        read_scaling={
            "instance_size": config.get("rsSize") or "standard",
            "flock_size": config.get_int("flockSize") or 0,
        },
        allow_downsize=config.get_bool("allowDownsize"),
    )
    pulumi.export("read_write", ducklings.read_write)
    pulumi.export("read_scaling", ducklings.read_scaling)
elif case == "invalid":
    ServiceAccount("loader", username="etl_loader")
    ServiceAccount("loader-upper", username="ETL_LOADER")
    AccessToken("dashed", username="ab-cd", name="ci")
    AccessToken("empty", username="", name="ci")
    InstanceConfig(
        "ducklings",
        username="etl_loader",
        read_write={"instance_size": "huge"},
        read_scaling={"instance_size": "standard", "flock_size": 65},
    )
elif case == "twin":
    ServiceAccount("loader", username="etl_loader")
    ServiceAccount("loader-upper", username=pulumi.Output.from_input("ETL_LOADER"))
