"""The recovery commands as an operator runs them on `genting up`: `backup`, then an erasure, then
`restore` of the dump (the erased family stays erased, its read model rebuilt), `republish` (the
stream lacks nothing: publishes nothing) and `repair-stream aid` (nothing withdrawn to remove)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from test_operator_cli import genting
from up_support import genting_up

from shared.testing import wait_until
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"


async def test_backup_restore_and_republish_on_a_running_stack(tmp_path: Path) -> None:
    async with genting_up(tmp_path) as up:
        where = ["--data-dir", str(up.data_dir)]

        async def bearer(*args: str) -> dict[str, str]:
            code, out, err = await genting("token", *args, *where)
            assert code == 0, err
            return {"Authorization": f"Bearer {out.strip()}"}

        admin, kader = await bearer("--role", "admin"), await bearer("--role", "kader", "--kelurahan", MEDONO)
        dump = tmp_path / "registry.dump"
        code, out, err = await genting("backup", "registry", "--out", str(dump), *where)
        assert code == 0 and dump.stat().st_size > 0, err

        body = family_body(1, date.today(), MEDONO)
        async with httpx.AsyncClient(base_url=up.urls["registry"], timeout=10) as http:
            registered = await http.post("/families", json=body, headers=kader)
            assert registered.status_code == 201, registered.text
            family_id = registered.json()["family_id"]
            assert (await http.delete(f"/families/{family_id}/personal-data", headers=admin)).status_code == 200

            async def erasure_on_the_bus() -> bool:
                _, printed, _ = await genting("events", "registry", *where)
                types = [json.loads(line)["event"]["event_type"] for line in printed.splitlines() if line.strip()]
                return "PersonalDataErased" in types

            await wait_until(erasure_on_the_bus, timeout=30, interval=0.5, message="the erasure published")

            code, out, err = await genting("restore", "registry", str(dump), *where)
            assert code == 0, err
            assert "2 event(s) recorded after the dump brought back" in out  # registered, erased
            assert "1 erasure(s) re-applied" in out and "families_view rebuilt" in out

            shown = await http.get(f"/families/{family_id}", headers=admin)
            assert shown.status_code == 200 and shown.json()["personal_data_erased"] is True, shown.text
            assert body["head_name"] not in shown.text and body["kk_number"] not in shown.text

        # After a restore done otherwise (CloudNativePG): the same steps, and again changes nothing.
        code, out, err = await genting("restore", "registry", "--reconcile", "--no-replay", *where)
        assert code == 0 and "0 event(s) recorded after the dump brought back" in out, out + err
        code, out, err = await genting("republish", "registry", *where)
        assert code == 0 and "0 event(s) republished, 2 already on the stream" in out, out + err
        code, out, err = await genting("repair-stream", "aid", *where)
        assert code == 0 and "nothing to do" in out, out + err
