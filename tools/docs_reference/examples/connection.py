from motherduck_provider import Connection, ServiceAccount, get_tokens

# `pulumi config set --secret analytics:token` asks for the other organization's admin token.
analytics = Connection(token_config="analytics:token", api_url="https://api.motherduck.com")
ServiceAccount("bi", username="bi_reader", connection=analytics)
tokens = get_tokens("bi_reader", connection=analytics)
