"""NIK and KK structure: examples, and properties over generated numbers and single mutations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain.identity import (
    PROVINCE_CODES,
    IdentityNumberInvalid,
    Nik,
    nik_birth_date,
    nik_sex,
    parse_kk,
    parse_nik,
    validate_kk,
    validate_nik,
)

TODAY = date(2025, 6, 15)
# Dates a two-digit year can stand for unambiguously: the last hundred years up to TODAY.
OLDEST_BIRTH = date(1925, 6, 16)


def nik_for(born: date, sex: str, region: str = "337501", serial: str = "0001") -> str:
    day = born.day + 40 if sex == "F" else born.day
    return f"{region}{day:02d}{born.month:02d}{born.year % 100:02d}{serial}"


def kk_for(recorded_on: date, region: str = "337501", serial: str = "0007") -> str:
    return f"{region}{recorded_on:%d%m%y}{serial}"


regions = st.tuples(
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.integers(1, 99).map("{:02d}".format),
    st.integers(1, 99).map("{:02d}".format),
).map("".join)
serials = st.integers(1, 9999).map("{:04d}".format)
sexes = st.sampled_from(["M", "F"])
births = st.dates(min_value=OLDEST_BIRTH, max_value=TODAY)
unknown_provinces = st.integers(0, 99).map("{:02d}".format).filter(lambda p: p not in PROVINCE_CODES)


@st.composite
def impossible_day_months(draw: st.DrawFn) -> str:
    """A DDMM part no calendar has, for a man or (day + 40) a woman."""
    day, month = draw(
        st.one_of(
            st.tuples(st.sampled_from([0, *range(32, 41), *range(72, 100)]), st.integers(1, 12)),
            st.tuples(st.integers(1, 28), st.sampled_from([0, *range(13, 100)])),
            st.tuples(st.just(31), st.sampled_from([2, 4, 6, 9, 11])),
            st.tuples(st.just(30), st.just(2)),
        )
    )
    if draw(st.booleans()) and 1 <= day <= 31:
        day += 40
    return f"{day:02d}{month:02d}"


class TestValidNik:
    @given(born=births, sex=sexes, region=regions, serial=serials)
    def test_a_generated_nik_is_accepted_and_gives_back_its_birth_date_and_sex(
        self, born: date, sex: str, region: str, serial: str
    ) -> None:
        nik = nik_for(born, sex, region, serial)

        assert validate_nik(nik, TODAY) == []
        assert nik_birth_date(nik, TODAY) == born
        assert nik_sex(nik) == sex
        assert parse_nik(nik, TODAY) == Nik(region[0:2], region[2:4], region[4:6], born, sex, serial)

    @given(born=births, region=regions, serial=serials)
    def test_a_womans_nik_carries_her_birth_day_plus_40(self, born: date, region: str, serial: str) -> None:
        womans = nik_for(born, "F", region, serial)
        mans = nik_for(born, "M", region, serial)

        assert 41 <= int(womans[6:8]) <= 71
        assert int(womans[6:8]) - 40 == int(mans[6:8])
        assert (nik_sex(womans), nik_sex(mans)) == ("F", "M")
        assert nik_birth_date(womans, TODAY) == nik_birth_date(mans, TODAY) == born

    def test_the_century_is_the_one_that_does_not_put_the_birth_in_the_future(self) -> None:
        assert nik_birth_date("3375011506250001", TODAY) == date(2025, 6, 15)
        assert nik_birth_date("3375011606250001", TODAY) == date(1925, 6, 16)
        assert nik_birth_date("3375010101990001", TODAY) == date(1999, 1, 1)

    def test_a_leap_day_is_a_real_birth_date_only_in_a_leap_year(self) -> None:
        assert validate_nik("3375016902240001", TODAY) == []
        assert validate_nik("3375016902230001", TODAY) != []


class TestInvalidNik:
    @given(born=births, sex=sexes, region=regions, serial=serials, day_month=impossible_day_months())
    def test_an_impossible_birth_date_is_rejected(
        self, born: date, sex: str, region: str, serial: str, day_month: str
    ) -> None:
        nik = nik_for(born, sex, region, serial)
        mutated = nik[:6] + day_month + nik[10:]

        assert any("not a real date" in p for p in validate_nik(mutated, TODAY))
        with pytest.raises(IdentityNumberInvalid):
            nik_birth_date(mutated, TODAY)

    @given(born=births, sex=sexes, region=regions)
    def test_serial_0000_is_rejected(self, born: date, sex: str, region: str) -> None:
        assert validate_nik(nik_for(born, sex, region, "0000"), TODAY) == ["serial number must not be 0000"]

    @given(born=births, sex=sexes, region=regions, serial=serials, province=unknown_provinces)
    def test_an_unknown_province_is_rejected(
        self, born: date, sex: str, region: str, serial: str, province: str
    ) -> None:
        nik = province + nik_for(born, sex, region, serial)[2:]

        assert validate_nik(nik, TODAY) == [f"province code {province} does not exist"]

    @pytest.mark.parametrize(
        ("region", "problem"),
        [("330001", "regency code must not be 00"), ("337500", "district code must not be 00")],
    )
    def test_a_zero_regency_or_district_is_rejected(self, region: str, problem: str) -> None:
        assert validate_nik(nik_for(date(1990, 1, 2), "M", region), TODAY) == [problem]

    @given(born=births, sex=sexes, position=st.integers(0, 15), char=st.sampled_from(list(" -xX.٣")))
    def test_a_non_digit_anywhere_is_rejected(self, born: date, sex: str, position: int, char: str) -> None:
        nik = nik_for(born, sex)
        mutated = nik[:position] + char + nik[position + 1 :]

        assert validate_nik(mutated, TODAY) == ["must be exactly 16 digits"]

    @pytest.mark.parametrize("nik", ["", "337501010199001", "33750101019900011", "3375 0101019900"])
    def test_a_number_of_the_wrong_length_is_rejected(self, nik: str) -> None:
        assert validate_nik(nik, TODAY) == ["must be exactly 16 digits"]
        with pytest.raises(IdentityNumberInvalid):
            nik_sex(nik)

    def test_every_problem_is_reported_at_once(self) -> None:
        problems = validate_nik("9900003202000000", TODAY)

        assert len(problems) == 5


class TestKk:
    @given(recorded_on=st.dates(min_value=date(1926, 1, 1), max_value=TODAY), region=regions, serial=serials)
    def test_a_generated_kk_number_is_accepted(self, recorded_on: date, region: str, serial: str) -> None:
        kk = kk_for(recorded_on, region, serial)

        assert validate_kk(kk, TODAY) == []
        assert parse_kk(kk, TODAY).recorded_on == recorded_on

    @given(days_ahead=st.integers(1, (date(2025, 12, 31) - TODAY).days))
    def test_a_recording_date_later_this_year_is_in_the_future(self, days_ahead: int) -> None:
        kk = kk_for(TODAY + timedelta(days=days_ahead))

        assert validate_kk(kk, TODAY) == ["recording date part is in the future"]

    @given(recorded_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2025, 1, 31)))
    def test_a_recording_day_never_has_40_added(self, recorded_on: date) -> None:
        kk = kk_for(recorded_on)
        mutated = f"{kk[:6]}{recorded_on.day + 40:02d}{kk[8:]}"

        assert validate_kk(mutated, TODAY) == ["recording date part is not a real date"]

    @pytest.mark.parametrize(
        ("kk", "problem"),
        [
            ("3375011203150000", "serial number must not be 0000"),
            ("2075011203150007", "province code 20 does not exist"),
            ("3300011203150007", "regency code must not be 00"),
            ("3375001203150007", "district code must not be 00"),
            ("3375013102150007", "recording date part is not a real date"),
            ("337501120315000", "must be exactly 16 digits"),
            ("33750112031500O7", "must be exactly 16 digits"),
        ],
    )
    def test_a_malformed_kk_number_is_rejected(self, kk: str, problem: str) -> None:
        assert validate_kk(kk, TODAY) == [problem]
        with pytest.raises(IdentityNumberInvalid) as caught:
            parse_kk(kk, TODAY)
        assert caught.value.problems == [problem]
