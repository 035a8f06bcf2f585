"""The interactive page: Mesa's SolaraViz for the implementation chain.

``bureausim viz [SCENARIO]`` serves this page on localhost (optional extra ``viz``). Sliders
set the main levers and one checkbox per reform switches it on; Mesa's controls reset, step
and play the model; the page draws the hierarchy as a tree (grassroots coloured by strategy,
every official sized and shaded by sanctions) and live charts of goal versus reported
attainment, burden and where sanctions fall. With a portfolio of tasks, a task selector
chooses the task the hierarchy is coloured by, and a chart shows every task's attainment and
the chosen task's strategies.

The hierarchy is drawn with one scatter and one line collection over positions computed once
per model, so the one-province default redraws in a small fraction of a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from sim.model.bureau_model import BureauModel
from sim.scenario.loader import load_scenario
from sim.scenario.output_names import RELAY_OPTION_LABELS
from sim.scenario.policies import REGISTRY
from sim.scenario.schema import Scenario
from sim.scenario.strategies import STRATEGIES

SCENARIO_VARIABLE = "BUREAUSIM_SCENARIO"
"""Environment variable through which ``bureausim viz`` passes the scenario file to the page."""

ABSOLUTE_PATHS_VARIABLE = "BUREAUSIM_ALLOW_ABSOLUTE_PATHS"
"""Set (non-empty) when ``bureausim viz --allow-absolute-paths`` was given."""

LEVERS = {
    "relay_escalation": ("Escalation per relay", 0.0, 0.5, 0.01),
    "relay_dilution": ("Dilution per relay", 0.0, 0.3, 0.01),
    "relay_stripping": ("Resources kept back per relay", 0.0, 0.6, 0.01),
    "accountability_inspection_rate": ("Inspections per principal per period", 0.0, 3.0, 0.05),
    "accountability_onsite_share": ("On-site share of inspections", 0.0, 1.0, 0.05),
    "accountability_blame_shift": ("Sanctions staying where found", 0.0, 1.0, 0.01),
    "accountability_incident_visibility": ("Incident visibility", 0.0, 1.0, 0.05),
    "execution_motivation_spread": ("Spread of public-service motivation", 0.0, 1.5, 0.05),
    "accountability_audit_rate": ("Share of past records audited", 0.0, 1.0, 0.05),
    "accountability_statistical_discount": ("Top's statistical discount of reports", 0.0, 0.5, 0.01),
    "middle_inspection_rate": ("Share of middle officials' relay work inspected", 0.0, 1.0, 0.05),
}
"""Slider per lever: keyword argument → (label, min, max, step)."""

SWITCHES = {
    "middle_relay_choice": "Middle levels choose to pass on, clarify or escalate (ODD 13.1)",
    "middle_shielding": "Superiors may shield their townships: warn, settle quietly (ODD 13.3)",
}
"""Checkbox per mechanism switch: keyword argument → label."""

STRATEGY_COLOURS = np.array([spec.colour for spec in STRATEGIES], dtype=object)
"""Colour of each strategy, by code, from the strategy table."""

ALL_TASKS = "all tasks (each township's main task)"
"""The task selector's first choice: colour each township by the strategy on the task it gives most capacity."""


class VizModel(BureauModel):
    """A :class:`BureauModel` whose reforms are switched by one boolean keyword each.

    Args:
        scenario: The scenario the page starts from.
        seed: Seed of the model's generator.
        **kwargs: Parameter keywords (``relay_escalation=0.2``) and reform switches
            (``fault_tolerance=True``).
    """

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None, **kwargs: float | bool) -> None:
        # Mesa's page accepts extra parameters only through a catch-all named exactly ``kwargs``.
        reforms = [name for name in REGISTRY if kwargs.pop(name, False)]
        shown = kwargs.pop("task", ALL_TASKS)
        super().__init__(scenario, seed=seed, policies=reforms, **kwargs)
        self.shown_task = None if shown == ALL_TASKS else self.task_names.index(shown)
        self.tree = tree_layout(self)

    def grassroots_strategies(self) -> np.ndarray:
        """Each township's strategy code: on the task shown, or (all tasks) on the one it gives most capacity."""
        g = self.levels[-1]
        if self.tasks is None:
            return g.strategy_code
        rows = np.arange(len(g.belief))
        task = np.argmax(g.capacity_share, axis=1) if self.shown_task is None else self.shown_task
        return g.strategy_code[rows, task]


def tree_layout(model: BureauModel) -> tuple[np.ndarray, np.ndarray]:
    """Node positions (levels top-down, each level spread evenly) and edge segments, in state order."""
    positions = []
    for level, size in enumerate(model.layout.sizes):
        x = (np.arange(size) + 0.5) / size
        positions.append(np.column_stack([x, np.full(size, -float(level))]))
    segments = [
        np.stack([positions[level - 1][model.layout.parent[level]], positions[level]], axis=1)
        for level in range(1, len(positions))
    ]
    return np.concatenate(positions), (np.concatenate(segments) if segments else np.zeros((0, 2, 2)))


def hierarchy_figure(model: VizModel) -> Figure:
    """The hierarchy: grassroots coloured by strategy, every official sized and shaded by sanctions."""
    positions, segments = model.tree
    sanctions = np.concatenate([state.sanctions for state in model.levels]).astype(float)
    colours = np.array(["#333333"] * len(positions), dtype=object)
    grassroots = model.grassroots_strategies()
    start = len(positions) - len(grassroots)
    if (grassroots >= 0).all():
        colours[start:] = STRATEGY_COLOURS[grassroots]
    figure = Figure(figsize=(9, 3.6))
    ax = figure.subplots()
    ax.add_collection(LineCollection(segments, colors="#bbbbbb", linewidths=0.3))
    scale = 6 + 40 * sanctions / max(1.0, sanctions.max())
    ax.scatter(positions[:, 0], positions[:, 1], s=scale, c=list(colours), edgecolors="#a00000", linewidths=0.3)
    for spec in STRATEGIES:
        ax.scatter([], [], color=spec.colour, label=spec.label)
    ax.legend(fontsize=7, ncols=6, loc="upper center", bbox_to_anchor=(0.5, 1.12), frameon=False)
    ax.set_yticks(-np.arange(len(model.level_names)), model.level_names, fontsize=8)
    ax.set_xticks([])
    on = (
        ""
        if model.tasks is None
        else f" on {model.task_names[model.shown_task]}"
        if model.shown_task is not None
        else ""
    )
    ax.set_title(f"period {model.steps}: grassroots by strategy{on}; size = sanctions so far", fontsize=9, pad=18)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return figure


@solara.component
def Hierarchy(model: VizModel) -> None:
    """The hierarchy drawing, redrawn after every step."""
    update_counter.get()
    solara.FigureMatplotlib(hierarchy_figure(model), format="png")


def tasks_figure(model: VizModel) -> Figure:
    """A portfolio's tasks: every task's goal attainment over time, and the shown task's strategy shares."""
    frame = model.datacollector.get_model_vars_dataframe()
    periods = np.arange(1, len(frame) + 1)
    figure = Figure(figsize=(9, 3.2))
    left, right = figure.subplots(1, 2)
    for name in model.task_names:
        if len(frame):
            left.plot(periods, frame[f"goal_attainment[{name}]"], label=name, linewidth=1.4)
    left.set_title("goal attainment by task", fontsize=9)
    left.set_xlabel("period", fontsize=8)
    left.legend(fontsize=7, frameon=False)
    shown = model.shown_task
    suffix = "" if shown is None else f"[{model.task_names[shown]}]"
    for spec in STRATEGIES:
        if len(frame):
            right.plot(
                periods, frame[f"share_{spec.label}{suffix}"], color=spec.colour, label=spec.label, linewidth=1.4
            )
    right.set_title(
        f"strategies on {model.task_names[shown] if shown is not None else 'all tasks (target-weighted)'}", fontsize=9
    )
    right.set_xlabel("period", fontsize=8)
    right.legend(fontsize=7, frameon=False, ncols=2)
    for ax in (left, right):
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


@solara.component
def Tasks(model: VizModel) -> None:
    """The portfolio's chart, redrawn after every step."""
    update_counter.get()
    solara.FigureMatplotlib(tasks_figure(model), format="png")


def model_params(scenario: Scenario) -> dict:
    """Sliders for the main levers and a checkbox per reform, starting from the scenario's values."""
    parameters = scenario.resolved_parameters()
    params: dict = {"scenario": scenario, "seed": scenario.seed}
    for keyword, (label, low, high, step) in LEVERS.items():
        if keyword == "relay_escalation" and parameters.relay.escalation_by_level is not None:
            continue  # the rates by level replace it (ODD 12.5)
        group, name = keyword.split("_", 1)
        value = float(getattr(getattr(parameters, group), name))
        params[keyword] = {"type": "SliderFloat", "value": value, "label": label, "min": low, "max": high, "step": step}
    for keyword, label in SWITCHES.items():
        group, name = keyword.split("_", 1)
        params[keyword] = {"type": "Checkbox", "value": bool(getattr(getattr(parameters, group), name)), "label": label}
    params["relay_report_rule"] = {
        "type": "Select",
        "value": parameters.relay.report_rule,
        "values": ["sum", "rate"],
        "label": "Reports carry sums or completion rates",
    }
    for name, policy in REGISTRY.items():
        meaning = policy.description.split(": ", 1)[-1]  # the English part (browsers may lack CJK fonts)
        params[name] = {"type": "Checkbox", "value": False, "label": f"{name.replace('_', ' ')}: {meaning}"}
    if scenario.tasks:
        names = [task.name for task in scenario.tasks]
        params["task"] = {"type": "Select", "value": ALL_TASKS, "values": [ALL_TASKS, *names], "label": "Task shown"}
    return params


def build_page(scenario: Scenario):
    """The SolaraViz page for a scenario."""
    model = VizModel(scenario)
    components = [
        (Hierarchy, 0),
        make_plot_component(["goal_attainment", "reported_attainment", "implementation_gap"]),
        make_plot_component(["burden", "share_substantive", "share_falsify", "share_blanket_ban", "clarity_at_bottom"]),
        make_plot_component([f"sanction_share_{name}" for name in model.level_names] + ["wrongful_sanction_rate"]),
    ]
    if model.tasks is not None:
        components.insert(1, (Tasks, 0))
    if model.p.middle.relay_choice and model.relays > 0:  # outputs that exist only with the switch on at the start
        components.append(make_plot_component([f"relay_share_{label}" for label in RELAY_OPTION_LABELS]))
    return SolaraViz(
        model, components=components, model_params=model_params(scenario), name=f"bureausim: {scenario.name}"
    )


def scenario_from_environment() -> Scenario:
    """The scenario ``bureausim viz`` named (through ``BUREAUSIM_SCENARIO``), or the default."""
    path = os.environ.get(SCENARIO_VARIABLE)
    allowed = bool(os.environ.get(ABSOLUTE_PATHS_VARIABLE))
    return load_scenario(Path(path), allow_absolute_paths=allowed) if path else Scenario(name="default")
