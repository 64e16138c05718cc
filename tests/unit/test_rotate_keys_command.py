"""`genting rotate-keys`: the lookup key it prints is the one the registry uses, `all` needs an
embedded stack, and a registry rotation without a pinned lookup key is refused with the reason."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from genting.cli import main
from services.registry.lookup_hashes import LookupHash, lookup_key
from shared.settings import Settings

OLD = base64.urlsafe_b64encode(bytes(range(40, 72))).decode()
NEW = base64.urlsafe_b64encode(bytes(range(80, 112))).decode()


def test_the_printed_lookup_key_is_the_one_the_registry_hashes_with(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("GENTING_DATA_KEY", OLD)
    assert main(["rotate-keys", "registry", "--lookup-key", "--data-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.strip()
    before = LookupHash(lookup_key(Settings(data_key=OLD)))  # type: ignore[arg-type]
    pinned = LookupHash(lookup_key(Settings(data_key=NEW, data_keys_previous=OLD, lookup_key=printed)))  # type: ignore[arg-type]
    assert before("nik", "3375014101900001") == pinned("nik", "3375014101900001")


def test_all_without_a_stack_and_an_unknown_service_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for argv, named in ((["all"], "genting up stack"), (["bogus"], "unknown service")):
        with pytest.raises(SystemExit) as stopped:
            main(["rotate-keys", *argv, "--data-dir", str(tmp_path)])
        assert stopped.value.code == 2 and named in capsys.readouterr().err


def test_a_registry_rotation_without_a_pinned_lookup_key_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("GENTING_DATA_KEY", NEW)
    monkeypatch.setenv("GENTING_DATA_KEYS_PREVIOUS", OLD)
    monkeypatch.delenv("GENTING_LOOKUP_KEY", raising=False)
    assert main(["rotate-keys", "registry", "--data-dir", str(tmp_path)]) == 1
    assert "GENTING_LOOKUP_KEY" in capsys.readouterr().err
