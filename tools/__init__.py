"""Developer tooling for motherduck-pulumi (Pulumi toolchain install, e2e helpers)."""
