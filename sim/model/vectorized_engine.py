"""The vectorised engine: each phase as numpy operations over whole levels.

:class:`VectorizedEngine` applies the same equations (:mod:`sim.model.rules`) to the same
per-level arrays as the per-agent engine (:class:`sim.model.agent_engine.AgentEngine`), one
level at a time instead of one official at a time. It only schedules and indexes: the relay
runs top-down with a gather over parent indices, reports run bottom-up with ``np.bincount``
over parent indices, and sanctions are scattered onto the officials who bear them with
``np.add.at``. Every operation is done in the order the per-agent engine does it, so both
engines give the same numbers (tests/test_engines.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.measures import sums_by_index
from sim.model.state import motivation_of

if TYPE_CHECKING:
    from sim.model.state import ChainState, LevelState


class VectorizedEngine:
    """Runs the phases of one period over whole levels (the default engine)."""

    name = "vectorized"

    def relay(self, model: ChainState) -> None:
        """Top-down, level by level: escalate, dilute and strip (ODD 7.1)."""
        if model.tasks is not None:
            return self._relay_portfolio(model)
        for level in range(model.relays):
            state, below = model.levels[level], model.levels[level + 1]
            parent = model.layout.parent[level + 1]
            relayed = rules.relay(
                state.target_received,
                state.clarity_received,
                state.resources_received,
                state.risk_aversion,
                state.belief,
                model.p.task.weight,
                model.p.relay,
                level,
                model.layout.subordinates[level],
                self._chosen_relay(model, 0, level),
            )
            state.escalation_applied[:] = relayed.rate
            state.damage[:] = relayed.damage
            below.target_received[:] = relayed.target[parent]
            below.clarity_received[:] = relayed.clarity[parent]
            below.resources_received[:] = relayed.resources[parent]

    def _chosen_relay(self, model: ChainState, chain: int, level: int):
        """With middle levels that decide (ODD 13.1): the options one level chooses now, and what each can carry out."""
        middle = model.p.middle
        if not middle.relay_choice:
            return None
        state = model.chains[chain][level]
        state.relay_option[:] = rules.choose_strategy(
            state.relay_attractions, model.p.learning.temperature, model.middle_draws[chain][level].choice
        )
        state.free[:] = rules.middle_free(state.capacity, middle, state.hosting)
        clarified = rules.clarified_count(state.relay_option, _worked(model, chain))
        feasible = rules.clarify_share(state.free, middle.clarify_time, clarified)
        return state.relay_option, middle, feasible if model.tasks is None else feasible[:, None]

    def execute(self, model: ChainState) -> None:
        """Grassroots: choose strategies and carry them out (ODD 7.2)."""
        if model.tasks is not None:
            return self._execute_portfolio(model)
        p = model.p
        g = model.levels[-1]
        draws = model.execution_draws
        g.strategy_code[:] = self._prepared(
            model,
            rules.strategy_choice(g.attractions, p.learning.temperature, draws.choice, p.execution),
        )
        done = rules.carry_out(
            g.strategy_code,
            g.capacity,
            g.paperwork,
            g.hosting,
            g.target_received,
            g.clarity_received,
            g.resources_received,
            draws.risk,
            p,
        )
        g.free[:], g.burden_share[:], g.failed[:] = done.free, done.burden, done.failed
        g.output[:], g.claim[:], g.harm[:] = done.output, done.claim, done.harm
        g.capacity_used[:] = done.capacity_used

    def _prepared(self, model: ChainState, chosen: np.ndarray) -> np.ndarray:
        """The strategies chosen, with units preparing for an announced campaign (ODD section 14)."""
        if model.anticipation_draws is None:
            return chosen
        return rules.anticipated(chosen, model.announced, model.anticipation_draws, rules.anticipation_share(model.p))

    def report(self, model: ChainState) -> None:
        """Bottom-up: sum subordinates' reports (or rates), inflate, cap at the demand (ODD 7.3, 12.2)."""
        rule = model.p.relay.report_rule
        g = model.levels[-1]
        g.report[:] = rules.grassroots_report(g.claim, g.target_received, rule)
        if model.tasks is not None:
            return self._report_portfolio(model)
        for level in range(model.relays - 1, -1, -1):
            state = model.levels[level]
            totals = np.bincount(
                model.layout.parent[level + 1], weights=model.levels[level + 1].report, minlength=len(state.report)
            )
            state.report[:] = rules.aggregate_report(
                totals,
                self._inflation(model, 0, level),
                state.target_received,
                model.layout.leaves[level],
                rule,
                model.layout.subordinates[level],
            )

    def _inflation(self, model: ChainState, chain: int, level: int):
        """The inflation officials of one level of one chain add: ι, or the option each chooses now (ODD 12.3)."""
        relay = model.p.relay
        if relay.inflation_options is None or level == 0:
            return rules.report_inflation(level, relay.report_inflation)
        state = model.chains[chain][level]
        state.inflation_option[:] = rules.choose_strategy(
            state.report_attractions, model.p.learning.temperature, model.report_draws[chain][level].choice
        )
        return rules.chosen_inflation(relay.inflation_options, state.inflation_option)

    def hold_accountable(self, model: ChainState) -> None:
        """Inspect, evaluate, surface incidents, attribute findings, rank (ODD 7.4-7.5); then audit (ODD 12.3-12.4)."""
        self._choose_shields(model)
        if model.tasks is not None:
            self._hold_portfolio(model)
        else:
            self._hold_one_task(model)
        self._audit_reports(model)
        self._audit_past(model)
        self._inspect_relays(model)
        self._inspect_skipping_levels(model)

    def _choose_shields(self, model: ChainState) -> None:
        """The grassroots' superiors choose, per task, whether to shield their subordinates now (ODD 13.3)."""
        if not model.p.middle.shielding or model.relays == 0:
            return
        for c, chain in enumerate(model.chains):
            state = chain[-1]
            state.shield_option[:] = rules.choose_strategy(
                state.shield_attractions, model.p.learning.temperature, model.shield_draws.choice[c]
            )

    def _shielded(self, model: ChainState) -> np.ndarray | None:
        """Per grassroots unit (and task), whether its superior on the task's chain shields it; ``None`` without."""
        if not model.p.middle.shielding or model.relays == 0:
            return None
        parent = model.layout.parent[-1]
        if model.tasks is None:
            return model.levels[-2].shield_option[parent] == rules.SHIELD
        shielded = np.zeros(model.levels[-1].target_received.shape, dtype=bool)
        for c, columns in enumerate(model.tasks.columns):
            shielded[:, columns] = model.chains[c][-1].shield_option[parent] == rules.SHIELD
        return shielded

    def _expose(self, model: ChainState, exposed: np.ndarray) -> None:
        """Sanction the shielding superiors of the units (and tasks) where a shielded failure was found out."""
        penalty = model.p.middle.collusion_penalty
        parent = model.layout.parent[-1]
        if model.tasks is None:
            units = np.flatnonzero(exposed)
            offices = [(model.levels[-2], parent[units], None)]
        else:
            units, task = np.nonzero(exposed)
            chain = model.tasks.chain[task]
            offices = [
                (model.chains[c][-1], parent[units[chain == c]], model.tasks.positions[task[chain == c]])
                for c in np.unique(chain)
            ]
        for state, office, column in offices:
            severity = np.full(len(office), penalty)
            _sanction(state, office, severity, np.zeros(len(office), dtype=bool))
            np.add.at(state.shield_severity, office if column is None else (office, column), severity)

    def _inspect_skipping_levels(self, model: ChainState) -> None:
        """Level-skipping on-site inspections (直插): findings land on the unit and expose a shielding superior."""
        p = model.p
        if not rules.levels_skipped(p, model.tasks) or model.relays == 0:
            return
        g, tasks, draws = model.levels[-1], model.tasks, model.shield_draws
        portfolio = tasks is not None
        found, severity = rules.skip_level_findings(
            g.strategy_code,
            g.output,
            g.claim,
            g.target_received,
            draws.skip,
            draws.skip_detect,
            tasks.middle.skip_level_rate if portfolio else p.middle.skip_level_rate,
            tasks.accountability if portfolio else p.accountability,
            model.active_tasks if portfolio else True,
            tasks.measurability if portfolio else None,
        )
        cause = rules.finding_cause(g.strategy_code, g.failed)
        failing = self._failing_relays(model) if portfolio else self._failing_relay(model)
        cause_lvl = rules.cause_level(cause, *failing, model.relays)
        wrongful = rules.wrongful(g.strategy_code, cause, cause_lvl, model.relays) & found
        severity = np.where(found, severity, 0.0)
        if portfolio:
            units, task = np.nonzero(found)
            _sanction(g, units, severity[units, task], wrongful[units, task])
            np.add.at(g.task_severity, (units, task), severity[units, task])
        else:
            units = np.flatnonzero(found)
            _sanction(g, units, severity[units], wrongful[units])
        shielded = self._shielded(model)
        if shielded is not None:
            self._expose(model, found & shielded)

    def _failing_relay(self, model: ChainState) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, the level whose relay did the most damage to the one directive, and that damage."""
        ancestors = model.layout.ancestor
        return rules.failing_relay([model.levels[k].damage[ancestors[k]] for k in range(model.relays)], model.relays)

    def _inspect_relays(self, model: ChainState) -> None:
        """Inspect the relay work of officials below the top; findings are sanctioned on them (ODD 13.2)."""
        p = model.p
        if not p.middle.relay_choice:
            return
        portfolio = model.tasks is not None
        a = model.tasks.accountability if portfolio else p.accountability
        done = _done(model.levels[-1], None)
        for c, chain in enumerate(model.chains):
            columns = None if not portfolio else model.tasks.columns[c]
            threshold = rules.of_chain(a.shortfall_threshold, columns)
            cost = rules.of_chain(a.hosting_cost, columns)
            for level in range(1, model.relays):
                state, draws = chain[level], model.middle_draws[c][level]
                territory = _territory(model, level, done if columns is None else done[:, columns])
                seen = rules.inspect_relay(
                    state.relay_option,
                    territory,
                    draws.inspect,
                    draws.detect,
                    p.middle,
                    threshold,
                    True if not portfolio else _worked(model, c),
                )
                found = rules.relay_findings(seen)
                state.relay_inspected[:] = seen.inspected
                state.relay_severity[:] = found
                state.hosting[:] = rules.middle_hosting(seen.inspected, cost, portfolio)
                count = rules.over_tasks(found) if portfolio else found
                state.sanctions += count
                state.sanctions_now += count
                state.severity_now += rules.over_tasks(state.relay_severity) if portfolio else state.relay_severity

    def _audit_reports(self, model: ChainState) -> None:
        """Audit intermediate reports for inflation; a finding is sanctioned on the official who reported."""
        options = model.p.relay.inflation_options
        if options is None:
            return
        rate = model.p.accountability.report_audit_rate
        for c, chain in enumerate(model.chains):
            detect, penalty = rules.audit_terms(model.p, model.tasks, c)
            in_force = True if model.tasks is None else model.tasks_in_force[model.tasks.columns[c]]
            for level in range(1, model.relays):
                state, draws = chain[level], model.report_draws[c][level]
                inflation = rules.chosen_inflation(options, state.inflation_option)
                found = rules.report_audit(inflation, draws.audit, draws.detect, rate, detect) & in_force
                state.report_severity[:] = np.where(found, penalty, 0.0)
                _count_audited(state, found, state.report_severity, model.tasks is not None)

    def _audit_past(self, model: ChainState) -> None:
        """Audit the grassroots' record of ``audit_lag`` periods ago; falsification found is sanctioned now."""
        if model.audit_draws is None:
            return
        g = model.levels[-1]
        detect, penalty = rules.audit_terms(model.p, model.tasks, None)
        found = rules.past_fabrication_found(
            model.history, *model.audit_draws, model.p.accountability.audit_rate, detect
        )
        g.audit_severity[:] = np.where(found, penalty, 0.0)
        _count_audited(g, found, None, model.tasks is not None)

    def _hold_one_task(self, model: ChainState) -> None:
        """The one directive's inspections, findings, attribution, rewards and ranking."""
        a = model.p.accountability
        g = model.levels[-1]
        draws = model.accountability_draws
        rate, onsite_share = model.inspection_intensity()
        shielded = self._shielded(model)
        warning = None if shielded is None else rules.warning_factor(shielded, model.p.middle.warning_effect)
        seen = rules.inspect(
            g.strategy_code, g.output, g.claim, g.principals, draws, rate, onsite_share, a, warning=warning
        )
        g.hosting[:] = rules.hosting_load(seen, a.hosting_cost)
        channels = self._shielded_findings(
            model, rules.findings(seen, g.strategy_code, g.target_received, g.failed, draws.visible, a), shielded
        )
        failing = self._failing_relay(model)
        for channel, finding in enumerate(channels):
            self._attribute(model, channel, finding, failing)
        g.reward_now[:] = rules.reward(seen, g.target_received, a)
        if model.relays > 0 and model.ranks_now():
            self._rank(model, channels[0].cause, failing)

    def _shielded_findings(self, model: ChainState, channels, shielded: np.ndarray | None) -> list[rules.Finding]:
        """Findings after shielding (ODD 13.3): settled ones dropped, third parties' exposing the shielders."""
        if shielded is None:
            return list(channels)
        settle = model.shield_draws.settle
        share = model.p.middle.settle_share
        kept = [rules.settled(finding, shielded, settle[..., k], share) for k, finding in enumerate(channels[:-1])]
        self._expose(model, channels[-1].found & shielded)
        return [*kept, channels[-1]]

    def _attribute(
        self, model: ChainState, channel: int, finding: rules.Finding, failing: tuple[np.ndarray, np.ndarray]
    ) -> None:
        """Excuse or sanction every finding of one channel at the level the attribution rule picks."""
        g = model.levels[-1]
        draws = model.accountability_draws
        relays = model.relays
        excused = rules.excused(g.strategy_code, draws.excuse[:, channel], model.p.accountability.excuse_genuine)
        hit = np.flatnonzero(finding.found & ~excused)  # the rules are elementwise: apply them to these only
        if len(hit) == 0:
            return
        cause = finding.cause[hit]
        cause_lvl = rules.cause_level(cause, *_at(failing, hit), relays)
        landing = rules.landing_level(
            cause_lvl, draws.blame[hit, channel], model.p.accountability.blame_shift, finding.precise, relays
        )
        wrongful = rules.wrongful(g.strategy_code[hit], cause, cause_lvl, landing)
        severity = finding.severity[hit]
        for level in np.unique(landing):
            on = landing == level
            office = model.layout.ancestor[level][hit[on]]
            _sanction(model.levels[level], office, severity[on], wrongful[on])
            if level < relays and model.levels[level].shifted_severity is not None:
                np.add.at(model.levels[level].shifted_severity[:, channel], office, severity[on])

    def _rank(self, model: ChainState, cause: np.ndarray, failing: tuple[np.ndarray, np.ndarray]) -> None:
        """Sanction the bottom fraction of every sibling group by reported completion."""
        fraction = model.p.accountability.ranking_fraction
        g = model.levels[-1]
        parent = model.layout.parent[-1]
        sizes = model.layout.subordinates[-1]
        quota = rules.ranking_quota(fraction, sizes)
        if not quota.any():
            return
        completion = rules.completion(g.claim, g.target_received)
        order = np.lexsort((model.accountability_draws.rank, completion, parent))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order)) - starts[parent[order]]
        bottom = np.flatnonzero(rank < quota[parent])
        cause_lvl = rules.cause_level(cause[bottom], *_at(failing, bottom), model.relays)
        wrongful = rules.wrongful(g.strategy_code[bottom], cause[bottom], cause_lvl, model.relays)
        _sanction(g, bottom, np.ones(len(bottom)), wrongful)

    def learn(self, model: ChainState) -> None:
        """Reinforce strategies with payoffs; update beliefs from own and siblings' sanctions (ODD 7.6)."""
        p = model.p
        g = model.levels[-1]
        if model.tasks is not None:
            self._learn_portfolio(model)
        elif p.execution.fixed_strategy is None:
            g.attractions[:] = rules.reinforced(
                g.attractions,
                g.strategy_code,
                g.claim,
                g.output,
                g.harm,
                g.target_received,
                g.severity_now,
                g.reward_now,
                g.risk_aversion,
                motivation_of(g, p),
                p,
            )
        if model.audit_draws is not None and p.execution.fixed_strategy is None:
            portfolio = model.tasks is not None
            g.attractions[:] = rules.audit_learned(
                g.attractions,
                model.history,
                g.audit_severity,
                g.risk_aversion[:, None] if portfolio else g.risk_aversion,
                model.tasks.weight if portfolio else p.task.weight,
                p.learning.learning_rate,
            )
        if p.relay.inflation_options is not None:
            self._learn_inflation(model)
        if p.middle.deciding:
            self._learn_middle(model)
        for chain in [model.levels, *model.chains[1:]]:  # the territorial line and grassroots, then departments
            for level, state in enumerate(chain):
                own = rules.sanctioned(state.sanctions_now)
                if level == 0:
                    peers = own
                else:
                    parent = model.layout.parent[level]
                    tally = np.bincount(parent, weights=own, minlength=len(chain[level - 1].belief))[parent]
                    peers = rules.peer_share(tally, own, model.layout.siblings[level])
                state.belief[:] = rules.update_belief(
                    state.belief, own, peers, p.learning.belief_rate, p.learning.peer_weight
                )

    def _learn_inflation(self, model: ChainState) -> None:
        """Intermediate officials reinforce the inflation they chose with its payoff (ODD 12.3)."""
        p, tasks = model.p, model.tasks
        for c, chain in enumerate(model.chains):
            for level in range(1, model.relays):
                state = chain[level]
                leaves = model.layout.leaves[level]
                rho = state.risk_aversion
                if tasks is not None:
                    leaves, rho = leaves[:, None], rho[:, None]
                own = rules.own_completion(state.report, state.target_received, leaves, p.relay.report_rule)
                value = rules.report_payoff(
                    own, rho, rules.chain_weight(p, tasks, c), state.report_severity, p.execution.report_value
                )
                updated = rules.reinforce(
                    state.report_attractions,
                    state.inflation_option,
                    value,
                    p.learning.forgetting,
                    p.learning.learning_rate,
                )
                state.report_attractions[:] = (
                    updated
                    if tasks is None
                    else rules.in_window(
                        updated, state.report_attractions, model.tasks_in_force[tasks.columns[c]][:, None]
                    )
                )

    def _learn_middle(self, model: ChainState) -> None:
        """Relaying officials reinforce the relay option, the grassroots' superiors the shielding, they chose (13)."""
        p, tasks = model.p, model.tasks
        portfolio = tasks is not None
        g = model.levels[-1]
        real = _done(g, p.task.target if not portfolio else tasks.target)
        record = g.severity_now if not portfolio else g.task_severity
        for c, chain in enumerate(model.chains):
            columns = None if not portfolio else tasks.columns[c]
            worked = _worked(model, c)
            for level in range(model.relays):
                state = chain[level]
                leaves = model.layout.leaves[level]
                rho = state.risk_aversion
                if portfolio:
                    leaves, rho = leaves[:, None], rho[:, None]
                exposed = state.shield_severity if state.shield_attractions is not None else None
                if not p.middle.relay_choice and exposed is None:
                    continue  # nothing this level decides
                sanctions = rules.answerable(
                    rules.middle_severity(state.relay_severity, state.shifted_severity, exposed),
                    _territory(model, level, record if columns is None else record[:, columns]),
                    p.middle.territorial_responsibility,
                )
                own = rules.own_completion(state.report, state.target_received, leaves, p.relay.report_rule)
                territory = _territory(model, level, real if columns is None else real[:, columns])
                motivation = _per_task(motivation_of(state, p)) if portfolio else motivation_of(state, p)
                weight = rules.chain_weight(p, tasks, c)
                effort = 0.0
                if p.middle.relay_choice:
                    effort = rules.clarify_effort(
                        state.free, p.middle.clarify_time, rules.clarified_count(state.relay_option, worked)
                    )
                    effort = rules.relay_effort(state.relay_option, effort[:, None] if portfolio else effort)
                    value = rules.middle_payoff(own, territory, motivation, effort, rho, weight, sanctions, p.execution)
                    state.relay_attractions[:] = _reinforced(
                        model, state.relay_attractions, state.relay_option, value, worked
                    )
                if exposed is not None:
                    value = rules.middle_payoff(own, territory, motivation, 0.0, rho, weight, sanctions, p.execution)
                    state.shield_attractions[:] = _reinforced(
                        model, state.shield_attractions, state.shield_option, value, worked
                    )

    # --- a portfolio of tasks (ODD section 11) ---------------------------------------------

    def _relay_portfolio(self, model: ChainState) -> None:
        """Every issuer's chain relays its own tasks, top-down; the last relay fills the grassroots' task columns."""
        g = model.levels[-1]
        for c, chain in enumerate(model.chains):
            columns = model.tasks.columns[c]
            weight = model.tasks.weight[columns]
            for level in range(model.relays):
                state = chain[level]
                relayed = rules.relay(
                    state.target_received,
                    state.clarity_received,
                    state.resources_received,
                    state.risk_aversion[:, None],
                    state.belief[:, None],
                    weight,
                    model.tasks.relay_for(c),
                    level,
                    model.layout.subordinates[level][:, None],
                    self._chosen_relay(model, c, level),
                )
                state.escalation_applied[:] = relayed.rate
                state.damage[:] = relayed.damage
                parent = model.layout.parent[level + 1]
                if level + 1 < model.relays:
                    below = chain[level + 1]
                    below.target_received[:] = relayed.target[parent]
                    below.clarity_received[:] = relayed.clarity[parent]
                    below.resources_received[:] = relayed.resources[parent]
                else:
                    g.target_received[:, columns] = relayed.target[parent]
                    g.clarity_received[:, columns] = relayed.clarity[parent]
                    g.resources_received[:, columns] = relayed.resources[parent]

    def _execute_portfolio(self, model: ChainState) -> None:
        """Grassroots: split free capacity across tasks, choose a strategy per task, carry them out."""
        p, tasks, g = model.p, model.tasks, model.levels[-1]
        draws, active = model.execution_draws, model.active_tasks
        g.capacity_share[:] = rules.capacity_split(g.allocation, p.portfolio.allocation_temperature, active)
        chosen = self._prepared(
            model,
            rules.strategy_choice(g.attractions, p.learning.temperature, draws.choice, p.execution),
        )
        done = rules.carry_out_portfolio(
            chosen,
            g.capacity,
            g.paperwork,
            g.hosting,
            g.capacity_share,
            g.target_received,
            g.clarity_received,
            g.resources_received,
            draws.risk,
            tasks,
            active,
            p,
        )
        g.strategy_code[:] = rules.in_window(chosen, -1, active)
        g.free[:], g.burden_share[:], g.failed[:] = done.free, done.burden, done.failed
        g.output[:], g.claim[:], g.harm[:] = done.output, done.claim, done.harm
        g.capacity_used[:] = done.capacity_used

    def _report_portfolio(self, model: ChainState) -> None:
        """Bottom-up along every issuer's chain: sum its task columns of the reports below, inflate, cap."""
        g = model.levels[-1]
        for c, chain in enumerate(model.chains):
            columns = model.tasks.columns[c]
            for level in range(model.relays - 1, -1, -1):
                state = chain[level]
                below = chain[level + 1].report if level + 1 < model.relays else g.report[:, columns]
                totals = sums_by_index(model.layout.parent[level + 1], below, len(state.belief))
                state.report[:] = rules.aggregate_report(
                    totals,
                    self._inflation(model, c, level),
                    state.target_received,
                    model.layout.leaves[level][:, None],
                    model.p.relay.report_rule,
                    model.layout.subordinates[level][:, None],
                )

    def _hold_portfolio(self, model: ChainState) -> None:
        """Inspect every task, attribute each finding along its issuer's chain, apply vetoes, reward, rank."""
        p, tasks, g = model.p, model.tasks, model.levels[-1]
        a = tasks.accountability  # with the tasks' own values
        draws, active = model.accountability_draws, model.active_tasks
        shielded = self._shielded(model)
        warning = None if shielded is None else rules.warning_factor(shielded, p.middle.warning_effect)
        seen = rules.within_window(
            rules.inspect(
                g.strategy_code,
                g.output,
                g.claim,
                g.principals[:, None],
                draws,
                model.task_inspection_rates()[:, None],
                model.task_onsite_shares(),
                a,
                tasks.measurability,
                warning,
            ),
            active,
        )
        g.hosting[:] = rules.portfolio_hosting(seen, a.hosting_cost)
        found = rules.findings(seen, g.strategy_code, g.target_received, g.failed, draws.visible, a)
        channels = [
            rules.with_veto(finding, tasks.veto, p.portfolio.veto_penalty)
            for finding in self._shielded_findings(model, found, shielded)
        ]
        failing = self._failing_relays(model)
        vetoed = np.zeros(len(g.belief), dtype=bool)
        for channel, finding in enumerate(channels):
            self._attribute_portfolio(model, channel, finding, failing, vetoed)
        g.task_reward[:] = rules.voided(rules.reward(seen, g.target_received, a), vetoed[:, None])
        g.reward_now[:] = rules.over_tasks(g.task_reward)
        if model.relays > 0 and model.ranks_now():
            self._rank_portfolio(model, channels[0].cause, failing)

    def _failing_relays(self, model: ChainState) -> tuple[np.ndarray, np.ndarray]:
        """Per unit and task, the level of the issuer's chain whose relay did the most damage, and that damage."""
        g = model.levels[-1]
        level = np.zeros(g.damage.shape, dtype=np.int64)
        damage = np.zeros(g.damage.shape)
        ancestors = model.layout.ancestor
        for c, chain in enumerate(model.chains):
            columns = model.tasks.columns[c]
            found = rules.failing_relay([chain[k].damage[ancestors[k]] for k in range(model.relays)], model.relays)
            level[:, columns], damage[:, columns] = found
        return level, damage

    def _attribute_portfolio(
        self,
        model: ChainState,
        channel: int,
        finding: rules.Finding,
        failing: tuple[np.ndarray, np.ndarray],
        vetoed: np.ndarray,
    ) -> None:
        """Excuse or sanction every finding of one channel, per unit and task, along the task's issuer's chain."""
        g, tasks, relays = model.levels[-1], model.tasks, model.relays
        draws = model.accountability_draws
        a = model.p.accountability
        excused = rules.excused(g.strategy_code, draws.excuse[..., channel], tasks.accountability.excuse_genuine)
        units, task = np.nonzero(finding.found & ~excused)
        if len(units) == 0:
            return
        vetoed[units[tasks.veto[task]]] = True
        cause = finding.cause[units, task]
        cause_lvl = rules.cause_level(cause, failing[0][units, task], failing[1][units, task], relays)
        precise = finding.precise if np.ndim(finding.precise) == 0 else np.asarray(finding.precise)[task]
        landing = rules.landing_level(cause_lvl, draws.blame[units, task, channel], a.blame_shift, precise, relays)
        wrongful = rules.wrongful(g.strategy_code[units, task], cause, cause_lvl, landing)
        severity = finding.severity[units, task]
        for level in np.unique(landing):
            on = landing == level
            if level == relays:
                _sanction(g, units[on], severity[on], wrongful[on])
                np.add.at(g.task_severity, (units[on], task[on]), severity[on])
                continue
            for c in np.unique(tasks.chain[task[on]]):
                mine = on & (tasks.chain[task] == c)
                office = model.layout.ancestor[level][units[mine]]
                _sanction(model.chains[c][level], office, severity[mine], wrongful[mine])
                if model.chains[c][level].shifted_severity is not None:
                    shifted = model.chains[c][level].shifted_severity[..., channel]
                    np.add.at(shifted, (office, tasks.positions[task[mine]]), severity[mine])

    def _rank_portfolio(self, model: ChainState, cause: np.ndarray, failing: tuple[np.ndarray, np.ndarray]) -> None:
        """Per task in force, sanction the bottom fraction of every sibling group by reported completion."""
        g = model.levels[-1]
        parent = model.layout.parent[-1]
        sizes = np.bincount(parent, minlength=len(model.levels[-2].belief))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        fraction = model.tasks.accountability.ranking_fraction  # per task
        for task in np.flatnonzero(model.active_tasks):
            quota = rules.ranking_quota(fraction[task], sizes)
            if not quota.any():
                continue
            completion = rules.completion(g.claim[:, task], g.target_received[:, task])
            order = np.lexsort((model.accountability_draws.rank[:, task], completion, parent))
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order)) - starts[parent[order]]
            bottom = np.flatnonzero(rank < quota[parent])
            cause_lvl = rules.cause_level(
                cause[bottom, task], failing[0][bottom, task], failing[1][bottom, task], model.relays
            )
            wrongful = rules.wrongful(g.strategy_code[bottom, task], cause[bottom, task], cause_lvl, model.relays)
            _sanction(g, bottom, np.ones(len(bottom)), wrongful)
            np.add.at(g.task_severity[:, task], bottom, 1.0)

    def _learn_portfolio(self, model: ChainState) -> None:
        """Per task in force, reinforce the strategy chosen with the task's payoff and move capacity after sanctions."""
        p, tasks, g = model.p, model.tasks, model.levels[-1]
        active = model.active_tasks
        if p.execution.fixed_strategy is None:
            updated = rules.reinforced(
                g.attractions,
                g.strategy_code,
                g.claim,
                g.output,
                g.harm,
                g.target_received,
                g.task_severity,
                g.task_reward,
                g.risk_aversion[:, None],
                _per_task(motivation_of(g, p)),
                p,
                tasks,
                g.capacity_share,
            )
            g.attractions[:] = rules.in_window(updated, g.attractions, active[:, None])
        moved = rules.reallocated(
            g.allocation, g.task_severity, g.risk_aversion[:, None], tasks.weight, p.portfolio.allocation_rate
        )
        g.allocation[:] = rules.in_window(moved, g.allocation, active)


def _reinforced(model: ChainState, attractions: np.ndarray, chosen: np.ndarray, value, worked) -> np.ndarray:
    """Roth-Erev on a middle official's attractions; in a portfolio only on the tasks worked (ODD 13)."""
    learning = model.p.learning
    updated = rules.reinforce(attractions, chosen, value, learning.forgetting, learning.learning_rate)
    return updated if worked is None else rules.in_window(updated, attractions, worked[:, None])


def _worked(model: ChainState, chain: int) -> np.ndarray | None:
    """In a portfolio, which of one chain's tasks the townships work on now; ``None`` for the one directive."""
    return None if model.tasks is None else model.active_tasks[model.tasks.columns[chain]]


def _done(g: LevelState, original) -> np.ndarray:
    """Each grassroots unit's real output as a share of its target: min(y, T) / T (of T₀ when ``original`` is given)."""
    return rules.done_share(g.output, g.target_received if original is None else original)


def _territory(model: ChainState, level: int, values: np.ndarray) -> np.ndarray:
    """Per official of ``level``, the mean of per-unit ``values`` over the grassroots units below it."""
    leaves = model.layout.leaves[level]
    sums = sums_by_index(model.layout.ancestor[level], values, model.layout.sizes[level])
    return rules.territory_rate(sums, leaves if values.ndim == 1 else leaves[:, None])


def _per_task(values):
    """Per-official values broadcast against a task axis (a scalar stays one)."""
    return values[:, None] if np.ndim(values) else values


def _count_audited(state: LevelState, found: np.ndarray, severity: np.ndarray | None, portfolio: bool) -> None:
    """Record audit sanctions on the officials found (one per finding), with their severity when it is paid now."""
    count = rules.over_tasks(found.astype(np.int64)) if portfolio else found.astype(np.int64)
    state.sanctions += count
    state.sanctions_now += count
    if severity is not None:
        state.severity_now += rules.over_tasks(severity) if portfolio else severity


def _at(arrays: tuple, index: np.ndarray) -> tuple:
    """Entries ``index`` of per-unit arrays (scalars, as for a single official, broadcast)."""
    return tuple(np.asarray(a)[index] if np.ndim(a) else a for a in arrays)


def _sanction(state: LevelState, index: np.ndarray, severity: np.ndarray, wrongful: np.ndarray) -> None:
    """Record sanctions on the officials at ``index`` of one level (repeats allowed)."""
    np.add.at(state.sanctions, index, 1)
    np.add.at(state.sanctions_now, index, 1)
    np.add.at(state.wrongful_now, index, wrongful.astype(np.int64))
    np.add.at(state.severity_now, index, severity)
