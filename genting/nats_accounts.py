"""Who may connect to NATS and what each may publish (issue 11's trust model): ONE source for
every mode. `deploy/nats/accounts.py` writes it as deploy/nats/accounts.conf (Compose, Kubernetes;
passwords from the environment); `genting up` and the test fixtures write it with the embedded
server's own random passwords (`embedded_config`), plus an `admin` user for the fixtures and the
operator's own maintenance (never given to a service).

The rules are generated because they are long and regular: one user per service, which publishes
only on its own `genting.<context>.>` and `genting.dlq.<service>`, manages only its own streams, and
uses only its own durable consumers on the streams it reads. NATS wildcards match whole tokens, so
"its own consumers" is a list of names, and everybody else's consumers are denied by name (a deny
wins over an allow). Passwords are variables: in Compose the plain password, in Kubernetes its
bcrypt hash (see deploy/README.md), never a value written here.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SERVICES = ("registry", "aid", "funding", "reporting")
# The durable consumers each service keeps on another context's stream (shared/projection.py names
# them `<service>-<upstream>`): service -> upstream contexts.
CONSUMES = {
    "registry": (),
    "aid": ("registry", "funding"),
    "funding": ("registry", "aid"),
    "reporting": ("registry", "funding", "aid"),
}
# What the `subscriber` account (other agencies) may read, as consumer filter subjects per stream.
# No per-child health data: GrowthMeasured and the home-visit flags are not among them.
SUBSCRIBER_FILTERS = {
    "registry": tuple(
        f"genting.registry.family.*.{t}"
        for t in (
            "FamilyRegistered",
            "MemberAdded",
            "FamilyVerified",
            "FamilyEnrolled",
            "FamilyRejected",
            "FamilyExited",
            "PersonalDataErased",
        )
    ),
    "aid": ("genting.aid.plan.>", "genting.aid.session.>"),
    "funding": ("genting.funding.>",),
    "reporting": ("genting.reporting.>",),
}

API = "$JS.API"
# The users an embedded stack has (the deploy file has all but `admin`), in `genting nats-url` order.
USERS = (*SERVICES, "subscriber", "operator")
ADMIN = "admin"


def stream(context: str) -> str:
    return f"GENTING_{context.upper()}"


def dlq_stream(service: str) -> str:
    return f"GENTING_DLQ_{service.upper()}"


def durables(service: str) -> list[tuple[str, str]]:
    """(stream, durable) pairs a service owns."""
    return [(stream(up), f"{service}-{up}") for up in CONSUMES[service]]


def all_durables() -> list[str]:
    return [name for s in SERVICES for _, name in durables(s)]


def deny_consumers(names: list[str]) -> list[str]:
    """Every JetStream API subject that names one of these consumers, and their acks."""
    out: list[str] = []
    for name in names:
        out += [
            f"{API}.CONSUMER.*.*.{name}",  # INFO, DELETE, CREATE (no filter), PAUSE, RESET
            f"{API}.CONSUMER.*.*.{name}.>",  # CREATE with a filter subject
            f"{API}.CONSUMER.*.*.*.{name}",  # MSG.NEXT, DURABLE.CREATE, LEADER.STEPDOWN
            f"$JS.ACK.*.{name}.>",
        ]
    return out


def own_stream_api(name: str) -> list[str]:
    """Create, update and read one's own stream, and one-off (ephemeral) readers of it."""
    return [
        f"{API}.STREAM.CREATE.{name}",
        f"{API}.STREAM.UPDATE.{name}",
        f"{API}.STREAM.INFO.{name}",
        f"{API}.STREAM.MSG.GET.{name}",
        f"{API}.DIRECT.GET.{name}",
        f"{API}.DIRECT.GET.{name}.>",
        f"{API}.CONSUMER.CREATE.{name}",
        f"{API}.CONSUMER.CREATE.{name}.>",
        f"{API}.CONSUMER.INFO.{name}.*",
        f"{API}.CONSUMER.MSG.NEXT.{name}.*",
        f"{API}.CONSUMER.DELETE.{name}.*",
        f"{API}.CONSUMER.LIST.{name}",
        f"{API}.CONSUMER.NAMES.{name}",
        f"$JS.ACK.{name}.>",
    ]


def retry_subjects(service: str) -> list[str]:
    """`genting dlq retry` asks a projection's runners on this core subject (shared/projection.py)."""
    return [f"genting.ops.retry.{durable}" for _, durable in durables(service)]


def service_permissions(service: str) -> tuple[list[str], list[str]]:
    allow = [f"genting.{service}.>", f"genting.dlq.{service}", f"{API}.INFO", *retry_subjects(service)]
    allow += own_stream_api(stream(service))
    # Dead letters: its own stream, listed and retried (`genting dlq`), messages removed after a retry.
    allow += [*own_stream_api(dlq_stream(service)), f"{API}.STREAM.MSG.DELETE.{dlq_stream(service)}"]
    for upstream in CONSUMES[service]:
        name, durable = stream(upstream), f"{service}-{upstream}"
        allow += [
            f"{API}.STREAM.INFO.{name}",
            # `genting dlq retry`: the runner reads the dead-lettered event back by its sequence.
            f"{API}.STREAM.MSG.GET.{name}",
            f"{API}.CONSUMER.DURABLE.CREATE.{name}.{durable}",
            f"{API}.CONSUMER.CREATE.{name}.{durable}",
            f"{API}.CONSUMER.CREATE.{name}.{durable}.>",
            f"{API}.CONSUMER.INFO.{name}.{durable}",
            f"{API}.CONSUMER.DELETE.{name}.{durable}",  # a replay starts its consumer over
            f"{API}.CONSUMER.MSG.NEXT.{name}.{durable}",
            f"$JS.ACK.{name}.{durable}.>",
            # `genting replay`: an ephemeral consumer reads the upstream once. nats-py names it, so
            # its create request names it too (another service's durable stays denied below).
            f"{API}.CONSUMER.CREATE.{name}",
            f"{API}.CONSUMER.CREATE.{name}.*",
            f"{API}.CONSUMER.CREATE.{name}.*.>",
            f"{API}.CONSUMER.INFO.{name}.*",
            f"{API}.CONSUMER.MSG.NEXT.{name}.*",
            f"{API}.CONSUMER.DELETE.{name}.*",
        ]
    own = {d for _, d in durables(service)}
    deny = deny_consumers([d for d in all_durables() if d not in own])
    return allow, deny


def subscriber_permissions() -> tuple[list[str], list[str]]:
    allow = [f"{API}.INFO"]
    for context, filters in SUBSCRIBER_FILTERS.items():
        name = stream(context)
        allow.append(f"{API}.STREAM.INFO.{name}")
        # Only consumers with one of these filters can be created: the filter is part of the API
        # subject, and the server refuses a body whose filter differs from it.
        allow += [f"{API}.CONSUMER.CREATE.{name}.*.{f}" for f in filters]
        allow += [
            f"{API}.CONSUMER.INFO.{name}.*",
            f"{API}.CONSUMER.MSG.NEXT.{name}.*",
            f"{API}.CONSUMER.DELETE.{name}.*",
            f"$JS.ACK.{name}.>",
        ]
    return allow, deny_consumers(all_durables())


def operator_permissions() -> tuple[list[str], list[str]]:
    """`genting status`, `genting dlq` and `genting events`: stream and consumer state, the dead
    letters (read, and removed once retried), the retry requests, and one-off readers of the event
    streams (`genting events`, an ordered consumer: it answers the server's flow control). It
    publishes no event and touches no service's durable consumer."""
    allow = [f"{API}.INFO", f"{API}.STREAM.NAMES", f"{API}.STREAM.LIST", "genting.ops.retry.*", "$JS.FC.>"]
    for service in SERVICES:
        name = stream(service)
        allow += [f"{API}.CONSUMER.CREATE.{name}", f"{API}.CONSUMER.CREATE.{name}.>", f"{API}.CONSUMER.DELETE.{name}.*"]
    for service in SERVICES:
        name = dlq_stream(service)
        allow += [f"{API}.STREAM.MSG.GET.{name}", f"{API}.DIRECT.GET.{name}", f"{API}.STREAM.MSG.DELETE.{name}"]
    for name in [stream(s) for s in SERVICES] + [dlq_stream(s) for s in SERVICES]:
        allow += [
            f"{API}.STREAM.INFO.{name}",
            f"{API}.CONSUMER.LIST.{name}",
            f"{API}.CONSUMER.NAMES.{name}",
            f"{API}.CONSUMER.INFO.{name}.*",
        ]
    return allow, deny_consumers(all_durables())


def _list(items: list[str], indent: str) -> str:
    return "[\n" + "".join(f'{indent}  "{i}"\n' for i in items) + f"{indent}]"


def user(
    name: str,
    allow: list[str],
    deny: list[str],
    comment: str,
    subscribe: tuple[str, ...] = (),
    password: str | None = None,
) -> str:
    ind = "          "
    # A service replies to the requests it receives (dead-letter retries), and to nothing else.
    responses = "          allow_responses: true\n" if subscribe else ""
    deny_block = f"\n{ind}  deny: {_list(deny, ind + '  ')}" if deny else ""
    return (
        f"      # {comment}\n"
        f"      {{\n"
        f"        user: {name}\n"
        f"        password: {password_value(name, password)}\n"
        f"        permissions: {{\n"
        f"          publish: {{\n"
        f"            allow: {_list(allow, ind + '  ')}{deny_block}\n"
        f"          }}\n"
        f"          subscribe: {{ allow: {_list(['_INBOX.>', *subscribe], ind)} }}\n"
        f"{responses}"
        f"        }}\n"
        f"      }}\n"
    )


def password_value(name: str, password: str | None) -> str:
    """The deploy file names an environment variable; an embedded config holds the password itself
    (random urlsafe text, so quoting is enough)."""
    if password is None:
        return f"${name.upper()}_NATS_AUTH"
    if not password or any(not (c.isalnum() or c in "-_") for c in password):
        raise ValueError(f"the NATS password of {name} must be urlsafe text")
    return f'"{password}"'


def render(passwords: dict[str, str] | None = None) -> str:
    """accounts.conf. Without `passwords`: deploy's, each password a variable. With them (one per
    name in USERS, plus `admin`): an embedded server's, the same permissions, plus the admin user."""
    pw = passwords or {}
    users = [
        user(s, *service_permissions(s), f"the {s} service", subscribe=tuple(retry_subjects(s)), password=pw.get(s))
        for s in SERVICES
    ]
    users.append(
        user(
            "subscriber",
            *subscriber_permissions(),
            "other agencies: read-only, ext-* durables",
            password=pw.get("subscriber"),
        )
    )
    users.append(
        user("operator", *operator_permissions(), "genting status: read-only monitoring", password=pw.get("operator"))
    )
    if passwords is not None:
        users.append(
            "      # the embedded stack's administrator (test fixtures, maintenance): every permission\n"
            f"      {{ user: {ADMIN}, password: {password_value(ADMIN, passwords[ADMIN])} }}\n"
        )
    return (
        "# GENERATED by genting/nats_accounts.py (deploy/nats/accounts.py writes deploy's copy).\n"
        "# One account with JetStream; no anonymous clients (there is no no_auth_user).\n"
        "accounts {\n"
        "  GENTING {\n"
        "    jetstream: enabled\n"
        "    users: [\n" + "".join(users) + "    ]\n"
        "  }\n"
        "}\n"
    )


def new_passwords() -> dict[str, str]:
    """Random passwords for an embedded stack: every user, and the admin."""
    return {name: secrets.token_urlsafe(24) for name in (*USERS, ADMIN)}


def write_embedded_config(directory: Path, passwords: dict[str, str]) -> Path:
    """The embedded server's accounts file (0600: it holds the passwords); returns its path."""
    path = directory / "accounts.conf"
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / ".accounts.conf.tmp"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(render(passwords))
    tmp.replace(path)
    return path


def url_for(server_url: str, name: str, password: str) -> str:
    """`nats://name:password@host:port` for a server URL without credentials."""
    host = server_url.split("://", 1)[-1].rsplit("@", 1)[-1]
    return f"nats://{name}:{password}@{host}"
