"""Reads an existing account with every data function; creates one more account.

Config keys: existing (required) an account made outside this program; newUsername
(fresh_account); missing (optional) a username read through `get_tokens_output`, to fail;
dive (optional) a Dive to mint an embed session for, as `existing`.
"""

import pulumi

from motherduck_provider import (
    ServiceAccount,
    create_dive_embed_session_output,
    get_active_accounts_output,
    get_duckling_config,
    get_duckling_config_output,
    get_tokens,
    get_tokens_output,
)

config = pulumi.Config()
existing = config.require("existing")

# Plain form: a value now, in preview as in up.
tokens = get_tokens(existing)
pulumi.export("token_ids", [token.id for token in tokens.tokens])
pulumi.export("tokens", tokens)
pulumi.export("existing_rw_size", get_duckling_config(existing).read_write.instance_size)

# Output form: from an Input, including one of an account this program creates (unknown in
# the preview that creates it, read during up).
fresh = ServiceAccount("fresh", username=config.get("newUsername") or "fresh_account")
pulumi.export("fresh_config", get_duckling_config_output(fresh.username))
pulumi.export("existing_config", get_duckling_config_output(existing))
pulumi.export("active", get_active_accounts_output())

missing = config.get("missing")
if missing:
    pulumi.export("missing_tokens", get_tokens_output(missing))

dive = config.get("dive")
if dive:
    pulumi.export("embed", create_dive_embed_session_output(dive, existing))
