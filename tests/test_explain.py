"""Where the goal is lost (ODD 17): the two switches explain uses, the Shapley estimators, the explain kind."""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from conftest import small
from test_engines import assert_all_identical, run_all

from sim import BureauModel
from sim.analysis import shapley
from sim.errors import ScenarioError
from sim.experiments.explain import ExplainKind, explain
from sim.experiments.template import ExperimentOptions
from sim.scenario.loader import parse_scenario
from sim.scenario.mechanisms import MECHANISMS, at_work, switched_off
from sim.scenario.parameters import Parameters
from sim.scenario.strategies import Strategy

# --- the switches ---------------------------------------------------------------------------------


def stepped(steps: int = 8, **keywords) -> BureauModel:
    model = BureauModel(small(), seed=11, **keywords)
    for _ in range(steps):
        model.step()
    return model


def test_a_strategy_ruled_out_is_never_chosen_and_the_others_are():
    model = stepped(execution_ruled_out=["falsify", "shirk"])
    codes = model.levels[-1].strategy_code
    assert not np.isin(codes, [Strategy.FALSIFY, Strategy.SHIRK]).any()
    assert model.outputs["share_falsify"] == model.outputs["share_shirk"] == 0.0
    assert model.outputs["share_substantive"] + model.outputs["share_formalism"] > 0.5


def test_ruling_out_changes_the_run_and_ruling_out_nothing_does_not():
    base, empty = stepped(), stepped(execution_ruled_out=[])
    assert base.outputs == empty.outputs
    assert stepped(execution_ruled_out=["falsify"]).outputs["goal_attainment"] != base.outputs["goal_attainment"]


@pytest.mark.parametrize(
    "value, fragment",
    [
        (["substantive", "formalism", "falsify", "blanket_ban", "innovate", "shirk"], "at least one must remain"),
        (["falsify", "falsify"], "twice"),
        (["lying"], "unknown strategy 'lying'"),
    ],
)
def test_impossible_rulings_out_are_refused(value, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        BureauModel(small(), seed=1, execution_ruled_out=value)


def test_a_fixed_strategy_that_is_ruled_out_is_refused():
    with pytest.raises(ScenarioError, match="ruled out"):
        BureauModel(small(), seed=1, execution_fixed_strategy="falsify", execution_ruled_out=["falsify"])


def test_a_relay_switched_off_passes_the_directive_on_unchanged():
    model = stepped(1, relay_exempt_relays=[0, 1, 2], relay_escalation=0.3, relay_dilution=0.2)
    bottom = model.levels[-1]
    assert np.all(bottom.target_received == 1.0)
    assert np.all(bottom.clarity_received == 1.0)
    one = stepped(1, relay_exempt_relays=[1], relay_escalation=0.3, relay_dilution=0.2)
    assert np.allclose(one.levels[-1].clarity_received, 0.8**2)  # two of the three relays still dilute


def test_a_relay_the_hierarchy_does_not_have_is_refused():
    with pytest.raises(ScenarioError, match="names relay 3, but the hierarchy has 3 relays"):
        BureauModel(small(), seed=1, relay_exempt_relays=[3])


@pytest.mark.parametrize(
    "keywords",
    [
        {"execution_ruled_out": ["formalism", "blanket_ban"]},
        {"relay_exempt_relays": [0, 2], "middle_relay_choice": True},
        {"execution_ruled_out": ["falsify"], "campaign_start": 2, "campaign_end": 5, "campaign_anticipation": 0.5},
    ],
)
def test_both_engines_agree_with_the_switches_on(keywords):
    values = {path.replace("_", ".", 1): value for path, value in keywords.items()}
    scenario = small(parameters=_nested(values), steps=8)
    assert_all_identical(run_all(scenario, 8))


def _nested(values: dict) -> dict:
    nested: dict = {}
    for path, value in values.items():
        group, name = path.split(".")
        nested.setdefault(group, {})[name] = value
    return nested


def test_formalism_ruled_out_means_nobody_prepares_for_a_campaign():
    keywords = {"campaign_start": 3, "campaign_end": 6, "campaign_anticipation": 1.0, "campaign_notice": 2}
    model = stepped(6, execution_ruled_out=["formalism"], **keywords)
    assert model.outputs["share_formalism"] == 0.0


# --- the mechanisms' table ------------------------------------------------------------------------


def test_every_mechanism_switched_off_is_no_longer_at_work():
    p = Parameters(middle={"relay_choice": True, "shielding": True}, feedback={"every": 6})
    assert at_work(p) == [m.name for m in MECHANISMS]
    for mechanism in MECHANISMS:
        from sim.scenario.parameters import with_values

        off = with_values(p, switched_off(p, {mechanism.name}))
        assert mechanism.name not in at_work(off), mechanism.name
        assert len(at_work(off)) == len(MECHANISMS) - 1, mechanism.name


def test_a_portfolio_tasks_own_values_are_switched_off_with_the_mechanism():
    tasks = [
        {"name": "a", "paperwork": 0.2, "set": {"relay.dilution": 0.3}},
        {"name": "b"},
    ]
    p = Parameters(tasks=tasks)
    values = switched_off(p, {"dilution", "burden"})
    assert values["tasks.a.paperwork"] == 0.0
    assert values["tasks.a.set"] == {"relay.dilution": 0.0}
    assert not any(path.startswith("tasks.b.") for path in values)


# --- the estimators -------------------------------------------------------------------------------


def glove_game(players):
    """A game with an interaction: v(S) = 1 if S holds a and b, plus 0.5 per c."""
    return {c: float({"a", "b"} <= c) + 0.5 * ("c" in c) for c in shapley.every_coalition(players)}


def test_exact_shapley_values_of_a_known_game():
    players = ["a", "b", "c"]
    values = shapley.exact(players, glove_game(players))
    assert values == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5})


def test_the_mean_over_every_order_is_the_exact_value():
    players = ["a", "b", "c", "d"]
    rng = np.random.default_rng(3)
    game = {c: float(rng.normal()) for c in shapley.every_coalition(players)}
    everything = list(permutations(players))
    assert shapley.over_orders(players, everything, game) == pytest.approx(shapley.exact(players, game), abs=1e-12)


def test_sampled_orders_add_up_exactly_and_come_in_reversed_pairs():
    players = ["a", "b", "c", "d", "e"]
    rng = np.random.default_rng(5)
    game = {c: float(rng.normal()) for c in shapley.every_coalition(players)}
    orders = shapley.antithetic_orders(players, 6, np.random.default_rng(1))
    assert [orders[i + 1] for i in range(0, 6, 2)] == [orders[i][::-1] for i in range(0, 6, 2)]
    values = shapley.over_orders(players, orders, game)
    assert math.isclose(sum(values.values()), game[frozenset(players)] - game[frozenset()], abs_tol=1e-12)
    assert shapley.prefixes(orders) >= {frozenset(), frozenset(players)}


# --- the explain kind -----------------------------------------------------------------------------

EXPLAINED = """
name: explained
seed: 3
steps: 16
replications: 4
hierarchy: {branching: [3, 3, 4]}
arms:
  - {name: status_quo}
  - {name: onsite, policies: [onsite_inspection]}
"""


@pytest.fixture(scope="module")
def explained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain") / "out"
    return explain(parse_scenario(EXPLAINED), out=folder, workers=2, progress=False)


def test_the_parts_add_up_to_the_shortfall_in_every_replication(explained):
    """Efficiency, checked on the means (a mean of sums is the sum of means)."""
    for table in (explained.shortfall, explained.levels):
        for _, rows in table.groupby("arm"):
            parts = rows[rows["part"] != "total"]["mean"].sum()
            assert parts == pytest.approx(rows[rows["part"] == "total"]["mean"].iloc[0], abs=1e-12)
    runs = explained.runs
    full = runs[runs["point"] == 0]  # point numbering: the empty coalition first
    assert len(full) == 8


def test_the_total_is_one_minus_the_attainment_of_the_model_as_it_is(explained):
    from sim.model.run import run_one

    scenario = parse_scenario(EXPLAINED)
    seeds = ExplainKind.seeds_of(scenario)
    attained = [
        run_one(scenario, seed, arm="status_quo", agents=False)
        .steps["goal_attainment"]
        .iloc[scenario.burn_in_periods :]
        .mean()
        for seed in seeds
    ]
    total = explained.shortfall.query("arm == 'status_quo' and part == 'total'")["mean"].iloc[0]
    assert total == pytest.approx(1 - np.mean(attained), abs=1e-12)


def test_dilution_costs_attainment_and_a_mechanism_that_only_touches_reports_costs_none(explained):
    rows = explained.shortfall.query("arm == 'status_quo'").set_index("name")
    assert rows.loc["dilution", "ci_low"] > 0.02
    assert rows.loc["inflation", "mean"] == pytest.approx(0.0, abs=1e-9)


def test_more_dilution_gives_dilution_a_larger_share(tmp_path):
    """A negative control in reverse: the decomposition follows the mechanism's strength."""
    low = explain(
        parse_scenario(EXPLAINED), out=tmp_path / "low", overrides=["parameters.relay.dilution=0.02"], progress=False
    )
    high = explain(
        parse_scenario(EXPLAINED), out=tmp_path / "high", overrides=["parameters.relay.dilution=0.25"], progress=False
    )

    def dilution(result):
        return result.shortfall.query("arm == 'status_quo' and name == 'dilution'").iloc[0]

    assert dilution(high)["ci_low"] > dilution(low)["ci_high"]


def test_a_mechanism_not_at_work_is_not_a_player(tmp_path):
    result = explain(
        parse_scenario(EXPLAINED), out=tmp_path / "x", overrides=["parameters.relay.dilution=0"], progress=False
    )
    assert "dilution" not in set(result.shortfall["name"])


def test_the_relays_share_what_the_relays_lose(explained):
    rows = explained.levels.query("arm == 'status_quo'")
    relays = rows[rows["part"] == "contribution"]
    assert list(relays["name"]) == ["province → municipality", "municipality → county", "county → township"]
    assert (relays["mean"] > 0).all()


def test_the_reform_is_split_by_mechanism(explained):
    rows = explained.reform.set_index("name")
    assert set(explained.reform["arm"]) == {"onsite"}
    parts = rows[rows["part"] != "total"]["mean"].sum()
    assert parts == pytest.approx(rows.loc["total", "mean"], abs=1e-12)
    assert rows.loc["total", "mean"] == pytest.approx(
        explained.shortfall.query("arm == 'status_quo' and part == 'total'")["mean"].iloc[0]
        - explained.shortfall.query("arm == 'onsite' and part == 'total'")["mean"].iloc[0],
        abs=1e-12,
    )


def test_exact_and_sampled_orders_agree_within_their_intervals(tmp_path):
    scenario = parse_scenario(EXPLAINED.replace("replications: 4", "replications: 3"))
    scenario = scenario.model_copy(update={"arms": scenario.arms[:1]})
    overrides = ["parameters.execution.ruled_out=[blanket_ban, shirk, formalism]"]  # six players: 64 coalitions
    exact = explain(scenario, exact=True, out=tmp_path / "exact", overrides=overrides, progress=False)
    sampled = explain(scenario, permutations=4, out=tmp_path / "sampled", overrides=overrides, progress=False)
    merged = pd.merge(exact.shortfall, sampled.shortfall, on=["arm", "name"], suffixes=("_exact", "_sampled"))
    assert len(merged) == 8
    gap = (merged["mean_exact"] - merged["mean_sampled"]).abs()
    width = (merged["ci_high_sampled"] - merged["ci_low_sampled"]).abs() + 1e-9
    assert (gap <= width).all()


def test_an_odd_number_of_orders_is_refused():
    with pytest.raises(ScenarioError, match="--permutations: must be a positive even number"):
        ExplainKind(permutations=3).design(parse_scenario(EXPLAINED), ExperimentOptions(progress=False))


def test_the_waterfalls_are_written(explained):
    plots = explained.folder / "plots"
    assert sorted(p.name for p in plots.glob("*.png")) == [
        "waterfall_levels_onsite.png",
        "waterfall_levels_status_quo.png",
        "waterfall_onsite.png",
        "waterfall_reform_onsite.png",
        "waterfall_status_quo.png",
    ]


def test_plotting_an_arm_that_is_not_there_names_the_arms_that_are(explained):
    result = explained
    with pytest.raises(ScenarioError, match="'nope' is not an arm explained here; the arms are"):
        result.plot_waterfall("nope")
    reference = result.scenario.reference_arm
    with pytest.raises(ScenarioError, match="compared with the reference arm"):
        result.plot_reform(reference)


def test_exact_and_a_number_of_orders_are_alternatives(tmp_path):
    with pytest.raises(ScenarioError, match="cannot be given with --exact"):
        explain(parse_scenario(EXPLAINED), permutations=4, exact=True, out=tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_a_scenario_without_arms_reads_back_with_its_arm_as_written(tmp_path):
    """Its arm is ``""``, an empty cell on disk: read back, the tables equal the ones computed."""
    from sim import load_results

    scenario = parse_scenario("name: x\nsteps: 6\nreplications: 2\nhierarchy: {branching: [2, 2]}\n")
    result = explain(scenario, permutations=2, out=tmp_path / "e", progress=False)
    again = load_results(tmp_path / "e")
    for table in ("shortfall", "levels"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(result, table).reset_index(drop=True))
    assert again.plot_waterfall().axes[0].patches  # the one arm is found again


def test_arms_whose_waterfalls_would_share_a_file_are_refused():
    scenario = parse_scenario(EXPLAINED).with_overrides(["arms=[{name: x}, {name: levels_x}]"])
    with pytest.raises(ScenarioError, match=r"would both write plots/waterfall_levels_x\.png"):
        ExplainKind().design(scenario, ExperimentOptions(progress=False))
