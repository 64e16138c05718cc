"""The field app in a real headless Chromium, against `genting up` (the four services as
processes, the gateway serving the app and the APIs under one origin) and an OIDC provider the
test starts (authorization code + PKCE, as the city's would be): a kader works offline, reloads,
comes back online and everything arrives once; a sync cut off half-way applies nothing twice; a
refused registration is shown with its reason, fixed and sent; the lurah confirms the delivery
seeing its photo and verifies the family; another kelurahan's kader sees none of it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest
import uvicorn
from playwright.async_api import BrowserContext, Page, async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from test_dashboard_browser import CHROMIUM_ARGS, TOO_WIDE, system_chromium
from up_support import REPO, genting_up

from services.aid.settings import AidSettings
from shared.testing import free_port, wait_until
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO, KAUMAN = "33.75.01.1002", "33.75.02.1004"
DOCS = REPO / "docs"
# A phone in the city: its calendar day is the services' (WIB).
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 760},
    "service_workers": "allow",
    "timezone_id": "Asia/Jakarta",
}


class Provider:
    """A minimal OpenID provider: discovery, /authorize (signs in whoever the test says, at
    once), /token (checks the PKCE verifier). Its tokens are minted by `genting token` for the
    running stack, so the services verify them as they would the city's."""

    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.who: dict[str, str] = {}
        self.data_dir: Path | None = None
        self.app_origin = ""
        self.codes: dict[str, tuple[str, dict[str, str]]] = {}

    def cors(self, response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = self.app_origin
        response.headers["Access-Control-Allow-Headers"] = "content-type, dpop"
        return response

    async def discovery(self, _: Request) -> Response:
        return self.cors(
            JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                }
            )
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        assert q["response_type"] == "code" and q["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = (q["code_challenge"], dict(self.who))
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def token(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self.cors(Response(status_code=204))
        form = await request.form()
        challenge, who = self.codes.pop(str(form["code"]))
        verifier = str(form["code_verifier"]).encode()
        if base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode() != challenge:
            return self.cors(JSONResponse({"error": "invalid_grant"}, status_code=400))
        args = [sys.executable, "-m", "genting.cli", "token", "--data-dir", str(self.data_dir), "--role", who["role"]]
        args += [f"--{k.replace('_', '-')}={v}" for k, v in who.items() if k != "role"]
        minted = await asyncio.to_thread(subprocess.run, args, cwd=REPO, capture_output=True, text=True, check=True)
        jwt = minted.stdout.strip()
        return self.cors(JSONResponse({"access_token": jwt, "token_type": "Bearer", "expires_in": 3600}))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST", "OPTIONS"]),
            ]
        )


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    server = uvicorn.Server(uvicorn.Config(p.app(), host="127.0.0.1", port=p.port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield p
    finally:
        server.should_exit = True
        thread.join(10)


def token(data_dir: Path, role: str, **claims: str) -> dict[str, str]:
    args = [sys.executable, "-m", "genting.cli", "token", "--data-dir", str(data_dir), "--role", role]
    args += [f"--{k.replace('_', '-')}={v}" for k, v in claims.items()]
    jwt = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    return {"Authorization": f"Bearer {jwt}"}


async def sign_in(context: BrowserContext, provider: Provider, app: str, **who: str) -> Page:
    provider.who = who
    page = await context.new_page()
    page.on("console", lambda m: print(f"console[{who['role']}]:", m.text))
    page.on("pageerror", lambda e: print(f"pageerror[{who['role']}]:", e))
    await page.goto(app)
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_selector("header.bar")
    controlled = "navigator.serviceWorker.controller !== null"
    try:
        await page.wait_for_function(controlled, timeout=20000)
    except Exception:
        # The worker activated while the sign-in's redirect was landing: the next load is its.
        await page.reload()
        await page.wait_for_selector("header.bar")
        await page.wait_for_function(controlled, timeout=30000)
    return page


async def all_sent(page: Page) -> None:
    try:
        await page.wait_for_selector("#outbox.empty", timeout=60000)
    except Exception:
        raise AssertionError(f"still in the outbox: {await page.inner_text('#outbox')}") from None


JPEG_FROM_CANVAS = """async () => {
  const c = document.createElement('canvas'); c.width = 640; c.height = 480;
  const g = c.getContext('2d'); g.fillStyle = '#2a7'; g.fillRect(0, 0, 640, 480);
  g.fillStyle = '#fff'; g.fillRect(100, 100, 200, 150);
  const blob = await new Promise(r => c.toBlob(r, 'image/jpeg', 0.9));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = ''; for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}"""


def chromium_or_skip() -> str:
    chromium = system_chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine (scripts/ensure-browser)")
    return chromium


@asynccontextmanager
async def field_stack(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Any, httpx.AsyncClient, str]]:
    """`genting up` with the app signing in at the test's provider: (the stack, a client, the app's URL)."""
    monkeypatch.setenv("GENTING_FIELD_OIDC_ISSUER", provider.issuer)
    async with genting_up(tmp_path) as up, httpx.AsyncClient(timeout=10) as http:
        app = str(up.stack()["app"]) + "/"
        provider.data_dir, provider.app_origin = up.data_dir, app.rstrip("/")
        yield up, http, app


async def register(page: Page, app: str, body: dict[str, Any]) -> None:
    """The kader fills the registration form with `body` (family_body's shape) and saves it."""
    await page.goto(app + "#/daftar")
    await page.fill("#head_name", body["head_name"])
    await page.fill("#kk_number", body["kk_number"])
    await page.fill("#address", body["address"])
    for i, m in enumerate(body["members"]):
        await page.fill(f"[id='members[{i}].name']", m["name"])
        await page.fill(f"[id='members[{i}].nik']", m["nik"] or "")
        await page.select_option(f"[id='members[{i}].role']", m["role"])
        await page.fill(f"[id='members[{i}].birth_date']", m["birth_date"])
        await page.select_option(f"[id='members[{i}].sex']", m["sex"])
    await page.check("input[name='risk_poor']")
    await page.check("#consent")
    await page.get_by_role("button", name="Simpan").click()
    await page.wait_for_function("location.hash === '#/'")  # queued: the app went back to the list


async def a_sponsored_family(http: httpx.AsyncClient, urls: dict[str, str], data_dir: Path) -> dict[str, Any]:
    """Registered, verified and sponsored through the APIs: its plan is open."""
    today = AidSettings().clock()()
    admin, treasurer = token(data_dir, "admin"), token(data_dir, "treasurer")
    body = family_body(7001, today)
    family_id = (await http.post(f"{urls['registry']}/families", json=body, headers=admin)).json()["family_id"]
    verified = await http.post(
        f"{urls['registry']}/families/{family_id}/verification",
        json={"decision": "approve", "note": "ok"},
        headers=admin,
    )
    assert verified.status_code == 200, verified.text
    donor = await http.post(
        f"{urls['funding']}/donors", json={"name": "PT Batik", "donor_type": "csr", "contact": "a@b.id"}, headers=admin
    )
    donor_id = donor.json()["donor_id"]
    paid = {"amount_rp": 2_700_000, "received_on": today.isoformat(), "method": "transfer", "reference": "TRF-1"}
    assert (
        await http.post(f"{urls['funding']}/donors/{donor_id}/contributions", json=paid, headers=treasurer)
    ).is_success

    async def sponsored() -> bool:
        body = {"donor_id": donor_id, "family_id": family_id, "amount_rp": 2_700_000, "start_date": today.isoformat()}
        answer = await http.post(
            f"{urls['funding']}/sponsorships", json=body, headers=admin | {"Idempotency-Key": "s-1"}
        )
        return answer.status_code == 201

    await wait_until(sponsored, 60, message="the family sponsored (funding saw the enrolment)")

    async def plan() -> Any:
        items = (await http.get(f"{urls['aid']}/plans", params={"family_id": family_id}, headers=admin)).json()
        return items["items"][0] if items["items"] else None

    found = await wait_until(plan, 60, message="the family's plan open")
    # The donor also repaired the family's house, in kind: its statement shows it apart.
    repair = {
        "kind": "house_repair",
        "description": "atap diperbaiki",
        "done_on": today.isoformat(),
        "value_rp": 3_000_000,
        "source_donor_id": donor_id,
    }
    recorded = await http.post(f"{urls['aid']}/plans/{found['plan_id']}/interventions", json=repair, headers=admin)
    assert recorded.status_code == 201, recorded.text

    async def in_kind_known() -> bool:
        statement = (await http.get(f"{urls['funding']}/donors/{donor_id}", headers=admin)).json()
        return bool(statement["in_kind_interventions_rp"] == 3_000_000)

    await wait_until(in_kind_known, 60, message="funding counted the donor's in-kind repair")
    return {
        "family_id": family_id,
        "plan_id": found["plan_id"],
        "head_name": body["head_name"],
        "today": today,
        "donor_id": donor_id,
    }


async def test_the_field_app_offline_and_back(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium = chromium_or_skip()
    async with field_stack(provider, tmp_path, monkeypatch) as (up, http, app):
        urls, admin = up.urls, token(up.data_dir, "admin")
        known = await a_sponsored_family(http, urls, up.data_dir)
        today = known["today"]
        family_id = known["family_id"]

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = await browser.new_context(**PHONE)
            page = await sign_in(context, provider, app, role="kader", kelurahan=MEDONO, sub="kader-medono")
            card = page.locator(f"article[data-family='{family_id}']")
            await card.wait_for()
            assert await page.evaluate(TOO_WIDE) == []
            DOCS.mkdir(exist_ok=True)
            await page.screenshot(path=str(DOCS / "field-app-kader.png"), full_page=True)

            # -- offline: a registration, a delivery with its photo, a weighing; then a reload --
            await context.set_offline(True)
            new = family_body(7002, today)
            await register(page, app, new)
            await page.wait_for_selector("text=1 data menunggu dikirim")

            await card.get_by_role("link", name="Antar makanan").click()
            photo = base64.b64decode(await page.evaluate(JPEG_FROM_CANVAS))
            await page.set_input_files("#photo", {"name": "bukti.jpg", "mimeType": "image/jpeg", "buffer": photo})
            await page.wait_for_selector("text=Foto siap")
            await page.get_by_role("button", name="Simpan").click()
            await page.wait_for_selector("text=3 data menunggu dikirim")

            await card.get_by_role("link", name="Timbang").click()
            await page.fill("#weight_kg", "6.9")
            await page.fill("#length_cm", "64.5")
            await page.get_by_role("button", name="Simpan").click()
            await page.wait_for_selector("text=z-skor muncul setelah terkirim")
            await page.reload()  # offline: the shell from the service worker, the queue from IndexedDB
            await page.wait_for_selector("text=4 data menunggu dikirim")

            # -- back online: everything arrives, once --
            await context.set_offline(False)
            await all_sent(page)
            mine = (
                await http.get(f"{urls['registry']}/families", params={"kelurahan_code": MEDONO}, headers=admin)
            ).json()["items"]
            assert sorted(f.get("head_name") for f in mine) == sorted([known["head_name"], new["head_name"]])
            new_id = next(f["family_id"] for f in mine if f.get("head_name") == new["head_name"])
            plan = (await http.get(f"{urls['aid']}/plans/{known['plan_id']}", headers=admin)).json()
            [delivery] = plan["deliveries"]
            [photo_id] = delivery["photos"]
            assert delivery["value_rp"] == 105_000
            stored = await http.get(f"{urls['aid']}/photos/{photo_id}", headers=admin)
            assert stored.headers["content-type"] == "image/jpeg" and stored.content[:3] == b"\xff\xd8\xff"
            assert await measurements(up.stack(), family_id) == 1

            async def funding_and_dashboard() -> bool:
                funded = (await http.get(f"{urls['funding']}/families/{family_id}/funding", headers=admin)).json()
                aid = (await http.get(f"{urls['reporting']}/aid", headers=admin)).json()
                progress = (await http.get(f"{urls['reporting']}/progress", headers=admin)).json()
                return bool(
                    funded.get("drawn_rp") == 105_000 and aid["deliveries"] == 1 and progress["registered"] == 2
                )

            await wait_until(funding_and_dashboard, 60, message="funding drew it, the dashboard counts it")

            # -- a sync cut off half-way: the page closes while a write is in flight --
            await context.set_offline(True)
            await page.goto(app + "#/timbang/" + family_id)
            await page.fill("#weight_kg", "7.1")
            await page.fill("#length_cm", "65.0")
            await page.get_by_role("button", name="Simpan").click()
            await page.wait_for_selector("text=1 data menunggu dikirim")
            reached = threading.Event()

            async def cut(route: Any) -> None:
                await route.fetch()  # the service applies it; the page never gets the answer
                reached.set()

            await page.route("**/growth-measurements", cut)
            await context.set_offline(False)
            await wait_until(lambda: _true(reached.is_set()), 30, message="the write in flight")
            await page.close()
            page = await context.new_page()
            await page.goto(app)
            await all_sent(page)
            assert await measurements(up.stack(), family_id) == 2  # the resent one replayed, not applied again

            # -- a weighing the service refuses (dated tomorrow): fixed where it was made, sent once --
            await page.goto(app + "#/timbang/" + family_id)
            await page.fill("#measured_on", (today + timedelta(days=1)).isoformat())
            await page.fill("#weight_kg", "7.2")
            await page.fill("#length_cm", "65.5")
            await page.get_by_role("button", name="Simpan").click()
            refused = page.locator("#outbox li[data-status='refused']")
            await refused.wait_for()
            await refused.get_by_role("button", name="Perbaiki").click()
            await page.locator("#measured_on-error").wait_for()
            assert await page.input_value("#weight_kg") == "7.2"
            await page.fill("#measured_on", today.isoformat())
            await page.get_by_role("button", name="Simpan").click()
            await all_sent(page)
            assert await measurements(up.stack(), family_id) == 3

            # -- the lurah verifies the new family and confirms the delivery, seeing its photo --
            lurah = await sign_in(
                await browser.new_context(**PHONE), provider, app, role="lurah", kelurahan=MEDONO, sub="lurah-medono"
            )
            waiting = lurah.locator(f"article[data-family='{new_id}']")
            await waiting.wait_for()
            await lurah.screenshot(path=str(DOCS / "field-app-lurah.png"), full_page=True)
            await waiting.get_by_role("button", name="Setujui").click()
            await all_sent(lurah)
            await lurah.goto(app + "#/konfirmasi")
            to_confirm = lurah.locator(f"article[data-delivery='{delivery['delivery_id']}']")
            shown = to_confirm.locator("img.photo")
            await shown.wait_for()
            await lurah.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=await shown.element_handle()
            )
            await to_confirm.get_by_role("button", name="Konfirmasi").click()
            await all_sent(lurah)

            async def confirmed() -> bool:
                plan = (await http.get(f"{urls['aid']}/plans/{known['plan_id']}", headers=admin)).json()
                return bool(plan["deliveries"][0]["confirmed"])

            await wait_until(confirmed, 30, message=f"the delivery confirmed: {await lurah.inner_text('body')}")
            enrolled = (await http.get(f"{urls['registry']}/families/{new_id}", headers=admin)).json()
            assert enrolled["status"] == "enrolled"

            # -- the donor sees its statement, its family's coverage and its receipt --
            donor = await sign_in(
                await browser.new_context(**PHONE), provider, app, role="donor", donor_id=known["donor_id"], sub="donor"
            )
            await donor.wait_for_selector("text=Tanda terima")
            await donor.wait_for_selector("text=terpakai Rp105.000")
            # What the donor gave in kind is shown apart from its money.
            in_kind = donor.locator(".row", has_text="Bantuan natura")
            assert "Rp3.000.000" in await in_kind.inner_text()
            coverage = donor.locator("svg[role='img']")
            assert "7 dari" in (await coverage.get_attribute("aria-label") or "")
            assert await donor.evaluate(TOO_WIDE) == []
            await donor.screenshot(path=str(DOCS / "field-app-donor.png"), full_page=True)
            async with donor.context.expect_page() as opened:
                await donor.get_by_role("button", name="Unduh").click()
            assert (await opened.value).url.startswith("blob:")

            # -- another kelurahan's kader sees none of it --
            other = await sign_in(
                await browser.new_context(**PHONE), provider, app, role="kader", kelurahan=KAUMAN, sub="kader-kauman"
            )
            await other.wait_for_selector("h2")
            assert await other.locator("article[data-family]").count() == 0
            text = await other.inner_text("body")
            assert known["head_name"] not in text and new["head_name"] not in text

            await browser.close()


async def test_refused_writes_survive_a_restart_and_are_fixed_or_discarded(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three registrations queued offline on a phone that is then switched off: after the restart
    they are sent in order; the valid one arrives once; the refused ones stay on the screen with
    the service's reason (next to the field for a 422) until the kader fixes one (sent again,
    arriving once) and discards the other."""
    chromium = chromium_or_skip()
    async with field_stack(provider, tmp_path, monkeypatch) as (up, http, app):
        urls, admin = up.urls, token(up.data_dir, "admin")
        today = AidSettings().clock()()
        good = family_body(7102, today)
        fixed = family_body(7101, today)
        bad = {**fixed, "members": [{**fixed["members"][0], "nik": fixed["members"][0]["nik"][:12] + "0000"}]}
        bad["members"] += fixed["members"][1:]
        # Same KK as `good`, queued after it: by then the KK belongs to an active family.
        duplicate = {**family_body(7103, today), "kk_number": good["kk_number"]}
        phone = tmp_path / "phone"

        async def heads() -> list[str]:
            params = {"kelurahan_code": MEDONO}
            found = (await http.get(f"{urls['registry']}/families", params=params, headers=admin)).json()["items"]
            return sorted(f["head_name"] for f in found)

        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                str(phone), executable_path=chromium, args=CHROMIUM_ARGS, **PHONE
            )
            page = await sign_in(context, provider, app, role="kader", kelurahan=MEDONO, sub="kader-medono")
            await page.wait_for_selector("#outbox.empty")
            await context.set_offline(True)
            for body in (bad, good, duplicate):
                await register(page, app, body)
            await page.wait_for_selector("text=3 data menunggu dikirim")
            await context.close()  # the phone is switched off with its queue

            context = await pw.chromium.launch_persistent_context(
                str(phone), executable_path=chromium, args=CHROMIUM_ARGS, **PHONE
            )
            page = context.pages[0] if context.pages else await context.new_page()
            page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            await page.goto(app)
            refused = page.locator("#outbox li[data-status='refused']")
            await wait_until(lambda: _count(refused, 2), 60, message="both refusals on the screen")
            assert await heads() == [good["head_name"]]

            # The reasons are the services' own.
            conflict = await http.post(f"{urls['registry']}/families", json=duplicate, headers=admin)
            assert conflict.status_code == 409
            refusal = refused.filter(has_text=duplicate["head_name"])
            assert conflict.json()["detail"] in await refusal.inner_text()
            invalid = refused.filter(has_text=bad["head_name"])
            assert "members[0].nik" in await invalid.inner_text()

            await refusal.get_by_role("button", name="Buang").click()
            await wait_until(lambda: _count(refused, 1), 10, message="the discarded one gone")

            # Fixed where it was refused: the form comes back filled, the reason by the field.
            await invalid.get_by_role("button", name="Perbaiki").click()
            await page.wait_for_selector("text=Perbaiki pendaftaran")
            assert await page.input_value("#head_name") == bad["head_name"]
            await page.locator("[id='members[0].nik-error']").wait_for()
            await page.fill("[id='members[0].nik']", fixed["members"][0]["nik"])
            await page.get_by_role("button", name="Simpan").click()
            await all_sent(page)
            assert await heads() == sorted([good["head_name"], fixed["head_name"]])
            await page.reload()
            await all_sent(page)  # nothing comes back after a reload: the fixed item replaced the refused one
            assert await heads() == sorted([good["head_name"], fixed["head_name"]])
            await context.close()


async def _count(locator: Any, n: int) -> bool:
    return bool(await locator.count() == n)


async def measurements(stack: dict[str, Any], family_id: str) -> int:
    """GrowthMeasured events in the registry's store for the family."""
    conn = await asyncpg.connect(stack["databases"]["registry"])
    try:
        found: int = await conn.fetchval(
            "select count(*) from events where event_type = 'GrowthMeasured' and stream_id = $1::uuid", family_id
        )
        return found
    finally:
        await conn.close()


async def _true(value: bool) -> bool:
    return value
