"""`genting token` (CONTRACT.md): each minted principal gets its own `sub` unless one is given, and
the token passes the services' checks (issuer, audience, lifetime)."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from genting.cli import main
from shared.auth import KeySet, TokenVerifier
from shared.secrets import check_public_jwks


def mint(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> str:
    assert main(["token", "--data-dir", str(data_dir), *args]) == 0
    return capsys.readouterr().out.strip()


def test_each_minted_kader_is_its_own_principal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = (mint(capsys, tmp_path, "--role", "kader", "--kelurahan", "33.75.01.1002") for _ in range(2))
    subs = {jwt.decode(t, options={"verify_signature": False})["sub"] for t in (first, second)}
    assert len(subs) == 2 and all(s.startswith("dev-kader-") for s in subs)


def test_a_given_sub_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = mint(capsys, tmp_path, "--role", "lurah", "--kelurahan", "33.75.01.1002", "--sub", "lurah-medono")
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "lurah-medono"


async def test_a_minted_token_passes_the_services_checks_with_the_published_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = mint(capsys, tmp_path, "--role", "admin")
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    # What the services get: the data dir's jwks.json, public keys only.
    jwks = tmp_path / "jwks.json"
    check_public_jwks("GENTING_JWKS_FILE", str(jwks))
    principal = await TokenVerifier(KeySet(file=jwks)).verify(token)
    assert principal.role == "admin"


def test_a_token_beyond_the_services_lifetime_cap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["token", "--data-dir", str(tmp_path), "--role", "admin", "--ttl-hours", "48"])
    assert exit_.value.code == 2
