"""The `genting` command (CONTRACT.md, "Command line"): up, serve, migrate, token, replay, events, status,
dlq, import, simulate, rotate-keys, and the recovery commands (republish, repair-stream, backup, restore)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import sys
import uuid
from pathlib import Path

from genting import services as catalogue
from genting.importer import add_parser as add_import_parser
from genting.importer import run as run_import
from genting.recovery_cli import add_parsers as add_recovery_parsers
from genting.recovery_cli import run as run_recovery
from genting.simulate import add_parser as add_simulate_parser
from genting.state import JWKS_FILE, add_data_dir, load_secrets, read_stack
from shared.auth import ROLES, issue_token


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _int_option(parser: argparse.ArgumentParser, flag: str, default: int, help: str | None = None) -> None:
    """A number option of `up`, whose default GENTING_<FLAG> replaces (--pg-port: GENTING_PG_PORT)."""
    env = "GENTING_" + flag.removeprefix("--").replace("-", "_").upper()
    parser.add_argument(flag, type=int, metavar="N", default=_env_int(env, default), help=help)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genting", description="Run and operate Genting.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        help="families in the demo (default 200); a data dir keeps the demo it first loaded",
    )
    add_data_dir(up)
    _int_option(up, "--replicas", 1, "processes per service, all answering on the service's one port (default 1)")
    up.add_argument(
        "--host", default=os.environ.get("GENTING_HOST", "127.0.0.1"), help="address the services listen on"
    )
    _int_option(up, "--nats-port", 14222)
    _int_option(up, "--pg-port", 15432)
    _int_option(
        up,
        "--idp-port",
        8009,
        "the development OIDC sign-in provider's port (default 8009; origins: GENTING_IDP_ALLOWED_ORIGINS)",
    )
    for service in catalogue.SERVICES:
        _int_option(up, f"--{service.name}-port", service.port)
    _int_option(up, "--gateway-port", 8000, "the field app and the APIs under one origin (default 8000)")
    gateway = commands.add_parser(
        "gateway",
        help="serve the field app and proxy /api/<service>/ to the services (what the gateway container runs)",
        description="Settings: GENTING_<SERVICE>_URL for registry, aid, funding, reporting; GENTING_FIELD_OIDC_ISSUER "
        "and GENTING_FIELD_OIDC_CLIENT_ID (the app's sign-in); GENTING_HOST, PORT or GENTING_PORT (default 8000).",
    )
    serve = commands.add_parser(
        "serve",
        help="run one service in the foreground, configured from the environment only (what a container runs)",
        description="Settings: GENTING_DATABASE_URL, GENTING_NATS_URL, GENTING_JWKS_URL (the identity provider's "
        "key set), GENTING_DATA_KEY, "
        "GENTING_HOST (default 0.0.0.0), PORT or GENTING_PORT (default: the service's port). Does not migrate "
        "(run `genting migrate` first) unless GENTING_MIGRATE_ON_START=1.",
    )
    serve.add_argument("service", choices=[s.name for s in catalogue.SERVICES], metavar="SERVICE")
    migrate = commands.add_parser(
        "migrate",
        help="apply a service's database migrations (or every service's: all) and exit",
        description="Database: GENTING_<SERVICE>_DATABASE_URL, or GENTING_DATABASE_URL for a single service. "
        "Idempotent; concurrent runs wait for each other.",
    )
    migrate.add_argument("service", choices=[*(s.name for s in catalogue.SERVICES), "all"], metavar="SERVICE|all")
    status = commands.add_parser(
        "status",
        help="per service: relay leader, outbox backlog, consumers' lag and redeliveries, dead letters",
        description="Reads the running `genting up` stack in DIR, else GENTING_NATS_URL and "
        "GENTING_<SERVICE>_DATABASE_URL from the environment.",
    )
    add_data_dir(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    dlq = commands.add_parser("dlq", help="dead letters: list them, or send them back to their consumer")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True, metavar="list|retry")
    dlq_list = dlq_commands.add_parser("list", help="dead letters of SERVICE's consumers, with their reasons")
    dlq_retry = dlq_commands.add_parser("retry", help="send dead letters back to their consumer (all, or IDs)")
    for sub in (dlq_list, dlq_retry):
        sub.add_argument("service", choices=[s.name for s in catalogue.SERVICES], metavar="SERVICE")
        add_data_dir(sub)
    dlq_list.add_argument("--json", action="store_true", help="machine-readable output")
    dlq_retry.add_argument("ids", type=int, nargs="*", metavar="ID", help="letters to retry (default: all)")

    check = commands.add_parser(
        "check-secrets",
        help="check a deployment's secrets (Compose env file, Kubernetes Secret manifests) as `serve` does",
        description="Each FILE: a Kubernetes manifest (.yaml/.yml; every Secret's stringData and data) or a "
        "Compose env file (KEY=VALUE). Every secret is checked for length and known example values by the "
        "code `genting serve` uses; each problem is printed (never the value) and the exit status is 1.",
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    token = commands.add_parser("token", help="print a signed JWT for a role (dev and tests)")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--kelurahan", metavar="CODE", help="required for lurah and kader")
    token.add_argument("--donor-id", metavar="ID", help="required for donor")
    token.add_argument("--sub", metavar="NAME", help="subject (default: dev-<role>-<random>, one per token)")
    token.add_argument("--ttl-hours", type=float, default=12.0)
    add_data_dir(token, help="where `up` keeps the signing key (unless GENTING_SIGNING_KEY is set)")

    replay = commands.add_parser("replay", help="rebuild a service's read models from scratch")
    replay.add_argument("service", metavar="SERVICE")
    add_data_dir(replay)
    events = commands.add_parser("events", help="print the events a context published (from its stream)")
    events.add_argument(
        "context",
        choices=[s.name for s in catalogue.SERVICES],
        metavar="CONTEXT",
        help="registry, funding, aid or reporting",
    )
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    events.add_argument("--last", type=int, metavar="N", help="only the last N events")
    add_data_dir(events)
    rotate = commands.add_parser(
        "rotate-keys",
        help="re-wrap a service's keys under its current GENTING_DATA_KEY (after a root key rotation)",
        description="Run after the service was given a new GENTING_DATA_KEY with the old one in "
        "GENTING_DATA_KEYS_PREVIOUS; safe while it runs, and again. When it reports 0 keys left "
        "under old key ids, remove the old root (deploy/README.md, Rotating a data key).",
    )
    rotate.add_argument("service", help="registry, aid, funding, reporting, or all (on a genting up stack)")
    rotate.add_argument("--batch", type=int, default=500, help="keys per transaction (default 500)")
    rotate.add_argument(
        "--lookup-key",
        action="store_true",
        help="only print the registry's lookup key in use, to pin as GENTING_LOOKUP_KEY before rotating",
    )
    add_data_dir(rotate, help="the genting up stack, if any")
    nats_url = commands.add_parser(
        "nats-url",
        help="print a NATS URL with NAME's credentials for the embedded stack",
        description="NAME: a service (registry, aid, funding, reporting), subscriber (other agencies, in an "
        "account of their own: the de-identified events, no growth data; `genting events` reads as it), "
        "operator (status, dlq) or admin (the migration step: streams and consumers; docs/threat-model.md). "
        "The host and port are the running stack's, else 127.0.0.1 and GENTING_NATS_PORT (14222).",
    )
    nats_url.add_argument("name", choices=[*catalogue_names(), "subscriber", "operator", "admin"], metavar="NAME")
    add_data_dir(nats_url)
    recovery = add_recovery_parsers(commands)
    imports = add_import_parser(commands)
    simulate = add_simulate_parser(commands)
    # Errors in a command's arguments show that command's usage.
    commands_ = (
        up,
        serve,
        gateway,
        migrate,
        status,
        dlq,
        dlq_list,
        dlq_retry,
        token,
        replay,
        events,
        nats_url,
        imports,
        simulate,
        rotate,
        *recovery,
    )
    for command in commands_:
        command.set_defaults(usage=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.service)
    if args.command == "migrate":
        return _migrate(args.service)
    if args.command == "gateway":
        from genting.gateway import serve_from_env

        return serve_from_env()
    if args.command == "check-secrets":
        return _check_secrets(args)
    args.data_dir = args.data_dir.resolve()
    if args.command == "up":
        if args.demo_families is not None and args.demo_families < 1:
            args.usage.error("--demo-families must be at least 1")
        if args.replicas < 1:
            args.usage.error("--replicas must be at least 1")
        return _up(args)
    if args.command == "status":
        return _status(args)
    if args.command == "dlq":
        return _dlq(args)
    if args.command == "token":
        return _token(args.usage, args)
    if args.command == "events":
        return _events(args)
    if args.command == "rotate-keys":
        return _rotate_keys(args.usage, args)
    if args.command == "nats-url":
        print(_nats_url_for(args.data_dir, args.name))
        return 0
    if args.command in ("republish", "repair-stream", "backup", "restore"):
        return run_recovery(args, _replay)
    if args.command == "import":
        return run_import(args)
    if args.command == "simulate":
        from genting.simulate import run as run_simulate

        return run_simulate(args)
    return _replay(args.usage, args)


def catalogue_names() -> list[str]:
    return [s.name for s in catalogue.SERVICES]


def _nats_url_for(data_dir: Path, name: str) -> str:
    """NAME's URL on the embedded server (its password is in DIR/secrets.json)."""
    from genting.nats_accounts import url_for

    stack = read_stack(data_dir)
    server = (stack or {}).get("nats_server") or f"nats://127.0.0.1:{_env_int('GENTING_NATS_PORT', 14222)}"
    return url_for(server, name, load_secrets(data_dir).nats[name])


def _events(args: argparse.Namespace) -> int:
    from genting.events import run

    stack = read_stack(args.data_dir)
    # As the subscriber sees them: its own account holds the de-identified events (the operator
    # reads no event). An external, open server has no subscriber: its URL is the stack's.
    nats_url = os.environ.get("GENTING_NATS_URL")
    if not nats_url and stack:
        external = stack.get("nats_server") == stack["nats_url"]
        nats_url = stack["nats_url"] if external else _nats_url_for(args.data_dir, "subscriber")
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
    origins = os.environ.get("GENTING_IDP_ALLOWED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")
    options = UpOptions(
        args.data_dir,
        args.host,
        args.nats_port,
        args.pg_port,
        ports,
        args.demo,
        args.demo_families,
        args.replicas,
        args.gateway_port,
        idp_port=args.idp_port,
        idp_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
    )
    return up(options)


def _serve(name: str) -> int:
    """One service, from the environment only; refuses weak secrets with one line naming the setting."""
    from shared.secrets import WeakSecret, check_serving_secrets

    try:
        check_serving_secrets(os.environ)
    except WeakSecret as exc:
        print(f"genting serve: {exc}", file=sys.stderr)
        return 2
    service = catalogue.get(name)
    raw_port = os.environ.get("GENTING_PORT") or os.environ.get("PORT") or str(service.port)
    if not raw_port.isdigit():
        print(f"genting serve: PORT/GENTING_PORT must be a number, not {raw_port!r}", file=sys.stderr)
        return 2
    os.environ["GENTING_SERVICE"] = service.name
    os.environ.setdefault("GENTING_MIGRATE_ON_START", "0")  # production migrates with `genting migrate`
    raw_metrics = os.environ.get("GENTING_METRICS_PORT", "")
    if raw_metrics and (not raw_metrics.isdigit() or raw_metrics == raw_port):
        print("genting serve: GENTING_METRICS_PORT must be a number other than PORT", file=sys.stderr)
        return 2
    import uvicorn

    host = os.environ.get("GENTING_HOST", "0.0.0.0")  # a container listens on all interfaces
    if not raw_metrics:
        uvicorn.run(
            service.factory,
            factory=True,
            host=host,
            port=int(raw_port),
            access_log=False,  # the services log one line per request themselves
            proxy_headers=True,
        )
        return 0
    # One app, two listeners: the API port, and the metrics port only Prometheus reaches (the app
    # answers /metrics on that one only). The app's startup and shutdown run once, with the API's.
    from uvicorn.importer import import_from_string

    app = import_from_string(service.factory)()
    api = uvicorn.Server(uvicorn.Config(app, host=host, port=int(raw_port), access_log=False, proxy_headers=True))
    metrics = uvicorn.Server(
        uvicorn.Config(app, host=host, port=int(raw_metrics), access_log=False, lifespan="off", log_config=None)
    )

    async def both() -> None:
        watcher = asyncio.create_task(metrics.serve())
        try:
            await api.serve()
        finally:
            metrics.should_exit = True
            await watcher

    asyncio.run(both())
    return 0


def _migrate(which: str) -> int:
    """Every migration not applied yet, per service; a second run (or a concurrent one) changes nothing."""
    import asyncpg

    from genting.status import database_url_for
    from shared.db import migrate

    wanted = catalogue.available() if which == "all" else [catalogue.get(which)]
    urls = {s.name: database_url_for(s.name, single=which != "all") for s in wanted}
    if missing := [name for name, url in urls.items() if url is None]:
        names = ", ".join(f"GENTING_{name.upper()}_DATABASE_URL" for name in missing)
        print(f"genting migrate: set {names}", file=sys.stderr)
        return 2
    for service in wanted:
        url = urls[service.name]
        assert url is not None
        try:
            applied = asyncio.run(migrate(url, catalogue.migrations(service)))
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"genting migrate: {service.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(f"{service.name}: {len(applied)} migration(s) applied" + (f" ({', '.join(applied)})" if applied else ""))
    return _migrate_nats()


def _migrate_nats() -> int:
    """The streams and durable consumers, with the admin's URL (no service's user may create them).
    Without GENTING_NATS_ADMIN_URL it says so and leaves NATS alone (the databases may be migrated
    by themselves); the services then stop at start, naming the stream they miss."""
    from genting import nats_topology

    admin = os.environ.get("GENTING_NATS_ADMIN_URL")
    if not admin:
        print("nats: GENTING_NATS_ADMIN_URL not set: streams and consumers not checked")
        return 0
    replicas = _env_int("GENTING_STREAM_REPLICAS", 1)
    try:
        done = asyncio.run(nats_topology.apply(admin, os.environ.get("GENTING_SUBSCRIBER_NATS_URL"), replicas))
    except Exception as exc:  # the server's own words: a refused permission, an unreachable host
        print(f"genting migrate: nats: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"nats: streams and consumers in place ({', '.join(done)})")
    return 0


def _nats_url(data_dir: Path) -> str | None:
    stack = read_stack(data_dir)
    return (stack["nats_url"] if stack else None) or os.environ.get("GENTING_NATS_URL")


def _status(args: argparse.Namespace) -> int:
    from genting import status

    found = asyncio.run(status.collect(status.endpoints(read_stack(args.data_dir))))
    print(status.as_json(found) if args.json else status.as_table(found))
    return 0


def _dlq(args: argparse.Namespace) -> int:
    nats_url = _nats_url(args.data_dir)
    if not nats_url:
        print(
            f"genting: no running stack in {args.data_dir}: start `genting up` first, or set GENTING_NATS_URL",
            file=sys.stderr,
        )
        return 1
    return asyncio.run(_dlq_async(args, nats_url))


async def _dlq_async(args: argparse.Namespace, nats_url: str) -> int:
    import json

    import nats

    from genting import dlq
    from shared.nats_setup import inbox_prefix_for

    nc = await nats.connect(
        nats_url, connect_timeout=5, max_reconnect_attempts=0, inbox_prefix=inbox_prefix_for(nats_url)
    )
    try:
        js = nc.jetstream(timeout=5)
        found = await dlq.letters(js, args.service)
        if args.dlq_command == "list":
            if args.json:
                print(json.dumps([{**d.__dict__, "event_type": d.event_type} for d in found], indent=2))
            else:
                print(dlq.table(found))
            return 0
        chosen = [d for d in found if not args.ids or d.id in args.ids]
        if unknown := sorted(set(args.ids) - {d.id for d in found}):
            print(f"genting dlq: no dead letter {', '.join(map(str, unknown))} for {args.service}", file=sys.stderr)
        failed = 0
        for letter in chosen:
            why = await dlq.retry(nc, js, args.service, letter)
            if why is None:
                print(f"{letter.id}: {letter.projection} applied {letter.stream}#{letter.stream_seq}; removed")
            else:
                failed += 1
                print(f"{letter.id}: kept: {why}")
        print(f"{len(chosen) - failed} retried, {failed} kept")
        return 1 if failed or unknown else 0
    finally:
        await nc.close()


def _check_secrets(args: argparse.Namespace) -> int:
    from shared.secrets import check_deployment_secrets, read_env_file, read_k8s_secrets

    problems = 0
    for path in args.files:
        text = path.read_text()
        found = read_k8s_secrets(text) if path.suffix in (".yaml", ".yml") else read_env_file(text)
        for problem in check_deployment_secrets(found):
            problems += 1
            print(f"{path}: {problem}")
        if not found:
            problems += 1
            print(f"{path}: no secrets found")
    print(f"{problems} problem(s)" if problems else "all secrets pass")
    return 1 if problems else 0


def _token(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.role in ("lurah", "kader") and not args.kelurahan:
        parser.error(f"a {args.role} token needs --kelurahan CODE")
    if args.role == "donor" and not args.donor_id:
        parser.error("a donor token needs --donor-id ID")
    cap = float(os.environ.get("GENTING_JWT_MAX_LIFETIME_HOURS") or 12)
    if not 0 < args.ttl_hours <= cap:
        parser.error(f"--ttl-hours must be more than 0 and at most {cap:g}: the services refuse longer-lived tokens")
    token = issue_token(
        load_secrets(args.data_dir).signing_key,
        role=args.role,
        # Each minted principal is someone of its own (audit trails, idempotency records, "registered
        # by"): two kader tokens must not share a subject unless the caller says so.
        sub=args.sub or f"dev-{args.role}-{uuid.uuid4().hex[:12]}",
        kelurahan=args.kelurahan,
        donor_id=args.donor_id,
        ttl_seconds=int(args.ttl_hours * 3600),
    )
    print(token)
    return 0


def _rotate_keys(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from genting import keys

    names = list(keys.ROTATABLE) if args.service == "all" else [args.service]
    if any(name not in keys.ROTATABLE for name in names):
        parser.error(f"unknown service {args.service!r}; one of {', '.join(keys.ROTATABLE)}, all")
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    stack = read_stack(args.data_dir)
    if stack is None and args.service == "all":
        parser.error("`all` needs a running genting up stack; in a deployment, run it per service with its settings")
    data_keys = load_secrets(args.data_dir).data_keys if stack is not None else {}
    settings = keys.settings_for(names, stack, data_keys)
    try:
        if args.lookup_key:
            if names != ["registry"]:
                parser.error("--lookup-key is the registry's")
            print(keys.lookup_key_text(settings["registry"]))
            return 0
        left = 0
        for name in names:
            result = asyncio.run(keys.rotate(name, settings[name], batch=args.batch))
            keys.report(result)
            left += result.left
    except ValueError as exc:  # a key missing, malformed or unknown: the message names it
        print(f"genting: {exc}", file=sys.stderr)
        return 1
    return 1 if left else 0


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
        # The service's own NATS user (the stack's URL is the operator's, who reads but consumes nothing).
        external = stack.get("nats_server") == stack["nats_url"]
        os.environ["GENTING_NATS_URL"] = stack["nats_url"] if external else _nats_url_for(args.data_dir, service.name)
        if not external:  # resetting a durable consumer needs the admin (shared/projection.py, rebuild)
            os.environ["GENTING_NATS_ADMIN_URL"] = _nats_url_for(args.data_dir, "admin")
    elif not (os.environ.get("GENTING_DATABASE_URL") and os.environ.get("GENTING_NATS_URL")):
        print(
            f"genting: no running stack in {args.data_dir}: start `genting up` first, or set "
            "GENTING_DATABASE_URL and GENTING_NATS_URL",
            file=sys.stderr,
        )
        return 1
    secrets = load_secrets(args.data_dir)
    os.environ.setdefault("GENTING_JWKS_FILE", str(args.data_dir / JWKS_FILE))
    os.environ.setdefault("GENTING_DATA_KEY", secrets.data_keys[service.name])
    os.environ["GENTING_SERVICE"] = service.name
    os.environ.setdefault("GENTING_DATA_DIR", str(args.data_dir))

    module = importlib.import_module(module_name)
    result = asyncio.run(module.main())
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
