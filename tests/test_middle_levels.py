"""Middle levels that decide (docs/ODD.md, section 13): relay options, inspections of relay work.

With ``middle.relay_choice`` off the model is the one before it (the golden files; here: its
other values change nothing, no new output exists and the random stream is untouched). With it
on, each equation is checked where a forced choice makes it exact, both engines agree bit for
bit on one directive and on a portfolio, and P12's claims each have a negative control: a
variant without the mechanism behind the claim, which must fail it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, small
from test_engines import assert_identical

from sim import BureauModel
from sim.checks.patterns import PATTERNS, evaluate, pattern_scenario
from sim.model import rules
from sim.scenario.loader import load_scenario
from sim.scenario.output_names import MIDDLE_OUTPUTS, model_output_names
from sim.scenario.parameters import Middle

HIERARCHY = {"branching": [3, 4, 5]}
DECIDING = {"middle_relay_choice": True, "task_clarity": 0.6}


def model(steps=12, seed=5, hierarchy=HIERARCHY, tasks=None, engine=None, **parameters) -> BureauModel:
    built = BureauModel(small(hierarchy=hierarchy, tasks=tasks), seed=seed, steps=steps, engine=engine, **parameters)
    built.run_model()
    return built


def frame(built: BureauModel) -> pd.DataFrame:
    return built.datacollector.get_model_vars_dataframe()


# --- switch off ------------------------------------------------------------------------------


def test_with_the_switch_off_its_other_values_change_nothing_and_add_no_output():
    plain = model(steps=8)
    values = {"middle_clarify_gain": 1.0, "middle_inspection_rate": 1.0, "middle_paperwork": 3.0}
    changed = model(steps=8, **values)
    pd.testing.assert_frame_equal(frame(plain), frame(changed), check_exact=True)
    assert list(changed.outputs) == model_output_names(changed.level_names, parameters=changed.p)
    assert not any(name in changed.outputs for name in MIDDLE_OUTPUTS)
    assert not hasattr(changed.levels[1], "relay_option")


def test_the_switch_draws_from_its_own_stream_so_the_models_stream_is_unchanged():
    plain, switched = model(steps=6), model(steps=6, middle_relay_choice=True, middle_inspection_rate=0.5)
    np.testing.assert_array_equal(plain.execution_draws.choice, switched.execution_draws.choice)
    np.testing.assert_array_equal(plain.accountability_draws.blame, switched.accountability_draws.blame)
    assert plain.rng.random() == switched.rng.random()


# --- 13.1 the relay options, exactly -----------------------------------------------------------


def test_the_option_rules():
    assert rules.chosen_rate(0.1, rules.ESCALATE, 0.2) == pytest.approx(1.1 * 1.2 - 1)
    assert rules.chosen_rate(0.1, rules.CLARIFY, 0.2) == 0.1
    assert rules.clarified(0.6, rules.CLARIFY, 0.5, 1.0) == pytest.approx(0.8)
    assert rules.clarified(0.6, rules.CLARIFY, 0.5, 0.5) == pytest.approx(0.7)
    assert rules.clarified(0.6, rules.PASS_ON, 0.5, 1.0) == 0.6
    assert rules.seen_dilution(0.0, 0.0, 0.05) == 0.05  # nothing to dilute: the configured rate
    assert rules.seen_dilution(0.5, 0.6, 0.05) == pytest.approx(-0.2)  # clarified beyond what was received
    assert rules.clarify_share(0.3, 0.6, 1) == pytest.approx(0.5)
    assert rules.clarify_share(0.0, 0.0, 1) == 1.0  # a clarification that takes no time
    assert rules.clarify_effort(1.2, 0.3, 2) == pytest.approx(0.25)  # 0.6 of 1.2, per task
    assert rules.clarify_effort(0.0, 0.3, 1) == 1.0  # no free capacity: all of it
    assert rules.clarify_effort(1.0, 0.3, 0) == 0.0


def forced(option: int, **parameters) -> BureauModel:
    """A model whose every relaying official chooses ``option`` (one attraction far above the others)."""
    built = BureauModel(small(hierarchy=HIERARCHY), seed=2, steps=1, **(DECIDING | parameters))
    for state in built.levels[:-1]:
        state.relay_attractions[:, option] = 1e6
    built.step()
    return built


def test_passing_on_is_the_fixed_relay_and_clarifying_restores_clarity_towards_one():
    passed = forced(rules.PASS_ON, learning_temperature=0.0)
    relays, d = 3, passed.p.relay.dilution
    assert passed.outputs["clarity_at_bottom"] == pytest.approx(0.6 * (1 - d) ** relays, rel=1e-12)
    assert passed.outputs["relay_share_pass_on"] == 1.0
    clear = forced(rules.CLARIFY, learning_temperature=0.0, middle_clarify_time=0.0, middle_clarify_gain=1.0)
    assert clear.outputs["clarity_at_bottom"] == pytest.approx(1.0)
    half = forced(rules.CLARIFY, learning_temperature=0.0, middle_clarify_time=0.0, middle_clarify_gain=0.5)
    c = 0.6
    for _ in range(relays):
        c = c * (1 - d) + 0.5 * (1 - c * (1 - d))
    assert half.outputs["clarity_at_bottom"] == pytest.approx(c, rel=1e-12)


def test_a_clarification_without_the_time_for_it_is_partial():
    """Capacity K f − π_m below the time a clarification takes: φ = F / t of the restoration."""
    built = forced(
        rules.CLARIFY,
        learning_temperature=0.0,
        execution_capacity_sd=0.0,
        middle_clarify_gain=1.0,
        middle_clarify_time=2.0,
        middle_paperwork=0.5,
    )
    free = built.p.execution.capacity_mean - 0.5
    top = built.levels[0]
    assert top.free[0] == pytest.approx(free)
    passed = 0.6 * (1 - built.p.relay.dilution)
    assert built.levels[1].clarity_received[0] == pytest.approx(passed + (free / 2.0) * (1 - passed))


def test_escalating_adds_the_margin_to_every_relay():
    built = forced(rules.ESCALATE, learning_temperature=0.0, relay_escalation_pressure=0.0, middle_escalate_margin=0.2)
    e = built.p.relay.escalation
    assert built.outputs["escalation_at_bottom"] == pytest.approx(((1 + e) * 1.2) ** 3, rel=1e-12)


def test_the_option_shares_add_up_to_one_and_exist_only_with_the_switch():
    built = model(**DECIDING, middle_inspection_rate=0.0)
    shares = [built.outputs[name] for name in MIDDLE_OUTPUTS[:-1]]
    assert sum(shares) == pytest.approx(1.0)
    assert all(0 < share < 1 for share in shares)
    assert np.isnan(built.outputs["middle_sanction_rate"])  # nobody inspected


# --- 13.2 inspections of relay work -------------------------------------------------------------


def test_inspections_of_relay_work_sanction_the_middle_and_never_the_top():
    built = model(steps=1, **DECIDING, middle_inspection_rate=1.0, middle_detect_verbatim=1.0)
    top, *middle = built.levels[:-1]
    assert not top.relay_inspected.any()
    for state in middle:
        assert state.relay_inspected.all()
        unclarified = state.relay_option != rules.CLARIFY
        assert (state.relay_severity >= unclarified).all()
        np.testing.assert_array_equal(state.sanctions_now >= state.relay_severity, True)
        assert (state.hosting == built.p.accountability.hosting_cost).all()
    assert built.outputs["middle_sanction_rate"] > 0


def test_sanction_shares_move_up_the_chain_with_inspections_of_relay_work():
    """Without them a county's share is what blame shifting carries; with them its own relay work adds to it."""
    shares = {}
    for rate in (0.0, 0.5):
        runs = [frame(model(steps=20, seed=seed, **DECIDING, middle_inspection_rate=rate)) for seed in range(4)]
        shares[rate] = np.mean([run["sanction_share_county"].iloc[10:].mean() for run in runs])
    assert shares[0.5] > shares[0.0] + 0.1


# --- both engines --------------------------------------------------------------------------------


@pytest.mark.parametrize("precise", [False, True])
def test_engines_agree_exactly_with_deciding_and_inspected_middle_levels(precise):
    values = DECIDING | {
        "middle_inspection_rate": 0.5,
        "middle_paperwork": 1.0,
        "accountability_blame_shift": 0.3,
        "accountability_precise": precise,
    }
    assert_identical(model(engine="agents", **values), model(engine="vectorized", **values))


def test_engines_agree_exactly_on_a_portfolio_with_deciding_middle_levels():
    scenario = load_scenario(SCENARIOS / "township_portfolio.yaml")
    scenario = scenario.with_overrides(
        [
            "hierarchy.branching=[2, 3, 4]",
            "parameters.middle.relay_choice=true",
            "parameters.middle.inspection_rate=0.5",
            "parameters.accountability.blame_shift=0.3",
        ]
    )
    runs = both_engines(scenario, seed=4)
    assert_identical(*runs)
    assert runs[0].levels[-1].clarity_received.std() > 0


def both_engines(scenario, seed: int, steps: int = 10) -> list[BureauModel]:
    """The scenario run by the agent engine and by the vectorised engine, on the same seed."""
    runs = []
    for engine in ("agents", "vectorized"):
        built = BureauModel(scenario, seed=seed, steps=steps, engine=engine)
        built.run_model()
        runs.append(built)
    return runs


# --- P12 and its negative controls (sim.checks.patterns) ------------------------------------


def claim_results(overrides: list[str], pattern_id: str = "P12") -> dict[str, bool]:
    """Which of a pattern's claims hold (6 replications) on its scenario with ``overrides``."""
    pattern = next(p for p in PATTERNS if p.id == pattern_id)
    scenario = pattern_scenario(pattern, SCENARIOS / "patterns").with_overrides(overrides)
    return {result.claim: result.holds for result in evaluate(pattern, scenario, 6)}


def test_control_p12_clarifications_that_restore_nothing_do_not_raise_clarity():
    held = claim_results(["parameters.middle.clarify_gain=0.0"])
    assert not held["clarifying middle levels raise grassroots clarity"]


def test_control_p12_clarifications_that_take_no_time_do_not_yield_to_pressure_or_less_capacity():
    held = claim_results(["parameters.middle.clarify_time=0.0"])
    assert not held["pressure on the middle's time makes it relay verbatim"]
    assert not held["less capacity makes it relay verbatim"]


def test_control_p12_inspections_blind_to_verbatim_relays_do_not_make_middle_levels_clarify():
    held = claim_results(["parameters.middle.detect_verbatim=0.0"])
    assert not held["inspections of relay work make it clarify"]


def test_the_middle_group_documents_every_field():
    for name, info in Middle.model_fields.items():
        assert info.description, name


# --- 13.3 shielding and level-skipping inspections -----------------------------------------------

SHIELDING = {"middle_shielding": True, "accountability_blame_shift": 0.5}


def shielding_everyone(**parameters) -> BureauModel:
    """One period in which every superior of the grassroots shields (its shielding attraction far above)."""
    built = BureauModel(small(hierarchy=HIERARCHY), seed=3, steps=1, **(SHIELDING | parameters))
    built.levels[-2].shield_attractions[:, rules.SHIELD] = 1e6
    built.step()
    return built


def test_the_shielding_rules():
    assert rules.warning_factor(True, 0.4) == pytest.approx(0.6)
    assert rules.warning_factor(False, 0.4) == 1.0
    finding = rules.Finding(np.array([True, True, True]), np.ones(3), np.zeros(3), False)
    kept = rules.settled(finding, np.array([True, True, False]), np.array([0.1, 0.9, 0.1]), 0.5)
    np.testing.assert_array_equal(kept.found, [False, True, True])


def test_settling_everything_leaves_no_inspection_or_incident_sanction_below_a_shielder():
    built = shielding_everyone(
        learning_temperature=0.0,
        middle_settle_share=1.0,
        accountability_inspection_rate=2.0,
        accountability_incident_visibility=1.0,
        accountability_ranking_fraction=0.0,
    )
    assert (built.levels[-2].shield_option == rules.SHIELD).all()
    assert built.levels[-1].sanctions_now.sum() == 0
    assert sum(state.sanctions_now.sum() for state in built.levels[:-1]) == 0


def test_third_parties_find_shielded_failures_and_sanction_the_shielder():
    penalty = 2.5
    built = shielding_everyone(
        learning_temperature=0.0,
        middle_settle_share=1.0,
        middle_collusion_penalty=penalty,
        accountability_third_party_rate=1.0,
        accountability_incident_visibility=0.0,
    )
    superiors = built.levels[-2]
    assert superiors.shield_severity.sum() > 0
    np.testing.assert_allclose(superiors.shield_severity % penalty, 0.0)
    exposures = superiors.shield_severity / penalty
    assert (superiors.sanctions_now >= exposures).all()


def test_a_warning_lowers_detection_and_only_inspections_are_warned():
    seen = {}
    for effect in (0.0, 1.0):
        built = shielding_everyone(
            learning_temperature=0.0,
            execution_fixed_strategy="falsify",
            middle_warning_effect=effect,
            middle_settle_share=0.0,
            accountability_inspection_rate=2.0,
            accountability_onsite_share=1.0,
            accountability_detect_onsite=1.0,
        )
        seen[effect] = built.levels[-1].sanctions_now.sum()
    assert seen[0.0] > 0
    assert seen[1.0] < seen[0.0]


def test_level_skipping_inspections_sanction_the_unit_without_shielding_too():
    falsifying = {"execution_fixed_strategy": "falsify", "accountability_detect_onsite": 1.0}
    built = model(steps=1, middle_skip_level_rate=1.0, **falsifying)
    plain = model(steps=1, **falsifying)
    extra = built.levels[-1].sanctions_now - plain.levels[-1].sanctions_now
    np.testing.assert_array_equal(extra, 1)  # every falsifier visited is caught: one sanction each
    severity = built.levels[-1].severity_now - plain.levels[-1].severity_now
    np.testing.assert_allclose(severity, built.p.accountability.falsify_penalty)
    assert "shield_share" not in built.outputs


def test_shielding_exists_only_with_its_switch_and_is_a_share():
    built = model(**SHIELDING)
    assert 0 <= built.outputs["shield_share"] <= 1
    assert "shield_share" not in model(steps=2).outputs


@pytest.mark.parametrize("portfolio", [False, True])
def test_engines_agree_exactly_with_shielding_and_level_skipping(portfolio):
    values = [
        "parameters.middle.shielding=true",
        "parameters.middle.relay_choice=true",
        "parameters.middle.inspection_rate=0.3",
        "parameters.middle.skip_level_rate=0.3",
        "parameters.accountability.third_party_rate=0.3",
        "parameters.accountability.blame_shift=0.3",
    ]
    if portfolio:
        scenario = load_scenario(SCENARIOS / "township_portfolio.yaml")
        values.append("hierarchy.branching=[2, 3, 4]")
    else:
        scenario = small(hierarchy=HIERARCHY)
    assert_identical(*both_engines(scenario.with_overrides(values), seed=6))


# --- P11 and its negative controls -----------------------------------------------------------------


def p11_results(overrides: list[str]) -> dict[str, bool]:
    return claim_results(overrides, "P11")


def test_control_p11_shielding_that_neither_warns_nor_settles_hides_nothing():
    held = p11_results(["parameters.middle.warning_effect=0.0", "parameters.middle.settle_share=0.0"])
    assert not held["shielding raises the gap"]
    assert not held["shielding invites falsification"]


def test_control_p11_shielding_found_out_at_no_cost_is_not_deterred():
    held = p11_results(["parameters.middle.collusion_penalty=0.0"])
    assert not held["level-skipping inspections deter shielding"]
    assert not held["third parties deter shielding"]
