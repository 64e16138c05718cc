"""Writes accounts.conf: who may connect to NATS and what each may publish (issue 11's trust model).

    python deploy/nats/accounts.py            # rewrite deploy/nats/accounts.conf
    python deploy/nats/accounts.py --check    # exit 1 when the file is stale (tests/deploy runs this)

The rules are generated because they are long and regular: one user per service, which publishes
only on its own `genting.<context>.>` and `genting.dlq.<service>`, manages only its own streams, and
uses only its own durable consumers on the streams it reads. NATS wildcards match whole tokens, so
"its own consumers" is a list of names, and everybody else's consumers are denied by name (a deny
wins over an allow). Passwords are variables: in Compose the plain password, in Kubernetes its
bcrypt hash (see deploy/README.md), never a value written here.
"""

from __future__ import annotations

import sys
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
HERE = Path(__file__).parent
TARGET = HERE / "accounts.conf"


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
            f"{API}.CONSUMER.DURABLE.CREATE.{name}.{durable}",
            f"{API}.CONSUMER.CREATE.{name}.{durable}",
            f"{API}.CONSUMER.CREATE.{name}.{durable}.>",
            f"{API}.CONSUMER.INFO.{name}.{durable}",
            f"{API}.CONSUMER.DELETE.{name}.{durable}",  # a replay starts its consumer over
            f"{API}.CONSUMER.MSG.NEXT.{name}.{durable}",
            f"$JS.ACK.{name}.{durable}.>",
            # `genting replay`: an ephemeral consumer (no durable name) reads the upstream once.
            f"{API}.CONSUMER.CREATE.{name}",
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
    """`genting status` and `genting dlq`: stream and consumer state, the dead letters (read, and
    removed once retried), and the retry requests. It publishes no event and consumes nothing."""
    allow = [f"{API}.INFO", f"{API}.STREAM.NAMES", f"{API}.STREAM.LIST", "genting.ops.retry.*"]
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
    return allow, []


def _list(items: list[str], indent: str) -> str:
    return "[\n" + "".join(f'{indent}  "{i}"\n' for i in items) + f"{indent}]"


def user(name: str, allow: list[str], deny: list[str], comment: str, subscribe: tuple[str, ...] = ()) -> str:
    ind = "          "
    # A service replies to the requests it receives (dead-letter retries), and to nothing else.
    responses = "          allow_responses: true\n" if subscribe else ""
    deny_block = f"\n{ind}  deny: {_list(deny, ind + '  ')}" if deny else ""
    return (
        f"      # {comment}\n"
        f"      {{\n"
        f"        user: {name}\n"
        f"        password: ${name.upper()}_NATS_AUTH\n"
        f"        permissions: {{\n"
        f"          publish: {{\n"
        f"            allow: {_list(allow, ind + '  ')}{deny_block}\n"
        f"          }}\n"
        f"          subscribe: {{ allow: {_list(['_INBOX.>', *subscribe], ind)} }}\n"
        f"{responses}"
        f"        }}\n"
        f"      }}\n"
    )


def render() -> str:
    users = [user(s, *service_permissions(s), f"the {s} service", subscribe=tuple(retry_subjects(s))) for s in SERVICES]
    users.append(user("subscriber", *subscriber_permissions(), "other agencies: read-only, ext-* durables"))
    users.append(user("operator", *operator_permissions(), "genting status: read-only monitoring"))
    return (
        "# GENERATED by deploy/nats/accounts.py — edit that file, then run it.\n"
        "# One account with JetStream; no anonymous clients (there is no no_auth_user).\n"
        "accounts {\n"
        "  GENTING {\n"
        "    jetstream: enabled\n"
        "    users: [\n" + "".join(users) + "    ]\n"
        "  }\n"
        "}\n"
    )


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if TARGET.read_text() != text:
            print(f"{TARGET} is stale: run python {Path(__file__).relative_to(HERE.parent.parent)}")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
