"""Writes the app's icons (static/icons/*.png) with the standard library only: a green square
with a white ring, the maskable one with the ring inside the safe zone. Run once; the PNGs are
committed."""

import struct
import zlib
from pathlib import Path

GREEN, WHITE = (11, 93, 59), (255, 255, 255)


def png(size: int, ring_outer: float, ring_inner: float) -> bytes:
    rows = []
    c = (size - 1) / 2
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            r = ((x - c) ** 2 + (y - c) ** 2) ** 0.5 / size
            row += bytes(WHITE if ring_inner <= r <= ring_outer else GREEN)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


out = Path(__file__).parent / "static" / "icons"
out.mkdir(parents=True, exist_ok=True)
(out / "icon-192.png").write_bytes(png(192, 0.40, 0.26))
(out / "icon-512.png").write_bytes(png(512, 0.40, 0.26))
(out / "icon-maskable-512.png").write_bytes(png(512, 0.30, 0.19))
