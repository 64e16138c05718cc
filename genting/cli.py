"""The `genting` command (CONTRACT.md, "Command line"): up, token, replay, events, import, simulate."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from genting import services as catalogue
from genting.importer import add_parser as add_import_parser
from genting.importer import run as run_import
from genting.simulate import add_parser as add_simulate_parser
from genting.state import load_secrets, read_stack
from shared.auth import ROLES, issue_token


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genting", description="Run and operate Genting.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    default_dir = Path(os.environ.get("GENTING_DATA_DIR", ".genting"))

    up = commands.add_parser(
        "up",
        help="run NATS, PostgreSQL and the services in the foreground (Ctrl-C stops all)",
        description="GENTING_NATS_URL / GENTING_DATABASE_URL use existing servers instead of "
        "the embedded ones. Ports can also be set as GENTING_<NAME>_PORT.",
    )
    up.add_argument("--demo", action="store_true", help="load the Pekalongan demo (again: changes nothing)")
    up.add_argument(
        "--demo-families",
        type=int,
        metavar="N",
        help="families in the demo (default 300); a data dir keeps the demo it first loaded",
    )
    up.add_argument("--data-dir", type=Path, default=default_dir, metavar="DIR")
    up.add_argument(
        "--host", default=os.environ.get("GENTING_HOST", "127.0.0.1"), help="address the services listen on"
    )
    up.add_argument("--nats-port", type=int, default=_env_int("GENTING_NATS_PORT", 14222))
    up.add_argument("--pg-port", type=int, default=_env_int("GENTING_PG_PORT", 15432))
    for service in catalogue.SERVICES:
        up.add_argument(
            f"--{service.name}-port",
            type=int,
            metavar="N",
            default=_env_int(f"GENTING_{service.name.upper()}_PORT", service.port),
        )

    token = commands.add_parser("token", help="print a signed JWT for a role (dev and tests)")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--kelurahan", metavar="CODE", help="required for lurah and kader")
    token.add_argument("--donor-id", metavar="ID", help="required for donor")
    token.add_argument("--sub", metavar="NAME", help="subject (default: dev-<role>)")
    token.add_argument("--ttl-hours", type=float, default=12.0)
    token.add_argument(
        "--data-dir",
        type=Path,
        default=default_dir,
        metavar="DIR",
        help="where `up` keeps the signing key (unless GENTING_JWT_SECRET is set)",
    )

    replay = commands.add_parser("replay", help="rebuild a service's read models from scratch")
    replay.add_argument("service", metavar="SERVICE")
    replay.add_argument("--data-dir", type=Path, default=default_dir, metavar="DIR")
    events = commands.add_parser("events", help="print the events a context published (from its stream)")
    events.add_argument(
        "context",
        choices=[s.name for s in catalogue.SERVICES],
        metavar="CONTEXT",
        help="registry, funding, aid or reporting",
    )
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    events.add_argument("--last", type=int, metavar="N", help="only the last N events")
    events.add_argument("--data-dir", type=Path, default=default_dir, metavar="DIR")
    imports = add_import_parser(commands, default_dir)
    simulate = add_simulate_parser(commands, default_dir)
    # Errors in a command's arguments show that command's usage.
    for command in (up, token, replay, events, imports, simulate):
        command.set_defaults(usage=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    if args.command == "up":
        if args.demo_families is not None and args.demo_families < 1:
            args.usage.error("--demo-families must be at least 1")
        return _up(args)
    if args.command == "token":
        return _token(args.usage, args)
    if args.command == "events":
        return _events(args)
    if args.command == "import":
        return run_import(args)
    if args.command == "simulate":
        from genting.simulate import run as run_simulate

        return run_simulate(args)
    return _replay(args.usage, args)


def _events(args: argparse.Namespace) -> int:
    from genting.events import run

    stack = read_stack(args.data_dir)
    nats_url = os.environ.get("GENTING_NATS_URL") or (stack["nats_url"] if stack else None)
    if not nats_url:
        print(
            f"genting: no running stack in {args.data_dir}: start `genting up` first, or set GENTING_NATS_URL",
            file=sys.stderr,
        )
        return 1
    return run(nats_url, args.context, args.follow, args.last)


def _up(args: argparse.Namespace) -> int:
    from genting.supervisor import UpOptions, up  # needs the embedded extra; token does not

    ports = {s.name: getattr(args, f"{s.name}_port") for s in catalogue.SERVICES}
    options = UpOptions(args.data_dir, args.host, args.nats_port, args.pg_port, ports, args.demo, args.demo_families)
    return up(options)


def _token(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.role in ("lurah", "kader") and not args.kelurahan:
        parser.error(f"a {args.role} token needs --kelurahan CODE")
    if args.role == "donor" and not args.donor_id:
        parser.error("a donor token needs --donor-id ID")
    token = issue_token(
        load_secrets(args.data_dir).jwt_secret,
        role=args.role,
        sub=args.sub or f"dev-{args.role}",
        kelurahan=args.kelurahan,
        donor_id=args.donor_id,
        ttl_seconds=int(args.ttl_hours * 3600),
    )
    print(token)
    return 0


def _replay(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        service = catalogue.get(args.service)
    except KeyError:
        names = ", ".join(s.name for s in catalogue.SERVICES)
        parser.error(f"unknown service {args.service!r}; one of {names}")
    module_name = f"services.{service.name}.replay"
    if not catalogue.is_available(service) or importlib.util.find_spec(module_name) is None:
        parser.error(f"{service.name} has no replay yet ({module_name} not found)")

    # The running stack's record wins: it names exactly the database the service uses, where
    # GENTING_DATABASE_URL for `up` names only the server. Without one, the environment (as
    # in a deployment, where it holds the service's own settings) must say.
    stack = read_stack(args.data_dir)
    if stack is not None:
        os.environ["GENTING_DATABASE_URL"] = stack["databases"][service.name]
        os.environ["GENTING_NATS_URL"] = stack["nats_url"]
    elif not (os.environ.get("GENTING_DATABASE_URL") and os.environ.get("GENTING_NATS_URL")):
        print(
            f"genting: no running stack in {args.data_dir}: start `genting up` first, or set "
            "GENTING_DATABASE_URL and GENTING_NATS_URL",
            file=sys.stderr,
        )
        return 1
    secrets = load_secrets(args.data_dir)
    os.environ.setdefault("GENTING_JWT_SECRET", secrets.jwt_secret)
    os.environ.setdefault("GENTING_DATA_KEY", secrets.data_key)
    os.environ["GENTING_SERVICE"] = service.name
    os.environ.setdefault("GENTING_DATA_DIR", str(args.data_dir))

    module = importlib.import_module(module_name)
    result = asyncio.run(module.main())
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
