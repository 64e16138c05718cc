"""Given an amount, when a receipt writes it in words, then it reads as Indonesian does."""

import pytest

from services.funding.domain.terbilang import terbilang


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "nol rupiah"),
        (1, "satu rupiah"),
        (10, "sepuluh rupiah"),
        (11, "sebelas rupiah"),
        (15, "lima belas rupiah"),
        (21, "dua puluh satu rupiah"),
        (100, "seratus rupiah"),
        (111, "seratus sebelas rupiah"),
        (1000, "seribu rupiah"),
        (1500, "seribu lima ratus rupiah"),
        (11_000, "sebelas ribu rupiah"),
        (100_000, "seratus ribu rupiah"),
        (101_000, "seratus satu ribu rupiah"),
        (1_000_000, "satu juta rupiah"),
        (2_700_000, "dua juta tujuh ratus ribu rupiah"),
        (1_001_001, "satu juta seribu satu rupiah"),
        (1_000_000_000, "satu miliar rupiah"),
        (10_000_000_000, "sepuluh miliar rupiah"),
        (2_500_750_000, "dua miliar lima ratus juta tujuh ratus lima puluh ribu rupiah"),
        (1_000_000_000_000, "satu triliun rupiah"),
    ],
)
def test_an_amount_in_indonesian_words(amount: int, words: str) -> None:
    assert terbilang(amount) == words


def test_a_negative_amount_has_no_words() -> None:
    with pytest.raises(ValueError):
        terbilang(-1)
