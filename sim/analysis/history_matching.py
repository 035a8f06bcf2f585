"""History matching and what a calibration's posterior says: emulators, implausibility, identifiability.

Numbers from arrays and tables only (no model): docs/ODD.md, section 16, gives the method. The
emulator is scikit-learn's Gaussian process (one per target); implausibility, the region not
ruled out, posterior summaries and the identifiability notes are the few lines of arithmetic on
top that no library packages for this use.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Observation:
    """One fitted target as history matching sees it: observed value, observation and discrepancy variance."""

    name: str
    value: float
    variance: float  # V_o + V_d


class Emulator:
    """A Gaussian process emulator of one target's statistic over the unit cube of the parameters.

    An RBF kernel with one length scale per parameter, scaled, plus white noise: the noise term
    absorbs the replicate variance of a mean over few replications, so the predictive variance
    includes it (docs/ODD.md, section 16).
    """

    def __init__(self, unit_points: np.ndarray, values: np.ndarray, seed: int) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        finite = np.isfinite(values)
        dims = unit_points.shape[1]
        self.model = None
        if finite.sum() < 3:  # nothing to emulate: the target has (almost) no value in this wave
            return
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(dims, 0.3), (1e-2, 1e2)) + WhiteKernel(
            1e-2, (1e-8, 1e1)
        )
        self.model = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a bound reached is a flat direction, not an error
            self.model.fit(unit_points[finite], values[finite])

    def predict(self, unit_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The emulator's mean and variance at each point (NaN where there was nothing to emulate)."""
        if self.model is None:
            return np.full(len(unit_points), np.nan), np.full(len(unit_points), np.inf)
        mean, sd = self.model.predict(unit_points, return_std=True)
        return mean, sd**2


def implausibility(means: np.ndarray, variances: np.ndarray, observations: list[Observation]) -> np.ndarray:
    """The largest implausibility over targets at each point: max_i |z_i − m_i| / √(V_o + V_d + V_i).

    ``means`` and ``variances`` have one row per point and one column per observation (the
    variance of the model's value there: an emulator's predictive variance, or a mean's
    replicate variance). A point with a NaN mean is infinitely implausible.
    """
    values = np.array([o.value for o in observations])
    fixed = np.array([o.variance for o in observations])
    scores = np.abs(values - means) / np.sqrt(fixed + variances)
    scores = np.where(np.isnan(scores), np.inf, scores)
    return scores.max(axis=1)


def unit_to_box(unit: np.ndarray, box: dict[str, tuple[float, float]]) -> np.ndarray:
    """Points of the unit cube as parameter values within ``box`` (one column per parameter, in its order)."""
    low, high = np.array(list(box.values()), dtype=float).T
    return low + unit * (high - low)


def box_to_unit(values: np.ndarray, box: dict[str, tuple[float, float]]) -> np.ndarray:
    """Parameter values as points of the unit cube of ``box``."""
    low, high = np.array(list(box.values()), dtype=float).T
    return (values - low) / (high - low)


def weighted_summary(particles: pd.DataFrame, weights: np.ndarray, box: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Each parameter's posterior mean, sd, 5% / 50% / 95% quantiles, prior range and contraction.

    Contraction is 1 − var_posterior / var_prior (uniform prior over the box): near 1 the targets
    pinned the parameter down, near 0 they said nothing about it.
    """
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    rows = []
    for path, (low, high) in box.items():
        values = particles[path].to_numpy(dtype=float)
        mean = float(np.sum(weights * values))
        variance = float(np.sum(weights * (values - mean) ** 2))
        order = np.argsort(values)
        cumulative = np.cumsum(weights[order])
        q = [float(values[order][min(np.searchsorted(cumulative, p), len(values) - 1)]) for p in (0.05, 0.5, 0.95)]
        prior_variance = (high - low) ** 2 / 12
        rows.append(
            {
                "parameter": path,
                "prior_low": low,
                "prior_high": high,
                "mean": mean,
                "sd": variance**0.5,
                "q05": q[0],
                "median": q[1],
                "q95": q[2],
                "contraction": 1 - variance / prior_variance,
            }
        )
    return pd.DataFrame(rows)


def highest_density(particles: pd.DataFrame, weights: np.ndarray, box: dict[str, tuple[float, float]]) -> np.ndarray:
    """The particles' order by weighted kernel density in the unit cube, highest first (the first is the MAP)."""
    from scipy.stats import gaussian_kde

    unit = box_to_unit(particles[list(box)].to_numpy(dtype=float), box)
    weights = np.asarray(weights, dtype=float)
    if len(unit) <= unit.shape[1] + 1 or np.allclose(unit.std(axis=0), 0):
        return np.argsort(-weights, kind="stable")
    try:
        density = gaussian_kde(unit.T, weights=weights / weights.sum())(unit.T)
    except np.linalg.LinAlgError:  # particles on a line: their weights decide
        return np.argsort(-weights, kind="stable")
    return np.argsort(-density, kind="stable")


def one_to_one(screening: pd.DataFrame, threshold: float) -> list[tuple[str, str]]:
    """(parameter, target) pairs where the parameter alone moves the target and moves nothing else.

    ``screening`` has columns ``parameter``, ``target`` and ``mu_star_sd`` (μ* in the target's sds).
    Such a target fixes its parameter and says nothing about the others.
    """
    strong = screening[screening["mu_star_sd"] >= threshold]
    pairs = []
    for target, rows in strong.groupby("target", sort=False):
        if len(rows) != 1:
            continue
        parameter = rows["parameter"].iloc[0]
        if (strong["parameter"] == parameter).sum() == 1:
            pairs.append((parameter, target))
    return pairs


def identifiability_notes(
    summary: pd.DataFrame,
    screening: pd.DataFrame,
    correlations: pd.DataFrame,
    threshold: float,
    fixed: list[str],
) -> list[str]:
    """Sentences on what the targets pin down: contraction, one-to-one maps, trade-offs, screened-out parameters."""
    notes = []
    for row in summary.itertuples():
        if row.contraction >= 0.5:
            verdict = "pinned down by the targets"
        elif row.contraction >= 0.2:
            verdict = "partly constrained"
        else:
            verdict = "not identified by these targets (the posterior is about as wide as the prior)"
        notes.append(
            f"`{row.parameter}`: contraction {row.contraction:.2f} (posterior sd {row.sd:.3g} in a prior range of "
            f"[{row.prior_low:g}, {row.prior_high:g}]): {verdict}."
        )
    for parameter, target in one_to_one(screening, threshold):
        notes.append(
            f"`{parameter}` maps one to one onto target `{target}`: it is the only parameter that moves it, and it "
            "moves no other target, so the target fixes this parameter and tells nothing about the rest."
        )
    names = list(correlations.columns)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            rho = correlations.loc[first, second]
            if abs(rho) >= 0.6:
                notes.append(
                    f"`{first}` and `{second}` trade off (posterior correlation {rho:+.2f}): the targets pin a "
                    "combination of the two more than either alone."
                )
    for parameter in fixed:
        notes.append(
            f"`{parameter}` was screened out (μ* below {threshold:g} target sds on every fitted target) and kept at "
            "the scenario's value: the targets cannot inform it."
        )
    return notes


def weighted_correlations(particles: pd.DataFrame, weights: np.ndarray, names: list[str]) -> pd.DataFrame:
    """The weighted correlation matrix of the posterior particles' parameters."""
    values = particles[names].to_numpy(dtype=float)
    if len(names) < 2:
        return pd.DataFrame(np.ones((len(names), len(names))), index=names, columns=names)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.cov(values.T, aweights=np.asarray(weights, dtype=float))
        sd = np.sqrt(np.diag(matrix))
        rho = matrix / np.outer(sd, sd)
    return pd.DataFrame(np.nan_to_num(rho), index=names, columns=names)
