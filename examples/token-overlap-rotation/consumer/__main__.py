"""The consumer: reads the producer's token through a StackReference, whenever it runs.

It deploys at its own pace, so between a rotation in the producer and this stack's next
`pulumi up` it still holds the previous token: the producer's `keep_previous_for` keeps that
one valid meanwhile. The value arrives as a secret Output and stays one here.

Config:
* `producerStack` the producer's stack, `<organization>/token-overlap-rotation/<stack>`
  (default `organization/token-overlap-rotation/dev`, the form the local file backend uses)
* `database`      the database in the connection string (default `my_db`)
"""

from __future__ import annotations

import pulumi

config = pulumi.Config()
producer = pulumi.StackReference(
    config.get("producerStack") or "organization/token-overlap-rotation/dev"
)
database = config.get("database") or "my_db"
token = producer.require_output("token")

pulumi.export(
    "connection_string",
    pulumi.Output.secret(token.apply(lambda t: f"md:{database}?motherduck_token={t}")),
)
pulumi.export("token_id", producer.require_output("token_id"))
