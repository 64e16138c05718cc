"""Lighthouse (mobile) on the field app's signed-in screens, as its people see them.

    genting up --demo                     # in another terminal
    .venv/bin/python scripts/lighthouse.py kader 33.75.01.1002
    .venv/bin/python scripts/lighthouse.py lurah 33.75.01.1002
    .venv/bin/python scripts/lighthouse.py donor --donor-id <a demo donor's id>

A Chromium with a debugging port is signed in through `genting up`'s development sign-in by
Playwright, then Lighthouse (npm, run with npx: needs Node.js, which `make run` does not) audits
that same browser with its storage kept, so the screen audited is the role's main screen served by
the service worker, not the sign-in page. Prints the four scores; the JSON report is kept.
Not part of `make test`: scores are measurements of a noisy machine, not assertions."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

LIGHTHOUSE = "lighthouse@12.8.2"


async def sign_in(app: str, port: int, role: str, kelurahan: str | None, donor_id: str | None, shot: Path) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        page = await browser.contexts[0].new_page()
        await page.goto(app)
        await page.get_by_role("button", name="Masuk").click()
        await page.select_option("#role", role)
        if kelurahan:
            await page.select_option("#kelurahan", kelurahan)
        if donor_id:
            await page.fill("#donor_id", donor_id)
        await page.get_by_role("button", name="Masuk").click()
        await page.wait_for_selector("header.bar", timeout=30000)
        await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30000)
        await page.screenshot(path=str(shot))
        await page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", choices=["kader", "lurah", "donor"])
    parser.add_argument("kelurahan", nargs="?")
    parser.add_argument("--donor-id")
    parser.add_argument("--app", default="http://127.0.0.1:8000/")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--port", type=int, default=9333)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "genting-lighthouse")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / f"{args.role}.json"
    with tempfile.TemporaryDirectory() as profile:
        chrome = subprocess.Popen(
            # --no-sandbox: a container or CI runs this as root, where Chromium's sandbox cannot start.
            [
                args.chromium,
                "--headless=new",
                "--no-sandbox",
                f"--remote-debugging-port={args.port}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)
            asyncio.run(
                sign_in(args.app, args.port, args.role, args.kelurahan, args.donor_id, report.with_suffix(".png"))
            )
            subprocess.run(
                [
                    "npx",
                    "--yes",
                    LIGHTHOUSE,
                    args.app,
                    f"--port={args.port}",
                    "--disable-storage-reset",
                    "--quiet",
                    "--output=json",
                    f"--output-path={report}",
                ],
                check=True,
            )
        finally:
            chrome.terminate()
    result = json.loads(report.read_text())
    scores = {name: round(c["score"] * 100) for name, c in result["categories"].items()}
    print(args.role, scores, "report:", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
