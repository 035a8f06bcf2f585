"""Space-filling samples of uncertain parameters, for drawing futures and worlds to run."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def latin_hypercube(ranges: Mapping[str, tuple[float, float]], count: int, seed: int) -> np.ndarray:
    """``count`` points by Latin hypercube over ``ranges``, seeded, so the same arguments give the same points.

    Args:
        ranges: Each uncertain parameter's (low, high), in the order of the columns.
        count: Points to draw.
        seed: Seed of the hypercube.

    Returns:
        One row per point, one column per range, each value within its range.
    """
    from scipy.stats import qmc  # imported here: scipy.stats is slow to import, and most commands never need it

    low, high = np.array(list(ranges.values()), dtype=float).T
    unit = qmc.LatinHypercube(d=len(ranges), seed=seed).random(count)
    return qmc.scale(unit, low, high)
