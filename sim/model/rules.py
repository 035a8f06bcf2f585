"""The model's equations (docs/ODD.md, section 7) as elementwise functions.

Every function here works on numpy scalars and on numpy arrays alike, with no branching on
values in Python. An :class:`sim.model.agent_engine.Official` calls them with its own entries; a
vectorised engine can call the same functions with whole levels. Keeping the arithmetic in
one place is what lets two engines give the same numbers.
"""

from __future__ import annotations

import numpy as np

from sim.scenario.strategies import Strategy

EFFORT_SHARE = np.array([1.0, 0.8, 0.2, 0.3, 1.0, 0.0])
"""Share of free capacity each strategy uses (ODD 7.2), indexed by :class:`Strategy`."""

GENUINE = np.array([True, False, False, False, True, False])
"""Strategies that are genuine attempts at the directive (SUBSTANTIVE, INNOVATE)."""

N_STRATEGIES = len(Strategy)

# Finding causes (ODD 7.5)
CAUSE_OWN, CAUSE_CHANCE, CAUSE_CONDITIONS = 0, 1, 2


# --- 7.1 relay -----------------------------------------------------------------------------


def escalation_rate(escalation, pressure, weight, risk_aversion, belief):
    """Per-relay escalation e_j = e (1 + η w ρ_j b_j)."""
    return escalation * (1.0 + pressure * weight * risk_aversion * belief)


def relayed_target(target, rate):
    """Target passed to subordinates: T (1 + e_j)."""
    return target * (1.0 + rate)


def relayed_clarity(clarity, dilution):
    """Clarity passed to subordinates: c (1 − d)."""
    return clarity * (1.0 - dilution)


def relayed_resources(resources, stripping, rate, funded):
    """Resources passed down: r (1 + e_j) when funding follows the task, else r (1 − s)."""
    return np.where(funded, resources * (1.0 + rate), resources * (1.0 - stripping))


def relay_damage(rate, dilution, stripping, funded):
    """How much one relay made the task harder: ln(1 + e_j) − ln(1 − d) − ln(1 − s)."""
    kept = np.where(funded, 1.0, 1.0 - stripping)
    with np.errstate(divide="ignore"):
        return np.log1p(rate) - np.log(np.maximum(1.0 - dilution, 1e-300)) - np.log(np.maximum(kept, 1e-300))


def paperwork_load(principals, task_paperwork, per_relay, relays):
    """Paperwork a grassroots unit carries: n (π₀ + L π_r)."""
    return principals * (task_paperwork + relays * per_relay)


# --- 7.2 execute ---------------------------------------------------------------------------


def free_capacity(capacity, paperwork, hosting):
    """Capacity left for the directive: max(0, K − π − h)."""
    return np.maximum(0.0, capacity - paperwork - hosting)


def funding_factor(resources, target, dependence):
    """1 − β (1 − φ), φ = min(1, r / T): the ODD's productivity q = c (1 − β (1 − φ)) without its clarity c.

    :func:`execute` multiplies free capacity by clarity and by this factor, in that order.
    """
    funded = np.minimum(1.0, resources / np.maximum(target, 1e-12))
    return 1.0 - dependence * (1.0 - funded)


def _logit_weights(attractions, temperature):
    """Unnormalised logit weights, one array per strategy, and their sum.

    Strategies are on the last axis of ``attractions``. Rows are short (one entry per
    strategy), so the maximum and the sum are taken column by column, in strategy order:
    fast on whole levels and the same arithmetic for one official as for many.
    """
    attractions = np.asarray(attractions, dtype=float)
    columns = [attractions[..., s] for s in range(attractions.shape[-1])]
    best = columns[0]
    for column in columns[1:]:
        best = np.maximum(best, column)
    if temperature <= 0:
        weights = [(column == best).astype(float) for column in columns]
    else:
        with np.errstate(over="ignore"):  # a tiny temperature sends the gaps to -inf: weight 0
            weights = [np.exp((column - best) / temperature) for column in columns]
    total = weights[0]
    for weight in weights[1:]:
        total = total + weight
    return weights, total


def choice_probabilities(attractions, temperature):
    """Logit choice over strategies: P(s) ∝ exp(A_s / τ); τ = 0 picks the best (ties shared).

    ``attractions`` has strategies on the last axis; so does the result.
    """
    weights, total = _logit_weights(attractions, temperature)
    return np.stack([weight / total for weight in weights], axis=-1)


def choose_strategy(attractions, temperature, uniform):
    """Logit choice by inverse CDF: the first strategy whose cumulative probability exceeds ``uniform``."""
    weights, total = _logit_weights(attractions, temperature)
    cumulative = np.zeros(np.shape(total))
    index = np.zeros(np.shape(total), dtype=np.int64)
    for weight in weights:
        cumulative = cumulative + weight / total
        index = index + (cumulative <= uniform)
    return np.minimum(index, N_STRATEGIES - 1)


def failure_risk(strategy, risk, innovation_risk):
    """Risk that a genuine attempt fails: p for SUBSTANTIVE, p × m for INNOVATE, else 0."""
    return np.where(
        strategy == Strategy.SUBSTANTIVE,
        risk,
        np.where(strategy == Strategy.INNOVATE, np.minimum(1.0, risk * innovation_risk), 0.0),
    )


def execute(strategy, target, free, clarity, resources, failed, execution):
    """Real output, claim and collateral harm of a strategy (ODD 7.2 table).

    Args:
        strategy: Strategy codes.
        target: Target received T_i.
        free: Free capacity F_i.
        clarity: Clarity received c_i.
        resources: Resources received r_i.
        failed: Whether the risk draw failed the attempt.
        execution: The ``execution`` parameter group.

    Returns:
        ``(output, claim, harm)`` arrays.
    """
    funding = funding_factor(resources, target, execution.resource_dependence)
    substantive = np.minimum(target, free * clarity * funding)
    innovative = np.minimum(target, free * execution.innovation_gain * 0.5 * (1.0 + clarity) * funding)
    loss = 1.0 - execution.failure_loss * failed
    ban = np.minimum(target, execution.ban_output)
    # one entry per strategy, in Strategy order: SUBSTANTIVE, FORMALISM, FALSIFY, BLANKET_BAN, INNOVATE, SHIRK
    output = np.choose(
        strategy, [substantive * loss, execution.formalism_output * substantive, 0.0, ban, innovative * loss, 0.0]
    )
    claim = np.choose(strategy, [output, execution.formalism_claim * target, target, target, output, 0.0])
    harm = np.where(strategy == Strategy.BLANKET_BAN, execution.ban_harm, 0.0)
    return output, claim, harm


def capacity_used(capacity, paperwork, hosting, free, strategy):
    """Share of capacity consumed: min(1, (π + h + effort share × F) / K)."""
    used = paperwork + hosting + EFFORT_SHARE[strategy] * free
    return np.minimum(1.0, used / np.maximum(capacity, 1e-12))


def burden(capacity, paperwork, hosting):
    """Share of capacity consumed by paperwork and hosting: min(1, (π + h) / K)."""
    return np.minimum(1.0, (paperwork + hosting) / np.maximum(capacity, 1e-12))


def ranking_quota(fraction, size):
    """⌊fraction × size⌋ units of a sibling group ranked and sanctioned (ODD 7.4).

    A tolerance of 1e-9 keeps products that are whole numbers on paper whole in floating point
    (0.58 × 50 is 28.999999999999996).
    """
    return np.floor(np.multiply(fraction, size) + 1e-9).astype(np.int64)


# --- 7.3 report ----------------------------------------------------------------------------


def aggregate_report(children_total, inflation, target, leaves):
    """An intermediate report: min((1 + ι) Σ children, T N)."""
    return np.minimum((1.0 + inflation) * children_total, target * leaves)


# --- 7.4 inspect ---------------------------------------------------------------------------


def inspection_count(rate, uniforms, cap):
    """Inspections by one principal, ⌊v⌋ + [u < v − ⌊v⌋], summed over principals, capped.

    ``uniforms`` and ``rate`` have principal slots on the last axis; a slot a unit does not
    have gets rate 0, so it never inspects.
    """
    uniforms = np.asarray(uniforms)
    rate = np.broadcast_to(rate, uniforms.shape)
    count = np.zeros(uniforms.shape[:-1])
    for slot in range(uniforms.shape[-1]):
        whole = np.floor(rate[..., slot])
        count = count + whole + (uniforms[..., slot] < rate[..., slot] - whole)
    return count if cap is None else np.minimum(count, cap)


def inspection_score(strategy, output, claim, onsite, falsify_caught):
    """What an inspection sees: real output on site, the claim on paper (or an uncaught falsifier's claim)."""
    sees_reality = onsite & ~((strategy == Strategy.FALSIFY) & ~falsify_caught)
    return np.where(sees_reality, output, claim)


def shortfall(score, target, threshold):
    """Whether a score falls below θ T."""
    return score < threshold * target


# --- 7.5 attribution -----------------------------------------------------------------------


def finding_cause(strategy, failed):
    """Cause of a finding: own choice, chance (a failed genuine attempt) or conditions."""
    genuine = GENUINE[strategy]
    return np.where(~genuine, CAUSE_OWN, np.where(failed, CAUSE_CHANCE, CAUSE_CONDITIONS))


def failing_relay(damages, relays):
    """The ancestor level whose relay did the most damage (ties to the lowest level), and that damage.

    Args:
        damages: One entry per ancestor level 0 .. L − 1: the relay damage of each unit's
            ancestor on that level (scalars for one unit, arrays for many).
        relays: L, the grassroots level.
    """
    if len(damages) == 0:
        return relays, 0.0
    level = np.full(np.shape(damages[-1]), relays - 1)
    best = np.asarray(damages[-1], dtype=float)
    for k in range(relays - 2, -1, -1):
        better = damages[k] > best
        best = np.where(better, damages[k], best)
        level = np.where(better, k, level)
    return level, best


def cause_level(cause, failing_level, failing_damage, relays):
    """Level at which a finding's failing decision was made.

    The failing relay (:func:`failing_relay`) for condition causes when it did any damage;
    the grassroots level otherwise.
    """
    return np.where((cause == CAUSE_CONDITIONS) & (failing_damage > 0), failing_level, relays)


def levels_up(uniform, blame_shift, top):
    """How many levels a sanction rises from where it was found: ⌊ln u / ln(1 − b)⌋, at most ``top``.

    It rises *k* levels with probability (1 − b)^k b, truncated at ``top``.
    """
    stay_up = 1.0 - blame_shift
    if stay_up <= 0:
        return np.zeros(np.shape(uniform), dtype=np.int64)
    if stay_up >= 1:
        return np.full(np.shape(uniform), top, dtype=np.int64)
    rises = np.floor(np.log(np.maximum(uniform, 1e-300)) / np.log(stay_up))
    return np.minimum(rises, top).astype(np.int64)


def landing_level(cause_lvl, uniform, blame_shift, precise, relays):
    """Level that bears a sanction: the cause level if precise, else shifted up from the grassroots."""
    if precise:
        return np.asarray(cause_lvl, dtype=np.int64)
    return relays - levels_up(uniform, blame_shift, relays)


def wrongful(strategy, cause, cause_lvl, landing):
    """A sanction on a genuine attempt that failed by chance, or that missed the cause level."""
    genuine = GENUINE[strategy]
    return genuine & ((cause == CAUSE_CHANCE) | ((cause == CAUSE_CONDITIONS) & (landing != cause_lvl)))


# --- 7.6 learn -----------------------------------------------------------------------------


def payoff(
    claim, output, harm, target, original_target, strategy, sanction_severity, reward, risk_aversion, weight, execution
):
    """U = v_r m / T + v_m (min(y, T₀) / T₀ − H) − κ effort − ρ w S + reward."""
    return (
        execution.report_value * claim / np.maximum(target, 1e-12)
        + execution.intrinsic_motivation * (np.minimum(output, original_target) / original_target - harm)
        - execution.effort_cost * EFFORT_SHARE[strategy]
        - risk_aversion * weight * sanction_severity
        + reward
    )


def reinforce(attractions, strategy, value, forgetting, rate):
    """Roth–Erev with forgetting: A ← (1 − φ) A, then A_s += α U for the chosen s."""
    updated = (1.0 - forgetting) * np.asarray(attractions, dtype=float)
    rows = updated.reshape(-1, updated.shape[-1])  # a view: one official is one row
    rows[np.arange(len(rows)), np.ravel(strategy)] += np.ravel(rate * value)
    return updated


def update_belief(belief, sanctioned, peer_share, rate, peer_weight):
    """B ← (1 − γ) b + γ ((1 − ψ) own + ψ peers)."""
    return (1.0 - rate) * belief + rate * ((1.0 - peer_weight) * sanctioned + peer_weight * peer_share)
