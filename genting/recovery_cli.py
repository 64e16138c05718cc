"""The recovery commands (CONTRACT.md, "Command line"): `republish`, `repair-stream`, `backup`,
`restore`. Where they act: the running `genting up` stack in DIR (its database for the service,
and its NATS admin user: these commands rebuild streams, which no service user may), else the
environment as in a deployment: GENTING_<SERVICE>_DATABASE_URL or GENTING_DATABASE_URL, and
GENTING_NATS_URL with credentials that may manage the service's stream (deploy/README.md, Recovery)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import nats.errors

from genting import services as catalogue
from genting.state import JWKS_FILE, add_data_dir, load_secrets, read_stack
from shared.settings import Settings


def add_parsers(commands: Any) -> list[argparse.ArgumentParser]:
    names = [s.name for s in catalogue.SERVICES]
    republish = commands.add_parser(
        "republish",
        help="rebuild a service's NATS stream from its PostgreSQL event store (what the stream lacks)",
        description="Publishes, in the store's order, every stored event the stream does not hold (judged by the "
        "event ids in the stream, not by the 2-minute duplicate window): running it twice changes nothing. "
        "Creates the stream if it was lost. Consumers then catch up as usual.",
    )
    repair = commands.add_parser(
        "repair-stream",
        help="remove from a service's stream what the contract no longer allows (aid: photo_ref)",
        description="One-off: if any message carries a withdrawn field, purges the stream and republishes it "
        "from the event store without it, in order. Consumers see duplicates only (their version gate).",
    )
    backup = commands.add_parser(
        "backup",
        help="dump a service's database (pg_dump, custom format)",
        description="Binaries: GENTING_PG_BIN, else the embedded PostgreSQL's, else PATH.",
    )
    restore = commands.add_parser(
        "restore",
        help="restore a service's database from a dump, re-apply erasures since, re-publish what the bus lacks",
        description="pg_restore --clean in one transaction; then the service's own events the dump lacks come "
        "back from its stream, every PersonalDataErased on the registry's stream is applied again, the stream "
        "gets what it lacks, the service's consumers start over (their version gate skips what the dump had) "
        "and its read models are rebuilt. Restart the service afterwards (on the embedded stack: `genting up`).",
    )
    for sub in (republish, repair, backup, restore):
        sub.add_argument("service", choices=names, metavar="SERVICE")
        add_data_dir(sub)
    for sub in (republish, repair, restore):
        sub.add_argument("--replicas", type=int, default=1, help="stream replicas if it must be created (default 1)")
    backup.add_argument("--out", type=Path, metavar="FILE", help="default: genting-SERVICE-<UTC time>.dump here")
    restore.add_argument("file", type=Path, nargs="?", metavar="FILE", help="a dump of `genting backup`")
    restore.add_argument(
        "--reconcile",
        action="store_true",
        help="the database was restored otherwise (CloudNativePG): run every step after pg_restore",
    )
    restore.add_argument("--no-replay", action="store_true", help="leave the read models (run `genting replay`)")
    return [republish, repair, backup, restore]


@dataclass(frozen=True)
class Target:
    database_url: str | None
    nats_url: str | None
    stack: dict[str, Any] | None
    subscriber_url: str | None = None  # repair-stream purges the subscriber's own copy too


def target(service: str, data_dir: Path) -> Target:
    from genting.nats_accounts import ADMIN, url_for
    from genting.status import database_url_for

    stack = read_stack(data_dir)
    if stack is None:
        env = os.environ.get
        return Target(
            database_url_for(service, single=True), env("GENTING_NATS_URL"), None, env("GENTING_SUBSCRIBER_NATS_URL")
        )
    external = stack.get("nats_server") == stack["nats_url"]  # an existing server: its URL as given
    nats_url = (
        stack["nats_url"] if external else url_for(stack["nats_server"], ADMIN, load_secrets(data_dir).nats[ADMIN])
    )
    subscriber = (
        None if external else url_for(stack["nats_server"], "subscriber", load_secrets(data_dir).nats["subscriber"])
    )
    return Target(stack["databases"][service], nats_url, stack, subscriber)


def _fail(message: str) -> int:
    print(f"genting: {message}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace, replay: Callable[[argparse.ArgumentParser, argparse.Namespace], int]) -> int:
    from genting.backup import BackupError, default_file
    from genting.backup import backup as dump

    if args.command == "restore" and (args.file is None) == (not args.reconcile):
        args.usage.error("give either FILE (a dump to restore) or --reconcile (restored otherwise)")
    where = target(args.service, args.data_dir)
    if where.database_url is None:
        return _fail(
            f"no running stack in {args.data_dir}: start `genting up`, or set GENTING_DATABASE_URL "
            f"(or GENTING_{args.service.upper()}_DATABASE_URL)"
        )
    try:
        if args.command == "backup":
            file = dump(where.database_url, args.out or default_file(args.service, Path.cwd()))
            print(f"{args.service}: database dumped to {file}")
            return 0
        if where.nats_url is None:
            return _fail("set GENTING_NATS_URL (credentials that may manage the service's stream)")
        if args.command == "restore":
            from genting.backup import restore

            if args.file is not None:
                restore(where.database_url, args.file)
                print(f"{args.service}: database restored from {args.file}")
        code = asyncio.run(_after(args, where))
    except BackupError as exc:
        return _fail(str(exc))
    except (OSError, asyncpg.PostgresError, nats.errors.Error) as exc:
        # e.g. a user that may not purge or create the stream: say which and stop (nothing half-done
        # stays wrong: every step can run again).
        why = f"{args.command} {args.service}: {type(exc).__name__}: {str(exc) or 'no answer (is NATS reachable?)'}"
        if args.command == "restore":
            why += f"; the database is restored: run `genting restore {args.service} --reconcile` once fixed"
        return _fail(why)
    if code == 0 and args.command == "restore" and not args.no_replay:
        return replay(args.usage, args)  # the read models, from the store and streams now complete
    return code


async def _after(args: argparse.Namespace, where: Target) -> int:
    from genting import recovery
    from shared.db import connect
    from shared.nats_setup import connect as nats_connect

    assert where.database_url is not None and where.nats_url is not None
    # The services' own connect (its options), bounded: an operator's command must not wait forever.
    nc = await asyncio.wait_for(nats_connect(where.nats_url, f"genting-{args.command}"), timeout=20)
    conn = await connect(where.database_url)
    try:
        js = nc.jetstream(timeout=10)
        if args.command == "republish":
            done = await recovery.republish(conn, js, args.service, replicas=args.replicas)
            print(
                f"{args.service}: {done.published} event(s) republished, {done.present} already on the stream"
                f" ({done.stored} in the store)"
            )
        elif args.command == "repair-stream":
            subscriber = await nats_connect(where.subscriber_url, "genting-repair") if where.subscriber_url else None
            try:
                repaired = await recovery.repair_stream(
                    conn,
                    js,
                    args.service,
                    replicas=args.replicas,
                    subscriber=subscriber.jetstream(timeout=10) if subscriber else None,
                )
            finally:
                if subscriber is not None:
                    await subscriber.close()
            if repaired.republished is None:
                print(f"{args.service}: no message carries a withdrawn field; nothing to do")
            else:
                print(
                    f"{args.service}: {repaired.offending} message(s) carried a withdrawn field; the stream was"
                    f" rebuilt from the store ({repaired.republished.published} event(s))"
                )
        else:
            settings = _settings(args.service, args.data_dir, where)
            done_ = await recovery.reconcile_after_restore(args.service, settings, conn, js, replicas=args.replicas)
            assert done_.republished is not None
            print(
                f"{args.service}: {done_.recovered} event(s) recorded after the dump brought back from the stream"
                + (f" ({done_.conflicts} conflicting, kept out)" if done_.conflicts else "")
                + f"; {done_.erased} erasure(s) re-applied; {done_.republished.published} event(s) republished;"
                f" consumers started over: {', '.join(done_.consumers_reset) or 'none'}"
            )
        return 0
    finally:
        await conn.close()
        await nc.close()


def _settings(service: str, data_dir: Path, where: Target) -> Settings:
    """The service's own settings (its root key opens and destroys its family keys): on the
    embedded stack from its secrets, in a deployment from the service's GENTING_* variables."""
    from genting import keys

    assert where.database_url is not None
    if where.stack is not None:
        os.environ.setdefault("GENTING_JWKS_FILE", str(data_dir / JWKS_FILE))
        return keys.settings_for([service], where.stack, load_secrets(data_dir).data_keys)[service]
    return keys.service_settings(service, database_url=where.database_url)
