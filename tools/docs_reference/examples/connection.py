from motherduck_provider import Connection, ServiceAccount, get_tokens

# The other organization's admin token: `pulumi config set --secret analytics:token`.
analytics = Connection(token_config="analytics:token")  # api_url: the public API
ServiceAccount("bi", username="bi_reader", connection=analytics)
tokens = get_tokens("bi_reader", connection=analytics)
