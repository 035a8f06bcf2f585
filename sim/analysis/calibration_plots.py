"""Figures of a calibration: screening, waves, the posterior's pairs, and the predictive checks."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.plots import finish, parameter_words, say, shown, styled, wrapped


@styled
def screening_plot(screening: pd.DataFrame, path: Path | None = None):
    """Morris μ* against σ per parameter, one panel per fitted target, both in the target's sds."""
    targets = list(dict.fromkeys(screening["target"]))
    fig, axes = plt.subplots(1, len(targets), figsize=(3.6 * len(targets), 3.4), squeeze=False, constrained_layout=True)
    for ax, target in zip(axes.flat, targets, strict=True):
        rows = screening[screening["target"] == target]
        scale = (rows["mu_star"] / rows["mu_star_sd"]).replace([np.inf, -np.inf], np.nan).dropna()
        scale = float(scale.iloc[0]) if len(scale) else 1.0
        ax.scatter(rows["mu_star_sd"], rows["sigma"] / scale, color="#0072B2", s=18)
        for row in rows.itertuples():
            ax.annotate(
                shown(row.parameter.split(".")[-1]),
                (row.mu_star_sd, row.sigma / scale),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlabel(say("μ* (target sds over the range)"), fontsize=8)
        ax.set_ylabel(say("σ (target sds)"), fontsize=8)
        ax.set_title(wrapped(shown(target), 30), fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(say("screening: Morris elementary effects on each fitted target"), fontsize=10)
    return finish(fig, path)


@styled
def waves_plot(waves: pd.DataFrame, path: Path | None = None):
    """The share of the parameter box each wave rules out, and what is left after it."""
    fig, ax = plt.subplots(figsize=(5.0, 3.4), constrained_layout=True)
    x = waves["wave"].to_numpy()
    ax.bar(x, waves["ruled_out_share"], color="#D55E00", alpha=0.7, label=say("ruled out by the wave"))
    ax.plot(x, waves["not_ruled_out_share"], "o-", color="#0072B2", label=say("not ruled out after it"))
    ax.set_xticks(x)
    ax.set_xlabel(say("wave"))
    ax.set_ylabel(say("share of the parameter box"))
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(say("history matching"), fontsize=10)
    return finish(fig, path)


@styled
def pair_plot(posterior: pd.DataFrame, summary: pd.DataFrame, calibrated: dict[str, float], path: Path | None = None):
    """Weighted histograms on the diagonal, particles below it (darker: heavier), the calibrated point marked."""
    names = list(summary["parameter"])
    k = len(names)
    weights = posterior["weight"].to_numpy(dtype=float)
    weights = weights / weights.sum()
    limits = {row.parameter: (row.prior_low, row.prior_high) for row in summary.itertuples()}
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k + 0.8, 2.4 * k + 0.6), squeeze=False, constrained_layout=True)
    for i, row_name in enumerate(names):
        for j, column_name in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(
                    posterior[row_name], bins=20, range=limits[row_name], weights=weights, color="#0072B2", alpha=0.7
                )
                ax.axvline(calibrated[row_name], color="#D55E00", linewidth=1)
                ax.set_xlim(limits[row_name])
            else:
                ax.scatter(posterior[column_name], posterior[row_name], s=8, c=weights, cmap="Blues", edgecolors="none")
                ax.plot(calibrated[column_name], calibrated[row_name], "x", color="#D55E00", markersize=8)
                ax.set_xlim(limits[column_name])
                ax.set_ylim(limits[row_name])
            if i == k - 1:
                ax.set_xlabel(wrapped(parameter_words(column_name), 24), fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(wrapped(parameter_words(row_name), 24), fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(say("posterior (ABC-SMC, last generation); red: the calibrated point"), fontsize=10)
    return finish(fig, path)


@styled
def predictive_plot(predictive: pd.DataFrame, path: Path | None = None):
    """Each target's observation (with 2 sds) beside the posterior predictive mean and its 2 predictive sds."""
    rows = predictive.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(rows) + 1.4), constrained_layout=True)
    y = np.arange(len(rows))
    ax.errorbar(
        rows["observed"],
        y + 0.15,
        xerr=2 * rows["observation_sd"],
        fmt="s",
        color="black",
        label=say("observed ± 2 sd"),
        markersize=5,
    )
    ax.errorbar(
        rows["predictive_mean"],
        y - 0.15,
        xerr=2 * rows["predictive_sd"],
        fmt="o",
        color="#0072B2",
        label=say("posterior predictive of an observation ± 2 sd"),
        markersize=5,
    )
    labels = [f"{shown(r.target)}{say(' (held out)') if r.held_out else ''}" for r in rows.itertuples()]
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="best")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(say("posterior predictive checks"), fontsize=10)
    ax.set_xlabel(say("the target's value (a share, or a ratio for escalation)"))
    return finish(fig, path)
