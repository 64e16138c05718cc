"""Reference data: the default deployment's (Kota Pekalongan's) kelurahan, read from the Kemendagri
data through `Programme`, exactly as DOMAIN.md lists them (names or their aliases); codes and rules."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest

from services.registry.reference import (
    DEFAULT_RULES,
    EXIT_REASONS,
    KELURAHAN,
    RISK_FACTORS,
    ROLES,
    TARGET_ROLES,
    RiskRules,
    Rules,
    default_programme,
)
from shared.contracts.registry import ExitReason, Role

# DOMAIN.md's table, typed in again by hand: kecamatan -> (name, {suffix: kelurahan}).
DOMAIN_TABLE = {
    "33.75.01": (
        "Pekalongan Barat",
        {
            "1002": "Medono",
            "1003": "Podosugih",
            "1004": "Sapuro Kebulen",
            "1006": "Bendan Kergon",
            "1008": "Pasirkratonkramat",
            "1009": "Tirto",
            "1012": "Pringrejo",
        },
    ),
    "33.75.02": (
        "Pekalongan Timur",
        {
            "1002": "Noyontaansari",
            "1004": "Kauman",
            "1007": "Poncol",
            "1008": "Klego",
            "1009": "Gamer",
            "1010": "Setono",
            "1012": "Kali Baros",
        },
    ),
    "33.75.03": (
        "Pekalongan Utara",
        {
            "1002": "Krapyak",
            "1003": "Kandang Panjang",
            "1004": "Panjang Wetan",
            "1006": "Padukuhan Kraton",
            "1007": "Degayu",
            "1009": "Bandengan",
            "1010": "Panjang Baru",
        },
    ),
    "33.75.04": (
        "Pekalongan Selatan",
        {
            "1002": "Banyurip",
            "1003": "Buaran Kradenan",
            "1004": "Jenggot",
            "1006": "Kuripan Kertoharjo",
            "1008": "Kuripan Yosorejo",
            "1010": "Sokoduwet",
        },
    ),
}


PEKALONGAN = default_programme()
kelurahan = PEKALONGAN.kelurahan
kelurahan_by_name = PEKALONGAN.kelurahan_by_name


def test_the_city_has_27_kelurahan_in_4_kecamatan_of_7_7_7_and_6() -> None:
    assert len(KELURAHAN) == 27 == len(PEKALONGAN.all_kelurahan())
    by_kecamatan = [sum(1 for k in KELURAHAN if k.kecamatan_code == kec.code) for kec in PEKALONGAN.kecamatan()]
    assert by_kecamatan == [7, 7, 7, 6]


def test_every_kelurahan_has_exactly_the_code_and_kecamatan_domain_lists() -> None:
    expected = {f"{kec}.{suffix}": kec for kec, (_, villages) in DOMAIN_TABLE.items() for suffix in villages}
    kecamatan_names = {k.code: k.name for k in PEKALONGAN.kecamatan()}

    assert {k.code: k.kecamatan_code for k in KELURAHAN} == expected
    assert {kec: kecamatan_names[kec] for kec in DOMAIN_TABLE} == {kec: n for kec, (n, _) in DOMAIN_TABLE.items()}
    for kec, (_, villages) in DOMAIN_TABLE.items():  # DOMAIN.md's spelling finds the code (name or alias)
        for suffix, name in villages.items():
            assert (kelurahan_by_name(name) or pytest.fail(name)).code == f"{kec}.{suffix}"


def test_medono_is_in_pekalongan_barat() -> None:
    medono = kelurahan("33.75.01.1002")

    assert medono is not None
    assert (medono.name, medono.kecamatan_code, medono.kecamatan_name) == (
        "Medono",
        "33.75.01",
        "Pekalongan Barat",
    )


@pytest.mark.parametrize("code", ["33.75.01.1001", "33.75.05.1002", "3375011002", "", "33.74.01.1010"])
def test_a_code_that_is_not_in_the_city_finds_nothing(code: str) -> None:
    assert kelurahan(code) is None


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Kali Baros", "33.75.02.1012"),
        ("Kalibaros", "33.75.02.1012"),
        ("  KALI   baros ", "33.75.02.1012"),
        ("kelurahan kalibaros", "33.75.02.1012"),
        ("Pasir Kraton Kramat", "33.75.01.1008"),
        ("sapuro-kebulen", "33.75.01.1004"),
        ("Kel. Medono", "33.75.01.1002"),
    ],
)
def test_names_match_ignoring_case_spaces_and_known_aliases(name: str, code: str) -> None:
    found = kelurahan_by_name(name)

    assert found is not None and found.code == code


@pytest.mark.parametrize("name", ["Jakarta", "", "Kuripan"])
def test_an_unknown_or_ambiguous_name_finds_nothing(name: str) -> None:
    assert kelurahan_by_name(name) is None


def test_every_kelurahan_is_found_by_its_own_name() -> None:
    assert all(kelurahan_by_name(k.name) == k for k in KELURAHAN)


def test_the_eight_risk_factors_each_have_a_meaning() -> None:
    assert set(RISK_FACTORS) == {
        "unsafe_drinking_water",
        "no_proper_latrine",
        "mother_too_young",
        "mother_too_old",
        "births_too_close",
        "too_many_children",
        "uninhabitable_house",
        "poor",
    }
    assert all(meaning.strip() for meaning in RISK_FACTORS.values())


def test_roles_and_exit_reasons_are_those_the_contract_publishes() -> None:
    assert ROLES == get_args(Role) == ("pregnant_mother", "breastfeeding_mother", "baduta", "other")
    assert set(EXIT_REASONS) == set(get_args(ExitReason))
    assert "other" not in TARGET_ROLES


def test_the_default_rules_are_the_programmes_limits() -> None:
    assert DEFAULT_RULES.baduta_max_months == 24
    assert (DEFAULT_RULES.mother_min_age_years, DEFAULT_RULES.mother_max_age_years) == (15, 49)


def test_the_risk_factors_age_rules_default_to_domain_md_and_are_configurable_as_json() -> None:
    assert DEFAULT_RULES.risk == RiskRules(
        mother_too_young_under_years=20,
        mother_too_old_from_years=35,
        births_too_close_under_months=24,
        too_many_children_over=3,
    )
    assert RiskRules.model_validate_json('{"mother_too_young_under_years": 21}').mother_too_young_under_years == 21


def test_rules_are_frozen_and_configured_by_replacing_them() -> None:
    rules = dataclasses.replace(DEFAULT_RULES, baduta_max_months=23)

    assert rules == Rules(baduta_max_months=23)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.baduta_max_months = 24  # type: ignore[misc]
