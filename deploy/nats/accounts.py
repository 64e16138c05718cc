"""Writes accounts.conf from the one permission model, genting/nats_accounts.py (which `genting up`
and the test fixtures use too, so every mode runs with the same rules).

    python deploy/nats/accounts.py            # rewrite deploy/nats/accounts.conf
    python deploy/nats/accounts.py --check    # exit 1 when the file is stale (tests/deploy runs this)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TARGET = HERE / "accounts.conf"
sys.path.insert(0, str(ROOT))

from genting.nats_accounts import render  # noqa: E402


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if TARGET.read_text() != text:
            print(f"{TARGET} is stale: run python deploy/nats/accounts.py")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
