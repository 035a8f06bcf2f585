"""Unit tests of the model's equations (sim.model.rules), one mechanism at a time."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import rules
from sim.scenario.parameters import Execution
from sim.scenario.strategies import Strategy

S = Strategy


def test_relay_escalates_dilutes_and_strips():
    rate = rules.escalation_rate(0.1, 0.0, 1.0, 2.0, 0.5)
    assert rate == pytest.approx(0.1)
    assert rules.escalation_rate(0.1, 1.0, 2.0, 1.5, 0.5) == pytest.approx(0.1 * (1 + 1.0 * 2.0 * 1.5 * 0.5))
    assert rules.relayed_target(1.2, 0.25) == pytest.approx(1.5)
    assert rules.relayed_clarity(0.8, 0.1) == pytest.approx(0.72)
    assert rules.relayed_resources(1.0, 0.2, 0.3, False) == pytest.approx(0.8)
    assert rules.relayed_resources(1.0, 0.2, 0.3, True) == pytest.approx(1.3)


def test_relay_damage_is_zero_without_friction_and_grows_with_each_friction():
    assert rules.relay_damage(0.0, 0.0, 0.0, False) == pytest.approx(0.0)
    base = rules.relay_damage(0.1, 0.05, 0.1, False)
    assert rules.relay_damage(0.2, 0.05, 0.1, False) > base
    assert rules.relay_damage(0.1, 0.10, 0.1, False) > base
    assert rules.relay_damage(0.1, 0.05, 0.2, False) > base
    assert rules.relay_damage(0.1, 0.05, 0.9, True) == pytest.approx(np.log1p(0.1) - np.log(0.95))
    assert np.isfinite(rules.relay_damage(0.1, 1.0, 1.0, False))


def test_paperwork_grows_with_relays_and_principals():
    assert rules.paperwork_load(1, 0.05, 0.04, 3) == pytest.approx(0.17)
    assert rules.paperwork_load(3, 0.05, 0.04, 3) == pytest.approx(0.51)


def test_choice_probabilities_are_a_distribution_and_follow_attractions():
    attractions = np.array([[1.0, 0.0, -1.0, 0.5, 0.2, 0.0], [0.0] * 6])
    p = rules.choice_probabilities(attractions, 0.5)
    assert p.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert p[0].argmax() == 0
    assert p[1] == pytest.approx(np.full(6, 1 / 6))
    greedy = rules.choice_probabilities(attractions, 0.0)
    assert greedy[0] == pytest.approx([1, 0, 0, 0, 0, 0])
    assert greedy[1] == pytest.approx(np.full(6, 1 / 6))
    assert np.isfinite(rules.choice_probabilities(np.array([1e6, -1e6, 0, 0, 0, 0]), 0.01)).all()


def test_inverse_cdf_choice_matches_probabilities():
    p = np.array([0.1, 0.2, 0.3, 0.0, 0.4, 0.0])
    with np.errstate(divide="ignore"):
        attractions = np.log(p)  # with temperature 1, the logit weights are p itself
    u = np.random.default_rng(3).random(200_000)
    chosen = rules.choose_strategy(np.broadcast_to(attractions, (len(u), 6)), 1.0, u)
    frequencies = np.bincount(chosen, minlength=6) / len(u)
    assert frequencies == pytest.approx(p, abs=0.005)
    assert rules.choose_strategy(attractions, 1.0, 0.0) == 0
    assert rules.choose_strategy(attractions, 1.0, 0.9999999) == 4
    one_by_one = [rules.choose_strategy(attractions, 1.0, x) for x in u[:500]]
    assert one_by_one == chosen[:500].tolist()


def test_failure_risk_only_for_genuine_attempts():
    for s in S:
        expected = {"task": 0.1, "innovation": 0.3, "none": 0.0}[s.spec.risk]
        assert rules.failure_risk(s, 0.1, 3.0) == pytest.approx(expected), s.label
    assert [s for s in S if s.spec.risk != "none"] == [S.SUBSTANTIVE, S.INNOVATE]
    assert rules.failure_risk(S.INNOVATE, 0.5, 3.0) == 1.0


def test_execution_table():
    ex = Execution(formalism_output=0.2, formalism_claim=0.9, ban_output=0.1, ban_harm=0.5, failure_loss=0.5)
    strategies = np.arange(6)
    target, free, clarity, resources = 1.2, 1.0, 0.8, 1.2
    output, claim, harm = rules.execute(strategies, target, free, clarity, resources, np.zeros(6, bool), ex)
    substantive = min(target, free * clarity)  # fully funded
    innovative = min(target, free * ex.innovation_gain * 0.5 * (1 + clarity))
    assert output == pytest.approx([substantive, 0.2 * substantive, 0.0, 0.1, innovative, 0.0])
    assert claim == pytest.approx([substantive, 0.9 * target, target, target, innovative, 0.0])
    assert harm == pytest.approx([0, 0, 0, 0.5, 0, 0])
    failed_output, _, _ = rules.execute(strategies, target, free, clarity, resources, np.ones(6, bool), ex)
    assert failed_output[[0, 4]] == pytest.approx(0.5 * output[[0, 4]])
    assert failed_output[[1, 2, 3, 5]] == pytest.approx(output[[1, 2, 3, 5]])


def test_unfunded_target_lowers_productivity():
    assert rules.funding_factor(1.0, 1.0, 0.3) == pytest.approx(1.0)
    assert rules.funding_factor(0.0, 1.0, 0.3) == pytest.approx(0.7)
    assert rules.funding_factor(0.5, 1.0, 0.4) == pytest.approx(0.8)
    assert rules.funding_factor(5.0, 1.0, 0.4) == pytest.approx(1.0)  # funding beyond the target does not help
    # substantive output is free capacity x q, q = c (1 - beta (1 - phi)), capped at the target
    ex = Execution(resource_dependence=0.4)
    output, _, _ = rules.execute(
        np.array([0]), np.array([2.0]), np.array([1.0]), np.array([0.5]), np.array([1.0]), np.array([False]), ex
    )
    assert output == pytest.approx([1.0 * 0.5 * (1 - 0.4 * (1 - 0.5))])


def test_capacity_accounting():
    assert rules.free_capacity(1.0, 0.3, 0.9) == 0.0
    assert rules.burden(1.0, 0.3, 0.9) == 1.0
    assert rules.burden(2.0, 0.3, 0.1) == pytest.approx(0.2)
    assert rules.capacity_used(2.0, 0.2, 0.2, 1.6, S.SUBSTANTIVE) == pytest.approx(1.0)
    assert rules.capacity_used(2.0, 0.2, 0.2, 1.6, S.SHIRK) == pytest.approx(0.2)


def test_reports_are_capped_at_what_was_demanded():
    assert rules.aggregate_report(10.0, 0.1, 1.0, 12) == pytest.approx(11.0)
    assert rules.aggregate_report(11.5, 0.1, 1.0, 12) == pytest.approx(12.0)


def test_inspection_count_has_the_requested_mean_and_respects_cap_and_slots():
    u = np.random.default_rng(1).random((100_000, 1))
    assert rules.inspection_count(np.array([2.3]), u, None).mean() == pytest.approx(2.3, abs=0.01)
    assert rules.inspection_count(np.array([2.3]), u, 1).max() == 1
    slots = np.random.default_rng(2).random((100_000, 3))
    rate = 0.5 * (np.arange(3) < 2)  # a unit with two principals
    assert rules.inspection_count(rate, slots, None).mean() == pytest.approx(1.0, abs=0.01)


def test_inspection_sees_output_on_site_and_claims_on_paper():
    f = S.FALSIFY
    assert rules.inspection_score(S.FORMALISM, 0.2, 0.9, False, False) == 0.9
    assert rules.inspection_score(S.FORMALISM, 0.2, 0.9, True, False) == 0.2
    assert rules.inspection_score(f, 0.0, 1.0, True, False) == 1.0  # an undetected falsifier fools the inspector
    assert rules.inspection_score(f, 0.0, 1.0, True, True) == 0.0
    assert rules.shortfall(0.69, 1.0, 0.7) and not rules.shortfall(0.7, 1.0, 0.7)


def test_finding_causes():
    assert rules.finding_cause(S.FALSIFY, False) == rules.CAUSE_OWN
    assert rules.finding_cause(S.SHIRK, True) == rules.CAUSE_OWN
    assert rules.finding_cause(S.SUBSTANTIVE, True) == rules.CAUSE_CHANCE
    assert rules.finding_cause(S.INNOVATE, False) == rules.CAUSE_CONDITIONS


def test_cause_level_is_the_most_damaging_relay_with_ties_to_the_lowest():
    conditions = rules.CAUSE_CONDITIONS

    def cause(kind, damages, relays):
        return rules.cause_level(kind, *rules.failing_relay(damages, relays), relays)

    assert cause(conditions, [0.1, 0.3, 0.2], 3) == 1
    assert cause(conditions, [0.2, 0.2, 0.2], 3) == 2
    assert cause(conditions, [0.0, 0.0, 0.0], 3) == 3
    assert cause(rules.CAUSE_OWN, [0.1, 0.3, 0.2], 3) == 3
    assert cause(conditions, [], 0) == 0
    many = rules.failing_relay([np.array([0.1, 0.5]), np.array([0.3, 0.5]), np.array([0.2, 0.1])], 3)
    assert many[0].tolist() == [1, 1] and many[1].tolist() == [0.3, 0.5]


@pytest.mark.parametrize("blame_shift", [0.5, 0.8, 0.95])
def test_sanctions_rise_geometrically(blame_shift):
    u = np.random.default_rng(5).random(200_000)
    rises = rules.levels_up(u, blame_shift, 3)
    up = 1 - blame_shift
    for k in range(3):
        assert (rises == k).mean() == pytest.approx(up**k * blame_shift, abs=0.005)
    assert (rises == 3).mean() == pytest.approx(up**3, abs=0.005)
    assert rules.levels_up(u, 1.0, 3).max() == 0
    assert rules.levels_up(u, 0.0, 3).min() == 3


def test_landing_level_and_wrongful():
    assert rules.landing_level(1, 0.5, 0.95, True, 3) == 1
    assert rules.landing_level(1, 0.5, 1.0, False, 3) == 3
    conditions, chance, own = rules.CAUSE_CONDITIONS, rules.CAUSE_CHANCE, rules.CAUSE_OWN
    assert rules.wrongful(S.SUBSTANTIVE, conditions, 1, 3)  # blamed at the bottom for a decision above
    assert not rules.wrongful(S.SUBSTANTIVE, conditions, 1, 1)  # sanctioned where the decision was made
    assert rules.wrongful(S.INNOVATE, chance, 3, 3)  # bad luck
    assert not rules.wrongful(S.FALSIFY, own, 3, 3)
    assert not rules.wrongful(S.FORMALISM, conditions, 1, 3)


def test_payoff_and_learning():
    ex = Execution(report_value=0.5, intrinsic_motivation=0.65, effort_cost=0.6)
    u = rules.payoff(1.0, 0.8, 0.0, 1.2, 1.0, S.SUBSTANTIVE, 1.0, 0.1, 2.0, 1.0, ex, 0.65)
    assert u == pytest.approx(0.5 * 1.0 / 1.2 + 0.65 * 0.8 - 0.6 - 2.0 + 0.1)
    banned = rules.payoff(1.2, 0.1, 0.5, 1.2, 1.0, S.BLANKET_BAN, 0.0, 0.0, 1.0, 1.0, ex, 0.65)
    assert banned == pytest.approx(0.5 + 0.65 * (0.1 - 0.5) - 0.6 * 0.3)
    motivated = rules.payoff(1.0, 0.8, 0.0, 1.2, 1.0, S.SUBSTANTIVE, 1.0, 0.1, 2.0, 1.0, ex, 1.3)
    assert motivated - u == pytest.approx((1.3 - 0.65) * 0.8)  # an official's own motivation, not the scenario's
    a = rules.reinforce(np.array([1.0, 2.0, 0, 0, 0, 0]), S.FORMALISM, 0.5, 0.2, 1.0)
    assert a == pytest.approx([0.8, 2.1, 0, 0, 0, 0])
    assert rules.update_belief(0.5, 1.0, 0.0, 0.2, 0.5) == pytest.approx(0.8 * 0.5 + 0.2 * 0.5)


def test_ranking_quota_floors_with_a_tolerance_for_floating_point():
    assert rules.ranking_quota(0.58, 50) == 29  # 0.58 * 50 is 28.999999999999996 in floating point
    assert rules.ranking_quota(0.1, np.array([9, 10, 19, 20])).tolist() == [0, 1, 1, 2]
