"""From Terraform in one command: a Terraform state's MotherDuck objects as a Pulumi stack.

`tfstate` reads the state, `plan` decides names and references (and refuses what cannot be
carried over), `program` writes the Pulumi program, `deployment` the stack's state as our
providers would have recorded it, `live` compares with MotherDuck (`--check`, GETs only),
`cli` puts them in order. See docs/guides/from-terraform.md.
"""
