"""Reporting's copy of the kelurahan table stays the registry's (a service never imports another)."""

from __future__ import annotations

from services.registry import reference as registry
from services.reporting import reference as reporting


def test_the_kelurahan_codes_names_and_kecamatan_match_the_registry() -> None:
    ours = [(a.code, a.name, a.kecamatan_code, a.kecamatan) for a in reporting.KELURAHAN]
    theirs = [(k.code, k.name, k.kecamatan_code, k.kecamatan_name) for k in registry.KELURAHAN]
    assert ours == theirs
    assert len(ours) == 27


def test_the_kecamatan_match_the_registry() -> None:
    assert list(reporting.KECAMATAN) == [(k.code, k.name) for k in registry.KECAMATAN]


def test_an_unknown_code_is_named_by_its_code_under_its_kecamatan_when_known() -> None:
    other = reporting.area("33.75.02.1099")
    assert (other.name, other.kecamatan) == ("33.75.02.1099", "Pekalongan Timur")
    assert reporting.area("33.75.01.1002").name == "Medono"
