"""The field app's committed build (webapp/dist): small enough for a kelurahan's phones, and
what its sources build to today (so `make run` and a fresh checkout need no Node.js)."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
DIST = WEBAPP / "dist"
BUDGET = 150 * 1024  # JavaScript, gzip-compressed


def test_the_javascript_is_under_150_kb_compressed() -> None:
    scripts = sorted(DIST.glob("*.js"))
    assert {p.name for p in scripts} >= {"app.js", "sw.js"}
    weight = sum(len(gzip.compress(p.read_bytes(), 9)) for p in scripts)
    assert weight < BUDGET, f"{weight} bytes of JavaScript (gzip) > {BUDGET}"


def test_the_app_is_installable() -> None:
    manifest = (DIST / "manifest.webmanifest").read_text()
    for needed in ('"display": "standalone"', '"lang": "id"', "icon-192.png", "icon-512.png", '"purpose": "maskable"'):
        assert needed in manifest
    for icon in ("icon-192.png", "icon-512.png", "icon-maskable-512.png"):
        assert (DIST / "icons" / icon).read_bytes().startswith(b"\x89PNG")
    assert '<html lang="id">' in (DIST / "index.html").read_text()


def test_dist_is_what_the_sources_build_to(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("no Node.js here: the committed dist/ is used as it is")
    # Installed from an older lockfile (a checkout that pulled new dependencies): install again.
    installed_lock = WEBAPP / "node_modules" / ".package-lock.json"
    if not installed_lock.is_file() or installed_lock.stat().st_mtime < (WEBAPP / "package-lock.json").stat().st_mtime:
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=WEBAPP, capture_output=True, text=True, timeout=300
        )
        if installed.returncode != 0:
            pytest.skip(f"npm ci failed (offline?): {installed.stderr[-300:]}")
    out = tmp_path / "dist"
    subprocess.run(["node", "build.mjs", str(out)], cwd=WEBAPP, check=True, capture_output=True, timeout=120)
    built = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(DIST): p.read_bytes() for p in DIST.rglob("*") if p.is_file()}
    assert sorted(built) == sorted(committed), "run `npm ci && npm run build` in webapp/ and commit dist/"
    stale = [str(name) for name in built if built[name] != committed[name]]
    assert stale == [], f"stale in webapp/dist: {stale}; run `npm run build` in webapp/ and commit it"
