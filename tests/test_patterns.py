"""Patterns P1-P10 of docs/ODD.md, each on its scenario in scenarios/patterns/.

P1 and P2 are closed forms and hold exactly. P3-P10 are the claims declared in sim.checks.patterns,
the same ones docs/VALIDATION.md reports with more replications: replication k of every arm
uses the same seed, the statistic is each replication's mean over a window after burn-in, and
a claim holds when the 95% confidence interval of the paired difference lies above its margin.
A model with the mechanism removed fails these tests: see the negative controls at the end.
"""

from __future__ import annotations

import pytest
from conftest import SCENARIOS, replication_tables, window_means

from sim import BureauModel
from sim.checks.patterns import PATTERNS, check_replications, evaluate, pattern_scenario

REPLICATIONS = 6
STEPS = 40
WINDOW = slice(21, 41)  # periods 21-40: after learning has settled


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


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.id for p in PATTERNS])
def test_pattern_claims_hold_over_replications(pattern):
    """Every claim of P3-P10 (sim.checks.patterns, the same claims docs/VALIDATION.md reports)."""
    scenario = pattern_scenario(pattern, SCENARIOS / "patterns")
    for result in evaluate(pattern, scenario, check_replications(scenario, REPLICATIONS)):
        assert result.holds, (
            f"{result.pattern} {result.claim}: mean {result.mean:.4f}, "
            f"95% CI [{result.ci_low:.4f}, {result.ci_high:.4f}] not above {result.margin}"
        )


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
