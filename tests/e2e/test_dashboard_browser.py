"""The dashboard in a real headless Chromium: reporting runs as a real process, a scripted
programme arrives on the upstream streams, and the page shows the numbers the API gives."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from playwright.async_api import async_playwright

from services.reporting.dashboard import stunting_permille
from services.reporting.formatting import number, rupiah, rupiah_short
from services.reporting.reports import MonthOutcomes
from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing import reporting_scenarios as S
from shared.testing.bus import declare_streams
from shared.testing.reporting_examples import publish

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Elements reaching past the right edge of the screen (a phone must not scroll sideways; tables
# scroll inside their own box, so their contents do not count).
TOO_WIDE = """Array.from(document.querySelectorAll('body *'))
  .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
CONSUMERS = (
    ("GENTING_REGISTRY", "reporting-registry"),
    ("GENTING_FUNDING", "reporting-funding"),
    ("GENTING_AID", "reporting-aid"),
)


def system_chromium() -> str | None:
    """Where scripts/ensure-browser (run by `make test` and .ci/run) looks first, in the same order."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        # Ubuntu's chromium-browser can be a stub that only asks for the snap: it must really run.
        if (path := shutil.which(name)) and subprocess.run([path, "--version"], capture_output=True).returncode == 0:
            return path
    return None


def installed(path: str) -> str | None:
    return path if Path(path).exists() else None


def screenshot_sizes(directory: Path) -> list[int]:
    return [shot.stat().st_size for shot in directory.glob("dashboard-*.png")]


def keep_screenshots(directory: Path) -> None:
    """Copies them to GENTING_SCREENSHOT_DIR when set: somewhere to look at them from."""
    if out := os.environ.get("GENTING_SCREENSHOT_DIR"):
        for shot in directory.glob("dashboard-*.png"):
            shutil.copy(shot, Path(out) / shot.name)


@pytest.fixture
async def js(nc: Client) -> JetStreamContext:
    """The upstream streams, as their owners would have declared them."""
    return await declare_streams(nc.jetstream(), "registry", "funding", "aid")


async def caught_up(js: JetStreamContext) -> bool:
    for stream, durable in CONSUMERS:
        try:
            info = await js.consumer_info(stream, durable)
        except NotFoundError:
            return False
        if (
            info.num_pending
            or info.num_ack_pending
            or info.delivered.stream_seq != (await js.stream_info(stream)).state.last_seq
        ):
            return False
    return True


def expected_value(path: str, reports: dict[str, Any]) -> int:
    """`funding.by_donor_type.csr.received_rp` → that number in GET /funding; `history.2025-01-06.enrolled`
    → that week's in GET /progress/history; `outcomes.by_month.2025-01-01.stunted` → GET /outcomes."""
    report, _, rest = path.partition(".")
    node: Any = reports[report]
    if report == "grievances":
        for list_name in ("by_category", "by_status", "by_kelurahan"):
            if rest.startswith(list_name + "."):
                [item] = [i for i in node[list_name] if i["key"] == rest[len(list_name) + 1 :]]
                return int(item["count"])
    if report == "history":
        week, _, field = rest.rpartition(".")
        [item] = [w for w in node if w["period_start"] == week]
        return int(item[field])
    if rest.startswith("by_month."):
        month, _, field = rest[len("by_month.") :].rpartition(".")
        [item] = [m for m in node["by_month"] if m["month"] == month]
        return int(item[field])
    lists = ("by_kelurahan", "by_donor_type", "gaps_to_chase", "education_by_topic", "interventions_by_kind")
    for list_name in (*lists, "top_ups_by_kelurahan"):
        if rest.startswith(list_name + "."):
            key, _, field = rest[len(list_name) + 1 :].rpartition(".")
            [item] = [
                i
                for i in node[list_name]
                if key in (i.get("kelurahan_code"), i.get("donor_type"), i.get("topic"), i.get("kind"))
            ]
            return int(item[field])
    return int(node[rest])


async def test_the_dashboard_shows_the_programme_as_the_api_reports_it(
    service_process: Any, js: JetStreamContext, tmp_path: Path
) -> None:
    executable = system_chromium()
    if executable is None:
        async with async_playwright() as p:
            executable = installed(p.chromium.executable_path)
        if executable is None:
            pytest.fail(
                "no Chromium: run scripts/ensure-browser (make test does), or install Debian's `chromium` "
                "(apt-get install -y chromium) or `playwright install chromium`; this test never skips"
            )
    scripted, programme = S.scripted(), S.full(160, seed=5)
    reporting = await service_process("reporting", env={"GENTING_SNAPSHOT_INTERVAL_SECONDS": "0.5"})
    await publish(js, scripted.published + programme.published)
    await wait_until(lambda: caught_up(js), 90, interval=0.2, message="reporting caught up")

    admin = {"Authorization": "Bearer " + issue_token(TEST_SIGNING_KEY, role="admin", sub="e2e-admin")}
    async with httpx.AsyncClient(base_url=reporting.url, timeout=10) as http:
        reports = {name: (await http.get(f"/{name}")).json() for name in ("progress", "funding", "aid")}
        reports["history"] = (await http.get("/progress/history")).json()
        reports["outcomes"] = (await http.get("/outcomes", headers=admin)).json()
        reports["grievances"] = (await http.get("/grievances/summary", headers=admin)).json()
    assert reports["progress"]["registered"] == 8 + 160 and reports["aid"]["plans_with_gaps"] >= 1
    assert reports["history"][-1]["registered"] == 8 + 160 and len(reports["history"]) >= 30

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            response = await page.goto(f"{reporting.url}/", wait_until="load")
            assert response is not None and response.status == 200
            await page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
            await page.screenshot(path=str(tmp_path / "dashboard-phone-first-screen.png"))
            aid_section = page.locator("section", has_text="Bantuan gizi")
            await aid_section.screenshot(path=str(tmp_path / "dashboard-phone-aid.png"))
            assert "KRS" in await page.title()
            shown = await page.eval_on_selector_all(
                "[data-metric]", "els => els.map(e => [e.dataset.metric, e.dataset.value, e.textContent.trim()])"
            )
            assert len(shown) > 100
            for metric, value, text in shown:
                if metric == "grievances.median_days_to_resolve":  # a half day is possible; "" for none
                    median = reports["grievances"]["median_days_to_resolve"]
                    assert value == ("" if median is None else str(median)), metric
                    continue
                assert int(value) == expected_value(metric, reports), metric
                assert text in (number(int(value)), rupiah(int(value)), rupiah_short(int(value))), (metric, text)
            # The charts over time, against the API: the burn-up's five lines, week by week ...
            lines = dict(
                await page.eval_on_selector_all(
                    "svg.lines polyline[data-series]", "els => els.map(e => [e.dataset.series, e.dataset.values])"
                )
            )
            history = reports["history"]
            for series, field in (
                ("b1", "registered"),
                ("b2", "enrolled"),
                ("b3", "sponsored"),
                ("b4", "aid_active"),
                ("b5", "completed"),
            ):
                assert lines[series] == ",".join(str(w[field]) for w in history), field
            assert await page.locator("svg.lines line.target").count() == 1
            # ... deliveries per week over the programme, and the stunting share by month.
            weekly = await page.eval_on_selector_all(
                'svg[aria-label="Pengiriman per minggu"] rect.col title', "els => els.map(e => e.textContent)"
            )
            assert weekly == [
                f"{w['week_start']}: {number(w['deliveries'])}" for w in reports["aid"]["deliveries_by_week"]
            ]
            monthly = await page.eval_on_selector_all(
                'svg[aria-label="Persentase anak stunting per bulan"] rect.col title',
                "els => els.map(e => e.textContent)",
            )
            months = [MonthOutcomes(**m) for m in reports["outcomes"]["by_month"]]
            shares = [f"{stunting_permille(m) / 10:.1f}%".replace(".", ",") for m in months]
            assert monthly == [f"{m.month}: {share}" for m, share in zip(months, shares, strict=True)]
            assert any(m.children_measured for m in months)
            big = page.locator('[data-metric="progress.enrolled"]').first
            assert await big.is_visible() and await big.inner_text() == number(reports["progress"]["enrolled"])
            # Readable on a phone: nothing wider than the screen; nothing fetched but the page itself.
            too_wide = await page.evaluate(TOO_WIDE)
            assert too_wide == [], too_wide
            assert requested == [f"{reporting.url}/"]
            await page.set_viewport_size({"width": 1280, "height": 900})
            await page.screenshot(path=str(tmp_path / "dashboard-desktop.png"), full_page=True)
        finally:
            await browser.close()
            keep_screenshots(tmp_path)
    assert all(size > 10_000 for size in screenshot_sizes(tmp_path)), "blank screenshots"
