pulumi config set --secret motherduck:token    # asks for the token (not echoed)
pulumi config set motherduck:apiUrl https://api.motherduck.com    # optional: the default
pulumi config set motherduck:requestTimeout 30    # optional: seconds per request
pulumi config set motherduck:lateRequestWait 120    # optional: 0 never waits
pulumi config set motherduck:rateLimitWait 300      # optional: seconds a request waits out 429s
