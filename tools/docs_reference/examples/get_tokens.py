import pulumi

from motherduck_provider import get_tokens, get_tokens_output

nightly = [t.id for t in get_tokens("legacy_loader").tokens if t.name == "nightly-load"]
pulumi.export("nightly_token_ids", nightly)
pulumi.export("all_tokens", get_tokens_output("etl_writer"))
