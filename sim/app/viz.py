"""The interactive page: Mesa's SolaraViz for the implementation chain.

``bureausim viz [SCENARIO]`` serves this page on localhost (optional extra ``viz``). Sliders
set the main levers and one checkbox per reform switches it on; Mesa's controls reset, step
and play the model. The page shows the values the running model uses (sliders take effect on
reset), the hierarchy, and live charts from period 1 of goal versus reported attainment,
burden and where sanctions fall. A "compare with" selector runs a second model beside the
first on the same seed with one more reform switched on, drawn dashed in every chart: two arms
side by side, live. A language selector draws every chart in English or Chinese. With a
portfolio of tasks, a task selector chooses the task the hierarchy is coloured by, and a chart
shows every task's attainment and the chosen task's strategies.

A small hierarchy is drawn as a tree (grassroots coloured by strategy, every official sized by
sanctions); a large one (a national hierarchy has 42,000 officials) as one bar per unit of the
deepest level with at most :data:`MOST_UNITS` units, each bar the strategy mix of the
grassroots below it: readable at any size. The unit selector drills down into one unit of the
second level. Positions and groupings are computed once per model, so redraws are fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.analysis import style
from sim.model.bureau_model import BureauModel
from sim.scenario.loader import load_scenario
from sim.scenario.output_labels import label, phrase, strategy_title
from sim.scenario.output_names import RELAY_OPTION_LABELS
from sim.scenario.parameters import value_at
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

NO_REFORM = "none"
"""The "compare with" selector's first choice: one model only."""

LANGUAGES = {"English": "en", "中文": "zh"}
"""The language selector's choices and the label language each gives."""

WHOLE = "the whole hierarchy"
"""The unit selector's first choice: no drill-down."""

MOST_UNITS = 48
"""The most bars the aggregated hierarchy draws: it groups at the deepest level with no more units."""

TREE_LIMIT = 400
"""Hierarchies of at most this many officials (in the unit shown) are drawn as a tree."""


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
        self.language = LANGUAGES.get(str(kwargs.pop("language", "English")), "en")
        self.compared = str(kwargs.pop("compare_with", NO_REFORM))
        unit = str(kwargs.pop("unit", WHOLE))
        super().__init__(scenario, seed=seed, policies=reforms, **kwargs)
        self.reforms = reforms
        self.shown_task = None if shown == ALL_TASKS else self.task_names.index(shown)
        self.unit = None if unit == WHOLE or self.relays < 2 else int(unit.rsplit(" ", 1)[-1]) - 1
        self.twin = None
        if self.compared != NO_REFORM:  # the second arm: the same seed, one more reform
            self.twin = BureauModel(scenario, seed=self.seed, policies=[*reforms, self.compared], **kwargs)
        self.tree = tree_layout(self)
        self.groups = unit_groups(self)

    def step(self) -> None:
        """One period of the model and, when comparing, of its twin."""
        super().step()
        if self.twin is not None:
            self.twin.step()

    def levers(self) -> list[tuple[str, str]]:
        """Every slider's and checkbox's label with the value the running model uses, and the reforms on."""
        rows = []
        for keyword, (text, *_rest) in LEVERS.items():
            rows.append((text, f"{value_at(self.p, _path(keyword)):g}"))
        for keyword, text in SWITCHES.items():
            rows.append((text.split(" (")[0], "on" if value_at(self.p, _path(keyword)) else "off"))
        rows.append(("Reports carry", "completion rates" if self.p.relay.report_rule == "rate" else "sums"))
        rows.append(("Reforms switched on", ", ".join(self.reforms) or "none"))
        if self.twin is not None:
            rows.append(("Compared with (dashed)", f"+ {self.compared}, same seed"))
        return rows

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


def unit_groups(model: VizModel) -> tuple[int, np.ndarray, np.ndarray]:
    """How the aggregated hierarchy groups the grassroots: its level, each shown township's unit, the townships shown.

    The level is the deepest above the grassroots with at most :data:`MOST_UNITS` units in the
    part shown (the whole hierarchy, or one unit of the second level when drilled down).
    """
    layout = model.layout
    grassroots = np.arange(len(layout.ancestor[-1]))
    if model.unit is not None:
        grassroots = grassroots[layout.ancestor[1] == model.unit]
    level = 1 if model.unit is not None else 0
    for k in range(level, len(layout.sizes) - 1):
        if len(np.unique(layout.ancestor[k][grassroots])) <= MOST_UNITS:
            level = k
    return level, layout.ancestor[level][grassroots], grassroots


def hierarchy_figure(model: VizModel) -> Figure:
    """The hierarchy: a tree when small, else the strategy mix of the grassroots below each unit."""
    officials = sum(model.layout.sizes) if model.unit is None else None
    with style.using(language=model.language), style.drawing():
        if officials is not None and officials <= TREE_LIMIT:
            return tree_figure(model)
        return units_figure(model)


def tree_figure(model: VizModel) -> Figure:
    """The hierarchy as a tree: grassroots coloured by strategy, every official sized and shaded by sanctions."""
    positions, segments = model.tree
    sanctions = np.concatenate([state.sanctions for state in model.levels]).astype(float)
    colours = np.array(["#333333"] * len(positions), dtype=object)
    grassroots = model.grassroots_strategies()
    start = len(positions) - len(grassroots)
    if (grassroots >= 0).all():
        colours[start:] = STRATEGY_COLOURS[grassroots]
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    ax = figure.subplots()
    ax.add_collection(LineCollection(segments, colors="#bbbbbb", linewidths=0.3))
    scale = 6 + 40 * sanctions / max(1.0, sanctions.max())
    ax.scatter(positions[:, 0], positions[:, 1], s=scale, c=list(colours), edgecolors="#a00000", linewidths=0.3)
    _strategy_legend(ax, model.language)
    ax.set_yticks(-np.arange(len(model.level_names)), model.level_names, fontsize=8)
    ax.set_xticks([])
    ax.grid(visible=False)
    title = "period {steps}: grassroots by strategy{task}; size = sanctions so far"
    ax.set_title(phrase(title, model.language, steps=model.steps, task=_on_task(model)), fontsize=9)
    if not (grassroots >= 0).all():
        not_yet(ax, model.language)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return figure


def units_figure(model: VizModel) -> Figure:
    """One bar per unit of the grouping level: the shares of the grassroots below it choosing each strategy."""
    level, units, grassroots = model.groups
    codes = model.grassroots_strategies()[grassroots]
    names = np.unique(units)
    shares = np.zeros((len(names), len(STRATEGIES)))
    if (codes >= 0).all():
        position = np.searchsorted(names, units)
        np.add.at(shares, (position, codes), 1.0)
        shares /= np.maximum(shares.sum(axis=1, keepdims=True), 1.0)
    order = np.argsort(-shares[:, 0], kind="stable")  # most substantive first
    figure = Figure(figsize=(9, 3.8), layout="constrained")
    ax = figure.subplots()
    bottom = np.zeros(len(names))
    for spec in STRATEGIES:
        ax.bar(np.arange(len(names)), shares[order, spec.strategy], bottom=bottom[order], color=spec.colour, width=0.85)
        bottom[order] += shares[order, spec.strategy]
    _strategy_legend(ax, model.language)
    level_name = model.level_names[level]
    ax.set_xticks([])
    ax.set_ylim(0, 1)
    ax.grid(axis="x", visible=False)
    language = model.language
    ax.set_xlabel(
        phrase(
            "{count} {level} units, most substantive first ({grassroots} grassroots units)",
            language,
            count=len(names),
            level=level_name,
            grassroots=f"{len(grassroots):,}",
        )
    )
    ax.set_ylabel(phrase("share of the grassroots below", language))
    unit = "" if model.unit is None else f"{model.level_names[1]} {model.unit + 1}"
    within = phrase(" within {unit}", language, unit=unit) if unit else ""
    title = "period {steps}: strategies by {level}{within}{task}"
    values = {"steps": model.steps, "level": level_name, "within": within, "task": _on_task(model)}
    ax.set_title(phrase(title, language, **values), fontsize=9)
    if not (codes >= 0).all():
        not_yet(ax, model.language)
    return figure


def not_yet(ax, language: str) -> None:
    """Say on an empty chart that no period has run yet (the page starts at period 0, before any choice)."""
    ax.text(
        0.5,
        0.5,
        phrase("No period has run yet: press STEP or ▶", language),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10,
        color="#666666",
    )


def _strategy_legend(ax, language: str) -> None:
    for spec in STRATEGIES:
        ax.scatter([], [], color=spec.colour, label=strategy_title(spec.strategy.label, language))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _on_task(model: VizModel) -> str:
    if model.tasks is None or model.shown_task is None:
        return ""
    task = model.task_names[model.shown_task]
    return phrase(" on {task}", model.language, task=task)


@solara.component
def Hierarchy(model: VizModel) -> None:
    """The hierarchy drawing, redrawn after every step."""
    update_counter.get()
    solara.FigureMatplotlib(hierarchy_figure(model), format="png")


def series_figure(model: VizModel, outputs: list[str], title: str) -> Figure:
    """Outputs over the periods run so far (from period 1), labelled in the page's language; the twin dashed."""
    with style.using(language=model.language), style.drawing():
        figure = Figure(figsize=(6.4, 3.2), layout="constrained")
        ax = figure.subplots()
        frame = model.datacollector.get_model_vars_dataframe()
        twin = None if model.twin is None else model.twin.datacollector.get_model_vars_dataframe()
        periods = np.arange(1, len(frame) + 1)
        colours = plt_colours()
        for colour, output in zip(colours, outputs, strict=False):
            if output not in frame:
                continue
            ax.plot(periods, frame[output], color=colour, label=label(output, model.language))
            if twin is not None and output in twin:
                ax.plot(np.arange(1, len(twin) + 1), twin[output], color=colour, linestyle="--", linewidth=1.2)
        if model.twin is not None:
            reform = REGISTRY[model.compared].description.split(": ", 1)[0] if model.language == "zh" else None
            ax.plot([], [], color="#555555", linestyle="--", label=f"+ {reform or model.compared.replace('_', ' ')}")
        ax.set_xlabel(phrase("period", model.language))
        ax.set_title(phrase(title, model.language))
        ax.set_xlim(0.5, max(len(frame), 1) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if frame.empty:
            not_yet(ax, model.language)
            ax.set_xticks([])
            ax.set_yticks([])
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    return figure


def plt_colours() -> list[str]:
    """The house palette (colour-blind safe), as the figures use it."""
    return style.RC["axes.prop_cycle"].by_key()["color"]


def chart(outputs: list[str], title: str):
    """A page component drawing :func:`series_figure` of ``outputs``, redrawn after every step."""

    @solara.component
    def Chart(model: VizModel) -> None:
        update_counter.get()
        solara.FigureMatplotlib(series_figure(model, outputs, title), format="png")

    return Chart


SLIDER_CSS = """
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-label { flex: 1 0 100%; white-space: normal; margin-bottom: 2px; }
.v-input__slider .v-slider { margin-right: 4.2em; }
.v-input__slider .v-slider input {
  display: block; position: absolute; right: -4.2em; width: 3.6em; max-height: none;
  text-align: right; font-size: 0.9em; color: inherit; background: transparent; border: 0; pointer-events: none;
}
"""
"""Mesa's sidebar sliders, made readable: the label on its own line above a full-width track, and
the slider's current value (Vuetify's hidden input, rounded to the step) shown at its right."""


@solara.component
def Levers(model: VizModel) -> None:
    """The values the running model uses: every slider's and checkbox's (sliders take effect on reset)."""
    update_counter.get()
    solara.Style(SLIDER_CSS)
    rows = "\n".join(f"| {name} | {value} |" for name, value in model.levers())
    solara.Markdown(f"**Values in use** (change a slider, then reset)\n\n| lever | value |\n|---|---|\n{rows}")


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
    for keyword, (text, low, high, step) in LEVERS.items():
        if keyword == "relay_escalation" and parameters.relay.escalation_by_level is not None:
            continue  # the rates by level replace it (ODD 12.5)
        value = float(value_at(parameters, _path(keyword)))
        params[keyword] = {"type": "SliderFloat", "value": value, "label": text, "min": low, "max": high, "step": step}
    for keyword, text in SWITCHES.items():
        params[keyword] = {"type": "Checkbox", "value": bool(value_at(parameters, _path(keyword))), "label": text}
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
    params["compare_with"] = {
        "type": "Select",
        "value": NO_REFORM,
        "values": [NO_REFORM, *REGISTRY],
        "label": "Compare with (same seed, dashed): the status quo plus",
    }
    units = second_level_units(scenario)
    if units:
        params["unit"] = {"type": "Select", "value": WHOLE, "values": [WHOLE, *units], "label": "Hierarchy: unit shown"}
    params["language"] = {"type": "Select", "value": "English", "values": list(LANGUAGES), "label": "Language / 语言"}
    return params


def _path(keyword: str) -> str:
    """A keyword's dotted parameter path: ``relay_escalation`` → ``relay.escalation``."""
    return keyword.replace("_", ".", 1)


def second_level_units(scenario: Scenario) -> list[str]:
    """The drill-down choices: every unit of the hierarchy's second level, by name and number (none for two levels)."""
    model = BureauModel(scenario, steps=1, record_agents=False)
    if model.relays < 2:
        return []
    name = model.level_names[1]
    return [f"{name} {k + 1}" for k in range(model.layout.sizes[1])]


def build_page(scenario: Scenario):
    """The SolaraViz page for a scenario."""
    model = VizModel(scenario)
    level_shares = [f"sanction_share_{name}" for name in model.level_names]
    components = [
        (Levers, 0),
        (Hierarchy, 0),
        chart(["goal_attainment", "reported_attainment", "implementation_gap"], "Goal versus reported attainment"),
        chart(
            ["burden", "share_substantive", "share_falsify", "share_blanket_ban", "clarity_at_bottom"],
            "Burden, escalation and clarity at the grassroots",
        ),
        chart([*level_shares, "wrongful_sanction_rate"], "Where sanctions fall, and how many are wrongful"),
    ]
    if model.tasks is not None:
        components.insert(2, (Tasks, 0))
    if model.p.middle.relay_choice and model.relays > 0:  # outputs that exist only with the switch on at the start
        components.append(chart([f"relay_share_{label}" for label in RELAY_OPTION_LABELS], "Middle levels' relays"))
    return SolaraViz(
        model, components=components, model_params=model_params(scenario), name=f"bureausim: {scenario.name}"
    )


def scenario_from_environment() -> Scenario:
    """The scenario ``bureausim viz`` named (through ``BUREAUSIM_SCENARIO``), or the default."""
    path = os.environ.get(SCENARIO_VARIABLE)
    allowed = bool(os.environ.get(ABSOLUTE_PATHS_VARIABLE))
    return load_scenario(Path(path), allow_absolute_paths=allowed) if path else Scenario(name="default")
