"""Where each converted object sits in the program: alone, or as a ManagedAccount's child.

`--language managed` declares an account with its tokens and Duckling config as one
`ManagedAccount` where the shape fits: the tokens' names are distinct (they become the keys of
`tokens`) and every token and config of the account refers to it. The component is named
after the account; its children are named as the component names them (`<account>` for the
account and the config, `<account>-<token name>` for a token), so a token's hidden `owner`
input is computed from that name and the component's, as a program computes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .plan import Account, Config, Conversion, Token

COMPONENT = "motherduck:index:ManagedAccount"


@dataclass
class Layout:
    """The accounts declared as ManagedAccounts, and how that places every object."""

    components: dict[str, Account] = field(default_factory=dict)
    """Account Pulumi name -> the account declared as a ManagedAccount of that name."""

    def parent(self, obj: Account | Token | Config) -> str | None:
        """The component an object is a child of (None: declared alone)."""
        account = obj.name if isinstance(obj, Account) else obj.account
        return account if account in self.components else None

    def child_name(self, obj: Account | Token | Config) -> str:
        """The resource name the object has in state (a component names its children)."""
        parent = self.parent(obj)
        if parent is None or not isinstance(obj, Token):
            return parent or obj.name
        return f"{parent}-{obj.token_name}"


def layout(conversion: Conversion, managed: bool) -> Layout:
    """Which accounts become ManagedAccounts (none unless `managed`)."""
    found = Layout()
    if not managed:
        return found
    for account in conversion.accounts:
        names = [t.token_name for t in conversion.tokens if t.account == account.name]
        configs = [c for c in conversion.configs if c.account == account.name]
        if len(names) == len(set(names)) and len(configs) <= 1:
            found.components[account.name] = account
        else:
            conversion.notes.append(
                f"{account.address}: two of its tokens have the same name (or it has two "
                "Duckling configs), which a ManagedAccount cannot hold; declared as separate "
                "resources"
            )
    return found
