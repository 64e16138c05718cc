"""One replica of a service, serving on a listening socket that `genting up` bound and handed down.

Not `uvicorn --fd`: uvicorn takes an inherited descriptor for a UNIX socket, so the event loop never
sets TCP_NODELAY on the connections it accepts, and every response waits out the client's delayed
ACK (about 40 ms a request). Here the socket is opened as what it is, and uvicorn serves on it.
"""

from __future__ import annotations

import socket
import sys

import uvicorn


def main(argv: list[str]) -> None:
    factory, fd = argv[0], int(argv[1])
    sock = socket.socket(fileno=fd)  # family and type read from the descriptor: AF_INET stays AF_INET
    config = uvicorn.Config(factory, factory=True, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1:])
