"""The ``motcua`` command line: parse arguments, call one library function, report.

Commands are registered in :data:`COMMANDS` (name → :class:`Command`); ``enrol``, ``sync``
and ``status`` come from :mod:`desktop.sync.cli_commands` (its ``register(subparsers)``),
whose parsers ``set_defaults(handler=fn)`` with ``fn(args) -> int`` like these.

Exit codes: 0 success, 1 an error (a clear English message on stderr), 2 bad usage.
Passwords come from ``MOTCUA_PASSWORD`` (``MOTCUA_NEW_PASSWORD`` for a new clerk) or a prompt.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """A subcommand: its help line, how to add its arguments, and what runs it."""

    help: str
    setup: Callable[[argparse.ArgumentParser], None]
    handler: Handler


def _out(line: str) -> None:
    """Print one line to stdout and flush, so a reader sees it even if we are killed next."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- init ---------------------------------------------------------------------------------


def _setup_init(p: argparse.ArgumentParser) -> None:
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--commune", help="5-digit commune code, e.g. 02701")
    scope.add_argument(
        "--province",
        action="store_true",
        help="a provincial IT console profile (then run console-enrol)",
    )
    p.add_argument(
        "--username",
        dest="init_username",
        default="admin",
        help="the first clerk's username (default: admin)",
    )
    p.add_argument("--full-name", default=None, help="the first clerk's full name")
    p.add_argument(
        "--recovery-public-key",
        default=None,
        help="the province's X25519 recovery public key, 64 hex digits",
    )
    p.add_argument("--server-url", default=None, help="the provincial sync server")


def cmd_init(args: argparse.Namespace) -> int:
    """Create a new profile: a commune's, or with ``--province`` provincial IT's console."""
    from desktop.store.errors import StoreError
    from desktop.store.profile import ROLE_COMMUNE, ROLE_PROVINCE
    from desktop.store.store import Store
    from desktop.store.unlock import read_password

    recovery = None
    if args.recovery_public_key:
        try:
            recovery = bytes.fromhex(args.recovery_public_key)
        except ValueError:
            raise StoreError("--recovery-public-key must be hex") from None
    password = read_password(f"New password for {args.init_username}: ", confirm=True)
    store = Store.create(
        args.profile,
        commune=args.commune or "",
        username=args.init_username,
        password=password,
        full_name=args.full_name or args.init_username,
        recovery_public_key=recovery,
        server_url=args.server_url,
        role=ROLE_PROVINCE if args.province else ROLE_COMMUNE,
    )
    with store:
        scope = "provincial IT" if args.province else f"commune {store.commune}"
        _out(f"created profile {store.profile_dir} for {scope}")
        _out(f"device {store.device_id}; clerk {store.clerk}")
    return 0


# -- console-enrol ------------------------------------------------------------------------


def _setup_console_enrol(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", required=True, help="server URL, e.g. https://hotich.example")
    p.add_argument("--code", required=True, help="one-time code from motcua-server operator-code")
    p.add_argument("--label", default=None, help="a name for this PC (no personal data)")


def cmd_console_enrol(args: argparse.Namespace) -> int:
    """Enrol a provincial profile as an operator of the server (provincial IT's console)."""
    from desktop.console.enrolment import enrol_operator
    from desktop.console.service import ConsoleError
    from desktop.store.unlock import open_store

    with open_store(args.profile, args.username) as store:
        try:
            done = enrol_operator(store, args.server, args.code, label=args.label or "")
        except ConsoleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    _out(f"enrolled operator {done.operator_id} as {done.name or '(no name)'}")
    _out(f"server {done.server_url}, key id {done.server_key_id} (pinned)")
    return 0


# -- users --------------------------------------------------------------------------------


def _setup_users(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="users_command", metavar="{add,list,remove}", required=True)
    add = sub.add_parser("add", help="add a clerk (new password: MOTCUA_NEW_PASSWORD or prompt)")
    add.add_argument("new_username")
    add.add_argument("--full-name", default=None)
    add.add_argument("--role", choices=("clerk", "admin"), default="clerk")
    sub.add_parser("list", help="list the clerks")
    rm = sub.add_parser("remove", help="remove a clerk's key slot")
    rm.add_argument("old_username")


def cmd_users(args: argparse.Namespace) -> int:
    """Add, list or remove clerks."""
    from desktop.store.unlock import open_store, read_password

    with open_store(args.profile, args.username) as store:
        if args.users_command == "add":
            password = read_password(
                f"New password for {args.new_username}: ", env="MOTCUA_NEW_PASSWORD", confirm=True
            )
            clerk = store.add_clerk(
                args.new_username, password, args.full_name or args.new_username, role=args.role
            )
            _out(f"added clerk {clerk.username} ({clerk.role})")
        elif args.users_command == "remove":
            store.remove_clerk(args.old_username)
            _out(f"removed clerk {args.old_username}")
        else:
            for c in store.clerks():
                _out(f"{c.username}\t{c.role}\t{c.full_name}")
    return 0


# -- import / export ----------------------------------------------------------------------


def _setup_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="JSON lines, see docs/import-format.md")
    p.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="import dossiers that look like ones already present",
    )


def cmd_import(args: argparse.Namespace) -> int:
    """Import dossiers: check every line first, then save one per transaction."""
    from desktop.store import importer
    from desktop.store.unlock import open_store

    with open_store(args.profile, args.username) as store:
        try:
            lines = importer.check_file(store, args.file, allow_duplicates=args.allow_duplicates)
        except importer.ImportFailed as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            print(f"error: {exc}", file=sys.stderr)
            return 1

        def saved(line: importer.ImportLine, dossier_id: str | None) -> None:
            if dossier_id is None:
                _out(f"skipped line {line.line_no} (imported before)")
            else:
                _out(f"saved {dossier_id}")

        report = importer.import_lines(store, lines, on_saved=saved)
        _out(f"imported {report.saved} dossier(s), skipped {report.skipped}")
    return 0


def _setup_export(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json", action="store_true", required=True, help="JSON lines on stdout (the only format)"
    )


def cmd_export(args: argparse.Namespace) -> int:
    """Write every dossier as a JSON line (importable again)."""
    from desktop.store.unlock import open_store

    with open_store(args.profile, args.username) as store:
        for record in store.iter_dossiers():
            line = {
                "id": record.id,
                "procedure": record.procedure,
                "received_at": record.received_at,
                "data": record.data,
                "record": record.record,
                "server_version": record.server_version,
            }
            sys.stdout.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


# -- search -------------------------------------------------------------------------------


def _setup_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", help="name, ID number or dossier number; accents optional")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")


def cmd_search(args: argparse.Namespace) -> int:
    """Search dossiers."""
    import dataclasses

    from desktop.store.unlock import open_store

    with open_store(args.profile, args.username) as store:
        for s in store.search(args.text, limit=args.limit):
            if args.json:
                _out(json.dumps(dataclasses.asdict(s), ensure_ascii=False))
            else:
                _out(
                    "\t".join([s.dossier_no, s.procedure, s.status, s.display_name, s.received_at])
                )
    return 0


# -- backup / restore / audit ---------------------------------------------------------------


def _setup_backup(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="the backup file to write")


def cmd_backup(args: argparse.Namespace) -> int:
    """Write an encrypted online backup."""
    from desktop.store.unlock import open_store

    with open_store(args.profile, args.username) as store:
        size = store.backup(args.file)
    _out(f"backup written to {args.file} ({size} bytes)")
    return 0


def _setup_restore(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a backup file made by `motcua backup`")


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore the profile from a backup (the current one is moved aside)."""
    import os

    from desktop.store.store import Store
    from desktop.store.unlock import read_password

    username = args.username or os.environ.get("MOTCUA_USER")
    aside = Store.restore(args.file, args.profile, read_password(), username=username)
    if aside is not None:
        _out(f"the previous profile was moved to {aside}")
    _out(f"restored {args.profile} from {args.file}")
    return 0


def _setup_none(p: argparse.ArgumentParser) -> None:
    pass


def cmd_verify_audit(args: argparse.Namespace) -> int:
    """Check the audit log's hash chain."""
    from desktop.store.unlock import open_store

    with open_store(args.profile, args.username) as store:
        report = store.verify_audit()
    if report.ok:
        _out(f"audit log ok: {report.entries} entries")
        return 0
    print(f"error: audit log broken at entry {report.first_bad_seq}", file=sys.stderr)
    return 1


#: The store commands, in help order. Other packages register theirs (see module docstring).
COMMANDS: dict[str, Command] = {
    "init": Command(
        "create a new profile (encrypted store) for a commune or provincial IT",
        _setup_init,
        cmd_init,
    ),
    "console-enrol": Command(
        "enrol a provincial profile as an operator of the provincial server",
        _setup_console_enrol,
        cmd_console_enrol,
    ),
    "users": Command("manage clerk accounts", _setup_users, cmd_users),
    "import": Command("import dossiers from a JSON-lines file", _setup_import, cmd_import),
    "export": Command("export every dossier as JSON lines", _setup_export, cmd_export),
    "search": Command(
        "search dossiers by name, ID number or dossier number", _setup_search, cmd_search
    ),
    "backup": Command("write an encrypted backup of the profile", _setup_backup, cmd_backup),
    "restore": Command("restore the profile from a backup", _setup_restore, cmd_restore),
    "verify-audit": Command("check the audit log's hash chain", _setup_none, cmd_verify_audit),
}


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (store commands plus any registered elsewhere)."""
    from desktop.store.profile import default_profile_dir

    parser = argparse.ArgumentParser(
        prog="motcua", description="Một Cửa Xã: commune civil-status registration (offline)."
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help=f"profile directory (default: MOTCUA_PROFILE or {default_profile_dir()})",
    )
    parser.add_argument(
        "--username", default=None, help="the acting clerk (default: MOTCUA_USER or the only clerk)"
    )
    parser.add_argument(
        "--self-check", action="store_true", help="check that this installed copy works, then exit"
    )
    parser.set_defaults(handler=None)  # no command given: main prints the help
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        command.setup(p)
        p.set_defaults(handler=command.handler)
    from desktop.sync import cli_commands

    cli_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): return, don't exit
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if args.self_check:
        from desktop.selfcheck import main as self_check

        return self_check()
    handler: Handler | None = args.handler
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    if args.profile is None:
        from desktop.store.profile import default_profile_dir

        args.profile = default_profile_dir()
    from desktop.store.errors import StoreError

    try:
        return int(handler(args))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # forms' ValidationError and other bad input
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (``motcua export --json | head``): not an error of ours.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
