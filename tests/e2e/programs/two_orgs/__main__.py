"""One account in the stack's organization, one account and token in a second organization.

Config keys: secondUrl (required) the second organization's API URL; second:token (secret)
its admin token.
"""

import pulumi

from motherduck_provider import AccessToken, Connection, ServiceAccount, get_tokens_output

config = pulumi.Config()
second = Connection(token_config="second:token", api_url=config.require("secondUrl"))

ours = ServiceAccount("ours", username="etl_writer")
theirs = ServiceAccount("theirs", username="bi_reader", connection=second)
token = AccessToken("theirs-token", username=theirs.username, name="dash", connection=second)

pulumi.export("their_token", token.token)
pulumi.export("their_token_id", token.token_id)
# Read once the token exists: the input comes from the token's outputs.
pulumi.export("their_tokens", get_tokens_output(token.username, connection=second))
