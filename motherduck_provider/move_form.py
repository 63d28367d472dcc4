"""Move accounts between the separate form and the one-step form, in state only.

    python -m motherduck_provider.move_form to-one-step [--stack NAME] [--dry-run]
    python -m motherduck_provider.move_form to-separate [--stack NAME] [--dry-run]

Edit the program first, then run the command: it reads what the program now declares from
`pulumi preview --json` (no API write; the engine's own view of names, parents, providers and
each resource's checked inputs, hidden ones included), rewrites the exported state (`pulumi
stack export`, saved first) and imports it (`pulumi stack import`). Nothing in MotherDuck is
touched and no secret is decrypted: each token's ciphertext moves as it is.

* `to-one-step`: for each ServiceAccount the program now gives `tokens`, the AccessTokens of
  that account (`username` output) that the program no longer declares fold into it under
  their `name`, with every output they had (id, mark, owner, schedule), so diff, sweeps and
  rotations treat them as tokens it made; an InstanceConfig of the account the program no
  longer declares folds into `read_write`/`read_scaling` when the account now holds them.
  Other resources that depended on a folded one depend on the account instead.
* `to-separate`: each AccessToken (InstanceConfig) the program now declares for a token (the
  configuration) a ServiceAccount holds takes it out, keeping its outputs. Since a
  ServiceAccount's update encrypts its whole `tokens` map as one value, tokens can only be
  taken out while each has its own ciphertext (the state `to-one-step` writes, until the
  account's next update): otherwise this refuses, as splitting would mean decrypting.

It refuses, changing nothing, a stack with pending operations or resources pending deletion,
two tokens of one name, a resource that both forms would hold, or a folded resource that is
another's parent, naming them.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .resources._props import NOT_DETAILS as NOT_DETAILS  # what `token_details` leaves out
from .resources._props import TokenState, token_outputs
from .state_edits import TYPE_PREFIX, UNKNOWN
from .state_file import PulumiFailed, import_state, run_pulumi, save_backup

ACCOUNT = TYPE_PREFIX + "ServiceAccount"
TOKEN = TYPE_PREFIX + "AccessToken"
CONFIG = TYPE_PREFIX + "InstanceConfig"
# The one-step form's outputs (see resources/_account_tokens.py); the first two are secrets.
TOKEN_OUTPUTS = ("tokens", "previous_tokens", "token_ids", "token_details")
SECRET_OUTPUTS = ("tokens", "previous_tokens")
SIDES = ("read_write", "read_scaling")
# Pulumi's marker of a secret value in state: the value is then its `ciphertext`.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
DIRECTIONS = ("to-one-step", "to-separate")


class MoveRefused(ValueError):
    """The stack or program holds something the move cannot carry over; nothing changed."""


@dataclass
class Move:
    """What one rewrite changed."""

    moved: list[tuple[str, str]] = field(default_factory=list)
    """(from URN, into URN): a folded resource and its account, or an account and a resource
    taken out of it."""
    rewired: list[str] = field(default_factory=list)
    """URNs of resources whose dependencies on a folded resource now name its account."""
    left: list[str] = field(default_factory=list)
    """What the move leaves to the next `up` (a token no resource held before, ...)."""


def _user(value: Any) -> str:
    return str(value or "").casefold()


def _holds_config(values: dict[str, Any]) -> bool:
    return any(values.get(side) is not None for side in SIDES)


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) is not None


def _check(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """The deployment's resources; refuses what `pulumi stack import` would lose."""
    pending = deployment.get("pending_operations") or []
    if pending:
        urns = ", ".join(str((op.get("resource") or {}).get("urn")) for op in pending)
        raise MoveRefused(
            f"the stack has {len(pending)} pending operation(s) ({urns}): finish them first "
            "(`python -m motherduck_provider.recover --cancel`, then `pulumi up`)"
        )
    resources: list[dict[str, Any]] = deployment.get("resources") or []
    deleting = [str(r.get("urn")) for r in resources if r.get("delete")]
    if deleting:
        raise MoveRefused(f"resources pending deletion: {', '.join(deleting)}; run `pulumi up`")
    return resources


def _declared(steps: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """URN -> the preview step of each resource the preview names."""
    return {str(s.get("urn")): s for s in steps if s.get("urn")}


def _new_state(step: dict[str, Any]) -> dict[str, Any]:
    """The program's registration of a resource; refuses one preview cannot show whole."""
    state: dict[str, Any] = step.get("newState") or {}
    if "[secret]" in json.dumps(state.get("inputs")):
        raise MoveRefused(f"{step.get('urn')}: preview hides a secret input of it")
    refs = [state.get("parent"), state.get("provider"), *(state.get("dependencies") or [])]
    if any(UNKNOWN in str(ref) for ref in refs if ref):
        raise MoveRefused(f"{step.get('urn')}: its provider or a dependency is not in state yet")
    return state


def _leaves(steps: dict[str, dict[str, Any]], urn: str) -> bool:
    """Whether the program no longer declares `urn` (preview deletes it)."""
    return steps.get(urn, {}).get("op") == "delete"


def _tokens_by_name(resources: list[dict[str, Any]], username: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for r in resources:
        outs = r.get("outputs") or {}
        if r.get("type") != TOKEN or _user(outs.get("username")) != _user(username):
            continue
        name = str(outs.get("name"))
        if name in found:
            raise MoveRefused(
                f"{found[name]['urn']} and {r['urn']} are both token {name!r} of {username!r}; "
                "rename one of them first (a map holds one token per name)"
            )
        found[name] = r
    return found


def _rewire(resources: list[dict[str, Any]], into: dict[str, str], move: Move) -> None:
    """Dependencies on a folded resource name its account; refuses a folded parent."""
    for r in resources:
        if r.get("parent") in into:
            raise MoveRefused(
                f"{r['urn']} is a child of {r['parent']}, which this move folds into its "
                "account; give it another parent first"
            )
        before = json.dumps([r.get("dependencies"), r.get("propertyDependencies")])
        if r.get("deletedWith") in into:
            r["deletedWith"] = into[r["deletedWith"]]
        if r.get("dependencies"):
            r["dependencies"] = _unique(into.get(u, u) for u in r["dependencies"])
        if r.get("propertyDependencies"):
            r["propertyDependencies"] = {
                k: _unique(into.get(u, u) for u in v or [])
                for k, v in r["propertyDependencies"].items()
            }
        if json.dumps([r.get("dependencies"), r.get("propertyDependencies")]) != before:
            move.rewired.append(str(r["urn"]))


def _in_order(resources: list[dict[str, Any]]) -> None:
    """Refuse a state where a resource names one that is not before it (import would fail)."""
    seen: set[str] = set()
    for r in resources:
        deps = r.get("propertyDependencies") or {}
        needed = [r.get("parent"), r.get("deletedWith"), *(r.get("dependencies") or [])]
        needed += [u for urns in deps.values() for u in urns or []]
        missing = sorted({str(u) for u in needed if u and str(u) not in seen})
        if missing:
            raise MoveRefused(
                f"{r['urn']} depends on {', '.join(missing)}, which state does not hold before "
                "it; run `pulumi up` with the program's old form first"
            )
        seen.add(str(r["urn"]))


def _unique(urns: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urns))


def to_one_step(
    deployment: dict[str, Any], steps: Iterable[dict[str, Any]]
) -> tuple[dict[str, Any], Move]:
    """`deployment` with each account's separate tokens and config folded into it.

    `steps`: `pulumi preview --json`'s steps for the edited program. Raises `MoveRefused`
    before changing anything.
    """
    result = copy.deepcopy(deployment)
    resources = _check(result)
    planned = _declared(steps)
    by_urn = {str(r["urn"]): r for r in resources}
    move, into = Move(), {}
    for urn, step in planned.items():
        state = step.get("newState") or {}
        if state.get("type") != ACCOUNT or not isinstance(
            (state.get("inputs") or {}).get("tokens"), dict
        ):
            continue
        account = by_urn.get(urn)
        if account is None:
            _refuse_other_urn(resources, urn, (state.get("inputs") or {}).get("username"))
            continue  # a new account
        outs = dict(account.get("outputs") or {})
        if outs.get("token_details") is not None:
            continue  # in the one-step form already
        state = _new_state(step)
        username = str(account["id"])
        found = _tokens_by_name(resources, username)
        records: dict[str, dict[str, Any]] = {}
        for name in sorted(state["inputs"]["tokens"]):
            token = found.get(name)
            if token is None:
                move.left.append(f"token {name!r} of {username!r}: the next `up` creates it")
                continue
            if not _leaves(planned, token["urn"]):
                raise MoveRefused(
                    f"{token['urn']}: the program still declares it and gives token {name!r} "
                    f"to {urn}; keep one of the two"
                )
            records[name] = token["outputs"]
            into[str(token["urn"])] = urn
            move.moved.append((str(token["urn"]), urn))
        config = _config_into(resources, planned, state, outs, username)
        if config is not None:
            outs.update({side: config["outputs"].get(side) for side in SIDES})
            into[str(config["urn"])] = urn
            move.moved.append((str(config["urn"]), urn))
        recorded = {name: TokenState.from_props(outputs) for name, outputs in records.items()}
        outs.update(owner=state["inputs"].get("owner"), **token_outputs(recorded))
        account["inputs"] = state["inputs"]
        account["outputs"] = outs
        _registered(account, state)
        secret = account.get("additionalSecretOutputs") or []
        account["additionalSecretOutputs"] = [
            *secret,
            *(k for k in SECRET_OUTPUTS if k not in secret),
        ]
    result["resources"] = [r for r in resources if str(r["urn"]) not in into]
    _rewire(result["resources"], into, move)
    _in_order(result["resources"])
    return result, move


def _refuse_other_urn(resources: list[dict[str, Any]], urn: str, username: Any) -> None:
    """Refuse a program whose account has a new URN: the move keeps the account's URN."""
    for r in resources:
        if r.get("type") == ACCOUNT and _user(r.get("id")) == _user(username) and username:
            raise MoveRefused(
                f"the program declares account {username!r} as {urn} but state holds it as "
                f"{r['urn']}; keep its resource name and parent so its URN stays"
            )


def _registered(resource: dict[str, Any], state: dict[str, Any]) -> None:
    """Take the program's dependencies and secret outputs, as the engine records them."""
    for key in ("dependencies", "propertyDependencies", "additionalSecretOutputs"):
        if state.get(key) is not None:
            resource[key] = state[key]


def _config_into(
    resources: list[dict[str, Any]],
    planned: dict[str, dict[str, Any]],
    state: dict[str, Any],
    outs: dict[str, Any],
    username: str,
) -> dict[str, Any] | None:
    """The InstanceConfig that folds into the account, if the account now holds one."""
    if not _holds_config(state["inputs"]) or _holds_config(outs):
        return None
    configs = [
        r
        for r in resources
        if r.get("type") == CONFIG
        and _user((r.get("outputs") or {}).get("username")) == _user(username)
    ]
    kept = [str(r["urn"]) for r in configs if not _leaves(planned, r["urn"])]
    if kept:
        raise MoveRefused(
            f"{', '.join(kept)}: the program still declares it and gives {username!r} "
            "read_write/read_scaling; keep one of the two"
        )
    return configs[0] if configs else None


def to_separate(
    deployment: dict[str, Any], steps: Iterable[dict[str, Any]]
) -> tuple[dict[str, Any], Move]:
    """`deployment` with the tokens and config the program now declares as AccessTokens and
    InstanceConfigs taken out of their accounts. Raises `MoveRefused` before changing anything.
    """
    result = copy.deepcopy(deployment)
    resources = _check(result)
    planned = _declared(steps)
    accounts = {
        _user(r.get("id")): r for r in resources if r.get("type") == ACCOUNT and r.get("id")
    }
    move = Move()
    placed: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (new resource, its account)
    taken: dict[str, list[str]] = {}  # account URN -> token names taken out
    touched: dict[str, dict[str, Any]] = {}  # account URN -> the program's registration
    for urn, step in planned.items():
        kind = (step.get("newState") or {}).get("type")
        if step.get("op") != "create" or kind not in (TOKEN, CONFIG):
            continue
        state = _new_state(step)
        inputs = state.get("inputs") or {}
        account = accounts.get(_user(inputs.get("username")))
        if account is None:
            continue
        outs = account.get("outputs") or {}
        wanted = (_account_step(planned, account).get("newState") or {}).get("inputs") or {}
        if kind == TOKEN:
            name = str(inputs.get("name"))
            if name not in (outs.get("token_details") or {}):
                continue
            if name in (wanted.get("tokens") or {}):
                raise MoveRefused(
                    f"{urn}: the program also gives token {name!r} to {account['urn']}; "
                    "keep one of the two"
                )
            new = _token_resource(urn, state, account, name)
            taken.setdefault(str(account["urn"]), []).append(name)
        else:
            if not _holds_config(outs) or _holds_config(wanted):
                continue
            new = _resource(urn, state, str(account["id"]))
            new["outputs"].update(
                {"username": account["id"], **{side: outs.get(side) for side in SIDES}}
            )
            account["outputs"] = {k: v for k, v in outs.items() if k not in SIDES}
        placed.append((new, account))
        touched[str(account["urn"])] = _new_state(_account_step(planned, account))
        move.moved.append((str(account["urn"]), urn))
    for account in resources:
        urn = str(account["urn"])
        if urn in touched:
            account["inputs"] = touched[urn].get("inputs") or {}
            _registered(account, touched[urn])
            _take_tokens(account, taken.get(urn, []))
    inserted: set[str] = set()
    for new, account in placed:  # each after what it needs and those placed before it
        after = {str(account["urn"]), *_refs(new), *inserted}
        inserted.add(str(new["urn"]))
        last = max(i for i, r in enumerate(resources) if str(r["urn"]) in after)
        resources.insert(last + 1, new)
    _in_order(resources)
    return result, move


def _account_step(planned: dict[str, dict[str, Any]], account: dict[str, Any]) -> dict[str, Any]:
    step = planned.get(str(account["urn"]))
    if step is None or step.get("op") == "delete":
        raise MoveRefused(f"the program no longer declares {account['urn']}; keep the account")
    return step


def _refs(resource: dict[str, Any]) -> list[str]:
    """URNs a resource needs before it in state (parent, provider, dependencies)."""
    provider = str(resource.get("provider") or "").rsplit("::", 1)[0]
    return [str(u) for u in (resource.get("parent"), provider, *resource["dependencies"]) if u]


def _resource(urn: str, state: dict[str, Any], id_: str) -> dict[str, Any]:
    """A resource as the engine records a create of the program's registration `state`."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    new: dict[str, Any] = {
        "urn": urn,
        "custom": True,
        "id": id_,
        "type": state["type"],
        "inputs": state.get("inputs") or {},
        "outputs": {"__provider": (state.get("inputs") or {}).get("__provider")},
        "dependencies": list(state.get("dependencies") or []),
        "created": now,
        "modified": now,
    }
    for key in ("parent", "provider", "propertyDependencies", "additionalSecretOutputs"):
        if state.get(key):
            new[key] = state[key]
    return new


def _token_resource(
    urn: str, state: dict[str, Any], account: dict[str, Any], name: str
) -> dict[str, Any]:
    """An AccessToken holding token `name` of `account`, its own ciphertexts kept."""
    outs = account["outputs"]
    secrets = {k: outs.get(k) or {} for k in SECRET_OUTPUTS}
    if any(_is_secret(v) for v in secrets.values()):
        raise MoveRefused(
            f"{account['urn']}: its tokens are one encrypted value since its last update, and "
            "this command never decrypts a secret; take the tokens out by rotation instead "
            "(declare the AccessTokens, remove the names from `tokens`, `pulumi up`)"
        )
    details = outs["token_details"][name]
    token_id = outs["token_ids"][name]
    new = _resource(urn, state, f"{account['id']}/{token_id}")
    outputs = {
        **details,
        "username": account["id"],
        "name": name,
        "token_id": token_id,
        "token": secrets["tokens"].get(name),
        "previous_token": secrets["previous_tokens"].get(name),
    }
    # State records no null output of a resource (only inside a map, as in `token_details`).
    new["outputs"].update({k: v for k, v in outputs.items() if v is not None})
    return new


def _take_tokens(account: dict[str, Any], names: list[str]) -> None:
    """The account's outputs without the tokens taken out (and without the token outputs
    once none is left, as an account without `tokens` records)."""
    outs = account["outputs"]
    if outs.get("token_details") is None:
        return
    for key in TOKEN_OUTPUTS:
        outs[key] = {n: v for n, v in (outs.get(key) or {}).items() if n not in names}
    if not outs["previous_tokens"]:  # none kept: written as the provider writes it (absent)
        del outs["previous_tokens"]
    if not outs["token_details"]:
        for key in (*TOKEN_OUTPUTS, "owner"):
            outs.pop(key, None)
        account["additionalSecretOutputs"] = [
            k for k in account.get("additionalSecretOutputs") or [] if k not in SECRET_OUTPUTS
        ] or None
        if account["additionalSecretOutputs"] is None:
            del account["additionalSecretOutputs"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motherduck_provider.move_form",
        description="After editing the program, move its accounts' tokens and Duckling "
        "configuration between separate resources (AccessToken, InstanceConfig) and the "
        "one-step form (ServiceAccount(tokens=...)), in state only: nothing in MotherDuck is "
        "touched, every token keeps its id and secret. The original state is saved first. "
        "Then run `pulumi preview --expect-no-changes`.",
    )
    parser.add_argument("direction", choices=DIRECTIONS)
    parser.add_argument("--stack", help="the stack (default: the selected one)")
    parser.add_argument("--cwd", default=None, help="the project directory (default: here)")
    parser.add_argument("--pulumi", default="pulumi", help="the pulumi executable")
    parser.add_argument(
        "--backup",
        type=Path,
        default=None,
        help="where to save the original state (default: "
        "motherduck-move-<stack>-<UTC time>.json in the project directory)",
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would move, only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """0 when moved (or nothing to move), 1 when a `pulumi` command failed, 2 when refused."""
    options = _parser().parse_args(argv)
    rewrite = to_one_step if options.direction == "to-one-step" else to_separate
    try:
        text = run_pulumi(options, "stack", "export")
        exported = json.loads(text)
        preview = json.loads(run_pulumi(options, "preview", "--json"))
        moved, move = rewrite(exported["deployment"], preview.get("steps") or [])
    except MoveRefused as exc:
        print(f"refused: {exc}; nothing was changed", file=sys.stderr)
        return 2
    except PulumiFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for note in move.left:
        print(f"left to the next up: {note}")
    if not move.moved:
        print(f"nothing to move {options.direction}: the program and state already agree")
        return 0
    for source, target in move.moved:
        print(f"{source}\n  -> {target}")
    for urn in move.rewired:
        print(f"{urn}: now depends on the account instead")
    if options.dry_run:
        return 0
    stack = options.stack or move.moved[0][0].split("::", 1)[0].removeprefix("urn:pulumi:")
    backup = save_backup(options, text, "move", stack)
    if not import_state(options, exported, moved, backup):
        return 1
    print(
        f"moved {len(move.moved)} resource(s) {options.direction}; now run "
        "`pulumi preview --expect-no-changes`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
