"""Dead letters: where a projection runner sets aside what it cannot apply (`genting.dlq.<service>`),
and the request server through which `genting dlq retry` sends one back.

The runner (shared/projection.py) decides what becomes a dead letter and applies a retried event
through its version gate; this module only carries letters out and retry requests in.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from shared.messaging import MSG_ID_HEADER, dlq_subject

# Why a message was dead-lettered: it does not parse, it did not come from its producer, its
# projection kept failing, or its predecessor never arrived (the label of genting_dead_letters_total).
DEAD_LETTER_KINDS = ("poison", "provenance", "failed", "gap")


def retry_subject(projection: str) -> str:
    """Core NATS subject a projection's runners answer dead-letter retries on (no stream captures it)."""
    return f"genting.ops.retry.{projection}"


def reply_prefix(projection: str) -> str:
    """Where the runners answer (the request names `<prefix>.<id>`): the service's user may publish
    there and into no other user's inbox."""
    return f"genting.ops.reply.{projection}"


async def send(
    js: JetStreamContext, service: str, projection: str, stream: str, msg: Msg, reason: str, kind: str
) -> None:
    """Copy the message and the reason to `genting.dlq.<service>`, then stop its redelivery.

    The message id makes a second copy of the same letter (a crash between publish and term) one.
    """
    seq = msg.metadata.sequence.stream
    body = {
        "reason": reason,
        "kind": kind,
        "projection": projection,
        "stream": stream,
        "stream_seq": seq,
        "subject": msg.subject,
        "num_delivered": msg.metadata.num_delivered,
        "payload": msg.data.decode(errors="replace"),
    }
    await js.publish(
        dlq_subject(service),
        json.dumps(body).encode(),
        timeout=5.0,
        headers={MSG_ID_HEADER: f"{projection}:{stream}:{seq}"},
    )
    await msg.term()


class RetryServer:
    """Answers `genting dlq retry` requests for one projection: {"stream_seq": N} in,
    {"outcome": ...} or {"error": ...} out. `retry` applies the event and names the outcome."""

    def __init__(self, js: JetStreamContext, projection: str, retry: Callable[[int], Awaitable[str]]) -> None:
        self.js = js
        self.projection = projection
        self.retry = retry
        self._sub: Subscription | None = None

    async def start(self) -> None:
        if self._sub is None:
            # One replica answers each retry request (a queue group), so a letter applies once.
            self._sub = await self.js._nc.subscribe(
                retry_subject(self.projection), queue=self.projection, cb=self._on_request
            )

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_request(self, msg: Msg) -> None:
        try:
            answer: dict[str, str] = {"outcome": await self.retry(int(json.loads(msg.data)["stream_seq"]))}
        except Exception as exc:
            answer = {"error": repr(exc)}
        with contextlib.suppress(Exception):
            await msg.respond(json.dumps(answer).encode())
