"""The consumer side: read the producer's connection string through a StackReference.

The value arrives as a secret Output and stays one here: pass it on (to a secret store, a
container's environment, ...) with `apply`, never by printing it.

Config:
* `producerStack` the producer's stack, `<organization>/token-to-consumer/<stack>` (default
  `organization/token-to-consumer/dev`, the form the local file backend uses)
"""

from __future__ import annotations

import pulumi

config = pulumi.Config()
producer = config.get("producerStack") or "organization/token-to-consumer/dev"

stack = pulumi.StackReference(producer)
connection = stack.require_output("connection_string")

pulumi.export("connection_string", pulumi.Output.secret(connection))
# Anything computed from a secret is a secret; unsecret deliberately, and only what is not one.
pulumi.export("database", pulumi.Output.unsecret(connection.apply(lambda c: str(c).split("?")[0])))
