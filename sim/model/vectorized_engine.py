"""The vectorised engine: each phase as numpy operations over whole levels.

:class:`VectorizedEngine` applies the same equations (:mod:`sim.model.rules`) to the same per-level
arrays as the per-agent engine (:class:`sim.model.agent_engine.AgentEngine`), one level at a time
instead of one official at a time: the relay runs top-down with a gather over parent indices,
reports run bottom-up with ``np.bincount`` over parent indices, and sanctions are scattered
onto the officials who bear them with ``np.add.at``. Every operation is done in the order the
per-agent engine does it, so both engines give the same numbers (tests/test_engines.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.scenario.strategies import Strategy

if TYPE_CHECKING:
    from sim.model.bureau_model import BureauModel


class VectorizedEngine:
    """Runs the phases of one period over whole levels (the default engine)."""

    name = "vectorized"

    def relay(self, model: BureauModel) -> None:
        """Top-down, level by level: escalate, dilute and strip (ODD 7.1)."""
        p = model.p
        for level in range(model.relays):
            state, below = model.levels[level], model.levels[level + 1]
            parent = model.layout.parent[level + 1]
            rate = rules.escalation_rate(
                p.relay.escalation, p.relay.escalation_pressure, p.task.weight, state.risk_aversion, state.belief
            )
            state.escalation_applied[:] = rate
            state.damage[:] = rules.relay_damage(rate, p.relay.dilution, p.relay.stripping, p.relay.funded_escalation)
            below.target_received[:] = rules.relayed_target(state.target_received, rate)[parent]
            below.clarity_received[:] = rules.relayed_clarity(state.clarity_received, p.relay.dilution)[parent]
            below.resources_received[:] = rules.relayed_resources(
                state.resources_received, p.relay.stripping, rate, p.relay.funded_escalation
            )[parent]

    def execute(self, model: BureauModel) -> None:
        """Grassroots: choose strategies and carry them out (ODD 7.2)."""
        p = model.p
        g = model.levels[-1]
        draws = model.draws
        g.free[:] = rules.free_capacity(g.capacity, g.paperwork, g.hosting)
        g.burden_share[:] = rules.burden(g.capacity, g.paperwork, g.hosting)
        if p.execution.fixed_strategy is not None:
            g.strategy_code[:] = int(p.execution.fixed_strategy)
        else:
            g.strategy_code[:] = rules.choose_strategy(g.attractions, p.learning.temperature, draws["choice"])
        risk = rules.failure_risk(g.strategy_code, p.task.risk, p.execution.innovation_risk)
        g.failed[:] = draws["risk"] < risk
        g.output[:], g.claim[:], g.harm[:] = rules.execute(
            g.strategy_code, g.target_received, g.free, g.clarity_received, g.resources_received, g.failed, p.execution
        )
        g.capacity_used[:] = rules.capacity_used(g.capacity, g.paperwork, g.hosting, g.free, g.strategy_code)

    def report(self, model: BureauModel) -> None:
        """Bottom-up: sum subordinates' reports, inflate, cap at the demand (ODD 7.3)."""
        g = model.levels[-1]
        g.report[:] = np.minimum(g.claim, g.target_received)
        for level in range(model.relays - 1, -1, -1):
            state = model.levels[level]
            totals = np.bincount(
                model.layout.parent[level + 1], weights=model.levels[level + 1].report, minlength=len(state.report)
            )
            inflation = model.p.relay.report_inflation if level > 0 else 0.0
            state.report[:] = rules.aggregate_report(
                totals, inflation, state.target_received, model.layout.leaves[level]
            )

    def hold_accountable(self, model: BureauModel) -> None:
        """Inspect, evaluate, surface incidents, attribute findings, rank (ODD 7.4-7.5)."""
        a = model.p.accountability
        g = model.levels[-1]
        draws = model.draws
        strategy, target = g.strategy_code, g.target_received
        rate, onsite_share = model.inspection_intensity()
        slots = np.arange(draws["inspect"].shape[1]) < g.principals[:, None]
        count = rules.inspection_count(rate * slots, draws["inspect"], a.inspection_cap)
        inspected = count > 0
        onsite = draws["onsite"] < onsite_share
        falsifying = strategy == Strategy.FALSIFY
        caught = inspected & falsifying & (draws["detect"] < np.where(onsite, a.detect_onsite, a.detect_paper))
        score = rules.inspection_score(strategy, g.output, g.claim, onsite, caught)
        evaluated = draws["third_party"] < a.third_party_rate
        tp_caught = evaluated & falsifying & (draws["tp_detect"] < a.detect_onsite)
        tp_score = rules.inspection_score(strategy, g.output, g.claim, True, tp_caught)
        g.hosting[:] = a.hosting_cost * (count + evaluated)

        cause = rules.finding_cause(strategy, g.failed)
        chance = np.full(len(cause), rules.CAUSE_CHANCE)
        short = rules.shortfall(score, target, a.shortfall_threshold)
        tp_short = rules.shortfall(tp_score, target, a.shortfall_threshold)
        findings = (
            (inspected & (caught | short), np.where(caught, a.falsify_penalty, 1.0), cause, a.precise),
            (g.failed & (draws["visible"] < a.incident_visibility), np.ones(len(cause)), chance, a.precise),
            (evaluated & (tp_caught | tp_short), np.where(tp_caught, a.falsify_penalty, 1.0), cause, True),
        )
        ancestors = model.layout.ancestor
        failing = rules.failing_relay([model.levels[k].damage[ancestors[k]] for k in range(model.relays)], model.relays)
        for channel, (found, severity, finding_cause, precise) in enumerate(findings):
            self._attribute(model, channel, found, severity, finding_cause, precise, failing)
        good = (inspected & (score >= a.reward_threshold * target)) | (
            evaluated & (tp_score >= a.reward_threshold * target)
        )
        g.reward_now[:] = np.where(good & ~(caught | tp_caught), a.reward, 0.0)
        if model.relays > 0:
            self._rank(model, cause, failing)

    def _attribute(
        self,
        model: BureauModel,
        channel: int,
        found: np.ndarray,
        severity: np.ndarray,
        cause: np.ndarray,
        precise: bool,
        failing: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Excuse or sanction every finding of one channel at the level the attribution rule picks."""
        g = model.levels[-1]
        draws = model.draws
        relays = model.relays
        genuine = rules.GENUINE[g.strategy_code]
        excused = genuine & (draws["excuse"][:, channel] < model.p.accountability.excuse_genuine)
        hit = np.flatnonzero(found & ~excused)  # the rules are elementwise: apply them to these only
        if len(hit) == 0:
            return
        cause_lvl = rules.cause_level(cause[hit], *_at(failing, hit), relays)
        landing = rules.landing_level(
            cause_lvl, draws["blame"][hit, channel], model.p.accountability.blame_shift, precise, relays
        )
        wrongful = rules.wrongful(g.strategy_code[hit], cause[hit], cause_lvl, landing)
        for level in np.unique(landing):
            on = landing == level
            _sanction(model.levels[level], model.layout.ancestor[level][hit[on]], severity[hit[on]], wrongful[on])

    def _rank(self, model: BureauModel, cause: np.ndarray, failing: tuple[np.ndarray, np.ndarray]) -> None:
        """Sanction the bottom fraction of every sibling group by reported completion."""
        fraction = model.p.accountability.ranking_fraction
        g = model.levels[-1]
        parent = model.layout.parent[-1]
        sizes = np.bincount(parent, minlength=len(model.levels[-2].report))
        quota = rules.ranking_quota(fraction, sizes)
        if not quota.any():
            return
        completion = g.claim / np.maximum(g.target_received, 1e-12)
        order = np.lexsort((model.draws["rank"], completion, parent))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order)) - starts[parent[order]]
        bottom = np.flatnonzero(rank < quota[parent])
        cause_lvl = rules.cause_level(cause[bottom], *_at(failing, bottom), model.relays)
        wrongful = rules.wrongful(g.strategy_code[bottom], cause[bottom], cause_lvl, model.relays)
        _sanction(g, bottom, np.ones(len(bottom)), wrongful)

    def learn(self, model: BureauModel) -> None:
        """Reinforce strategies with payoffs; update beliefs from own and siblings' sanctions (ODD 7.6)."""
        p = model.p
        g = model.levels[-1]
        if p.execution.fixed_strategy is None:
            value = rules.payoff(
                g.claim,
                g.output,
                g.harm,
                g.target_received,
                p.task.target,
                g.strategy_code,
                g.severity_now,
                g.reward_now,
                g.risk_aversion,
                p.task.weight,
                p.execution,
            )
            g.attractions[:] = rules.reinforce(
                g.attractions, g.strategy_code, value, p.learning.forgetting, p.learning.learning_rate
            )
        sanctioned = [(state.sanctions_now > 0).astype(float) for state in model.levels]
        for level, state in enumerate(model.levels):
            own = sanctioned[level]
            if level == 0:
                peers = own
            else:
                parent = model.layout.parent[level]
                tally = np.bincount(parent, weights=own, minlength=len(model.levels[level - 1].report))[parent]
                siblings = model.layout.siblings[level]
                with np.errstate(invalid="ignore", divide="ignore"):
                    peers = np.where(siblings == 1, own, (tally - own) / (siblings - 1))
            state.belief[:] = rules.update_belief(
                state.belief, own, peers, p.learning.belief_rate, p.learning.peer_weight
            )


def _at(arrays: tuple, index: np.ndarray) -> tuple:
    """Entries ``index`` of per-unit arrays (scalars, as for a single official, broadcast)."""
    return tuple(np.asarray(a)[index] if np.ndim(a) else a for a in arrays)


def _sanction(state, index: np.ndarray, severity: np.ndarray, wrongful: np.ndarray) -> None:
    """Record sanctions on the officials at ``index`` of one level (repeats allowed)."""
    np.add.at(state.sanctions, index, 1)
    np.add.at(state.sanctions_now, index, 1)
    np.add.at(state.wrongful_now, index, wrongful.astype(np.int64))
    np.add.at(state.severity_now, index, severity)
