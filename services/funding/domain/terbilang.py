"""An amount of rupiah in Indonesian words ("terbilang"), as a receipt writes it beside the
figures: 2_700_000 -> "dua juta tujuh ratus ribu rupiah". Pure.

Indonesian says "se-" for one of ten, hundred and thousand (sepuluh, seratus, seribu) and
"sebelas" for eleven, but "satu juta" (not "sejuta") in formal writing, as bank forms do.
"""

from __future__ import annotations

_UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
# Powers of a thousand beyond ribu; a programme amount stays far below a quadrillion (kuadriliun).
_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        words.append("seratus")
    elif hundreds:
        words += [_UNITS[hundreds], "ratus"]
    if rest == 0:
        return words
    if rest < 10:
        words.append(_UNITS[rest])
    elif rest == 10:
        words.append("sepuluh")
    elif rest == 11:
        words.append("sebelas")
    elif rest < 20:
        words += [_UNITS[rest - 10], "belas"]
    else:
        tens, units = divmod(rest, 10)
        words += [_UNITS[tens], "puluh"]
        if units:
            words.append(_UNITS[units])
    return words


def _words(n: int) -> list[str]:
    words: list[str] = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            words += [*_words(count), name]
    thousands, n = divmod(n, 1000)
    if thousands == 1:
        words.append("seribu")
    elif thousands:
        words += [*_below_thousand(thousands), "ribu"]
    return words + _below_thousand(n)


def terbilang(amount_rp: int) -> str:
    """Whole rupiah in words, ending in "rupiah". Negative amounts never appear on a receipt."""
    if amount_rp < 0:
        raise ValueError("an amount in words is never negative")
    if amount_rp == 0:
        return "nol rupiah"
    return " ".join([*_words(amount_rp), "rupiah"])
