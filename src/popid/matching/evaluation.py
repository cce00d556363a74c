"""Precision, recall and F1 of predicted pairs and clusters against the truth.

Pair metrics compare the set of predicted pairs (unordered) with the true duplicate pairs.
Cluster metrics are the pairwise metrics of the clusterings: two records are "together" when
they share a cluster; the true clusters are the connected components of the true pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class Scores:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "true_positives": self.true_positives, "false_positives": self.false_positives,
                "false_negatives": self.false_negatives}


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def score_pairs(predicted: Iterable[tuple[str, str]], truth: Iterable[tuple[str, str]]) -> Scores:
    got = {_pair(a, b) for a, b in predicted if a != b}
    want = {_pair(a, b) for a, b in truth if a != b}
    return Scores(len(got & want), len(got - want), len(want - got))


def components(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Union-find: record id → cluster representative."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def cluster_pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = {}
    for record, cluster in clusters.items():
        members.setdefault(cluster, []).append(record)
    return {_pair(a, b) for group in members.values() for a, b in combinations(sorted(group), 2)}


def score_clusters(predicted_clusters: dict[str, str], truth: Iterable[tuple[str, str]]) -> Scores:
    return score_pairs(cluster_pairs(predicted_clusters), cluster_pairs(components(truth)))
