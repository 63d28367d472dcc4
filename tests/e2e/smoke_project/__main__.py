"""Entry point of the smoke project when run by the Pulumi CLI."""

import smoke_provider

smoke_provider.program()
