"""Officials: one Mesa agent per unit of the hierarchy, and the engine that runs them one by one.

An :class:`Official` keeps no state of its own beyond its place (level and index): each of
its attributes named in :data:`sim.model.state.LEVEL_FIELDS` reads and writes one entry of the
per-level arrays (:class:`sim.model.state.LevelState`). Its methods are the phases of
docs/ODD.md, section 3, applied to its own entries with the shared equations of
:mod:`sim.model.rules`; they schedule and index, and compute nothing themselves. The random
numbers a phase needs were drawn beforehand, one array per purpose; an official reads its
own entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import rules
from sim.model.state import LEVEL_FIELDS, AccountabilityDraws, LevelState, motivation_of
from sim.scenario.strategies import Strategy

if TYPE_CHECKING:
    from sim.model.state import ChainState


class _LevelArray:
    """Descriptor: an agent attribute backed by its entry in the level's array."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, agent: Official | None, owner: type) -> object:
        if agent is None:
            return self
        return getattr(agent.state, self.name)[agent.index]

    def __set__(self, agent: Official, value: object) -> None:
        getattr(agent.state, self.name)[agent.index] = value


def _backed_by_level_arrays(cls: type) -> type:
    """Give the class one attribute per :data:`LEVEL_FIELDS` entry, backed by the level's array."""
    for field in LEVEL_FIELDS:
        setattr(cls, field.name, _LevelArray(field.name))
    return cls


@_backed_by_level_arrays
class Official(mesa.Agent):
    """The leading office of one government unit.

    Every name of :data:`sim.model.state.LEVEL_FIELDS` is an attribute (``official.belief``),
    reading and writing this official's entry of its level's array.

    In a portfolio (ODD section 11) the per-task attributes are rows, one entry per task of
    the official's chain (every task at the grassroots), and a line department's offices are
    officials too, on their own chain.

    Args:
        model: The model that owns the state arrays.
        level: Depth in the hierarchy (0 = top).
        index: Position in the level's arrays.
        chain: The issuer whose office this is (0: the territorial line, and the grassroots).
    """

    sanctioned_subordinates = 0  # set on superiors each period by count_sanctioned_subordinates
    chain_index = 0  # the territorial line's; a department's offices set their own (no entry per township)

    def __init__(self, model: ChainState, level: int, index: int, chain: int = 0) -> None:
        super().__init__(model)
        self.level = level
        self.index = index
        if chain:
            self.chain_index = chain
        self.superior: Official | None = None
        self.subordinates: list[Official] | tuple[()] = ()  # a list once a subordinate is attached

    # --- identity ----------------------------------------------------------------------------

    @property
    def state(self) -> LevelState:
        """The arrays of this official's level (of its issuer's chain)."""
        if self.chain_index:
            return self.model.chains[self.chain_index][self.level]
        return self.model.levels[self.level]

    @property
    def node(self) -> object:
        """The hierarchy node this official heads."""
        return self.model.layout.nodes[self.level][self.index]

    @property
    def chain(self) -> list[Official]:
        """The officials from the top down to this one (its ancestors, then itself)."""
        chain = [self]
        while chain[-1].superior is not None:
            chain.append(chain[-1].superior)
        return chain[::-1]

    def attach(self, subordinate: Official, as_superior: bool = True) -> None:
        """Make ``subordinate`` report to this official (``as_superior=False``: on this office's tasks only).

        A line department's lowest office relays its tasks to the townships and reads their
        reports on them, but the township's superior stays its territorial one.
        """
        if not self.subordinates:
            self.subordinates = []
        self.subordinates.append(subordinate)
        if as_superior:
            subordinate.superior = self

    def issuer_chain(self, chain: int) -> list[Official]:
        """The offices of issuer ``chain`` above this grassroots unit, from the top down."""
        if chain == 0:
            return self.chain[:-1]
        ancestors = self.model.layout.ancestor
        return [self.model.offices[chain][k][ancestors[k][self.index]] for k in range(self.level)]

    @property
    def own_motivation(self) -> float:
        """This official's public-service motivation (the scenario's v_m unless officials differ, ODD 12.1)."""
        motivation = motivation_of(self.state, self.model.p)
        return motivation[self.index] if np.ndim(motivation) else motivation

    @property
    def is_grassroots(self) -> bool:
        """Whether this official executes directives (the deepest level)."""
        return self.level == self.model.relays

    @property
    def attractions(self) -> np.ndarray:
        """Learned attraction of each strategy (a view into the level's array)."""
        return self.state.attractions[self.index]

    @property
    def strategy(self) -> str | None:
        """The strategy chosen this period, by label; ``None`` above the grassroots or before any period.

        In a portfolio: the strategy on the task that gets most of the official's capacity.
        """
        code = self.strategy_code
        if self.model.tasks is not None:
            if not self.is_grassroots:
                return None
            code = code[int(np.argmax(self.capacity_share))]
        code = int(code)
        return Strategy(code).label if code >= 0 else None

    @property
    def strategies(self) -> dict[str, str | None]:
        """In a portfolio, the strategy chosen on each task by label (``None`` outside its window)."""
        if self.model.tasks is None or not self.is_grassroots:
            return {}
        labels = [Strategy(int(code)).label if code >= 0 else None for code in self.strategy_code]
        return dict(zip(self.model.tasks.names, labels, strict=True))

    # --- 2. relay ----------------------------------------------------------------------------

    def relay(self) -> None:
        """Pass the directive to every subordinate: escalated, diluted, stripped (ODD 7.1).

        In a portfolio, the tasks of this office's issuer, each with its own weight.
        """
        tasks = self.model.tasks
        columns = None if tasks is None else tasks.columns[self.chain_index]
        relayed = rules.relay(
            self.target_received,
            self.clarity_received,
            self.resources_received,
            self.risk_aversion,
            self.belief,
            self.model.p.task.weight if tasks is None else tasks.weight[columns],
            self.model.p.relay if tasks is None else tasks.relay_for(self.chain_index),
            self.level,
            len(self.subordinates),
            self.chosen_relay(),
        )
        self.escalation_applied = relayed.rate
        self.damage = relayed.damage
        for subordinate in self.subordinates:
            at = columns if tasks is not None and subordinate.is_grassroots else None
            subordinate.receive(relayed.target, relayed.clarity, relayed.resources, columns=at)

    def chosen_relay(self):
        """With middle levels that decide, the option chosen now and the share of a clarification it can make (13.1)."""
        model, middle = self.model, self.model.p.middle
        if not middle.relay_choice:
            return None
        draws = model.middle_draws[self.chain_index][self.level]
        self.relay_option = rules.choose_strategy(
            self.state.relay_attractions[self.index], model.p.learning.temperature, draws.choice[self.index]
        )
        self.free = rules.middle_free(self.capacity, middle, self.hosting)
        clarified = rules.clarified_count(self.relay_option, self.worked_tasks())
        return self.relay_option, middle, rules.clarify_share(self.free, middle.clarify_time, clarified)

    def worked_tasks(self) -> np.ndarray | None:
        """In a portfolio, which of this office's chain's tasks the townships work on now (``None``: one directive)."""
        tasks = self.model.tasks
        return None if tasks is None else self.model.active_tasks[tasks.columns[self.chain_index]]

    def territory_mean(self, values) -> float | np.ndarray:
        """The mean over the grassroots units below this official of ``values(unit)``, summed in index order."""
        units = sorted(self.territory(), key=lambda unit: unit.index)
        return rules.territory_rate(sum(values(unit) for unit in units), len(units))

    def territory(self) -> list[Official]:
        """The grassroots units below this official (on its chain's tasks)."""
        if self.is_grassroots:
            return [self]
        return [unit for subordinate in self.subordinates for unit in subordinate.territory()]

    def receive(self, target, clarity, resources, columns=None) -> None:
        """Take the directive as relayed by the superior (into a township's ``columns`` for one issuer's tasks)."""
        if columns is None:
            self.target_received = target
            self.clarity_received = clarity
            self.resources_received = resources
            return
        state = self.state
        state.target_received[self.index, columns] = target
        state.clarity_received[self.index, columns] = clarity
        state.resources_received[self.index, columns] = resources

    # --- 3. execute --------------------------------------------------------------------------

    def execute(self) -> None:
        """Choose a strategy and carry it out with the capacity paperwork and hosting leave (ODD 7.2)."""
        if self.model.tasks is not None:
            return self.execute_portfolio()
        draws = self.model.execution_draws
        self.strategy_code = self.choose_strategy(draws.choice[self.index])
        done = rules.carry_out(
            int(self.strategy_code),
            self.capacity,
            self.paperwork,
            self.hosting,
            self.target_received,
            self.clarity_received,
            self.resources_received,
            draws.risk[self.index],
            self.model.p,
        )
        self.free, self.burden_share, self.failed = done.free, done.burden, done.failed
        self.output, self.claim, self.harm = done.output, done.claim, done.harm
        self.capacity_used = done.capacity_used

    def execute_portfolio(self) -> None:
        """Split free capacity across the tasks in force, choose a strategy for each, carry them out (ODD 11)."""
        model, p = self.model, self.model.p
        draws, active = model.execution_draws, model.active_tasks
        self.capacity_share = rules.capacity_split(self.allocation, p.portfolio.allocation_temperature, active)
        chosen = self.prepared(
            rules.strategy_choice(self.attractions, p.learning.temperature, draws.choice[self.index], p.execution)
        )
        done = rules.carry_out_portfolio(
            chosen,
            self.capacity,
            self.paperwork,
            self.hosting,
            self.capacity_share,
            self.target_received,
            self.clarity_received,
            self.resources_received,
            draws.risk[self.index],
            model.tasks,
            active,
            p,
        )
        self.strategy_code = rules.in_window(chosen, -1, active)
        self.free, self.burden_share, self.failed = done.free, done.burden, done.failed
        self.output, self.claim, self.harm = done.output, done.claim, done.harm
        self.capacity_used = done.capacity_used

    def choose_strategy(self, uniform: float) -> int:
        """Logit choice over learned attractions, or the scenario's fixed strategy (and preparing for a campaign)."""
        p = self.model.p
        return int(self.prepared(rules.strategy_choice(self.attractions, p.learning.temperature, uniform, p.execution)))

    def prepared(self, chosen):
        """The strategy (per task) chosen, or formalism if it prepares for an announced campaign (迎检, ODD 14)."""
        model = self.model
        if model.anticipation_draws is None:
            return chosen
        uniform = model.anticipation_draws[self.index]
        return rules.anticipated(chosen, model.announced, uniform, rules.anticipation_share(model.p))

    # --- 4. report ---------------------------------------------------------------------------

    def send_report(self) -> None:
        """Report upwards: own claim (or rate), or the inflated sum (or mean rate) of subordinates' (ODD 7.3, 12.2)."""
        rule = self.model.p.relay.report_rule
        if self.is_grassroots:
            self.report = rules.grassroots_report(self.claim, self.target_received, rule)
            return
        tasks = self.model.tasks
        if tasks is not None and self.level == self.model.relays - 1:  # the townships report on every task
            columns = tasks.columns[self.chain_index]
            total = sum(subordinate.report[columns] for subordinate in self.subordinates)
        else:
            total = sum(subordinate.report for subordinate in self.subordinates)
        leaves = self.model.layout.leaves[self.level][self.index]
        self.report = rules.aggregate_report(
            total, self.inflate(), self.target_received, leaves, rule, len(self.subordinates)
        )

    def inflate(self):
        """The inflation this official adds to its report: ι, or the option it chooses now (ODD 12.3)."""
        relay = self.model.p.relay
        if relay.inflation_options is None or self.level == 0:
            return rules.report_inflation(self.level, relay.report_inflation)
        draws = self.model.report_draws[self.chain_index][self.level]
        self.inflation_option = rules.choose_strategy(
            self.state.report_attractions[self.index], self.model.p.learning.temperature, draws.choice[self.index]
        )
        return rules.chosen_inflation(relay.inflation_options, self.inflation_option)

    def face_report_audit(self) -> None:
        """Have this official's report audited for inflation; a finding is sanctioned on it (ODD 12.3)."""
        model = self.model
        draws = model.report_draws[self.chain_index][self.level]
        detect, penalty = rules.audit_terms(model.p, model.tasks, self.chain_index)
        inflation = rules.chosen_inflation(model.p.relay.inflation_options, self.inflation_option)
        found = rules.report_audit(
            inflation,
            draws.audit[self.index],
            draws.detect[self.index],
            model.p.accountability.report_audit_rate,
            detect,
        )
        if model.tasks is not None:  # only the reports on tasks in force are audited
            found = found & model.tasks_in_force[model.tasks.columns[self.chain_index]]
        self.report_severity = np.where(found, penalty, 0.0)
        self.count_audit(found, self.report_severity)

    def face_past_audit(self) -> None:
        """Have this unit's record of ``audit_lag`` periods ago audited; falsification then is sanctioned now (12.4)."""
        model = self.model
        detect, penalty = rules.audit_terms(model.p, model.tasks, None)
        audited, detected = (draws[self.index] for draws in model.audit_draws)
        found = rules.past_fabrication_found(
            model.history[self.index], audited, detected, model.p.accountability.audit_rate, detect
        )
        self.audit_severity = np.where(found, penalty, 0.0)
        self.count_audit(found, None)

    def count_audit(self, found, severity) -> None:
        """Record one sanction per audit finding; its severity counts now when it is paid now (report audits)."""
        portfolio = self.model.tasks is not None
        count = int(rules.over_tasks(np.asarray(found, dtype=np.int64))) if portfolio else int(found)
        self.sanctions += count
        self.sanctions_now += count
        if severity is not None:
            self.severity_now += rules.over_tasks(severity) if portfolio else severity

    # --- 5. inspect and hold accountable -----------------------------------------------------

    def face_inspection(self) -> None:
        """Be inspected, evaluated and held to incidents; pass each finding to attribution (ODD 7.4-7.5)."""
        if self.model.tasks is not None:
            return self.face_portfolio_inspection()
        a = self.model.p.accountability
        draws = self.model.accountability_draws.at(self.index)
        strategy = int(self.strategy_code)
        rate, onsite_share = self.model.inspection_intensity()
        shielded = self.shielded()
        warning = None if shielded is None else rules.warning_factor(shielded, self.model.p.middle.warning_effect)
        seen = rules.inspect(
            strategy, self.output, self.claim, self.principals, draws, rate, onsite_share, a, warning=warning
        )
        self.hosting = rules.hosting_load(seen, a.hosting_cost)
        channels = self.shielded_findings(
            rules.findings(seen, strategy, self.target_received, self.failed, draws.visible, a), shielded
        )
        for channel, finding in enumerate(channels):
            if finding.found:
                self.hold_accountable(draws, channel, finding)
        self.reward_now = rules.reward(seen, self.target_received, a)

    # --- 13.3 shielding and collusion ---------------------------------------------------------

    def shielded(self):
        """Whether this unit's superior (on each task's chain) shields it now; ``None`` without shielding (13.3)."""
        model = self.model
        if not model.p.middle.shielding or model.relays == 0:
            return None
        if model.tasks is None:
            return self.superior.shield_option == rules.SHIELD
        shielded = np.zeros(len(model.tasks), dtype=bool)
        for chain, columns in enumerate(model.tasks.columns):
            shielded[columns] = self.issuer_chain(chain)[-1].shield_option == rules.SHIELD
        return shielded

    def shielded_findings(self, channels, shielded) -> list[rules.Finding]:
        """This unit's findings after shielding: settled ones dropped, third parties' exposing the shielder."""
        if shielded is None:
            return list(channels)
        model = self.model
        settle = model.shield_draws.settle[self.index]
        share = model.p.middle.settle_share
        kept = [rules.settled(finding, shielded, settle[..., k], share) for k, finding in enumerate(channels[:-1])]
        self.expose_shielders(channels[-1].found & shielded)
        return [*kept, channels[-1]]

    def expose_shielders(self, exposed) -> None:
        """Sanction the superior that shielded this unit wherever a shielded failure was found out (ODD 13.3)."""
        tasks = self.model.tasks
        if tasks is None:
            if exposed:
                self.superior.be_exposed(None)
            return
        for task in np.flatnonzero(exposed):
            self.issuer_chain(int(tasks.chain[task]))[-1].be_exposed(tasks.column(task))

    def be_exposed(self, column: int | None) -> None:
        """A sanction for shielding found out, on this office (on one task of its chain, in a portfolio)."""
        penalty = self.model.p.middle.collusion_penalty
        self.receive_sanction(penalty, False)
        if column is None:
            self.shield_severity += penalty
        else:
            self.state.shield_severity[self.index, column] += penalty

    def choose_shield(self) -> None:
        """A superior of grassroots units chooses, per task, whether to shield them now (ODD 13.3)."""
        model = self.model
        self.shield_option = rules.choose_strategy(
            self.state.shield_attractions[self.index],
            model.p.learning.temperature,
            model.shield_draws.choice[self.chain_index][self.index],
        )

    def face_level_skipping_inspection(self) -> None:
        """A level-skipping on-site inspection (直插) of this unit: its findings land on it and expose a shielder."""
        model, p, tasks = self.model, self.model.p, self.model.tasks
        draws = model.shield_draws
        found, severity = rules.skip_level_findings(
            self.strategy_code,
            self.output,
            self.claim,
            self.target_received,
            draws.skip[self.index],
            draws.skip_detect[self.index],
            p.middle.skip_level_rate if tasks is None else tasks.middle.skip_level_rate,
            p.accountability if tasks is None else tasks.accountability,
            True if tasks is None else model.active_tasks,
            None if tasks is None else tasks.measurability,
        )
        cause = rules.finding_cause(self.strategy_code, self.failed)
        if tasks is None:
            if found:
                wrongful = rules.wrongful(int(self.strategy_code), cause, self.cause_level(cause), self.level)
                self.receive_sanction(severity, bool(wrongful))
        else:
            for task in np.flatnonzero(found):
                cause_lvl = self.task_cause_level(task, cause[task])
                wrongful = rules.wrongful(int(self.strategy_code[task]), cause[task], cause_lvl, self.level)
                self.receive_sanction(severity[task], bool(wrongful))
                self.state.task_severity[self.index, task] += severity[task]
        shielded = self.shielded()
        if shielded is not None:
            self.expose_shielders(found & shielded)

    def hold_accountable(self, draws: AccountabilityDraws, channel: int, finding: rules.Finding) -> None:
        """Excuse, or attribute a finding on this unit to the official who bears it (ODD 7.5).

        Args:
            draws: This unit's draws of the accountability phase.
            channel: Which finding this is (0 inspection, 1 incident, 2 third party), to pick
                this unit's excuse and blame draws.
            finding: The channel's finding on this unit.
        """
        a = self.model.p.accountability
        strategy = int(self.strategy_code)
        if rules.excused(strategy, draws.excuse[channel], a.excuse_genuine):
            return
        cause_lvl = self.cause_level(finding.cause)
        landing = int(rules.landing_level(cause_lvl, draws.blame[channel], a.blame_shift, finding.precise, self.level))
        wrongful = bool(rules.wrongful(strategy, finding.cause, cause_lvl, landing))
        self.chain[landing].receive_sanction(finding.severity, wrongful)
        if landing < self.level:
            self.chain[landing].carry_shifted(channel, finding.severity)

    def face_portfolio_inspection(self) -> None:
        """Every task in force inspected by its issuer; findings attributed along its chain; vetoes void rewards."""
        model, p, tasks = self.model, self.model.p, self.model.tasks
        a = tasks.accountability  # with the tasks' own values
        draws = model.accountability_draws.at(self.index)
        strategy = self.strategy_code
        shielded = self.shielded()
        warning = None if shielded is None else rules.warning_factor(shielded, p.middle.warning_effect)
        seen = rules.within_window(
            rules.inspect(
                strategy,
                self.output,
                self.claim,
                self.principals,
                draws,
                model.task_inspection_rates()[:, None],
                model.task_onsite_shares(),
                a,
                tasks.measurability,
                warning,
            ),
            model.active_tasks,
        )
        self.hosting = rules.portfolio_hosting(seen, a.hosting_cost)
        found = rules.findings(seen, strategy, self.target_received, self.failed, draws.visible, a)
        channels = [
            rules.with_veto(finding, tasks.veto, p.portfolio.veto_penalty)
            for finding in self.shielded_findings(found, shielded)
        ]
        vetoed = False
        for channel, finding in enumerate(channels):
            for task in np.flatnonzero(finding.found):
                if rules.excused(strategy[task], draws.excuse[task, channel], a.excuse_genuine[task]):
                    continue
                vetoed = vetoed or bool(tasks.veto[task])
                self.hold_accountable_for(task, channel, draws.blame[task, channel], finding)
        self.task_reward = rules.voided(rules.reward(seen, self.target_received, a), vetoed)
        self.reward_now = rules.over_tasks(self.task_reward)

    def hold_accountable_for(self, task: int, channel: int, uniform: float, finding: rules.Finding) -> None:
        """Attribute an unexcused finding of one channel on one task along its issuer's chain (ODD 7.5, section 11)."""
        a = self.model.p.accountability
        strategy = int(self.strategy_code[task])
        cause = finding.cause[task]
        cause_lvl = self.task_cause_level(task, cause)
        precise = finding.precise if np.ndim(finding.precise) == 0 else finding.precise[task]
        landing = int(rules.landing_level(cause_lvl, uniform, a.blame_shift, precise, self.level))
        wrongful = bool(rules.wrongful(strategy, cause, cause_lvl, landing))
        if landing == self.level:
            self.receive_sanction(finding.severity[task], wrongful)
            self.state.task_severity[self.index, task] += finding.severity[task]
        else:
            office = self.issuer_chain(int(self.model.tasks.chain[task]))[landing]
            office.receive_sanction(finding.severity[task], wrongful)
            office.carry_shifted(channel, finding.severity[task], self.model.tasks.column(task))

    def task_cause_level(self, task: int, cause) -> int:
        """Level of the task's issuer's chain where a finding on it with ``cause`` was decided."""
        tasks = self.model.tasks
        chain, column = int(tasks.chain[task]), tasks.column(task)
        damages = [office.damage[column] for office in self.issuer_chain(chain)]
        failing = rules.failing_relay(damages, self.level)
        return int(rules.cause_level(cause, *failing, self.level))

    def cause_level(self, cause) -> int:
        """Level of this unit's chain where a finding with ``cause`` was decided (ODD 7.5)."""
        failing = rules.failing_relay([ancestor.damage for ancestor in self.chain[:-1]], self.level)
        return int(rules.cause_level(cause, *failing, self.level))

    def receive_sanction(self, severity: float, wrongful: bool) -> None:
        """Record one sanction on this official."""
        self.sanctions += 1
        self.sanctions_now += 1
        self.wrongful_now += int(wrongful)
        self.severity_now += severity

    def carry_shifted(self, channel: int, severity: float, column: int | None = None) -> None:
        """With middle levels that decide, note a finding's severity blame shifting carried up to this office (13.1)."""
        shifted = self.state.shifted_severity
        if shifted is None:
            return
        if column is None:
            shifted[self.index, channel] += severity
        else:
            shifted[self.index, column, channel] += severity

    def face_relay_inspection(self) -> None:
        """Have this official's relay work inspected: a verbatim relay, a territory short; sanctioned on it (13.2)."""
        model, p, tasks = self.model, self.model.p, self.model.tasks
        draws = model.middle_draws[self.chain_index][self.level]
        if tasks is None:
            a, worked = p.accountability, True
            threshold, cost = a.shortfall_threshold, a.hosting_cost
            territory = self.territory_mean(lambda unit: rules.done_share(unit.output, unit.target_received))
        else:
            columns, worked = tasks.columns[self.chain_index], self.worked_tasks()
            threshold = rules.of_chain(tasks.accountability.shortfall_threshold, columns)
            cost = rules.of_chain(tasks.accountability.hosting_cost, columns)
            territory = self.territory_mean(
                lambda unit: rules.done_share(unit.output[columns], unit.target_received[columns])
            )
        uniforms = draws.inspect[self.index], draws.detect[self.index]
        seen = rules.inspect_relay(self.relay_option, territory, *uniforms, p.middle, threshold, worked)
        found = rules.relay_findings(seen)
        self.relay_inspected = seen.inspected
        self.relay_severity = found
        self.hosting = rules.middle_hosting(seen.inspected, cost, tasks is not None)
        count = int(rules.over_tasks(found)) if tasks is not None else int(found)
        self.sanctions += count
        self.sanctions_now += count
        self.severity_now += rules.over_tasks(self.relay_severity) if tasks is not None else self.relay_severity

    def rank_subordinates(self) -> None:
        """Sanction the bottom fraction of subordinates by reported completion (排名约谈)."""
        ties = self.model.accountability_draws.rank
        if self.model.tasks is not None:
            return self.rank_on_every_task(ties)
        fraction = self.model.p.accountability.ranking_fraction
        count = int(rules.ranking_quota(fraction, len(self.subordinates)))
        if count == 0:
            return
        order = sorted(self.subordinates, key=lambda s: (rules.completion(s.claim, s.target_received), ties[s.index]))
        for subordinate in order[:count]:
            strategy = int(subordinate.strategy_code)
            cause = int(rules.finding_cause(strategy, subordinate.failed))
            wrongful = rules.wrongful(strategy, cause, subordinate.cause_level(cause), subordinate.level)
            subordinate.receive_sanction(1.0, wrongful=bool(wrongful))

    def rank_on_every_task(self, ties: np.ndarray) -> None:
        """In a portfolio, rank the subordinates on each task in force, task by task, with each task's fraction."""
        fraction = self.model.tasks.accountability.ranking_fraction
        for task in np.flatnonzero(self.model.active_tasks):
            count = int(rules.ranking_quota(fraction[task], len(self.subordinates)))
            if count == 0:
                continue
            order = sorted(
                self.subordinates,
                key=lambda s: (rules.completion(s.claim[task], s.target_received[task]), ties[s.index, task]),
            )
            for subordinate in order[:count]:
                strategy = int(subordinate.strategy_code[task])
                cause = int(rules.finding_cause(strategy, subordinate.failed[task]))
                cause_lvl = subordinate.task_cause_level(task, cause)
                wrongful = rules.wrongful(strategy, cause, cause_lvl, subordinate.level)
                subordinate.receive_sanction(1.0, wrongful=bool(wrongful))
                subordinate.state.task_severity[subordinate.index, task] += 1.0

    # --- 6. learn ----------------------------------------------------------------------------

    def learn(self) -> None:
        """Reinforce the chosen strategy with this period's payoff; update the sanction belief (ODD 7.6)."""
        p = self.model.p
        if self.is_grassroots and self.model.tasks is not None:
            self.learn_portfolio()
        elif self.is_grassroots and p.execution.fixed_strategy is None:
            self.state.attractions[self.index] = rules.reinforced(
                self.attractions,
                int(self.strategy_code),
                self.claim,
                self.output,
                self.harm,
                self.target_received,
                self.severity_now,
                self.reward_now,
                self.risk_aversion,
                self.own_motivation,
                p,
            )
        if self.is_grassroots and self.model.audit_draws is not None and p.execution.fixed_strategy is None:
            tasks = self.model.tasks
            self.state.attractions[self.index] = rules.audit_learned(
                self.attractions,
                self.model.history[self.index],
                self.audit_severity,
                self.risk_aversion,
                p.task.weight if tasks is None else tasks.weight,
                p.learning.learning_rate,
            )
        if not self.is_grassroots and self.level > 0 and p.relay.inflation_options is not None:
            self.learn_inflation()
        if not self.is_grassroots and p.middle.deciding:
            self.learn_middle()
        own = rules.sanctioned(self.sanctions_now)
        self.belief = rules.update_belief(
            self.belief, own, self.peer_sanction_share(own), p.learning.belief_rate, p.learning.peer_weight
        )

    def learn_inflation(self) -> None:
        """Reinforce the inflation chosen with its payoff: the reported rate against the audit's sanction (12.3)."""
        model, p, tasks = self.model, self.model.p, self.model.tasks
        own = rules.own_completion(
            self.report, self.target_received, model.layout.leaves[self.level][self.index], p.relay.report_rule
        )
        value = rules.report_payoff(
            own,
            self.risk_aversion,
            rules.chain_weight(p, tasks, self.chain_index),
            self.report_severity,
            p.execution.report_value,
        )
        attractions = self.state.report_attractions[self.index]
        updated = rules.reinforce(
            attractions, self.inflation_option, value, p.learning.forgetting, p.learning.learning_rate
        )
        if tasks is not None:
            updated = rules.in_window(
                updated, attractions, model.tasks_in_force[tasks.columns[self.chain_index]][:, None]
            )
        self.state.report_attractions[self.index] = updated

    def learn_middle(self) -> None:
        """Reinforce the relay option and the shielding chosen with this official's payoff (ODD 13.1-13.3)."""
        model, p, tasks = self.model, self.model.p, self.model.tasks
        exposed = self.shield_severity if self.state.shield_attractions is not None else None
        if not p.middle.relay_choice and exposed is None:
            return  # nothing this official decides
        if tasks is None:
            original = p.task.target
            territory = self.territory_mean(lambda unit: rules.done_share(unit.output, original))
            record = self.territory_mean(lambda unit: unit.severity_now)
        else:
            columns = tasks.columns[self.chain_index]
            original = tasks.target[columns]
            territory = self.territory_mean(lambda unit: rules.done_share(unit.output[columns], original))
            record = self.territory_mean(lambda unit: unit.task_severity[columns])
        sanctions = rules.answerable(
            rules.middle_severity(self.relay_severity, self.state.shifted_severity[self.index], exposed),
            record,
            p.middle.territorial_responsibility,
        )
        own = rules.own_completion(
            self.report, self.target_received, model.layout.leaves[self.level][self.index], p.relay.report_rule
        )
        weight = rules.chain_weight(p, tasks, self.chain_index)
        if p.middle.relay_choice:
            clarified = rules.clarified_count(self.relay_option, self.worked_tasks())
            effort = rules.relay_effort(
                self.relay_option, rules.clarify_effort(self.free, p.middle.clarify_time, clarified)
            )
            value = rules.middle_payoff(
                own, territory, self.own_motivation, effort, self.risk_aversion, weight, sanctions, p.execution
            )
            self.reinforce_choice(self.state.relay_attractions, self.relay_option, value)
        if exposed is not None:
            value = rules.middle_payoff(
                own, territory, self.own_motivation, 0.0, self.risk_aversion, weight, sanctions, p.execution
            )
            self.reinforce_choice(self.state.shield_attractions, self.shield_option, value)

    def reinforce_choice(self, attractions: np.ndarray, chosen, value) -> None:
        """Roth-Erev on this official's row of ``attractions`` (only on the tasks worked, in a portfolio)."""
        learning, worked = self.model.p.learning, self.worked_tasks()
        mine = attractions[self.index]
        updated = rules.reinforce(mine, chosen, value, learning.forgetting, learning.learning_rate)
        attractions[self.index] = updated if worked is None else rules.in_window(updated, mine, worked[:, None])

    def learn_portfolio(self) -> None:
        """Reinforce each task's strategy with the task's payoff; move capacity after the sanctions (ODD 11)."""
        p, tasks = self.model.p, self.model.tasks
        active = self.model.active_tasks
        if p.execution.fixed_strategy is None:
            updated = rules.reinforced(
                self.attractions,
                self.strategy_code,
                self.claim,
                self.output,
                self.harm,
                self.target_received,
                self.task_severity,
                self.task_reward,
                self.risk_aversion,
                self.own_motivation,
                p,
                tasks,
                self.capacity_share,
            )
            self.state.attractions[self.index] = rules.in_window(updated, self.attractions, active[:, None])
        moved = rules.reallocated(
            self.allocation, self.task_severity, self.risk_aversion, tasks.weight, p.portfolio.allocation_rate
        )
        self.allocation = rules.in_window(moved, self.allocation, active)

    def count_sanctioned_subordinates(self) -> None:
        """Tally how many subordinates were sanctioned this period (their peers' evidence)."""
        self.sanctioned_subordinates = sum(int(s.sanctions_now > 0) for s in self.subordinates)

    def peer_sanction_share(self, own):
        """Share of this official's siblings sanctioned this period (its own state without siblings)."""
        if self.superior is None:
            return own
        return rules.peer_share(self.superior.sanctioned_subordinates, own, len(self.superior.subordinates))


class AgentEngine:
    """Runs the phases of one period official by official: the readable reference engine."""

    name = "agents"

    def relay(self, model: ChainState) -> None:
        """Top-down: every official above the grassroots relays to its subordinates (on every issuer's chain)."""
        for offices in model.offices:
            for level in range(model.relays):
                for official in offices[level]:
                    official.relay()

    def execute(self, model: ChainState) -> None:
        """Every grassroots official chooses and carries out a strategy."""
        for official in model.officials[-1]:
            official.execute()

    def report(self, model: ChainState) -> None:
        """Bottom-up: every official reports once all its subordinates have."""
        for official in model.officials[-1]:
            official.send_report()
        for offices in model.offices:
            for level in range(model.relays - 1, -1, -1):
                for official in offices[level]:
                    official.send_report()

    def hold_accountable(self, model: ChainState) -> None:
        """Grassroots officials face inspection; their superiors rank them; audits and inspections of the middle."""
        if model.p.middle.shielding and model.relays > 0:
            for offices in model.offices:
                for official in offices[-1]:
                    official.choose_shield()
        for official in model.officials[-1]:
            official.face_inspection()
        if model.relays > 0 and model.ranks_now():
            for official in model.officials[-2]:
                official.rank_subordinates()
        if model.p.relay.inflation_options is not None:
            for offices in model.offices:
                for level in range(1, model.relays):
                    for official in offices[level]:
                        official.face_report_audit()
        if model.audit_draws is not None:
            for official in model.officials[-1]:
                official.face_past_audit()
        if model.p.middle.relay_choice:
            for offices in model.offices:
                for level in range(1, model.relays):
                    for official in offices[level]:
                        official.face_relay_inspection()
        if rules.levels_skipped(model.p, model.tasks) and model.relays > 0:
            for official in model.officials[-1]:
                official.face_level_skipping_inspection()

    def learn(self, model: ChainState) -> None:
        """Superiors tally their sanctioned subordinates, then everyone learns."""
        rows = [row for offices in model.offices for row in offices]
        for row in rows:
            for official in row:
                official.count_sanctioned_subordinates()
        for row in [*rows, model.officials[-1]]:
            for official in row:
                official.learn()
