"""Shapley values of a cooperative game given on coalitions: exactly, or over sampled orders.

``bureausim explain`` splits a loss among the mechanisms (or relays) that cause it. The game
is a table of coalition values computed by simulation, so what is needed is the textbook
formula over a finite table; the libraries that compute Shapley values (``shap`` and its
kin) explain a fitted prediction function and would have to call the simulator themselves, so
these few lines are written here (docs/ODD.md, section 17).

A coalition is a ``frozenset`` of player names; ``game`` maps every coalition needed to its
value. Both estimators are *efficient*: the values add up exactly to
``game[all] - game[frozenset()]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np


def every_coalition(players: Sequence[str]) -> list[frozenset[str]]:
    """All 2^n coalitions, smallest first, each size in the players' order."""
    return [frozenset(chosen) for size in range(len(players) + 1) for chosen in combinations(players, size)]


def exact(players: Sequence[str], game: Mapping[frozenset[str], float]) -> dict[str, float]:
    """φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S))."""
    n = len(players)
    values = {}
    for player in players:
        others = [p for p in players if p != player]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for chosen in combinations(others, size):
                coalition = frozenset(chosen)
                total += weight * (game[coalition | {player}] - game[coalition])
        values[player] = total
    return values


def antithetic_orders(players: Sequence[str], count: int, rng: np.random.Generator) -> list[tuple[str, ...]]:
    """``count`` orders of the players (``count`` even): random orders, each followed by its reverse.

    An order and its reverse see every player once early and once late, which cancels much of
    the sampling error of a player whose contribution depends on what came before.
    """
    orders = []
    for _ in range(count // 2):
        order = tuple(players[i] for i in rng.permutation(len(players)))
        orders += [order, order[::-1]]
    return orders


def prefixes(orders: Sequence[Sequence[str]]) -> set[frozenset[str]]:
    """Every coalition the orders pass through (the empty one and the full one included)."""
    found = {frozenset()}
    for order in orders:
        for end in range(1, len(order) + 1):
            found.add(frozenset(order[:end]))
    return found


def over_orders(players: Sequence[str], orders: Sequence[Sequence[str]], game) -> dict[str, float]:
    """The mean over ``orders`` of each player's marginal contribution where it joins (unbiased for φ)."""
    totals = dict.fromkeys(players, 0.0)
    for order in orders:
        before = frozenset()
        for player in order:
            after = before | {player}
            totals[player] += game[after] - game[before]
            before = after
    return {player: total / len(orders) for player, total in totals.items()}
