"""The providers served as a Pulumi provider plugin (`pulumi-resource-motherduck`).

Any Pulumi language (YAML, TypeScript, Go, ...) can then use `motherduck:index:ServiceAccount`,
`AccessToken` and `InstanceConfig`. The plugin holds no rule of its own: every RPC delegates
to the dynamic providers' methods in `motherduck_provider.resources` (`provider`), translating
property names and values at the boundary (`properties`); the package schema is generated from
the resource classes (`schema`).
"""
