"""The city's food catalogue (configuration: code, name, aliases): what a delivery's items are
matched to, so that the bus carries item codes and quantities, never the text a kader typed
(which may name the family: "beras untuk Ibu ..."). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field


def normalise(text: str) -> str:
    """How typed text is compared: case, surrounding and repeated spaces do not matter."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Food:
    code: str
    name: str
    unit: str = ""  # the usual unit, a hint for the field app's form
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FoodCatalogue:
    foods: tuple[Food, ...]
    _index: dict[str, Food] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Food] = {}
        for food in self.foods:
            for key in (food.code, food.name, *food.aliases):
                other = index.setdefault(normalise(key), food)
                if other.code != food.code:
                    raise ValueError(f"{key!r} names both {other.code} and {food.code} in the food catalogue")
        object.__setattr__(self, "_index", index)

    def match(self, typed: str) -> Food | None:
        """The food a typed name means: its code, name or one of its aliases; None when none."""
        return self._index.get(normalise(typed))

    def as_json(self) -> list[dict[str, object]]:
        return [{"code": f.code, "name": f.name, "unit": f.unit, "aliases": list(f.aliases)} for f in self.foods]

    @classmethod
    def from_json(cls, data: object) -> FoodCatalogue:
        """`[{"code", "name", "unit"?, "aliases"?}]`: a city's own catalogue (GENTING_FOOD_CATALOGUE)."""
        if not isinstance(data, list) or not data:
            raise ValueError("a food catalogue is a non-empty JSON list of {code, name, unit, aliases}")
        return cls(
            tuple(
                Food(
                    str(d["code"]), str(d["name"]), str(d.get("unit", "")), tuple(str(a) for a in d.get("aliases", ()))
                )
                for d in data
            )
        )


# Kota Pekalongan's catalogue, shipped with the code (the foods of its PMT packages and Dashat).
PEKALONGAN = FoodCatalogue(
    (
        Food("BERAS", "beras", "kg", ("rice",)),
        Food("TELUR", "telur ayam", "butir", ("telur", "eggs", "egg")),
        Food("IKAN", "ikan bandeng", "kg", ("ikan", "bandeng", "fish")),
        Food("SUSU", "susu UHT", "kotak", ("susu", "milk")),
        Food("TEMPE", "tempe", "papan", ()),
        Food("TAHU", "tahu", "potong", ("tofu",)),
        Food("BAYAM", "sayur bayam", "ikat", ("bayam", "sayur", "spinach")),
        Food("KACANG_HIJAU", "kacang hijau", "kg", ("mung beans",)),
        Food("AYAM", "daging ayam", "kg", ("ayam", "chicken")),
        Food("PISANG", "pisang", "sisir", ("banana",)),
        Food("DASHAT", "paket lauk Dashat", "porsi", ("dashat", "paket dashat")),
    )
)
