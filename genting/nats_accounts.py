"""Who may connect to NATS and what each may do: ONE source for every mode. `deploy/nats/accounts.py`
writes it as deploy/nats/accounts.conf (Compose, Kubernetes; passwords from the environment);
`genting up` and the test fixtures write it with the embedded server's own random passwords
(`embedded_config`). docs/threat-model.md explains each user and names the test that shows it.

Two accounts. GENTING holds the event streams, the services, the operator and the admin (the
migration step). SUBSCRIBER holds only the `subscriber` user (other agencies): it imports the
de-identified subjects from GENTING (a stream export, one way) and keeps them in its own streams
of the same names, so no delivery, API reply or stream of GENTING can reach it, and nothing it
does (consumers, push deliveries, stream sources) can reach GENTING.

Inside GENTING, every user has its own inbox prefix (`_INBOX_<user>`, `inbox_prefix`) and may
subscribe only there: no user sees another's pull batches or API replies. `allow_responses` is
off: a service answers a dead-letter retry on `genting.ops.reply.<its consumer>.>`, nothing else.
A service reads, pulls from and acks only its own durables, by exact name, and creates or changes
no consumer and no stream: the admin connection of the migration step (`genting migrate`,
`genting up`) creates both, with the settings the services' runners use.
Passwords are variables: in Compose the plain password, in Kubernetes its bcrypt hash (see
deploy/README.md), never a value written here.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from shared.nats_setup import inbox_prefix

SERVICES = ("registry", "aid", "funding", "reporting")
# The durable consumers each service keeps on another context's stream (shared/projection.py names
# them `<service>-<upstream>`): service -> upstream contexts.
CONSUMES = {
    "registry": (),
    "aid": ("registry", "funding"),
    "funding": ("registry", "aid"),
    "reporting": ("registry", "funding", "aid"),
}
# The filter subjects of each durable: the migration step creates it with them (a service may not
# create or change a consumer); tests/deploy/test_consumer_names.py checks the projections agree.
CONSUMER_FILTERS = {
    "aid-registry": ("genting.registry.family.>",),
    "aid-funding": ("genting.funding.sponsorship.>",),
    "funding-registry": ("genting.registry.family.>",),
    "funding-aid": ("genting.aid.plan.>",),
    "reporting-registry": ("genting.registry.>",),
    "reporting-funding": ("genting.funding.>",),
    "reporting-aid": ("genting.aid.>",),
}
# What the SUBSCRIBER account (other agencies) imports, per context: its own stream of the same name
# keeps these subjects. No per-child health data: GrowthMeasured and the home-visit flags are not among them.
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
            "FamilyEligibilityChanged",
        )
    ),
    "aid": ("genting.aid.plan.>", "genting.aid.session.>"),
    "funding": ("genting.funding.>",),
    "reporting": ("genting.reporting.>",),
}

API = "$JS.API"
# The users an embedded stack has, in `genting nats-url` order (deploy has them all, `admin` too).
USERS = (*SERVICES, "subscriber", "operator")
ADMIN = "admin"
ACCOUNT = "GENTING"
SUBSCRIBER_ACCOUNT = "SUBSCRIBER"


class Permissions:
    """What a user may publish (allow, deny) and subscribe to."""

    def __init__(self, publish: list[str], subscribe: list[str], deny: list[str] | None = None) -> None:
        self.publish, self.subscribe, self.deny = publish, subscribe, deny or []


def stream(context: str) -> str:
    return f"GENTING_{context.upper()}"


def dlq_stream(service: str) -> str:
    return f"GENTING_DLQ_{service.upper()}"


def durables(service: str) -> list[tuple[str, str]]:
    """(stream, durable) pairs a service owns."""
    return [(stream(up), f"{service}-{up}") for up in CONSUMES[service]]


def all_durables() -> list[str]:
    return [name for s in SERVICES for _, name in durables(s)]


def subscriber_subjects() -> list[str]:
    """Every subject the SUBSCRIBER account imports (and keeps in its own streams)."""
    return [f for filters in SUBSCRIBER_FILTERS.values() for f in filters]


def own_durable_api(stream_name: str, durable: str) -> list[str]:
    """Read, pull from and ack one durable consumer, by its exact name; nothing else.

    Not create or update: a consumer body may carry a push deliver_subject, which the server does
    not check against the creator's permissions, and an update may set an inactive_threshold that
    has the server delete the durable, so that it could be created again as a push consumer aimed
    at any subject. The migration step creates and updates the durables; `genting replay` resets
    one with the admin's connection.
    """
    return [
        f"{API}.CONSUMER.INFO.{stream_name}.{durable}",
        f"{API}.CONSUMER.MSG.NEXT.{stream_name}.{durable}",
        f"$JS.ACK.{stream_name}.{durable}.>",
    ]


def retry_subjects(service: str) -> list[str]:
    """`genting dlq retry` asks a projection's runners on this core subject (shared/projection.py)."""
    return [f"genting.ops.retry.{durable}" for _, durable in durables(service)]


def reply_subjects(service: str) -> list[str]:
    """Where a runner answers a retry (the operator's request names it as the reply subject)."""
    return [f"genting.ops.reply.{durable}.>" for _, durable in durables(service)]


def service_permissions(service: str) -> Permissions:
    own, dlq = stream(service), dlq_stream(service)
    publish = [f"genting.{service}.>", f"genting.dlq.{service}", f"{API}.INFO", *reply_subjects(service)]
    # Its own streams: looked up (never created or changed) and read back by sequence.
    for name in (own, dlq):
        publish += [f"{API}.STREAM.INFO.{name}", f"{API}.STREAM.MSG.GET.{name}", f"{API}.DIRECT.GET.{name}"]
    for stream_name, durable in durables(service):
        # `genting dlq retry`: the runner reads the dead-lettered event back by its sequence.
        publish += [f"{API}.STREAM.INFO.{stream_name}", f"{API}.STREAM.MSG.GET.{stream_name}"]
        publish += own_durable_api(stream_name, durable)
    return Permissions(publish, [inbox_prefix(service) + ".>", *retry_subjects(service)])


def operator_permissions() -> Permissions:
    """`genting status` and `genting dlq`: stream and consumer state, the dead letters (read, and
    removed once retried), the retry requests and their answers. It creates, changes and acks no
    consumer and reads no event stream (`genting events` reads as the subscriber)."""
    publish = [f"{API}.INFO", f"{API}.STREAM.NAMES", f"{API}.STREAM.LIST", "genting.ops.retry.*"]
    for name in [stream(s) for s in SERVICES] + [dlq_stream(s) for s in SERVICES]:
        publish += [
            f"{API}.STREAM.INFO.{name}",
            f"{API}.CONSUMER.LIST.{name}",
            f"{API}.CONSUMER.NAMES.{name}",
            f"{API}.CONSUMER.INFO.{name}.*",
        ]
    for service in SERVICES:
        name = dlq_stream(service)
        publish += [f"{API}.STREAM.MSG.GET.{name}", f"{API}.DIRECT.GET.{name}", f"{API}.STREAM.MSG.DELETE.{name}"]
    return Permissions(publish, [inbox_prefix("operator") + ".>", "genting.ops.reply.>"])


def admin_permissions() -> Permissions:
    """The migration step and the maintenance tools in a deployment (`genting migrate`, `genting
    replay`'s consumer resets, `genting republish|repair-stream|restore`): it creates the streams
    and their settings and the durable consumers, reads the streams through consumers of its own,
    purges a stream and publishes its events again from the owner's store. It acks nothing and is
    given to no service (the embedded stack's admin, for fixtures and maintenance, has every right)."""
    publish = [f"{API}.INFO", f"{API}.STREAM.NAMES", f"{API}.STREAM.LIST"]
    for context in SERVICES:  # republish: the events of the owner's store, under their own subjects
        publish += [f"genting.{context}.>", f"{API}.STREAM.PURGE.{stream(context)}"]
    for name in [stream(s) for s in SERVICES] + [dlq_stream(s) for s in SERVICES]:
        publish += [f"{API}.STREAM.CREATE.{name}", f"{API}.STREAM.UPDATE.{name}", f"{API}.STREAM.INFO.{name}"]
    for name in [stream(s) for s in SERVICES]:
        publish += [
            f"{API}.CONSUMER.CREATE.{name}.*",
            f"{API}.CONSUMER.CREATE.{name}.*.>",
            f"{API}.CONSUMER.INFO.{name}.*",
            f"{API}.CONSUMER.DELETE.{name}.*",
            f"{API}.CONSUMER.MSG.NEXT.{name}.*",
        ]
    return Permissions(publish, [inbox_prefix(ADMIN) + ".>"])


def subscriber_permissions() -> Permissions:
    """In its own account, whose only content is what GENTING exports to it: it keeps its streams
    (of the de-identified subjects) and consumers there as it likes, and publishes no event."""
    publish = [f"{API}.>", "$JS.ACK.>", "$JS.FC.>"]
    return Permissions(publish, [">"], deny=["genting.>"])


def _list(items: list[str], indent: str) -> str:
    return "[\n" + "".join(f'{indent}  "{i}"\n' for i in items) + f"{indent}]"


def user(name: str, perms: Permissions, comment: str, password: str | None = None) -> str:
    ind = "          "
    deny_block = f"\n{ind}  deny: {_list(perms.deny, ind + '  ')}" if perms.deny else ""
    # No allow_responses: a reply goes only where the permissions above say.
    return (
        f"      # {comment}\n"
        f"      {{\n"
        f"        user: {name}\n"
        f"        password: {password_value(name, password)}\n"
        f"        permissions: {{\n"
        f"          publish: {{\n"
        f"            allow: {_list(perms.publish, ind + '  ')}{deny_block}\n"
        f"          }}\n"
        f"          subscribe: {{ allow: {_list(perms.subscribe, ind)} }}\n"
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
    """accounts.conf. Without `passwords`: deploy's, each password a variable, and the admin only
    with the migration step's rights. With them (one per name in USERS, plus `admin`): an embedded
    server's, the same permissions, and an admin with every right (test fixtures, maintenance)."""
    pw = passwords or {}
    users = [user(s, service_permissions(s), f"the {s} service", pw.get(s)) for s in SERVICES]
    users.append(user("operator", operator_permissions(), "genting status, genting dlq", pw.get("operator")))
    if passwords is None:
        users.append(user(ADMIN, admin_permissions(), "the migration step: creates the streams", None))
    else:
        users.append(
            "      # the embedded stack's administrator (migration step, test fixtures): every permission\n"
            f"      {{ user: {ADMIN}, password: {password_value(ADMIN, passwords[ADMIN])} }}\n"
        )
    subscriber = user(
        "subscriber", subscriber_permissions(), "other agencies: de-identified events", pw.get("subscriber")
    )
    subjects = subscriber_subjects()
    exports = "".join(f'      {{ stream: "{s}", accounts: [{SUBSCRIBER_ACCOUNT}] }}\n' for s in subjects)
    imports = "".join(f'      {{ stream: {{ account: {ACCOUNT}, subject: "{s}" }} }}\n' for s in subjects)
    return (
        "# GENERATED by genting/nats_accounts.py (deploy/nats/accounts.py writes deploy's copy).\n"
        "# No anonymous clients (there is no no_auth_user). docs/threat-model.md explains each user.\n"
        "accounts {\n"
        f"  {ACCOUNT} {{\n"
        "    jetstream: enabled\n"
        "    users: [\n" + "".join(users) + "    ]\n"
        "    # Only the de-identified subjects leave GENTING, and only to the subscriber's account.\n"
        "    exports: [\n" + exports + "    ]\n"
        "  }\n"
        f"  {SUBSCRIBER_ACCOUNT} {{\n"
        "    jetstream: enabled\n"
        "    users: [\n" + subscriber + "    ]\n"
        "    imports: [\n" + imports + "    ]\n"
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
