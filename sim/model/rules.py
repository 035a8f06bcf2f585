"""The model's equations (docs/ODD.md, section 7) as elementwise functions.

Every function here works on numpy scalars and on numpy arrays alike, with no branching on
values in Python. An :class:`sim.model.agent_engine.Official` calls them with its own entries; the
vectorised engine calls the same functions with whole levels. All the arithmetic of every
phase is here, and the engines only schedule and index: that is what lets two engines give
the same numbers, and a new mechanism be written once.

Each phase has one function that the engines call (:func:`relay`, :func:`strategy_choice`
and :func:`carry_out`, :func:`grassroots_report` and :func:`report_inflation`,
:func:`inspect`, :func:`findings`, :func:`excused`, :func:`reward`, :func:`reinforced`,
:func:`peer_share`), built from the single equations below them. What differs between
strategies is read from the strategy table (:data:`sim.scenario.strategies.STRATEGIES`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.scenario.strategies import STRATEGIES, Strategy

EFFORT_SHARE = np.array([spec.effort_share for spec in STRATEGIES])
"""Share of free capacity each strategy uses (ODD 7.2), indexed by strategy code."""

GENUINE = np.array([spec.genuine for spec in STRATEGIES])
"""Strategies that are genuine attempts at the directive (substantive work, innovation)."""

FABRICATED = np.array([spec.fabricated for spec in STRATEGIES])
"""Strategies whose claim is made up, so that only detection shows an inspector the truth (falsification)."""

HARMFUL = np.array([spec.harm for spec in STRATEGIES])
"""Strategies that do collateral harm (blanket bans)."""

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


class Relayed(NamedTuple):
    """What one relay does: the escalation applied, the damage done, and what the subordinates receive."""

    rate: np.ndarray
    damage: np.ndarray
    target: np.ndarray
    clarity: np.ndarray
    resources: np.ndarray


def level_escalation(r, level):
    """The base escalation e_k of the relay from ``level``: its entry of ``escalation_by_level``, else e (ODD 12.5)."""
    return r.escalation if r.escalation_by_level is None else r.escalation_by_level[level]


def tournament_factor(markup, competitors):
    """1 + κ ln n_j: a markup that grows with the subordinates competing below (Li, Liu, Weng & Zhou 2019)."""
    return 1.0 + markup * np.log(np.maximum(competitors, 1))


def relay(target, clarity, resources, risk_aversion, belief, weight, r, level=0, competitors=1, chosen=None) -> Relayed:
    """The relay phase (ODD 7.1) for officials holding ``target``, ``clarity`` and ``resources``.

    Args:
        target: Target received (a task axis last, in a portfolio).
        clarity: Clarity received.
        resources: Resources received.
        risk_aversion: The relaying officials' risk aversion (broadcast against the task axis).
        belief: Their believed chance of being sanctioned.
        weight: The tasks' political weight (``p.task.weight`` for the one directive).
        r: The ``relay`` parameter group (in a portfolio, with the tasks' own values as arrays).
        level: The relaying officials' level (for ``relay.escalation_by_level``).
        competitors: Their numbers of subordinates (for ``relay.tournament_markup``; broadcast
            against the task axis).
        chosen: With middle levels that decide (ODD 13.1), the relay each official chose, as
            ``(option, middle, feasible)``: option codes, the ``middle`` group and the share φ_j
            of a clarification each can carry out; ``None``: the fixed rates of 7.1.
    """
    rate = escalation_rate(level_escalation(r, level), r.escalation_pressure, weight, risk_aversion, belief)
    if r.tournament_markup:
        rate = rate * tournament_factor(r.tournament_markup, competitors)
    dilution, stripping = r.dilution, r.stripping
    if level in r.exempt_relays:  # switched off (ODD 17): passed on unchanged, whatever its officials chose
        rate, dilution, stripping, chosen = rate * 0.0, 0.0, 0.0, None
    passed = relayed_clarity(clarity, dilution)
    if chosen is not None:
        option, middle, feasible = chosen
        rate = chosen_rate(rate, option, middle.escalate_margin)
        handed_down = clarified(passed, option, middle.clarify_gain, feasible)
        dilution = np.where(option == CLARIFY, seen_dilution(clarity, handed_down, dilution), dilution)
        passed = handed_down
    return Relayed(
        rate,
        relay_damage(rate, dilution, stripping, r.funded_escalation),
        relayed_target(target, rate),
        passed,
        relayed_resources(resources, stripping, rate, r.funded_escalation),
    )


# --- 13.1 middle levels that decide -------------------------------------------------------

PASS_ON, CLARIFY, ESCALATE = 0, 1, 2
RELAY_OPTIONS = ("pass_on", "clarify", "escalate")
"""The relay options of ODD 13.1, by code."""


def chosen_rate(rate, option, margin):
    """The escalation applied: e_j, or (1 + e_j)(1 + μ) − 1 for an official that escalates."""
    return np.where(option == ESCALATE, (1.0 + rate) * (1.0 + margin) - 1.0, rate)


def clarified(passed, option, gain, feasible):
    """Clarity handed down: c′, or c′ + χ φ (1 − c′) for an official that clarifies."""
    return np.where(option == CLARIFY, passed + gain * feasible * (1.0 - passed), passed)


def seen_dilution(clarity, handed_down, dilution):
    """The dilution subordinates actually see, 1 − c_child / c_j (negative when clarified); d when c_j is 0."""
    safe = np.where(clarity > 0, clarity, 1.0)
    return np.where(clarity > 0, 1.0 - handed_down / safe, dilution)


def middle_free(capacity, middle, hosting):
    """A middle office's capacity free for relay work: max(0, K f − π_m − h)."""
    return np.maximum(0.0, capacity * middle.capacity_factor - middle.paperwork - hosting)


def clarified_count(option, worked=None):
    """n_c: tasks each official clarifies, 0 or 1 for one directive; in a portfolio, over the tasks ``worked``."""
    clarifying = np.asarray(option == CLARIFY)
    if worked is None:
        return clarifying.astype(np.int64)
    return over_tasks((clarifying & worked).astype(np.int64))


def clarify_share(free, clarify_time, clarified):
    """φ_j = min(1, F / (t n_c)): the share of its clarifications an official has the time for (1 with no need)."""
    need = clarify_time * clarified
    return np.where(need > 0, np.minimum(1.0, free / np.where(need > 0, need, 1.0)), 1.0)


def clarify_effort(free, clarify_time, clarified):
    """E_j = min(1, t n_c / F) / n_c per task clarified: the share of free capacity one clarification takes."""
    need = clarify_time * clarified
    share = np.where(free > 0, np.minimum(1.0, need / np.where(free > 0, free, 1.0)), 1.0)
    return np.where(need > 0, share / np.maximum(clarified, 1), 0.0)


def done_share(output, target):
    """What a grassroots unit really did as a share of a target: min(y, T) / T."""
    return np.minimum(output, target) / target


def territory_rate(done_total, leaves):
    """The mean over the grassroots units below an official of what they did (a sum over ``leaves`` units)."""
    return done_total / leaves


def relay_effort(option, effort):
    """E_j for an official that clarifies, 0 for one that passes on or escalates."""
    return np.where(option == CLARIFY, effort, 0.0)


def middle_payoff(completion_rate, territory, motivation, effort, risk_aversion, weight, answerable, execution):
    """U_j = v_r C_j + v_m,j Y_j − κ E_j − ρ_j w (S_j + ζ R_j) (ODD 13.1-13.3)."""
    return (
        execution.report_value * completion_rate
        + motivation * territory
        - execution.effort_cost * effort
        - risk_aversion * weight * answerable
    )


def middle_severity(own, shifted, exposed=None):
    """S_j: its sanctions of 13.2, those blame shifting carried up (channel by channel), and exposure's (13.3)."""
    total = own
    for channel in range(shifted.shape[-1]):
        total = total + shifted[..., channel]
    return total if exposed is None else total + exposed


def answerable(severity, record, responsibility):
    """S_j + ζ R_j: its own sanctions and, under 属地管理, ζ times its territory's mean sanction severity R_j."""
    return severity + responsibility * record


class RelayInspection(NamedTuple):
    """One inspection of relay work (ODD 13.2): who was inspected, and its two findings."""

    inspected: np.ndarray
    verbatim: np.ndarray
    shortfall: np.ndarray


def inspect_relay(option, territory_done, inspect_uniform, detect_uniform, middle, threshold, worked=True):
    """Inspect relay work: a directive relayed unclarified, a territory (output against each unit target) short."""
    inspected = (inspect_uniform < middle.inspection_rate) & worked
    verbatim = inspected & (option != CLARIFY) & (detect_uniform < middle.detect_verbatim)
    return RelayInspection(inspected, verbatim, inspected & (territory_done < threshold))


def relay_findings(seen: RelayInspection):
    """The number (and severity, 1 each) of an inspection of relay work's findings on each official and task."""
    return seen.verbatim.astype(np.int64) + seen.shortfall.astype(np.int64)


def middle_hosting(inspected, hosting_cost, portfolio):
    """Next period's hosting of inspections of relay work: the cost per inspection, summed over tasks."""
    load = np.where(inspected, hosting_cost, 0.0)
    return over_tasks(load) if portfolio else load


def paperwork_load(principals, task_paperwork, per_relay, relays):
    """Paperwork a grassroots unit carries: n (π₀ + L π_r)."""
    return principals * (task_paperwork + relays * per_relay)


def portfolio_paperwork(principals, paperwork, per_relay, relays, active, chain, issuer_load):
    """A portfolio's paperwork (ODD section 11): Σ_τ active n (π₀τ + L π_r) + m × issuers with an active task."""
    per_task = np.where(active, paperwork_load(np.expand_dims(principals, -1), paperwork, per_relay, relays), 0.0)
    issuers = len(np.unique(chain[active]))
    return over_tasks(per_task) + issuer_load * issuers


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
    """Logit choice by inverse CDF: the first strategy whose cumulative probability exceeds ``uniform``.

    Any options on the last axis work the same way (an intermediate official's inflations, ODD 12.3).
    """
    weights, total = _logit_weights(attractions, temperature)
    cumulative = np.zeros(np.shape(total))
    index = np.zeros(np.shape(total), dtype=np.int64)
    for weight in weights:
        cumulative = cumulative + weight / total
        index = index + (cumulative <= uniform)
    return np.minimum(index, len(weights) - 1)


def strategy_choice(attractions, temperature, uniform, execution):
    """The strategies chosen: the scenario's fixed strategy, or the logit choice of :func:`choose_strategy`.

    Strategies in ``execution.ruled_out`` get attraction −∞ for the choice only (weight 0, so
    the same uniform draw picks among the rest); what officials learn of them is unchanged.
    """
    if execution.fixed_strategy is not None:
        return np.full(np.shape(uniform), int(execution.fixed_strategy), dtype=np.int64)
    if execution.ruled_out:
        attractions = np.array(attractions, dtype=float)
        attractions[..., [int(s) for s in execution.ruled_out]] = -np.inf
    return choose_strategy(attractions, temperature, uniform)


PREPARED = np.array([strategy in (Strategy.FALSIFY, Strategy.SHIRK) for strategy in Strategy])
"""Strategies an announced on-site campaign would expose, which a unit may drop to prepare for it."""


def anticipation_share(p):
    """The chance a faking or shirking unit prepares for an announced campaign: none with formalism ruled out."""
    return 0.0 if Strategy.FORMALISM in p.execution.ruled_out else p.campaign.anticipation


def anticipated(strategy, announced, uniform, share):
    """迎检: before an announced campaign a faking or shirking unit prepares traces (formalism) with chance share."""
    switch = announced & PREPARED[strategy] & (uniform < share)
    return np.where(switch, int(Strategy.FORMALISM), strategy)


def failure_risk(strategy, risk, innovation_risk):
    """Risk that an attempt fails, by the strategy's risk rule: p (task), min(1, p × m) (innovation), or 0."""
    risks = {"task": risk, "innovation": np.minimum(1.0, risk * innovation_risk), "none": 0.0}
    return np.choose(strategy, [risks[spec.risk] for spec in STRATEGIES])


def execute(strategy, target, free, clarity, resources, failed, execution, size=None):
    """Real output, claim and collateral harm of a strategy (ODD 7.2 table).

    Args:
        strategy: Strategy codes.
        target: Target received T_i.
        free: Free capacity F_i.
        clarity: Clarity received c_i.
        resources: Resources received r_i.
        failed: Whether the risk draw failed the attempt.
        execution: The ``execution`` parameter group.
        size: In a portfolio, each task's original target T₀τ: a blanket ban on it delivers
            ``ban_output`` × T₀τ and harms ``ban_harm`` × T₀τ, so that a task split in five
            bans as one (ODD section 11). ``None`` for the one directive.

    Returns:
        ``(output, claim, harm)`` arrays.
    """
    funding = funding_factor(resources, target, execution.resource_dependence)
    substantive = np.minimum(target, free * clarity * funding)
    innovative = np.minimum(target, free * execution.innovation_gain * 0.5 * (1.0 + clarity) * funding)
    loss = 1.0 - execution.failure_loss * failed
    outputs = {  # every output rule of the strategy table
        "substantive": substantive * loss,
        "formalism": execution.formalism_output * substantive,
        "ban": np.minimum(target, execution.ban_output if size is None else execution.ban_output * size),
        "innovative": innovative * loss,
        "none": 0.0,
    }
    output = np.choose(strategy, [outputs[spec.output] for spec in STRATEGIES])
    claims = {"output": output, "formalism": execution.formalism_claim * target, "target": target, "none": 0.0}
    claim = np.choose(strategy, [claims[spec.claim] for spec in STRATEGIES])
    harm = np.where(HARMFUL[strategy], execution.ban_harm if size is None else execution.ban_harm * size, 0.0)
    return output, claim, harm


class Executed(NamedTuple):
    """What carrying out the chosen strategies gives (ODD 7.2)."""

    free: np.ndarray
    burden: np.ndarray
    failed: np.ndarray
    output: np.ndarray
    claim: np.ndarray
    harm: np.ndarray
    capacity_used: np.ndarray


def carry_out(strategy, capacity, paperwork, hosting, target, clarity, resources, risk_uniform, p) -> Executed:
    """The execute phase after the choice: free capacity, burden, failure, output, claim, harm, capacity used.

    Args:
        strategy: The strategies chosen.
        capacity: Capacity K.
        paperwork: Paperwork load π.
        hosting: Capacity spent hosting last period's inspections h.
        target: Target received.
        clarity: Clarity received.
        resources: Resources received.
        risk_uniform: The uniform draw deciding whether an attempt fails.
        p: The model's parameters.
    """
    free = free_capacity(capacity, paperwork, hosting)
    failed = risk_uniform < failure_risk(strategy, p.task.risk, p.execution.innovation_risk)
    output, claim, harm = execute(strategy, target, free, clarity, resources, failed, p.execution)
    return Executed(
        free,
        burden(capacity, paperwork, hosting),
        failed,
        output,
        claim,
        harm,
        capacity_used(capacity, paperwork, hosting, free, strategy),
    )


def carry_out_portfolio(
    strategy, capacity, paperwork, hosting, share, target, clarity, resources, risk_uniform, tasks, active, p
) -> Executed:
    """The execute phase of a portfolio (ODD section 11): every task carried out with its share of free capacity.

    Per-official arguments (capacity, paperwork, hosting) have no task axis; the others have
    tasks on their last axis. ``free``, ``burden`` and ``capacity_used`` of the result are per
    official, the rest per task.

    Args:
        strategy: The strategy chosen on each task.
        capacity: Capacity K.
        paperwork: Paperwork load π of the whole portfolio.
        hosting: Capacity spent hosting last period's inspections h.
        share: Each task's share σ of free capacity.
        target: Target received per task.
        clarity: Clarity received per task.
        resources: Resources received per task.
        risk_uniform: The uniforms deciding whether each attempt fails.
        tasks: The portfolio (each task's risk and original target).
        active: Which tasks are in force: the others have no output, claim, harm or failure.
        p: The model's parameters.
    """
    free = free_capacity(capacity, paperwork, hosting)
    allotted = share * np.expand_dims(free, -1)
    failed = active & (risk_uniform < failure_risk(strategy, tasks.risk, p.execution.innovation_risk))
    done = execute(strategy, target, allotted, clarity, resources, failed, p.execution, tasks.target)
    output, claim, harm = (np.where(active, value, 0.0) for value in done)
    effort = over_tasks(EFFORT_SHARE[strategy] * allotted)
    used = np.minimum(1.0, (paperwork + hosting + effort) / np.maximum(capacity, 1e-12))
    return Executed(free, burden(capacity, paperwork, hosting), failed, output, claim, harm, used)


def in_window(new, old, active):
    """``new`` for tasks in force, ``old`` (kept as it was) for the others."""
    if np.all(active):  # the usual case: every task in force (the same values, without a pass over the arrays)
        return np.asarray(new)
    return np.where(active, new, old)


def over_tasks(values):
    """The sum over the task axis (the last), task by task in order: the same arithmetic for one official and many."""
    values = np.asarray(values)
    if values.shape[-1] == 0:  # a chain without tasks of its own (the territorial line of departments' tasks)
        return np.zeros(values.shape[:-1], dtype=values.dtype)
    total = values[..., 0]
    for task in range(1, values.shape[-1]):
        total = total + values[..., task]
    return total


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


def grassroots_report(claim, target, rule="sum"):
    """A grassroots unit's report: its claim, at most its target; as a share of the target under ``rate``."""
    report = np.minimum(claim, target)
    return report / target if rule == "rate" else report


def report_inflation(level, inflation):
    """The inflation a level adds to its report: ι, except at the top, which reports to no one."""
    return inflation if level > 0 else 0.0


def aggregate_report(children_total, inflation, target, leaves, rule="sum", children=1):
    """An intermediate report: min((1 + ι) Σ children, T N); under ``rate``, min(1, (1 + ι) R̄) (ODD 12.2).

    ``children`` is the number of direct subordinates, whose rates' mean R̄ is Σ / children.
    """
    if rule == "rate":
        return np.minimum(1.0, (1.0 + inflation) * (children_total / children))
    return np.minimum((1.0 + inflation) * children_total, target * leaves)


def believed_attainment(root, rule, discount, original_target, grassroots):
    """What the top believes was done: (1 − δ) times its rate, or its sum over T₀ N (ODD 7.3, 12.2)."""
    share = root if rule == "rate" else root / (original_target * grassroots)
    return (1.0 - discount) * share


def chosen_inflation(options, option):
    """The inflation ι_j of the option each official chose (ODD 12.3)."""
    return np.asarray(options, dtype=float)[option]


def report_audit(inflation, audit_uniform, detect_uniform, rate, detect):
    """Whether an audit of an intermediate report finds inflation: audited, inflated, and detected (ODD 12.3)."""
    return (inflation > 0) & (audit_uniform < rate) & (detect_uniform < detect)


def own_completion(report, target, leaves, rule):
    """An intermediate official's own report as a completion rate: itself under ``rate``, else over T N."""
    return report if rule == "rate" else report / (target * leaves)


def report_payoff(completion_rate, risk_aversion, weight, severity, report_value):
    """U_j = v_r R_j − ρ_j w S_j: the career value of the reported rate against the report audit's sanction."""
    return report_value * completion_rate - risk_aversion * weight * severity


def audit_terms(p, tasks, chain):
    """The detection chance and severity of an audit (ODD 12.3-12.4): on-site detection, the falsification penalty.

    In a portfolio they are the tasks' own values: of one issuer's tasks (``chain``), or of every task (``None``).
    """
    if tasks is None:
        return p.accountability.detect_onsite, p.accountability.falsify_penalty
    a = tasks.accountability
    columns = slice(None) if chain is None else tasks.columns[chain]
    return a.detect_onsite[columns], a.falsify_penalty[columns]


def of_chain(value, columns):
    """A task-level value for one chain's tasks: its entries ``columns`` when it varies by task, else itself."""
    return value if columns is None or np.ndim(value) == 0 else value[columns]


def chain_weight(p, tasks, chain):
    """The political weight of one issuer's tasks (the one directive's, without a portfolio)."""
    return p.task.weight if tasks is None else tasks.weight[tasks.columns[chain]]


def past_fabrication_found(past_strategy, audit_uniform, detect_uniform, rate, detect):
    """Whether an audit of a past period (回头看) finds that the unit fabricated its claim then (ODD 12.4).

    ``past_strategy`` is -1 where the unit chose nothing then (a task outside its window).
    """
    fabricated = (past_strategy >= 0) & FABRICATED[np.maximum(past_strategy, 0)]
    return fabricated & (audit_uniform < rate) & (detect_uniform < detect)


def audit_learned(attractions, past_strategy, severity, risk_aversion, weight, rate):
    """A_s −= α ρ w S for the strategy s the audit punished: the unit knows what it is sanctioned for (ODD 12.4)."""
    updated = np.array(attractions, dtype=float)
    rows = updated.reshape(-1, updated.shape[-1])
    rows[np.arange(len(rows)), np.ravel(np.maximum(past_strategy, 0))] -= np.ravel(
        rate * risk_aversion * weight * severity
    )
    return updated


# --- 13.3 shielding and collusion ---------------------------------------------------------

SHIELD = 1
"""The shielding option of ODD 13.3 (0: leave the subordinates to the inspectors)."""


def warning_factor(shielded, effect):
    """How much of an inspection's chance to detect falsification survives a warning (打招呼): 1 − ε if shielded."""
    return np.where(shielded, 1.0 - effect, 1.0)


def settled(finding, shielded, uniform, share):
    """A finding with the ones a shielding superior settles quietly (大事化小) dropped."""
    return finding._replace(found=finding.found & ~(shielded & (uniform < share)))


def levels_skipped(p, tasks) -> bool:
    """Whether any level-skipping inspection can happen: the scenario's rate or a task's own is above 0."""
    return p.middle.skip_level_rate > 0 or (tasks is not None and bool((tasks.middle.skip_level_rate > 0).any()))


def skip_level_findings(
    strategy, output, claim, target, skip_uniform, detect_uniform, rate, a, worked=True, measurability=None
):
    """A level-skipping on-site inspection (直插): whether it found anything on each unit (and task), and the severity.

    It cannot be warned or settled; it sees real output, detects falsification with
    ``accountability.detect_onsite`` and scores an undetected falsifier on its claim, as on-site
    inspections do (in a portfolio with each task's measurability, as :func:`inspect` applies it).
    ``rate`` and ``a`` are the scenario's (or, in a portfolio, the tasks' own values).
    """
    inspected = (skip_uniform < rate) & worked
    chance = a.detect_onsite if measurability is None else measurability * a.detect_onsite
    caught = detected(inspected & FABRICATED[strategy], detect_uniform, chance)
    score = inspection_score(strategy, output, claim, True, caught)
    if measurability is not None:
        score = measured_score(score, claim, measurability)
    found = inspected & (caught | shortfall(score, target, a.shortfall_threshold))
    return found, finding_severity(caught, a.falsify_penalty)


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


def principal_slots(principals, slots):
    """Which of ``slots`` principal slots a unit has (its first ``principals``), slots on the last axis."""
    return np.arange(slots) < np.asarray(principals)[..., None]


def detected(exposed, uniform, chance):
    """Whether a fabricated claim open to a check is detected: exposed and u < the chance of detection."""
    return exposed & (uniform < chance)


def inspection_score(strategy, output, claim, onsite, falsify_caught):
    """What an inspection sees: real output on site, the claim on paper (or an uncaught fabricated claim)."""
    sees_reality = onsite & ~(FABRICATED[strategy] & ~falsify_caught)
    return np.where(sees_reality, output, claim)


def shortfall(score, target, threshold):
    """Whether a score falls below θ T."""
    return score < threshold * target


class Inspection(NamedTuple):
    """What this period's inspections and third-party evaluation saw of each unit (ODD 7.4)."""

    count: np.ndarray
    inspected: np.ndarray
    onsite: np.ndarray
    caught: np.ndarray
    score: np.ndarray
    evaluated: np.ndarray
    tp_caught: np.ndarray
    tp_score: np.ndarray


def inspect(
    strategy, output, claim, principals, draws, rate, onsite_share, a, measurability=None, warning=None
) -> Inspection:
    """Inspections by every principal, their detection of fabricated claims, and third-party evaluation.

    Args:
        strategy: The units' strategies.
        output: Real output.
        claim: Claimed output.
        principals: Principals each unit answers to.
        draws: The phase's :class:`sim.model.state.AccountabilityDraws` (whole level, or one unit's).
        rate: Inspection rate per principal this period.
        onsite_share: On-site share of inspections this period.
        a: The ``accountability`` parameter group.
        measurability: In a portfolio, each task's measurability μ: scores see μ of what they
            would see and 1 − μ of the claim, and detection is μ times as likely (ODD section 11).
            ``None`` for the one directive (μ = 1, and not a multiplication).
        warning: With shielding (ODD 13.3), the share of the inspections' detection chance a
            warning leaves (:func:`warning_factor`); third parties are never warned.
    """
    slots = principal_slots(principals, np.shape(draws.inspect)[-1])
    count = inspection_count(rate * slots, draws.inspect, a.inspection_cap)
    inspected = count > 0
    onsite = draws.onsite < onsite_share
    fabricated = FABRICATED[strategy]
    chance = np.where(onsite, a.detect_onsite, a.detect_paper)
    tp_chance = a.detect_onsite
    if measurability is not None:
        chance, tp_chance = measurability * chance, measurability * tp_chance
    if warning is not None:
        chance = chance * warning
    caught = detected(inspected & fabricated, draws.detect, chance)
    evaluated = draws.third_party < a.third_party_rate
    tp_caught = detected(evaluated & fabricated, draws.tp_detect, tp_chance)
    score = inspection_score(strategy, output, claim, onsite, caught)
    tp_score = inspection_score(strategy, output, claim, True, tp_caught)
    if measurability is not None:
        score, tp_score = measured_score(score, claim, measurability), measured_score(tp_score, claim, measurability)
    return Inspection(count, inspected, onsite, caught, score, evaluated, tp_caught, tp_score)


def measured_score(seen, claim, measurability):
    """A score that sees only the measurable share of a task: μ × seen + (1 − μ) × claim."""
    return measurability * seen + (1.0 - measurability) * claim


def hosting_load(inspection: Inspection, hosting_cost):
    """Capacity the next period loses to hosting this period's inspections and evaluation: h (count + evaluated)."""
    return hosting_cost * (inspection.count + inspection.evaluated)


def within_window(inspection: Inspection, active) -> Inspection:
    """What inspections and evaluations saw of a portfolio, with tasks outside their window not looked at."""
    return inspection._replace(
        count=np.where(active, inspection.count, 0.0),
        inspected=inspection.inspected & active,
        caught=inspection.caught & active,
        evaluated=inspection.evaluated & active,
        tp_caught=inspection.tp_caught & active,
    )


def portfolio_hosting(inspection: Inspection, hosting_cost):
    """Capacity the next period loses to hosting a portfolio's inspections and evaluations: h Σ (count + evaluated)."""
    return hosting_cost * over_tasks(inspection.count + inspection.evaluated)


def finding_severity(caught, falsify_penalty):
    """Severity of a finding: the falsification penalty when a fabricated claim was caught, else 1."""
    return np.where(caught, falsify_penalty, 1.0)


class Finding(NamedTuple):
    """One channel's findings: whether there is one, its severity and cause, and whether blame is precise."""

    found: np.ndarray
    severity: np.ndarray
    cause: np.ndarray
    precise: bool


def findings(inspection: Inspection, strategy, target, failed, visible, a) -> tuple[Finding, Finding, Finding]:
    """The three finding channels of a unit, in channel order: inspection, incident, third party (ODD 7.4).

    Args:
        inspection: What :func:`inspect` saw.
        strategy: The units' strategies.
        target: Target received.
        failed: Whether the attempt failed.
        visible: The uniform deciding whether a failure becomes a visible incident.
        a: The ``accountability`` parameter group.
    """
    cause = finding_cause(strategy, failed)
    short = shortfall(inspection.score, target, a.shortfall_threshold)
    tp_short = shortfall(inspection.tp_score, target, a.shortfall_threshold)
    return (
        Finding(
            inspection.inspected & (inspection.caught | short),
            finding_severity(inspection.caught, a.falsify_penalty),
            cause,
            a.precise,
        ),
        Finding(
            failed & (visible < a.incident_visibility),
            np.ones(np.shape(cause)),
            np.full(np.shape(cause), CAUSE_CHANCE),
            a.precise,
        ),
        Finding(
            inspection.evaluated & (inspection.tp_caught | tp_short),
            finding_severity(inspection.tp_caught, a.falsify_penalty),
            cause,
            True,
        ),
    )


def with_veto(finding: Finding, veto, veto_penalty) -> Finding:
    """A portfolio's finding: on a veto task (一票否决) its severity is ``veto_penalty`` times heavier."""
    return finding._replace(severity=finding.severity * np.where(veto, veto_penalty, 1.0))


def excused(strategy, uniform, excuse_genuine):
    """Whether a finding is excused (容错): only genuine attempts, with probability ``excuse_genuine``."""
    return GENUINE[strategy] & (uniform < excuse_genuine)


def reward(inspection: Inspection, target, a):
    """This period's reward: for a good score seen by an inspection or evaluation, unless a fake was caught."""
    good = (inspection.inspected & (inspection.score >= a.reward_threshold * target)) | (
        inspection.evaluated & (inspection.tp_score >= a.reward_threshold * target)
    )
    return np.where(good & ~(inspection.caught | inspection.tp_caught), a.reward, 0.0)


def voided(task_reward, vetoed):
    """Rewards of a portfolio after vetoes: none at all for an official with an unexcused finding on a veto task."""
    return np.where(vetoed, 0.0, task_reward)


def completion(claim, target):
    """Reported completion, by which superiors rank their subordinates (排名): m / T."""
    return claim / np.maximum(target, 1e-12)


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
    """Level that bears a sanction: the cause level if precise, else shifted up from the grassroots.

    ``precise`` is one flag, or in a portfolio one per finding (precise accountability for some tasks only).
    """
    if np.ndim(precise) == 0:
        if precise:
            return np.asarray(cause_lvl, dtype=np.int64)
        return relays - levels_up(uniform, blame_shift, relays)
    shifted = relays - levels_up(uniform, blame_shift, relays)
    return np.where(precise, np.asarray(cause_lvl, dtype=np.int64), shifted)


def wrongful(strategy, cause, cause_lvl, landing):
    """A sanction on a genuine attempt that failed by chance, or that missed the cause level."""
    genuine = GENUINE[strategy]
    return genuine & ((cause == CAUSE_CHANCE) | ((cause == CAUSE_CONDITIONS) & (landing != cause_lvl)))


# --- 7.6 learn -----------------------------------------------------------------------------


def payoff(
    claim,
    output,
    harm,
    target,
    original_target,
    strategy,
    sanction_severity,
    reward,
    risk_aversion,
    weight,
    execution,
    motivation,
    share=None,
):
    """U = v_r m / T + v_m,i (min(y, T₀) / T₀ − H) − κ effort − ρ w S + reward.

    ``motivation`` is each official's public-service motivation v_m,i (ODD 12.1).

    In a portfolio the effort cost is scaled by the task's capacity share σ (``share``):
    effort on a task that gets a tenth of the capacity costs a tenth.
    """
    effort = EFFORT_SHARE[strategy] if share is None else EFFORT_SHARE[strategy] * share
    return (
        execution.report_value * claim / np.maximum(target, 1e-12)
        + motivation * (np.minimum(output, original_target) / original_target - harm)
        - execution.effort_cost * effort
        - risk_aversion * weight * sanction_severity
        + reward
    )


def reinforced(
    attractions,
    strategy,
    claim,
    output,
    harm,
    target,
    severity,
    reward_now,
    risk_aversion,
    motivation,
    p,
    task=None,
    share=None,
):
    """The learn phase's attractions (ODD 7.6): this period's payoff reinforces the strategy chosen.

    ``task`` holds the original targets and weights (``p.task``, or a portfolio's table, with
    tasks on the last axis of every other argument), ``share`` the capacity shares of a
    portfolio, whose harm counts relative to the task's size (a ban's harm scales with it).
    """
    if task is None:
        task, relative_harm = p.task, harm
    else:
        relative_harm = harm / task.target
    value = payoff(
        claim,
        output,
        relative_harm,
        target,
        task.target,
        strategy,
        severity,
        reward_now,
        risk_aversion,
        task.weight,
        p.execution,
        motivation,
        share,
    )
    return reinforce(attractions, strategy, value, p.learning.forgetting, p.learning.learning_rate)


def motivation_factors(execution, type_uniform, spread_z):
    """τ_i λ_i of ODD 12.1: the type factor (motivated with chance q) times a mean-one lognormal.

    ``type_uniform`` and ``spread_z`` are ``None`` when their switch is off (factor 1).
    """
    factor = 1.0
    if type_uniform is not None:
        factor = np.where(motivated_type(execution, type_uniform), execution.motivation_high, execution.motivation_low)
    if spread_z is not None:
        factor = factor * mean_one_lognormal(spread_z, execution.motivation_spread)
    return factor


def motivated_type(execution, type_uniform):
    """Whether each official is of the motivated type: a uniform below the motivated share q (ODD 12.1)."""
    return type_uniform < execution.motivated_share


def mean_one_lognormal(z, sigma):
    """exp(σ z − σ²/2): lognormal factors with mean 1 (capacity, risk aversion, motivation)."""
    return np.exp(sigma * z - sigma**2 / 2)


def capacity_split(allocation, temperature, active):
    """Each active task's share of free capacity: σ_τ = exp(B_τ / τ_B) / Σ_active exp(B / τ_B) (ODD 11).

    Tasks are on the last axis; a task outside its window gets none, and with no task active
    nobody gets any.
    """
    if not np.any(active):
        return np.zeros(np.shape(allocation))
    return choice_probabilities(np.where(active, allocation, -np.inf), temperature)


def reallocated(allocation, task_severity, risk_aversion, weight, rate):
    """B_τ ← (1 − φ_B) B_τ + φ_B ρ w_τ S_τ: capacity follows the weighted sanctions each task brought."""
    return (1.0 - rate) * allocation + rate * (risk_aversion * weight * task_severity)


def reinforce(attractions, strategy, value, forgetting, rate):
    """Roth–Erev with forgetting: A ← (1 − φ) A, then A_s += α U for the chosen s."""
    updated = (1.0 - forgetting) * np.asarray(attractions, dtype=float)
    rows = updated.reshape(-1, updated.shape[-1])  # a view: one official is one row
    rows[np.arange(len(rows)), np.ravel(strategy)] += np.ravel(rate * value)
    return updated


def update_belief(belief, sanctioned, peer_share, rate, peer_weight):
    """B ← (1 − γ) b + γ ((1 − ψ) own + ψ peers)."""
    return (1.0 - rate) * belief + rate * ((1.0 - peer_weight) * sanctioned + peer_weight * peer_share)


def sanctioned(sanctions_now):
    """1.0 for an official sanctioned this period, else 0.0: its own evidence."""
    return (np.asarray(sanctions_now) > 0).astype(float)


def peer_share(tally, own, siblings):
    """Share of an official's siblings sanctioned this period: (tally − own) / (siblings − 1); own with none."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(siblings == 1, own, (tally - own) / (siblings - 1))
