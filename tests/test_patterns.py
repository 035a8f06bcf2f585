"""Patterns P1-P8 of docs/ODD.md, each on its scenario in scenarios/patterns/.

P1 and P2 are closed forms and hold exactly. P3-P8 are claims about direction, tested over
replications with common random numbers: replication k of every arm uses the same seed, the
statistic is each replication's mean over a window after burn-in, and a claim holds when the
95% confidence interval of the paired difference lies on the claimed side of zero (and, where
stated, beyond a minimum effect). A model with the mechanism removed fails these tests: see
the negative controls at the end.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import replication_tables, window_means

from sim import BureauModel
from sim.stats import half_width

REPLICATIONS = 6
STEPS = 40
WINDOW = slice(21, 41)  # periods 21-40: after learning has settled


def assert_greater(a: np.ndarray, b: np.ndarray, *, margin: float = 0.0, what: str = "") -> None:
    """The paired difference a - b is positive: its 95% CI lies above ``margin``."""
    diff = np.asarray(a) - np.asarray(b)
    low = diff.mean() - float(half_width(diff.std(ddof=1), len(diff)))
    assert low > margin, f"{what}: mean difference {diff.mean():.4f}, 95% CI lower bound {low:.4f} <= {margin}"


def means(scenario, arm, *outputs, steps=STEPS, window=WINDOW, replications=REPLICATIONS):
    """Per replication of one arm, the mean of each output over ``window``."""
    return window_means(
        replication_tables(scenario, arm, replications=replications, steps=steps), list(outputs), window
    )


@pytest.mark.parametrize("branching", [[3], [2, 3], [4, 4, 6], [2, 2, 2, 2]])
@pytest.mark.parametrize("arm", ["e_0_1", "e_0_2", "e_0_3"])
def test_p1_escalation_compounds_exactly(pattern, branching, arm):
    scenario = pattern("p1_escalation").with_overrides([f"hierarchy.branching={branching}"])
    model = BureauModel.from_scenario(scenario, arm=arm)
    model.step()
    e = model.p.relay.escalation
    assert model.outputs["escalation_at_bottom"] == pytest.approx((1 + e) ** len(branching), rel=1e-12)


@pytest.mark.parametrize("branching", [[3], [2, 3], [4, 4, 6], [2, 2, 2, 2], [1] * 8])
@pytest.mark.parametrize("dilution", [0.05, 0.1, 0.3])
def test_p2_control_loss_is_williamsons_geometric_decay(pattern, branching, dilution):
    scenario = pattern("p2_control_loss").with_overrides(
        [f"hierarchy.branching={branching}", f"parameters.relay.dilution={dilution}"]
    )
    model = BureauModel.from_scenario(scenario)
    for _ in range(3):
        model.step()
        alpha = 1 - dilution
        assert model.outputs["goal_attainment"] == pytest.approx(alpha ** len(branching), rel=1e-12)
        assert model.outputs["clarity_at_bottom"] == pytest.approx(alpha ** len(branching), rel=1e-12)


def test_p3_blame_sinks_to_the_grassroots(pattern):
    scenario = pattern("p3_blame_sinks")
    shifting = means(scenario, "blame_shifting", "sanction_share_township", "wrongful_sanction_rate")
    precise = means(scenario, "precise", "sanction_share_township", "wrongful_sanction_rate")
    assert shifting["sanction_share_township"].mean() > 0.85
    assert_greater(shifting["sanction_share_township"], precise["sanction_share_township"], margin=0.1, what="P3")
    assert_greater(shifting["wrongful_sanction_rate"], precise["wrongful_sanction_rate"], what="P3 wrongful")


def test_p4_fear_freezes_and_fault_tolerance_thaws(pattern):
    scenario = pattern("p4_fear_freezes")
    outputs = ("share_blanket_ban", "share_innovate")
    mild, harsh, tolerant = (means(scenario, arm, *outputs) for arm in ("mild", "harsh", "harsh_fault_tolerance"))
    assert_greater(harsh["share_blanket_ban"], mild["share_blanket_ban"], what="P4 bans rise")
    assert_greater(mild["share_innovate"], harsh["share_innovate"], what="P4 innovation falls")
    assert_greater(harsh["share_blanket_ban"], tolerant["share_blanket_ban"], what="P4 fault tolerance cuts bans")
    assert_greater(tolerant["share_innovate"], harsh["share_innovate"], what="P4 fault tolerance restores innovation")


def test_p5_paper_inspection_breeds_traces_and_fakes(pattern):
    scenario = pattern("p5_traces")
    outputs = ("share_formalism", "share_falsify", "implementation_gap")
    paper, onsite = means(scenario, "paper", *outputs), means(scenario, "onsite", *outputs)
    faking_paper = paper["share_formalism"] + paper["share_falsify"]
    faking_onsite = onsite["share_formalism"] + onsite["share_falsify"]
    assert_greater(faking_paper, faking_onsite, margin=0.05, what="P5 formalism + falsification")
    assert_greater(paper["implementation_gap"], onsite["implementation_gap"], what="P5 gap")


def test_p6_campaigns_lift_then_rebound(pattern):
    scenario = pattern("p6_campaign")  # campaign in periods 60-74 of 110
    tables = replication_tables(scenario, None, replications=REPLICATIONS, steps=110)
    outputs = ["goal_attainment", "share_falsify"]
    before, during, after = (window_means(tables, outputs, w) for w in (slice(45, 60), slice(62, 75), slice(95, 111)))
    assert_greater(during["goal_attainment"], before["goal_attainment"], what="P6 rise")
    assert_greater(during["goal_attainment"], after["goal_attainment"], what="P6 rebound")
    assert_greater(before["share_falsify"], during["share_falsify"], what="P6 falsification dips")
    assert_greater(after["share_falsify"], during["share_falsify"], what="P6 falsification returns")


def test_p7_oversight_has_an_interior_optimum(pattern):
    scenario = pattern("p7_oversight")
    arms = ("none", "light", "moderate", "heavy", "very_heavy")
    results = {arm: means(scenario, arm, "goal_attainment", "burden", "share_falsify", "share_shirk") for arm in arms}
    goal = {arm: r["goal_attainment"] for arm, r in results.items()}
    assert_greater(goal["moderate"], goal["none"], what="P7 some oversight beats none")
    assert_greater(goal["moderate"], goal["very_heavy"], what="P7 too much oversight hurts")
    for lighter, heavier in itertools.pairwise(arms):
        assert_greater(results[heavier]["burden"], results[lighter]["burden"], what=f"P7 burden {lighter}<{heavier}")
    faking = {arm: r["share_falsify"] + r["share_shirk"] for arm, r in results.items()}
    assert_greater(faking["none"], faking["moderate"], margin=0.05, what="P7 no oversight invites faking")


def test_p8_unfunded_mandates(pattern):
    scenario = pattern("p8_unfunded_mandates")
    funded = means(scenario, "funded_precise", "goal_attainment", "wrongful_sanction_rate")
    unfunded = means(scenario, "unfunded_shifted", "goal_attainment", "wrongful_sanction_rate")
    assert_greater(funded["goal_attainment"], unfunded["goal_attainment"], margin=0.1, what="P8 attainment")
    assert_greater(unfunded["wrongful_sanction_rate"], funded["wrongful_sanction_rate"], what="P8 wrongful")


# --- negative controls: with the mechanism switched off, the pattern disappears ------------


def test_control_p3_without_blame_shifting_sanctions_do_not_sink(pattern):
    scenario = pattern("p3_blame_sinks").with_overrides(["parameters.accountability.blame_shift=0.3"])
    shares = means(scenario, "blame_shifting", "sanction_share_township")["sanction_share_township"]
    assert shares.mean() < 0.5


def test_control_p5_without_a_paper_blind_spot_inspection_mode_does_not_matter(pattern):
    scenario = pattern("p5_traces").with_overrides(
        ["parameters.accountability.detect_paper=0.9", "parameters.execution.formalism_claim=0.2"]
    )
    outputs = ("share_formalism", "share_falsify")
    paper, onsite = means(scenario, "paper", *outputs), means(scenario, "onsite", *outputs)
    difference = (paper["share_formalism"] + paper["share_falsify"]) - (
        onsite["share_formalism"] + onsite["share_falsify"]
    )
    assert abs(difference.mean()) < 0.05


def test_control_p7_free_inspections_have_no_interior_optimum(pattern):
    """Without the cost of hosting inspections, heavy oversight no longer lowers attainment."""
    scenario = pattern("p7_oversight").with_overrides(["parameters.accountability.hosting_cost=0.0"])
    moderate = means(scenario, "moderate", "goal_attainment")["goal_attainment"]
    very_heavy = means(scenario, "very_heavy", "goal_attainment")["goal_attainment"]
    assert (moderate - very_heavy).mean() < 0.03
