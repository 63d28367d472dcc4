import pulumi

from motherduck_provider import get_active_accounts

running = get_active_accounts()
pulumi.export("running", [a.username for a in running.accounts])
