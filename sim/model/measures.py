"""The outputs of ODD sections 12-13: by type of official, the gap by level, inflation and relay options chosen.

Each is measured only when its switch is on (:func:`sim.scenario.output_names.optional_output_names`
names them), from the same per-level arrays both engines write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.scenario.output_names import (
    ESCALATION_LEVEL_PREFIX,
    LEVEL_GAP_PREFIX,
    MIDDLE_OUTPUTS,
    MOTIVATION_TYPES,
    RELAY_OPTION_LABELS,
    TYPE_OUTPUTS,
)
from sim.scenario.strategies import Strategy

if TYPE_CHECKING:
    from sim.model.bureau_model import BureauModel
    from sim.model.portfolio import TaskTable
    from sim.model.state import LevelState


def target_weighted(values: np.ndarray, over: np.ndarray, target: np.ndarray) -> float:
    """The target-weighted mean of per-task ``values`` over the tasks ``over`` names (NaN with none)."""
    weights = np.where(over, target, 0.0)
    total = weights.sum()
    return float((weights * np.where(over, values, 0.0)).sum() / total) if total else np.nan


def outputs_by_type(
    g: LevelState, motivated: np.ndarray, tasks: TaskTable | None, worked: np.ndarray | None
) -> dict[str, float]:
    """Strategy shares and sanctions per grassroots official of each type (ODD 12.1; NaN for an empty type)."""
    outputs: dict[str, float] = {}
    for kind, members in zip(MOTIVATION_TYPES, (motivated, ~motivated), strict=True):
        count = int(members.sum())
        codes = g.strategy_code[members]
        for strategy in Strategy:
            name = f"share_{strategy.label}_{kind}"
            if count == 0:
                outputs[name] = np.nan
            elif tasks is None:
                outputs[name] = float((codes == strategy).sum() / count)
            else:
                outputs[name] = target_weighted((codes == strategy).mean(axis=0), worked, tasks.target)
        outputs[f"sanction_rate_{kind}"] = float(g.sanctions_now[members].sum() / count) if count else np.nan
    return {name: outputs[name] for name in TYPE_OUTPUTS}  # in reporting order


def gaps_by_level(model: BureauModel) -> dict[str, float]:
    """Per level above the grassroots: mean over its officials of the rate they receive minus what was done below.

    In a portfolio each office reads the reports on its own issuer's tasks; the per-task gaps are
    averaged by target over the tasks in force (ODD 12.2).
    """
    layout, g, tasks = model.layout, model.levels[-1], model.tasks
    outputs: dict[str, float] = {}
    if tasks is None:
        t0 = model.p.task.target
        done = np.minimum(g.output, t0) / t0
        for level in range(model.relays):
            below = model.levels[level + 1].report
            believed = sums_by_index(layout.parent[level + 1], below, layout.sizes[level]) / layout.subordinates[level]
            believed = believed * _discount(model, level)
            realised = sums_by_index(layout.ancestor[level], done, layout.sizes[level]) / layout.leaves[level]
            outputs[f"{LEVEL_GAP_PREFIX}{model.level_names[level]}"] = float((believed - realised).mean())
        return outputs
    done = np.minimum(g.output, tasks.target) / tasks.target
    for level in range(model.relays):
        gaps = np.zeros(len(tasks))
        for chain, columns in enumerate(tasks.columns):
            below = model.chains[chain][level + 1].report if level + 1 < model.relays else g.report[:, columns]
            believed = sums_by_index(layout.parent[level + 1], below, layout.sizes[level])
            believed = believed / layout.subordinates[level][:, None] * _discount(model, level)
            realised = sums_by_index(layout.ancestor[level], done[:, columns], layout.sizes[level])
            gaps[columns] = (believed - realised / layout.leaves[level][:, None]).mean(axis=0)
        name = f"{LEVEL_GAP_PREFIX}{model.level_names[level]}"
        outputs[name] = target_weighted(gaps, model.tasks_in_force, tasks.target)
    return outputs


def escalation_by_level(model: BureauModel) -> dict[str, float]:
    """Per level between the top and the grassroots: the mean target its officials receive over the original.

    The first relay's markup is what the level below the top receives (ODD 12.5: the centre ->
    province relay of a growth target, with the centre at the top). In a portfolio each task's
    offices are those of its issuer's chain; the per-task values are averaged by target over the
    tasks the townships work on, as ``escalation_at_bottom`` is.
    """
    outputs: dict[str, float] = {}
    tasks = model.tasks
    for level in range(1, model.relays):
        name = f"{ESCALATION_LEVEL_PREFIX}{model.level_names[level]}"
        if tasks is None:
            outputs[name] = float(model.levels[level].target_received.mean() / model.p.task.target)
            continue
        values = np.zeros(len(tasks))
        for chain, columns in enumerate(tasks.columns):
            values[columns] = model.chains[chain][level].target_received.mean(axis=0) / tasks.target[columns]
        outputs[name] = target_weighted(values, model.active_tasks, tasks.target)
    return outputs


def chosen_inflation_mean(model: BureauModel) -> float:
    """The mean inflation intermediate officials chose this period (on the tasks in force; NaN without any)."""
    options = np.asarray(model.p.relay.inflation_options, dtype=float)
    chosen = []
    for chain, states in enumerate(model.chains):
        for state in states[1:]:
            values = options[state.inflation_option]
            if model.tasks is not None:
                values = values[:, model.tasks_in_force[model.tasks.columns[chain]]]
            chosen.append(values.ravel())
    values = np.concatenate(chosen) if chosen else np.zeros(0)
    return float(values.mean()) if len(values) else np.nan


def middle_outputs(model: BureauModel) -> dict[str, float]:
    """Shares of the relay options chosen and sanctions per inspection of relay work (ODD 13; NaN without any).

    Over every relaying official of every chain, on the tasks the townships work on, in a portfolio.
    """
    counts = np.zeros(len(RELAY_OPTION_LABELS))
    inspected = found = 0.0
    for chain, states in enumerate(model.chains):
        worked = slice(None) if model.tasks is None else model.active_tasks[model.tasks.columns[chain]]
        for state in states:
            options = state.relay_option if model.tasks is None else state.relay_option[:, worked]
            counts += np.bincount(options.ravel(), minlength=len(counts))
            inspected += float(state.relay_inspected.sum())
            found += float(state.relay_severity.sum())
    total = counts.sum()
    shares = counts / total if total else np.full(len(counts), np.nan)
    outputs = {f"relay_share_{label}": float(share) for label, share in zip(RELAY_OPTION_LABELS, shares, strict=True)}
    outputs[MIDDLE_OUTPUTS[-1]] = found / inspected if inspected else np.nan
    return outputs


def shield_share(model: BureauModel) -> float:
    """The share of the grassroots' superiors' choices that shield, on the tasks worked (ODD 13.3; NaN without)."""
    chosen = []
    for chain, states in enumerate(model.chains):
        options = states[-1].shield_option
        if model.tasks is not None:
            options = options[:, model.active_tasks[model.tasks.columns[chain]]]
        chosen.append(options.ravel())
    values = np.concatenate(chosen)
    return float((values == 1).mean()) if len(values) else np.nan


def _discount(model: BureauModel, level: int) -> float:
    """1 − δ at the top, which discounts what it is told (ODD 12.2); 1 below it."""
    return 1.0 - model.p.accountability.statistical_discount if level == 0 else 1.0


def sums_by_index(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sums of ``values`` (units, or units × columns) by ``index`` (a parent or ancestor), column by column."""
    if values.ndim == 1:
        return np.bincount(index, weights=values, minlength=size)
    sums = np.zeros((size, values.shape[1]))
    for column in range(values.shape[1]):
        sums[:, column] = np.bincount(index, weights=values[:, column], minlength=size)
    return sums
