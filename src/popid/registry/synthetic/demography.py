"""Distributions the generator draws from: where people live and how old they are.

Province weights are approximate 2025 populations in millions of the 34 provinces formed by
Resolution 202/2025/QH15. The age pyramid is Vietnam's (GSO 2024, five-year groups, %),
rounded; ages 100+ are folded into 100-104 so nobody alive is older than 105.
"""

from __future__ import annotations

from bisect import bisect
from itertools import accumulate
from random import Random
from typing import Generic, TypeVar

T = TypeVar("T")

PROVINCE_POPULATION_MILLIONS: dict[str, float] = {
    "01": 8.7, "79": 14.0, "31": 4.7, "48": 3.1, "46": 1.4, "92": 4.2, "12": 0.48, "11": 0.64,
    "14": 1.3, "20": 0.8, "22": 1.4, "38": 3.7, "40": 3.4, "42": 1.3, "04": 0.55, "08": 1.9,
    "15": 1.8, "19": 1.8, "25": 4.0, "24": 3.6, "33": 3.6, "37": 4.4, "44": 1.9, "51": 2.2,
    "52": 3.6, "56": 2.2, "68": 3.9, "66": 3.4, "75": 4.5, "80": 3.3, "86": 4.3, "82": 4.4,
    "96": 2.6, "91": 4.9,
}

# Provinces that draw internal migrants (birth registered elsewhere, living here).
MIGRATION_TARGETS: dict[str, float] = {"79": 5.0, "01": 3.0, "75": 1.5, "24": 1.0, "48": 0.7, "92": 0.5}

# (lowest age of the group, share in %)
AGE_PYRAMID: tuple[tuple[int, float], ...] = (
    (0, 7.0), (5, 8.0), (10, 7.8), (15, 7.0), (20, 6.8), (25, 7.5), (30, 8.3), (35, 8.0),
    (40, 7.3), (45, 6.8), (50, 6.0), (55, 5.3), (60, 4.5), (65, 3.7), (70, 2.5), (75, 1.5),
    (80, 1.0), (85, 0.6), (90, 0.3), (95, 0.1), (100, 0.02),
)
MAX_CLEAN_AGE = 104  # the engine flags living people from 120 (and some tools from 110)


class Weighted(Generic[T]):
    """Pre-accumulated weights so each draw is one ``random()`` and a bisect."""

    __slots__ = ("cumulative", "total", "values")

    def __init__(self, pairs: list[tuple[T, float]] | tuple[tuple[T, float], ...]) -> None:
        self.values = [v for v, _ in pairs]
        self.cumulative = list(accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    def draw(self, rng: Random) -> T:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


def head_age_table() -> Weighted[int]:
    """Ages of household heads: the adult part of the pyramid, fewer heads under 25."""
    pairs: list[tuple[int, float]] = []
    for low, share in AGE_PYRAMID:
        for age in range(low, low + 5):
            if age < 20 or age > 95:
                continue
            factor = 0.25 if age < 25 else 0.7 if age < 30 else 1.0
            pairs.append((age, share / 5 * factor))
    return Weighted(pairs)
