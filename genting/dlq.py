"""`genting dlq list|retry SERVICE`: the dead letters a service's consumers set aside, and sending
them back after a fix.

A dead letter (shared/dead_letters.py, sent by shared/projection.py) names the projection that gave up, the
upstream stream and the event's sequence in it. A retry asks that projection's runners (any one
replica, over a NATS request) to re-fetch the event by sequence and put it through the version
gate again: other consumers of the stream never see it twice, and an event that was applied
meanwhile is a harmless duplicate. A letter whose retry succeeded is deleted from the DLQ stream;
one that fails again stays, with the new reason printed.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from nats import nuid
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError, ServerError

from shared.dead_letters import reply_prefix, retry_subject
from shared.messaging import dlq_stream_name

RETRY_TIMEOUT = 15.0
NO_MESSAGE = 10057  # JetStream: "no message found"


@dataclass(frozen=True)
class DeadLetter:
    id: int  # its sequence in the service's DLQ stream
    projection: str
    stream: str
    stream_seq: int
    subject: str
    reason: str
    num_delivered: int

    @property
    def event_type(self) -> str:
        return self.subject.rsplit(".", 1)[-1]


async def letters(js: JetStreamContext, service: str) -> list[DeadLetter]:
    try:
        info = await js.stream_info(dlq_stream_name(service))
    except NotFoundError:
        return []
    found: list[DeadLetter] = []
    if not info.state.messages:
        return found
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg(dlq_stream_name(service), seq)
        except NotFoundError:
            continue  # retried (deleted) already
        assert raw.data is not None
        body: dict[str, Any] = json.loads(raw.data)
        found.append(
            DeadLetter(
                seq,
                body["projection"],
                body["stream"],
                int(body["stream_seq"]),
                body.get("subject", ""),
                body.get("reason", ""),
                int(body.get("num_delivered", 0)),
            )
        )
    return found


async def retry(nc: NATS, js: JetStreamContext, service: str, letter: DeadLetter) -> str | None:
    """Send one letter back to its projection; None on success (then it leaves the DLQ), else why not."""
    try:
        answer = await _ask(nc, letter.projection, json.dumps({"stream_seq": letter.stream_seq}).encode())
    except NoRespondersError:
        return f"no {letter.projection} runner answers: is {letter.projection.split('-', 1)[0]} running?"
    except NatsTimeoutError:
        return f"{letter.projection} did not answer in {RETRY_TIMEOUT:.0f} s"
    reply: dict[str, str] = json.loads(answer.data)
    if "error" in reply:
        return f"failed again: {reply['error']}"
    if reply.get("outcome") == "gap":
        return "still a version gap: an earlier event of the same stream has not been applied"
    try:
        await js.delete_msg(dlq_stream_name(service), letter.id)
    except ServerError as exc:
        if exc.err_code != NO_MESSAGE:
            raise  # else: deleted by a concurrent retry already
    return None


async def _ask(nc: NATS, projection: str, body: bytes) -> Msg:
    """A request whose answer comes on `genting.ops.reply.<projection>.<id>`: the only subject the
    projection's service may answer on (no user may publish into another's inbox)."""
    reply = f"{reply_prefix(projection)}.{nuid.NUID().next().decode()}"
    sub = await nc.subscribe(reply, max_msgs=1)
    try:
        await nc.publish(retry_subject(projection), body, reply=reply)
        msg = await sub.next_msg(timeout=RETRY_TIMEOUT)
        if msg.headers and msg.headers.get("Status") == "503":  # the server: nobody listens
            raise NoRespondersError
        return msg
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


def table(found: list[DeadLetter]) -> str:
    if not found:
        return "no dead letters"
    lines = [f"{'ID':>5} {'CONSUMER':<20} {'UPSTREAM':<24} {'EVENT':<26} REASON"]
    for d in found:
        lines.append(f"{d.id:>5} {d.projection:<20} {f'{d.stream}#{d.stream_seq}':<24} {d.event_type:<26} {d.reason}")
    return "\n".join(lines)
