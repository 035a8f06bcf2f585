"""Officials who differ, reports that can show the gap, audits, escalation by level (docs/ODD.md, section 12).

Every switch is off by default but officials who differ (the calibrated defaults have a third of
them strongly motivated, ODD 16), and with every switch off the model is the one before it (the
golden files; here: no new output exists and the random stream is untouched). With a switch on, the
tests check its equation exactly where a fixed strategy makes it analytical, and its effect
over replications where behaviour is learned, each with a negative control: a variant
without the mechanism that must fail the same check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, UNCALIBRATED_KEYWORDS, small

from sim import BureauModel
from sim.checks.patterns import PATTERNS, evaluate, pattern_scenario
from sim.errors import ScenarioError
from sim.scenario.output_names import CHOSEN_INFLATION, TYPE_OUTPUTS, model_output_names
from sim.scenario.strategies import Strategy

HIERARCHY = {"branching": [3, 4, 5]}

EVERY_REPORT_INFLATED_AND_AUDITED = {
    "relay_inflation_options": [0.5],
    "accountability_report_audit_rate": 1.0,
    "accountability_detect_onsite": 1.0,
    "accountability_inspection_rate": 0.0,  # no other sanction than the report audit's
    "accountability_incident_visibility": 0.0,
}


def model(steps=12, seed=5, hierarchy=HIERARCHY, tasks=None, **parameters) -> BureauModel:
    built = BureauModel(small(hierarchy=hierarchy, tasks=tasks), seed=seed, steps=steps, **parameters)
    built.run_model()
    return built


def frame(built: BureauModel) -> pd.DataFrame:
    return built.datacollector.get_model_vars_dataframe()


def mean_after(steps: int, output: str, seeds=range(8), **parameters) -> np.ndarray:
    """One value per replication: the mean of ``output`` over the second half of the run."""
    runs = [frame(model(steps=steps, seed=seed, **parameters)) for seed in seeds]
    return np.array([run[output].iloc[steps // 2 :].mean() for run in runs])


# --- switches off ------------------------------------------------------------------------


def test_with_every_switch_off_no_output_of_section_12_exists():
    built = model(steps=2, execution_motivated_share=None)  # the one switch of section 12 the defaults turn on
    assert list(built.outputs) == model_output_names(built.level_names)


@pytest.mark.parametrize(
    "switch",
    [
        {"execution_motivated_share": 0.5},
        {"execution_motivation_spread": 0.4},
        {"relay_inflation_options": [0.0, 0.1]},
        {"accountability_audit_rate": 0.5, "accountability_audit_lag": 2},
    ],
)
def test_a_switch_draws_from_its_own_stream_so_the_models_stream_is_unchanged(switch):
    """After six periods (audits due from the third) the model's generator is where it is without the switch."""
    plain, switched = model(steps=6), model(steps=6, **switch)
    for a, b in zip(plain.levels, switched.levels, strict=True):
        np.testing.assert_array_equal(a.capacity, b.capacity)
        np.testing.assert_array_equal(a.risk_aversion, b.risk_aversion)
    np.testing.assert_array_equal(plain.execution_draws.choice, switched.execution_draws.choice)
    np.testing.assert_array_equal(plain.accountability_draws.blame, switched.accountability_draws.blame)
    assert plain.rng.random() == switched.rng.random()


# --- 12.1 officials who differ -------------------------------------------------------------


def test_a_mixture_gives_each_type_its_factor_in_about_its_share():
    built = model(steps=1, hierarchy={"branching": [10, 10, 20]}, execution_motivated_share=0.3)
    v = built.p.execution.intrinsic_motivation
    motivation = np.concatenate([state.motivation for state in built.levels])
    assert set(np.round(motivation / v, 12)) == {1.5, 0.5}
    share = (motivation > v).mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(motivation))  # binomial: four standard errors


def test_a_lognormal_spread_keeps_the_mean_motivation():
    spread = {"execution_motivation_spread": 0.5, "execution_motivated_share": None}  # the spread alone, no types
    built = model(steps=1, hierarchy={"branching": [10, 10, 20]}, **spread)
    motivation = built.levels[-1].motivation / built.p.execution.intrinsic_motivation
    assert motivation.std() > 0.3
    assert abs(motivation.mean() - 1) < 4 * motivation.std() / np.sqrt(len(motivation))


def falsification_difference(**mixture) -> np.ndarray:
    """Per replication, how much more the unmotivated type falsifies than the motivated type."""
    return mean_after(30, "share_falsify_unmotivated", **mixture) - mean_after(30, "share_falsify_motivated", **mixture)


def test_unmotivated_officials_falsify_more_and_a_mixture_without_contrast_shows_no_difference():
    diff = falsification_difference(
        execution_motivated_share=0.5, execution_motivation_high=1.8, execution_motivation_low=0.2
    )
    assert diff.mean() - 2 * diff.std(ddof=1) / np.sqrt(len(diff)) > 0.05
    # negative control: two types with the same factor are two random halves of identical officials
    alike = falsification_difference(
        execution_motivated_share=0.5, execution_motivation_high=1.0, execution_motivation_low=1.0
    )
    assert not alike.mean() - 2 * alike.std(ddof=1) / np.sqrt(len(alike)) > 0.05
    assert abs(alike.mean()) < 0.05


def test_outputs_by_type_exist_only_with_officials_who_differ():
    built = model(steps=2, execution_motivation_spread=0.3)
    assert set(TYPE_OUTPUTS) <= set(built.outputs)
    shares = sum(built.outputs[name] for name in TYPE_OUTPUTS if name.endswith("_motivated") and "share_" in name)
    assert shares == pytest.approx(1.0)


# --- 12.2 completion-rate reports ----------------------------------------------------------


@pytest.mark.parametrize("inflation", [0.0, 0.02, 0.3])
def test_formalism_reports_its_claim_share_inflated_at_every_level_below_the_top(inflation):
    built = model(
        steps=3,
        relay_report_rule="rate",
        relay_report_inflation=inflation,
        execution_fixed_strategy="formalism",
    )
    claim = built.p.execution.formalism_claim
    expected = claim
    for _ in range(built.relays - 1):  # levels 1 .. L-1 inflate, each capping at 1
        expected = min(1.0, (1 + inflation) * expected)
    assert built.outputs["reported_attainment"] == pytest.approx(expected, rel=1e-12)


def test_falsifiers_report_full_completion_and_do_nothing():
    built = model(steps=3, relay_report_rule="rate", execution_fixed_strategy="falsify")
    assert built.outputs["reported_attainment"] == 1.0
    assert built.outputs["goal_attainment"] == 0.0


def test_under_the_sum_rule_reports_saturate_and_under_rates_they_show_the_gap():
    """The first edition's model (before the calibration, whose stronger dilution lets sums fall short too)."""
    summed = mean_after(20, "reported_attainment", **UNCALIBRATED_KEYWORDS)
    rates = mean_after(20, "reported_attainment", relay_report_rule="rate", **UNCALIBRATED_KEYWORDS)
    assert summed.min() > 0.99  # the first edition's saturation (ODD 12.2)
    assert rates.max() < 0.95
    attained = mean_after(20, "goal_attainment", relay_report_rule="rate", **UNCALIBRATED_KEYWORDS)
    assert (rates - attained).min() > 0.05  # the gap: reported done but not done


def test_the_statistical_discount_scales_what_the_top_believes_and_nothing_else():
    plain = frame(model(relay_report_rule="rate"))
    discounted = frame(model(relay_report_rule="rate", accountability_statistical_discount=0.2))
    np.testing.assert_allclose(discounted["reported_attainment"], 0.8 * plain["reported_attainment"], rtol=1e-12)
    np.testing.assert_array_equal(discounted["goal_attainment"], plain["goal_attainment"])


@pytest.mark.parametrize("discount", [0.0, 0.2])
def test_the_top_levels_gap_is_the_implementation_gap_and_lower_levels_believe_less(discount):
    built = frame(
        model(
            steps=20,
            relay_report_rule="rate",
            relay_report_inflation=0.1,
            accountability_statistical_discount=discount,
        )
    )
    np.testing.assert_allclose(built["implementation_gap_province"], built["implementation_gap"], rtol=1e-12)
    if discount:
        return
    # each level inflates what it passes up, so a level believes more than the one below it
    assert (built["implementation_gap_province"] > built["implementation_gap_municipality"]).all()
    assert (built["implementation_gap_municipality"] > built["implementation_gap_county"]).all()


# --- 12.3 chosen inflation and report audits ---------------------------------------------


def test_unaudited_officials_learn_to_inflate_and_audited_ones_learn_not_to():
    options = dict(relay_report_rule="rate", relay_inflation_options=[0.0, 0.1, 0.3])
    free = mean_after(40, CHOSEN_INFLATION, seeds=range(4), **options)
    audited = mean_after(
        40,
        CHOSEN_INFLATION,
        seeds=range(4),
        accountability_report_audit_rate=0.8,
        accountability_detect_onsite=1.0,
        **options,
    )
    assert free.min() > audited.max()
    assert audited.max() < 0.1


def test_the_gap_grows_with_inflation_and_not_without_it():
    """A claim with a negative control: one option of 0.2 against one of 0 (the same seeds)."""
    steps = 30
    inflated = mean_after(steps, "implementation_gap", relay_report_rule="rate", relay_inflation_options=[0.2])
    honest = mean_after(steps, "implementation_gap", relay_report_rule="rate", relay_inflation_options=[0.0])
    assert (inflated - honest).min() > 0.02
    same = mean_after(steps, "implementation_gap", relay_report_rule="rate", relay_report_inflation=0.0)
    np.testing.assert_array_equal(same, honest)  # one option of 0 is no inflation at all


def test_report_audit_sanctions_land_on_the_intermediate_official_who_inflated():
    built = model(
        steps=5,
        **EVERY_REPORT_INFLATED_AND_AUDITED,
    )
    assert (built.levels[1].sanctions == 5).all() and (built.levels[2].sanctions == 5).all()
    assert (built.levels[0].sanctions == 0).all()  # the top reports to no one


# --- 12.4 audits of past periods ---------------------------------------------------------


def test_audits_of_past_periods_cut_falsification_and_the_gap():
    steps = 40
    kept = dict(relay_report_rule="rate", accountability_audit_lag=3)
    audited = mean_after(steps, "implementation_gap", accountability_audit_rate=0.5, **kept)
    plain = mean_after(steps, "implementation_gap", **kept)
    assert (plain - audited).mean() - 2 * (plain - audited).std(ddof=1) / np.sqrt(8) > 0.02


def test_negative_control_audits_that_never_come_due_change_nothing():
    plain = frame(model(steps=10))
    never = frame(model(steps=10, accountability_audit_rate=1.0, accountability_audit_lag=10))
    pd.testing.assert_frame_equal(plain, never, check_exact=True)
    due = frame(model(steps=10, accountability_audit_rate=1.0, accountability_audit_lag=9))
    assert not due.equals(plain)  # the same audits one period earlier do come due


def test_an_audit_finds_exactly_the_units_that_falsified_lag_periods_ago():
    built = BureauModel(
        small(hierarchy=HIERARCHY),
        seed=3,
        steps=10,
        accountability_audit_rate=1.0,
        accountability_audit_lag=2,
        accountability_detect_onsite=1.0,
        accountability_inspection_rate=0.0,
        accountability_incident_visibility=0.0,
    )
    codes = []
    for _ in range(6):
        built.step()
        codes.append(built.levels[-1].strategy_code.copy())
        if len(codes) > 2:
            falsified = codes[-3] == Strategy.FALSIFY
            np.testing.assert_array_equal(built.levels[-1].sanctions_now, falsified.astype(int))


# --- 12.5 escalation by level --------------------------------------------------------------


def test_rates_by_level_multiply_exactly_without_pressure():
    rates = [0.3, 0.1, 0.05]
    built = model(steps=2, relay_escalation_by_level=rates, relay_escalation_pressure=0.0)
    assert built.outputs["escalation_at_bottom"] == pytest.approx(np.prod([1 + r for r in rates]), rel=1e-12)


def test_a_tournament_markup_grows_with_the_subordinates_competing():
    built = model(steps=2, relay_tournament_markup=0.2, relay_escalation_pressure=0.0)
    e = built.p.relay.escalation
    expected = np.prod([1 + e * (1 + 0.2 * np.log(n)) for n in HIERARCHY["branching"]])
    assert built.outputs["escalation_at_bottom"] == pytest.approx(expected, rel=1e-12)


def test_rates_by_level_must_give_one_rate_per_relay():
    with pytest.raises(ScenarioError, match=r"escalation_by_level.*2 escalation rates.*3 relays"):
        model(steps=1, relay_escalation_by_level=[0.3, 0.1])


def test_a_tasks_own_escalation_is_refused_beside_rates_by_level():
    with pytest.raises(ScenarioError, match=r"task a: set: relay\.escalation would not be used"):
        model(
            steps=1,
            tasks=[{"name": "a", "set": {"relay.escalation": 0.2}}],
            relay_escalation_by_level=[0.3, 0.1, 0.05],
        )


# --- portfolios ----------------------------------------------------------------------------


def test_in_a_portfolio_every_mechanism_runs_and_gives_per_level_gaps_and_chosen_inflation():
    built = model(
        steps=8,
        tasks=[{"name": "a"}, {"name": "b", "issuer": "environment", "measurability": 0.3}],
        relay_report_rule="rate",
        relay_inflation_options=[0.0, 0.2],
        accountability_report_audit_rate=0.3,
        accountability_audit_rate=0.3,
        accountability_audit_lag=2,
        execution_motivated_share=0.5,
    )
    outputs = built.outputs
    assert 0 <= outputs[CHOSEN_INFLATION] <= 0.2
    assert 0 < outputs["reported_attainment"] <= 1
    for name in ("implementation_gap_province", "implementation_gap_municipality", "implementation_gap_county"):
        assert np.isfinite(outputs[name])


# --- negative controls of P7h and P13 (sim.checks.patterns) ------------------------------


def claim_results(stem: str, overrides: list[str]) -> dict[str, bool]:
    pattern = next(p for p in PATTERNS if p.stem == stem)
    scenario = pattern_scenario(pattern, SCENARIOS / "patterns").with_overrides(overrides)
    return {result.claim: result.holds for result in evaluate(pattern, scenario, 6)}


def test_control_p7h_identical_officials_of_the_same_mean_motivation_lose_the_pattern():
    """Every official with v_m = 1.0 (the mixture's mean): no oversight no longer invites faking, the gap vanishes."""
    held = claim_results(
        "p7h_oversight_differ",
        ["parameters.execution.motivated_share=1.0", "parameters.execution.motivation_high=1.0"],
    )
    assert not held["no oversight invites falsification and shirking"]
    assert not held["gap at moderate oversight above 0.1"]


def test_control_p13_audits_that_detect_nothing_do_not_shrink_the_gap():
    held = claim_results("p13_audits", ["parameters.accountability.detect_onsite=0.0"])
    assert not held["audits shrink the gap"]


def test_control_p13_summed_reports_hide_inflation():
    """Under the first edition's summed reports the top believes about 1 whatever is inflated."""
    held = claim_results("p13_audits", ["parameters.relay.report_rule=sum"])
    assert not held["the gap grows with inflation: some > none"]


def test_rate_reports_change_what_the_top_believes_and_nothing_that_officials_do():
    """Why P3-P10 hold under rate reports as under sums: no rule reads reports unless officials choose inflation."""
    summed, rates = frame(model(steps=20)), frame(model(steps=20, relay_report_rule="rate"))
    believed = ("reported_attainment", "implementation_gap")
    same = [name for name in summed if not name.endswith(believed)]
    pd.testing.assert_frame_equal(summed[same], rates[same], check_exact=True)
    assert (summed["reported_attainment"] != rates["reported_attainment"]).any()


def test_p5s_gap_claim_holds_under_rate_reports_too():
    """The one claim of P3-P10 that reads reports: paper inspection leaves a wider gap than on-site, also as rates."""
    held = claim_results("p5_traces", ["parameters.relay.report_rule=rate"])
    assert held["implementation gap"]


def test_report_audits_look_only_at_reports_on_tasks_in_force():
    built = BureauModel(
        small(hierarchy=HIERARCHY, tasks=[{"name": "a"}, {"name": "env", "issuer": "environment", "start": 5}]),
        seed=1,
        steps=4,
        **EVERY_REPORT_INFLATED_AND_AUDITED,
    )
    built.run_model()
    environment = built.chains[1]
    assert all((state.sanctions == 0).all() for state in environment)  # its task not yet in force
    assert (built.levels[1].sanctions == 4).all()  # the territorial task's reports were audited every period


def test_chosen_inflation_needs_someone_between_the_top_and_the_grassroots():
    built = model(steps=2, hierarchy={"branching": [6]}, relay_inflation_options=[0.0, 0.3])
    assert CHOSEN_INFLATION not in built.outputs
    assert CHOSEN_INFLATION in model(steps=2, relay_inflation_options=[0.0, 0.3]).outputs


def test_an_escalation_the_rates_by_level_would_replace_is_refused():
    with pytest.raises(ScenarioError, match=r"relay\.escalation would not be used"):
        model(steps=1, relay_escalation_by_level=[0.3, 0.1, 0.05], relay_escalation=0.2)


def test_a_sweep_point_whose_hierarchy_lacks_a_gap_outcome_is_refused_before_any_run():
    from sim.experiments.scenario_checks import check_runs
    from sim.scenario.schema import Scenario

    scenario = Scenario.model_validate(
        {
            "name": "points",
            "hierarchy": {"branching": [2, 2, 3]},
            "parameters": {"relay": {"report_rule": "rate"}},
            "sweep": {"grid": {"hierarchy.branching": [[2, 2, 3], [2, 3]]}},
            "outcomes": [{"name": "implementation_gap_province"}],
        }
    )
    from sim.experiments.kinds import check_every_command

    with pytest.raises(ScenarioError, match=r"point 1 .*implementation_gap_province is not an output"):
        check_every_command(scenario)
    check_runs(scenario)  # the scenario itself, without its sweep, does have a province


def test_a_lever_over_a_list_or_a_choice_is_refused_clearly():
    from sim.experiments.ema import ema_model

    for path, bounds in (("relay.escalation_by_level", ([0.1] * 3, [0.2] * 3)), ("relay.report_rule", ("rate", "sum"))):
        with pytest.raises(ScenarioError, match="not numeric"):
            ema_model(small(hierarchy=HIERARCHY, uncertainties={"task.risk": [0, 0.1]}), levers={path: bounds})
