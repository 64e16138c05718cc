"""Reporting lists the deployment's city (GENTING_CITY): its kecamatan and kelurahan from the
Kemendagri reference data, and no other city's."""

from __future__ import annotations

from shared.testing.reporting_scenarios import PEKALONGAN, SEMARANG, TEMBALANG, city_areas


def test_pekalongan_has_its_27_kelurahan_in_4_kecamatan_with_their_names() -> None:
    areas = city_areas(PEKALONGAN)
    assert len(areas.kelurahan) == 27 and len(areas.kecamatan) == 4
    assert list(areas.codes) == sorted(areas.codes) and all(c.startswith("33.75.") for c in areas.codes)
    medono = areas.area("33.75.01.1002")
    assert (medono.name, medono.kecamatan_code, medono.kecamatan) == ("Medono", "33.75.01", "Pekalongan Barat")
    assert areas.area("33.75.02.1012").name == "Kali Baros"
    assert [name for _, name in areas.kecamatan] == [
        "Pekalongan Barat",
        "Pekalongan Timur",
        "Pekalongan Utara",
        "Pekalongan Selatan",
    ]


def test_semarang_lists_its_own_177_kelurahan_and_none_of_pekalongans() -> None:
    areas = city_areas(SEMARANG)
    assert len(areas.kelurahan) == 177 and len(areas.kecamatan) == 16
    assert all(c.startswith("33.74.") for c in areas.codes)
    tembalang = areas.area(TEMBALANG)
    assert (tembalang.name, tembalang.kecamatan) == ("Tembalang", "Tembalang")
    # Pekalongan's Medono is not Semarang's: named by its code, under no kecamatan of Semarang.
    assert areas.area("33.75.01.1002").name == "33.75.01.1002"


def test_an_unknown_code_is_named_by_its_code_under_its_kecamatan_when_known() -> None:
    areas = city_areas(PEKALONGAN)
    other = areas.area("33.75.02.1099")
    assert (other.name, other.kecamatan) == ("33.75.02.1099", "Pekalongan Timur")


def test_every_kelurahan_comes_first_in_code_order_then_codes_found_elsewhere() -> None:
    areas = city_areas(PEKALONGAN)
    assert areas.ordered({"33.75.01.1002", "", "33.99.01.1001"}) == [*areas.codes, "", "33.99.01.1001"]
