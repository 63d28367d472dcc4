"""The command: read the state, check (optionally), write the program, import the stack.

    python -m motherduck_provider.from_terraform STATE --stack NAME [--dir DIR]
        [--language python|yaml] [--check [--allow-differences]] [--dry-run]

Order, so that a refusal leaves nothing behind: read and plan (refusals), `--check` (GETs
only), then the stack is looked at (it must hold nothing yet), then the program is written
and the state imported. The Terraform state is only read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import MotherDuckError
from ..pulumi_cli import PulumiCLITooOld, require_cli
from .layout import Layout, layout
from .plan import Conversion, ConversionRefused, plan
from .program import python_program, yaml_program
from .tfstate import StateUnreadable, read_state

EXIT_PULUMI = 1
EXIT_REFUSED = 2
EXIT_DIFFERENT = 3


class PulumiFailed(RuntimeError):
    """A `pulumi` command exited non-zero."""


class Refused(ValueError):
    """Something about the project or the stack stops the command; nothing was written."""


def _pulumi(options: argparse.Namespace, *args: str, stdin: str | None = None) -> str:
    command = [options.pulumi, *args, "--non-interactive"]
    proc = subprocess.run(
        command, cwd=options.dir, input=stdin, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise PulumiFailed(f"`pulumi {' '.join(args[:2])}` failed: {proc.stderr.strip()}")
    return proc.stdout


def _project(options: argparse.Namespace) -> tuple[str, bool]:
    """(the project's name, whether Pulumi.yaml exists already).

    An existing Pulumi.yaml (made to create the stack and set its config first) keeps its
    name. For Python the program goes beside it; for YAML the program is Pulumi.yaml itself,
    so it must declare nothing yet (it is then replaced, and put back if the command fails).
    """
    manifest = options.dir / "Pulumi.yaml"
    program = options.dir / "__main__.py"
    if options.language != "yaml" and program.exists():
        raise Refused(f"{program} exists; it would be overwritten")
    if not manifest.exists():
        return options.project or _project_name(options.dir.resolve().name), False
    text = manifest.read_text(encoding="utf-8")
    found = re.search(r"^name:\s*(\S+)", text, re.MULTILINE)
    if found is None:
        raise Refused(f"{manifest} has no `name:`")
    if options.language == "yaml":
        declared = re.search(r"^(resources|variables|outputs):", text, re.MULTILINE)
        if declared:
            raise Refused(
                f"{manifest} declares {declared[1]} already; the YAML program replaces that "
                "file: run in a new directory"
            )
    return found[1].strip("'\""), True


def _project_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "motherduck"


def _stacks(options: argparse.Namespace) -> set[str]:
    listed = json.loads(_pulumi(options, "stack", "ls", "--json") or "[]")
    return {str(s.get("name")).rsplit("/", 1)[-1] for s in listed}


def _stack_config(options: argparse.Namespace, stack_exists: bool) -> dict[str, tuple[Any, bool]]:
    """The stack's config: key -> (value, secret); secrets decrypted, kept in memory only."""
    if not stack_exists:
        return {}
    text = _pulumi(options, "config", "--json", "--show-secrets", "--stack", options.stack)
    return {
        k: ((v or {}).get("value"), bool((v or {}).get("secret")))
        for k, v in json.loads(text or "{}").items()
    }


def _live_check(conversion: Conversion, config: dict[str, tuple[Any, bool]]) -> list[str]:
    from ..client import AdminClient
    from ..config import resolve_settings
    from .live import differences

    values = {k: v for k, (v, _) in config.items()}
    with AdminClient(resolve_settings(values, os.environ)) as client:
        return differences(conversion, client)


def _summary(conversion: Conversion, placed: Layout, language: str) -> None:
    kinds = (
        ("ServiceAccount", conversion.accounts),
        ("AccessToken", conversion.tokens),
        ("InstanceConfig", conversion.configs),
    )
    for kind, objects in kinds:
        for o in objects:
            parent = placed.parent(o)
            where = f" of ManagedAccount {parent!r}" if parent else ""
            print(f"  {o.address} -> {kind} {placed.child_name(o)!r}{where}")
    for line in conversion.left:
        print(f"  left alone: {line}")
    for line in conversion.notes:
        print(f"  note: {line}")
    if language == "yaml":
        print("  (YAML: types motherduck:index:*, served by the provider plugin)")


def _program_files(
    options: argparse.Namespace,
    conversion: Conversion,
    placed: Layout,
    project: str,
    manifest: bool,
) -> dict[Path, str]:
    """The files to write: Pulumi.yaml (unless it exists) and the program."""
    source = Path(options.state).name
    if options.language == "yaml":
        return {options.dir / "Pulumi.yaml": yaml_program(conversion, project, source)}
    files = {}
    if not manifest:
        files[options.dir / "Pulumi.yaml"] = (
            f"name: {project}\n"
            "description: MotherDuck objects converted from Terraform\n"
            "runtime:\n  name: python\n  options:\n    virtualenv: venv\n"
        )
    files[options.dir / "__main__.py"] = python_program(conversion, source, placed)
    return files


def _import(
    options: argparse.Namespace,
    conversion: Conversion,
    placed: Layout,
    project: str,
    config: dict[str, tuple[Any, bool]],
) -> None:
    from .deployment import Urns, plugin_resources, python_resources, secret

    exported = json.loads(_pulumi(options, "stack", "export", "--stack", options.stack))
    deployment = exported.setdefault("deployment", {})
    held = deployment.get("resources") or []
    if held:
        ours = {o.name for o in conversion.objects()}
        named = [str(r.get("urn")) for r in held if str(r.get("urn")).rsplit("::", 1)[-1] in ours]
        raise Refused(
            f"stack {options.stack!r} already holds {len(held)} resource(s)"
            + (f", among them {', '.join(named)}" if named else "")
            + "; convert into a new, empty stack"
        )
    settings = {k: secret(v) if hidden else v for k, (v, hidden) in config.items()}
    resources = python_resources(conversion, Urns(project, options.stack), settings, placed)
    if options.language == "yaml":
        resources = plugin_resources(resources)
    deployment["resources"] = resources
    exported.setdefault("version", 3)
    # On a pipe only: the token secrets are in plain text until the CLI encrypts them.
    _pulumi(options, "stack", "import", "--stack", options.stack, stdin=json.dumps(exported))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motherduck_provider.from_terraform",
        description="Carry the MotherDuck service accounts, tokens (with their secrets) and "
        "Duckling configs of a Terraform state over to a new Pulumi stack and program, "
        "without any API write. The Terraform state is only read.",
    )
    parser.add_argument("state", help="terraform.tfstate, or the output of `terraform show -json`")
    parser.add_argument("--stack", required=True, help="the Pulumi stack to write (new or empty)")
    parser.add_argument(
        "--dir", type=Path, default=Path("."), help="the project directory (default: here)"
    )
    parser.add_argument(
        "--language",
        choices=("python", "managed", "yaml"),
        default="python",
        help="python: ServiceAccount, AccessToken, InstanceConfig; managed: Python with a "
        "ManagedAccount per account where the shape fits; yaml: Pulumi YAML through the "
        "provider plugin",
    )
    parser.add_argument("--project", help="the project name of a new Pulumi.yaml")
    parser.add_argument(
        "--check",
        action="store_true",
        help="first compare with MotherDuck (GET requests only) and stop if anything differs",
    )
    parser.add_argument(
        "--allow-differences",
        action="store_true",
        help="with --check: report differences but carry on",
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would be done, only")
    parser.add_argument("--pulumi", default="pulumi", help="the pulumi executable")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """0 done, 1 a `pulumi` command failed, 2 refused, 3 `--check` found differences."""
    options = _parser().parse_args(argv)
    try:
        conversion = plan(read_state(Path(options.state)))
    except (StateUnreadable, ConversionRefused) as exc:
        print(f"refused: {exc}; nothing was written", file=sys.stderr)
        return EXIT_REFUSED
    placed = layout(conversion, managed=options.language == "managed")
    print(f"{options.state}: {len(conversion.addresses())} MotherDuck object(s)")
    _summary(conversion, placed, options.language)
    from .live import expired

    gone = expired(conversion, datetime.now(UTC))
    for line in gone:
        print(f"  expired: {line}")
    try:
        project, manifest = _project(options)
        if manifest or not options.dry_run:
            require_cli(options.pulumi)
        stack_exists = manifest and options.stack in _stacks(options)
        config = _stack_config(options, stack_exists)
        if options.check:
            found = _live_check(conversion, config)
            for line in found:
                print(f"  differs: {line}")
            if not found:
                print("  check: MotherDuck holds every object as the state says")
            elif not options.allow_differences:
                print(
                    f"{len(found)} difference(s) with MotherDuck; nothing was written "
                    "(update Terraform first, or --allow-differences)",
                    file=sys.stderr,
                )
                return EXIT_DIFFERENT
        if options.dry_run:
            return 0
        files = _program_files(options, conversion, placed, project, manifest)
        before = {p: p.read_text(encoding="utf-8") for p in files if p.exists()}
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
        created = False
        try:
            if not stack_exists and options.stack not in _stacks(options):
                _pulumi(options, "stack", "init", options.stack)
                created = True
            _import(options, conversion, placed, project, config)
        except (Refused, PulumiFailed):
            if created:  # still empty: the import is the last step
                with contextlib.suppress(PulumiFailed):
                    _pulumi(options, "stack", "rm", "--yes", "--stack", options.stack)
            for path in files:  # what this run wrote goes; a stub Pulumi.yaml comes back
                if path in before:
                    path.write_text(before[path], encoding="utf-8")
                else:
                    path.unlink(missing_ok=True)
            raise
    except Refused as exc:
        print(f"refused: {exc}; nothing was written", file=sys.stderr)
        return EXIT_REFUSED
    except PulumiFailed as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_PULUMI
    except PulumiCLITooOld as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_PULUMI
    except MotherDuckError as exc:
        print(f"check failed: {exc}; nothing was written", file=sys.stderr)
        return EXIT_PULUMI
    for path in files:
        print(f"wrote {path}")
    print(
        f"stack {options.stack!r} now holds {len(conversion.addresses())} object(s), token "
        "secrets encrypted by its secrets provider"
    )
    if not config:
        print(
            "the stack had no config: set motherduck:token (and motherduck:apiUrl if needed), "
            "then run `pulumi up --expect-no-changes` once (no API call) so the stack records "
            "them; until then `pulumi refresh` needs `--run-program`"
        )
    print(
        "next: `pulumi preview --expect-no-changes` and `pulumi refresh`; once both pass, drop "
        "the objects from Terraform: terraform state rm "
        + " ".join(f"'{a}'" for a in conversion.addresses())
    )
    return 0
