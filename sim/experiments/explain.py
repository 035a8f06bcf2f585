"""Where the goal is lost: the shortfall 1 − goal attainment split by mechanism and by level (ODD 17).

``bureausim explain SCENARIO`` runs every arm (or the scenario alone) with coalitions of its
mechanisms switched off (:mod:`sim.scenario.mechanisms`) and with coalitions of its relays
passing the directive on unchanged (``relay.exempt_relays``), all runs of a replication on the
same seed (common random numbers). Per replication it computes the Shapley values of the
mechanisms (exactly with ``exact``, else over antithetic pairs of random orders drawn from the
replication's seed) and of the relays (always exactly: a hierarchy has few), and reports each
with its 95% t interval over replications. With arms, it also splits every arm's effect against
the reference arm by mechanism: why the reform helps.

Tables: ``shortfall.csv`` (by mechanism), ``levels.csv`` (by relay and the grassroots),
``reform.csv`` (with two or more arms), ``orders.csv`` (the orders sampled), ``runs.parquet``;
plots: a waterfall per arm from the intended 1.0 down to the realised attainment, one by level,
and one per reform.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from sim.analysis import shapley
from sim.analysis.plots import say, shown, waterfall
from sim.analysis.statistics import describe
from sim.atomic import write_table
from sim.errors import ScenarioError
from sim.experiments.budget import check_run_count, counted
from sim.experiments.scenario_checks import check_hierarchy_source
from sim.experiments.template import (
    Design,
    ExecutionKeywords,
    Experiment,
    ExperimentKind,
    ExperimentOptions,
    run_experiment,
)
from sim.model.hierarchy import level_names
from sim.scenario import mechanisms
from sim.scenario.schema import Outcome, Scenario
from sim.storage.results_folder import read_table
from sim.storage.run_store import RunSpec

OUTCOME = "goal_attainment"
"""The outcome explained: what share of the goal is really carried out (intended: 1)."""

MECHANISM_GAME, LEVEL_GAME = "mechanisms", "levels"


@dataclass(frozen=True)
class Point:
    """One configuration of the runs: a game and the coalition of its players at work."""

    game: str
    coalition: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class ExplainDesign(Design):
    """Every arm × replication × the coalitions that replication needs.

    Attributes:
        arms: The arms explained (``""``: the scenario without arms).
        players: The mechanisms at work in some arm, in table order.
        relays: The relays' labels, from the top (``province → municipal``).
        points: Every configuration run, by point number.
        orders: Per replication, the orders of mechanisms sampled (empty with ``exact``).
        overrides: Per arm and point number, the values that switch the point's players off.
    """

    arms: tuple[str, ...]
    players: tuple[str, ...]
    relays: tuple[str, ...]
    points: tuple[Point, ...]
    orders: tuple[tuple[tuple[str, ...], ...], ...]
    overrides: dict[tuple[str, int], dict[str, Any]]
    points_field: ClassVar[str] = "explain"

    def needed(self, replication: int) -> list[int]:
        """The point numbers replication ``replication`` runs: its orders' coalitions (or all) and every level's."""
        wanted = shapley.prefixes(self.orders[replication]) if self.orders else None
        return [
            number
            for number, point in enumerate(self.points)
            if point.game == LEVEL_GAME or wanted is None or point.coalition in wanted
        ]

    def specs(self, replications: int) -> list[RunSpec]:
        """Replication *k* of every arm at every point it needs, with the same seed in every arm and point."""
        seeds = self.seeds(replications)
        return [
            RunSpec(arm, number, k, seeds[k], self.overrides[(arm, number)])
            for arm in self.arms
            for k in range(replications)
            for number in self.needed(k)
        ]


@dataclass
class ExplainResult:
    """Where the goal is lost, read back from the results folder.

    Attributes:
        folder: The results folder.
        scenario: The scenario explained.
        shortfall: Per arm and part (``unexplained``, each mechanism, ``total``): the loss of goal
            attainment it accounts for, mean and 95% CI over replications.
        levels: The same by relay, with ``grassroots`` for what is lost below an intact directive.
        reform: Per non-reference arm and part (``without mechanisms``, each mechanism, ``total``):
            its effect on goal attainment against the reference arm that runs through the part.
        runs: One row per finished run (``point`` numbers the coalitions).
        failures: Runs that failed and have not finished since, by key.
    """

    folder: Path
    scenario: Scenario
    shortfall: pd.DataFrame
    levels: pd.DataFrame
    reform: pd.DataFrame
    runs: pd.DataFrame
    failures: dict

    def plot_waterfall(self, arm: str | None = None, path: Path | None = None):
        """The waterfall of one arm (default: the first) from the intended 1.0 down to its attainment."""
        rows, arm = _arm_rows(self.shortfall, arm, "explained")
        return waterfall(rows, _title(arm, "by mechanism"), path)

    def plot_levels(self, arm: str | None = None, path: Path | None = None):
        """The waterfall of one arm by relay and the grassroots."""
        rows, arm = _arm_rows(self.levels, arm, "explained")
        return waterfall(rows, _title(arm, "by level"), path)

    def plot_reform(self, arm: str, path: Path | None = None):
        """One arm's effect against the reference arm, mechanism by mechanism."""
        reference = self.scenario.reference_arm
        rows, arm = _arm_rows(self.reform, arm, f"compared with the reference arm {reference!r}")
        title = say("Why {arm} changes goal attainment against {reference}", arm=shown(arm), reference=shown(reference))
        return waterfall(rows, title, path, effect=True)


def figure_stems(arm: str, reference: str | None) -> list[str]:
    """The file stems of one arm's waterfalls (``draw`` writes them): by mechanism, by level, the reform's."""
    suffix = f"_{arm}" if arm else ""
    reform = [f"waterfall_reform{suffix}"] if arm and arm != reference else []
    return [f"waterfall{suffix}", f"waterfall_levels{suffix}", *reform]


def _check_figure_names(arms: tuple[str, ...], reference: str | None) -> None:
    """Refuse arms whose waterfalls would share a file (an arm ``levels_x`` beside an arm ``x``)."""
    seen: dict[str, str] = {}
    for arm in arms:
        for stem in figure_stems(arm, reference):
            if stem in seen:
                raise ScenarioError(
                    f"{seen[stem]!r} and {arm!r} would both write plots/{stem}.png; rename one of them "
                    "(explain names its waterfalls waterfall_ARM, waterfall_levels_ARM and waterfall_reform_ARM)",
                    field="arms",
                )
            seen[stem] = arm


def _arm_rows(table: pd.DataFrame, arm: str | None, what: str) -> tuple[pd.DataFrame, str]:
    """The rows of ``arm`` (default: the first), or a user error naming the arms the table has."""
    arms = list(dict.fromkeys(table["arm"]))
    arm = (arms[0] if arms else "") if arm is None else arm
    if arm not in arms:
        named = ", ".join(repr(a) for a in arms) or "none (the scenario has one arm, or none)"
        raise ScenarioError(f"{arm!r} is not an arm {what} here; the arms are: {named}", field="arm")
    return table[table["arm"] == arm], arm


def _title(arm: str, how: str) -> str:
    """``how``: ``by mechanism`` or ``by level``."""
    if arm:
        return say(f"Where the goal is lost ({{arm}}), {how}", arm=shown(arm))
    return say(f"Where the goal is lost, {how}")


def explain(
    scenario: Scenario | str | Path,
    *,
    permutations: int | None = None,
    exact: bool = False,
    **execution: Unpack[ExecutionKeywords],
) -> ExplainResult:
    """Split every arm's shortfall of goal attainment by mechanism and by level (ODD 17).

    Args:
        scenario: A scenario, or its path.
        permutations: Orders of the mechanisms sampled per replication (even: antithetic pairs;
            default :data:`DEFAULT_PERMUTATIONS`).
        exact: Run every coalition of the mechanisms (2^M per replication) instead of orders
            (then ``permutations`` is refused: the two are alternatives).
        **execution: Where and how it runs, as for every experiment: see
            :class:`sim.experiments.template.ExperimentOptions`.
    """
    return run_experiment(ExplainKind(permutations, exact), scenario, ExperimentOptions(**execution))


@dataclass(frozen=True)
class ExplainKind(ExperimentKind):
    """``explain``: Shapley values of the mechanisms and the relays for the shortfall of goal attainment.

    Attributes:
        permutations: Orders of the mechanisms sampled per replication (a positive even number;
            ``None``: :data:`DEFAULT_PERMUTATIONS`).
        exact: Every coalition instead of sampled orders.
    """

    permutations: int | None = None
    exact: bool = False
    name: ClassVar[str] = "explain"

    @property
    def orders(self) -> int:
        """The orders sampled per replication."""
        return DEFAULT_PERMUTATIONS if self.permutations is None else self.permutations

    @staticmethod
    def applies(scenario: Scenario) -> bool:
        """Every scenario can be explained."""
        return True

    def design(self, scenario: Scenario, options: ExperimentOptions) -> ExplainDesign:
        """The coalitions every replication needs, with the values that switch each one's players off."""
        if self.exact and self.permutations is not None:
            raise ScenarioError(
                "cannot be given with --exact, which runs every coalition and samples no orders; give one or the other",
                source="--permutations",
            )
        if self.orders < 2 or self.orders % 2:
            raise ScenarioError(
                f"must be a positive even number (orders come in pairs, an order and its reverse), not {self.orders}",
                source="--permutations",
            )
        arms = tuple(arm.name for arm in scenario.arms) or ("",)
        _check_figure_names(arms, scenario.reference_arm)
        resolved = {arm: scenario.resolved_parameters(arm or None) for arm in arms}
        players = tuple(m.name for m in mechanisms.MECHANISMS if any(m.at_work(p) for p in resolved.values()))
        layout = check_hierarchy_source(scenario)
        names = level_names(scenario.hierarchy, layout.depth + 1)
        relays = tuple(f"{names[k]} → {names[k + 1]}" for k in range(layout.depth))
        seeds = self.seeds_of(scenario)
        if self.exact:
            orders: tuple = ()
            coalitions = shapley.every_coalition(players)
        else:
            orders = tuple(
                tuple(shapley.antithetic_orders(players, self.orders, np.random.default_rng(seed))) for seed in seeds
            )
            found = set().union(*(shapley.prefixes(o) for o in orders))
            coalitions = [c for c in shapley.every_coalition(players) if c in found]
        points = [Point(MECHANISM_GAME, c) for c in coalitions]
        points += [Point(LEVEL_GAME, c) for c in shapley.every_coalition(relays)]
        overrides = {
            (arm, number): _switched_off(point, resolved[arm], players, relays)
            for arm in arms
            for number, point in enumerate(points)
        }
        design = ExplainDesign(
            scenario=_with_outcome(scenario),
            replications=scenario.replications,
            identity={"explain": {"permutations": None if self.exact else self.orders, "exact": self.exact}},
            arms=arms,
            players=players,
            relays=relays,
            points=tuple(points),
            orders=orders,
            overrides=overrides,
        )
        runs = len(design.specs(scenario.replications))
        how = f"2^{len(players)} coalitions" if self.exact else f"{self.orders} orders of {len(players)}"
        check_run_count(
            runs,
            f"{counted(len(arms), 'arm')} x {counted(scenario.replications, 'replication')} x ({how} "
            f"+ 2^{len(relays)} of the relays)",
            scenario,
            source="--exact" if self.exact else scenario.source,
            field=None if self.exact else "replications",
        )
        return design

    @staticmethod
    def seeds_of(scenario: Scenario) -> list[int]:
        """The replications' seeds (the same as every experiment's: common random numbers)."""
        from sim.model.run import replication_seeds

        return replication_seeds(scenario.seed, scenario.replications)

    def analyse(
        self, design: ExplainDesign, runs: pd.DataFrame, replications: int, experiment: Experiment
    ) -> ExplainResult:
        """Per replication the Shapley values; over replications their means and 95% CIs."""
        games = _games(design, runs)
        shortfall, levels, reform = [], [], []
        complete = sorted({k for (_, game, k) in games if game == MECHANISM_GAME})
        reference = design.scenario.reference_arm
        for arm in design.arms:
            mine = [k for k in complete if (arm, MECHANISM_GAME, k) in games]
            orders = {k: design.orders[k] if design.orders else None for k in mine}
            losses = [_split(design.players, games[(arm, MECHANISM_GAME, k)], orders[k], "unexplained") for k in mine]
            relays = [_split(design.relays, games[(arm, LEVEL_GAME, k)], None, "grassroots") for k in mine]
            shortfall.append(_summary(arm, losses))
            levels.append(_summary(arm, relays))
            if reference is not None and arm != reference:
                paired = [k for k in mine if (reference, MECHANISM_GAME, k) in games]
                differences = {
                    k: {
                        c: v - games[(reference, MECHANISM_GAME, k)][c]
                        for c, v in games[(arm, MECHANISM_GAME, k)].items()
                    }
                    for k in paired
                }
                reform.append(_summary(arm, [_effect(design.players, differences[k], orders[k]) for k in paired]))
        return ExplainResult(
            experiment.folder,
            design.scenario,
            pd.concat(shortfall, ignore_index=True),
            pd.concat(levels, ignore_index=True),
            pd.concat(reform, ignore_index=True) if reform else _empty(),
            runs,
            experiment.store.failures(),
        )

    def write(self, design: ExplainDesign, result: ExplainResult) -> dict[str, Any]:
        """The tables, the orders sampled, the runs and the waterfalls."""
        folder = result.folder
        write_table(result.shortfall, folder / "shortfall.csv")
        write_table(result.levels, folder / "levels.csv")
        if not result.reform.empty:
            write_table(result.reform, folder / "reform.csv")
        orders = [
            {"replication": k, "order": n, "mechanisms": " ".join(order)}
            for k, sampled in enumerate(design.orders)
            for n, order in enumerate(sampled)
        ]
        write_table(pd.DataFrame(orders, columns=["replication", "order", "mechanisms"]), folder / "orders.csv")
        write_table(result.runs, folder / "runs.parquet")
        self.draw(result)
        return {
            "mechanisms": list(design.players),
            "relays": list(design.relays),
            "permutations": None if self.exact else self.orders,
            "exact": self.exact,
            "reference": design.scenario.reference_arm,
        }

    @classmethod
    def draw(cls, result: ExplainResult) -> None:
        """In ``plots/``: per arm ``waterfall[_ARM]``, ``waterfall_levels[_ARM]``; per reform ``waterfall_reform_X``."""
        plots = result.folder / "plots"
        plots.mkdir(exist_ok=True)
        scenario = result.scenario
        for arm in tuple(arm.name for arm in scenario.arms) or ("",):
            by_mechanism, by_level, *reform = figure_stems(arm, scenario.reference_arm)
            result.plot_waterfall(arm, plots / f"{by_mechanism}.png")
            result.plot_levels(arm, plots / f"{by_level}.png")
            if reform:
                result.plot_reform(arm, plots / f"{reform[0]}.png")

    @classmethod
    def read(
        cls, folder: Path, scenario: Scenario, manifest: dict, runs: pd.DataFrame, failures: dict
    ) -> ExplainResult:
        """The tables as written (a scenario without arms has the arm ``""``, an empty cell on disk)."""

        def table(name: str) -> pd.DataFrame:
            frame = read_table(folder / name)
            if not frame["arm"].isna().any():
                return frame
            return frame.assign(arm=frame["arm"].astype(object).fillna("").astype(str))

        reform = table("reform.csv") if (folder / "reform.csv").is_file() else _empty()
        return ExplainResult(folder, scenario, table("shortfall.csv"), table("levels.csv"), reform, runs, failures)


DEFAULT_PERMUTATIONS = 8
"""Orders sampled per replication when none is asked for: four orders and their reverses."""

COLUMNS = ["arm", "part", "name", "n", "mean", "ci_low", "ci_high"]
"""The columns of the three tables."""


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def _with_outcome(scenario: Scenario) -> Scenario:
    """The scenario with goal attainment as its one outcome: all explain needs, and an output every run has.

    Other outcomes may exist only with a mechanism's switch on (``report_inflation_chosen``), so
    runs with it off could not report them.
    """
    kept = [outcome for outcome in scenario.outcomes if outcome.name == OUTCOME] or [Outcome(name=OUTCOME)]
    return scenario.model_copy(update={"outcomes": kept})


def _switched_off(point: Point, p, players: tuple[str, ...], relays: tuple[str, ...]) -> dict[str, Any]:
    """The values a point's runs set: its absent mechanisms switched off, or its absent relays exempt."""
    if point.game == MECHANISM_GAME:
        return mechanisms.switched_off(p, set(players) - point.coalition)
    return {"relay.exempt_relays": [k for k, relay in enumerate(relays) if relay not in point.coalition]}


def _games(design: ExplainDesign, runs: pd.DataFrame) -> dict[tuple[str, str, int], dict]:
    """Per arm, game and replication with every needed run finished: coalition → goal attainment."""
    games: dict[tuple[str, str, int], dict] = {}
    for row in runs[["arm", "point", "replication", OUTCOME]].itertuples(index=False):
        point = design.points[row.point]
        games.setdefault((row.arm, point.game, row.replication), {})[point.coalition] = getattr(row, OUTCOME)
    wanted = {k: len(design.needed(k)) for k in range(design.replications)}
    by_replication: dict[tuple[str, int], int] = {}
    for (arm, _, k), game in games.items():
        by_replication[(arm, k)] = by_replication.get((arm, k), 0) + len(game)
    return {
        key: game for key, game in games.items() if by_replication[(key[0], key[2])] == wanted[key[2]]
    }  # a replication with a failed run is left out of every game


def _split(players, game, orders, rest: str) -> dict[str, float]:
    """One replication's loss 1 − v(all): the rest 1 − v(none), and −φ of each player."""
    values = shapley.exact(players, game) if orders is None else shapley.over_orders(players, orders, game)
    everyone = frozenset(players)
    return {rest: 1.0 - game[frozenset()]} | {p: -values[p] for p in players} | {"total": 1.0 - game[everyone]}


def _effect(players, difference, orders) -> dict[str, float]:
    """One replication's reform effect Δ(all): Δ(none), and φ of each mechanism in the game Δ."""
    values = shapley.exact(players, difference) if orders is None else shapley.over_orders(players, orders, difference)
    everyone = frozenset(players)
    return {"without mechanisms": difference[frozenset()]} | values | {"total": difference[everyone]}


def _summary(arm: str, replications: list[dict[str, float]]) -> pd.DataFrame:
    """Per part: mean and 95% CI over replications."""
    if not replications:
        return _empty()
    rows = []
    for name in replications[0]:
        part = name if name in ("unexplained", "grassroots", "without mechanisms", "total") else "contribution"
        rows.append({"arm": arm, "part": part, "name": name} | _described([r[name] for r in replications]))
    return pd.DataFrame(rows, columns=COLUMNS)


def _described(values) -> dict[str, float]:
    summary = describe(values)
    del summary["sd"]
    return summary
