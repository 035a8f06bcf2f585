"""Officials: one Mesa agent per unit of the hierarchy.

An :class:`Official` keeps no state of its own beyond its place (level and index): every
attribute reads and writes one entry of the per-level arrays the model owns
(:class:`LevelState`). Its methods are the phases of docs/ODD.md, section 3, applied to its
own entries with the shared equations of :mod:`sim.model.rules`. The random numbers a phase needs
were drawn by the model beforehand, one array per purpose; an official reads its own entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import rules
from sim.scenario.strategies import Strategy

if TYPE_CHECKING:
    from sim.model.bureau_model import BureauModel


class LevelState:
    """The state of every official on one level, as numpy arrays (ODD section 2).

    Args:
        size: Officials on the level.
    """

    FLOATS = (
        "capacity",
        "risk_aversion",
        "belief",
        "target_received",
        "clarity_received",
        "resources_received",
        "escalation_applied",
        "damage",
        "output",
        "claim",
        "report",
        "harm",
        "paperwork",
        "hosting",
        "free",
        "capacity_used",
        "burden_share",
        "severity_now",
        "reward_now",
    )
    INTS = ("strategy_code", "sanctions", "sanctions_now", "wrongful_now", "principals")
    BOOLS = ("failed",)

    def __init__(self, size: int) -> None:
        for name in self.FLOATS:
            setattr(self, name, np.zeros(size))
        for name in self.INTS:
            setattr(self, name, np.zeros(size, dtype=np.int64))
        for name in self.BOOLS:
            setattr(self, name, np.zeros(size, dtype=bool))
        self.strategy_code[:] = -1
        self.attractions = np.zeros((size, rules.N_STRATEGIES))


class _LevelArray:
    """Descriptor: an agent attribute backed by its entry in the level's array."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Official | None, owner: type) -> object:
        if agent is None:
            return self
        return getattr(agent.state, self.name)[agent.index]

    def __set__(self, agent: Official, value: object) -> None:
        getattr(agent.state, self.name)[agent.index] = value


class Official(mesa.Agent):
    """The leading office of one government unit.

    Args:
        model: The model that owns the state arrays.
        level: Depth in the hierarchy (0 = top).
        index: Position in the level's arrays.
    """

    capacity = _LevelArray()
    risk_aversion = _LevelArray()
    belief = _LevelArray()
    target_received = _LevelArray()
    clarity_received = _LevelArray()
    resources_received = _LevelArray()
    escalation_applied = _LevelArray()
    damage = _LevelArray()
    output = _LevelArray()
    claim = _LevelArray()
    report = _LevelArray()
    harm = _LevelArray()
    paperwork = _LevelArray()
    hosting = _LevelArray()
    free = _LevelArray()
    capacity_used = _LevelArray()
    burden_share = _LevelArray()
    severity_now = _LevelArray()
    reward_now = _LevelArray()
    strategy_code = _LevelArray()
    sanctions = _LevelArray()
    sanctions_now = _LevelArray()
    wrongful_now = _LevelArray()
    principals = _LevelArray()
    failed = _LevelArray()

    sanctioned_subordinates = 0  # set on superiors each period by count_sanctioned_subordinates

    def __init__(self, model: BureauModel, level: int, index: int) -> None:
        super().__init__(model)
        self.level = level
        self.index = index
        self.superior: Official | None = None
        self.subordinates: list[Official] | tuple[()] = ()  # a list once a subordinate is attached

    # --- identity ----------------------------------------------------------------------------

    @property
    def state(self):
        """The arrays of this official's level."""
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

    def attach(self, subordinate: Official) -> None:
        """Make ``subordinate`` report to this official."""
        if not self.subordinates:
            self.subordinates = []
        self.subordinates.append(subordinate)
        subordinate.superior = self

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
        """The strategy chosen this period, by label; ``None`` above the grassroots or before any period."""
        code = int(self.strategy_code)
        return Strategy(code).label if code >= 0 else None

    # --- 2. relay ----------------------------------------------------------------------------

    def relay(self) -> None:
        """Pass the directive to every subordinate: escalated, diluted, stripped (ODD 7.1)."""
        p = self.model.p
        rate = rules.escalation_rate(
            p.relay.escalation, p.relay.escalation_pressure, p.task.weight, self.risk_aversion, self.belief
        )
        self.escalation_applied = rate
        self.damage = rules.relay_damage(rate, p.relay.dilution, p.relay.stripping, p.relay.funded_escalation)
        target = rules.relayed_target(self.target_received, rate)
        clarity = rules.relayed_clarity(self.clarity_received, p.relay.dilution)
        resources = rules.relayed_resources(self.resources_received, p.relay.stripping, rate, p.relay.funded_escalation)
        for subordinate in self.subordinates:
            subordinate.receive(target, clarity, resources)

    def receive(self, target: float, clarity: float, resources: float) -> None:
        """Take the directive as relayed by the superior."""
        self.target_received = target
        self.clarity_received = clarity
        self.resources_received = resources

    # --- 3. execute --------------------------------------------------------------------------

    def execute(self) -> None:
        """Choose a strategy and carry it out with the capacity paperwork and hosting leave (ODD 7.2)."""
        p = self.model.p
        draws = self.model.draws
        self.free = rules.free_capacity(self.capacity, self.paperwork, self.hosting)
        self.burden_share = rules.burden(self.capacity, self.paperwork, self.hosting)
        self.strategy_code = self.choose_strategy(draws["choice"][self.index])
        strategy = int(self.strategy_code)
        risk = rules.failure_risk(strategy, p.task.risk, p.execution.innovation_risk)
        self.failed = draws["risk"][self.index] < risk
        output, claim, harm = rules.execute(
            strategy,
            self.target_received,
            self.free,
            self.clarity_received,
            self.resources_received,
            self.failed,
            p.execution,
        )
        self.output, self.claim, self.harm = output, claim, harm
        self.capacity_used = rules.capacity_used(self.capacity, self.paperwork, self.hosting, self.free, strategy)

    def choose_strategy(self, uniform: float) -> int:
        """Logit choice over learned attractions, or the scenario's fixed strategy."""
        fixed = self.model.p.execution.fixed_strategy
        if fixed is not None:
            return int(fixed)
        return int(rules.choose_strategy(self.attractions, self.model.p.learning.temperature, uniform))

    # --- 4. report ---------------------------------------------------------------------------

    def send_report(self) -> None:
        """Report upwards: own claim at the grassroots, the inflated sum of subordinates' above (ODD 7.3)."""
        if self.is_grassroots:
            self.report = min(self.claim, self.target_received)
            return
        total = sum(subordinate.report for subordinate in self.subordinates)
        leaves = self.model.layout.leaves[self.level][self.index]
        inflation = self.model.p.relay.report_inflation if self.level > 0 else 0.0
        self.report = rules.aggregate_report(total, inflation, self.target_received, leaves)

    # --- 5. inspect and hold accountable -----------------------------------------------------

    def face_inspection(self) -> None:
        """Be inspected, evaluated and held to incidents; pass each finding to attribution (ODD 7.4-7.5)."""
        p = self.model.p
        a = p.accountability
        draws = self.model.draws
        i = self.index
        strategy = int(self.strategy_code)
        target = self.target_received
        rate, onsite_share = self.model.inspection_intensity()
        slots = np.arange(draws["inspect"].shape[1]) < self.principals
        count = rules.inspection_count(rate * slots, draws["inspect"][i], a.inspection_cap)
        inspected = count > 0
        onsite = draws["onsite"][i] < onsite_share
        caught = (
            inspected
            & (strategy == Strategy.FALSIFY)
            & (draws["detect"][i] < np.where(onsite, a.detect_onsite, a.detect_paper))
        )
        score = rules.inspection_score(strategy, self.output, self.claim, onsite, caught)
        evaluated = draws["third_party"][i] < a.third_party_rate
        tp_caught = evaluated & (strategy == Strategy.FALSIFY) & (draws["tp_detect"][i] < a.detect_onsite)
        tp_score = rules.inspection_score(strategy, self.output, self.claim, True, tp_caught)
        self.hosting = a.hosting_cost * (count + evaluated)

        cause = int(rules.finding_cause(strategy, self.failed))
        if inspected:
            if caught:
                self.hold_accountable(0, a.falsify_penalty, cause, precise=a.precise)
            elif rules.shortfall(score, target, a.shortfall_threshold):
                self.hold_accountable(0, 1.0, cause, precise=a.precise)
        if self.failed and draws["visible"][i] < a.incident_visibility:
            self.hold_accountable(1, 1.0, rules.CAUSE_CHANCE, precise=a.precise)
        if evaluated:
            if tp_caught:
                self.hold_accountable(2, a.falsify_penalty, cause, precise=True)
            elif rules.shortfall(tp_score, target, a.shortfall_threshold):
                self.hold_accountable(2, 1.0, cause, precise=True)
        good = (inspected & (score >= a.reward_threshold * target)) | (
            evaluated & (tp_score >= a.reward_threshold * target)
        )
        self.reward_now = a.reward if (good and not (caught or tp_caught)) else 0.0

    def hold_accountable(self, channel: int, severity: float, cause: int, precise: bool) -> None:
        """Excuse, or attribute a finding on this unit to the official who bears it (ODD 7.5).

        Args:
            channel: Which finding this is (0 inspection, 1 incident, 2 third party), to pick
                this unit's excuse and blame draws.
            severity: Severity of the sanction.
            cause: Own choice, chance or conditions.
            precise: Whether to sanction at the cause level instead of shifting from the bottom.
        """
        draws = self.model.draws
        strategy = int(self.strategy_code)
        genuine = bool(rules.GENUINE[strategy])
        if genuine and draws["excuse"][self.index, channel] < self.model.p.accountability.excuse_genuine:
            return
        cause_lvl = self.cause_level(cause)
        landing = int(
            rules.landing_level(
                cause_lvl,
                draws["blame"][self.index, channel],
                self.model.p.accountability.blame_shift,
                precise,
                self.level,
            )
        )
        wrongful = bool(rules.wrongful(strategy, cause, cause_lvl, landing))
        self.chain[landing].receive_sanction(severity, wrongful)

    def cause_level(self, cause: int) -> int:
        """Level of this unit's chain where a finding with ``cause`` was decided (ODD 7.5)."""
        failing = rules.failing_relay([ancestor.damage for ancestor in self.chain[:-1]], self.level)
        return int(rules.cause_level(cause, *failing, self.level))

    def receive_sanction(self, severity: float, wrongful: bool) -> None:
        """Record one sanction on this official."""
        self.sanctions += 1
        self.sanctions_now += 1
        self.wrongful_now += int(wrongful)
        self.severity_now += severity

    def rank_subordinates(self) -> None:
        """Sanction the bottom fraction of subordinates by reported completion (排名约谈)."""
        fraction = self.model.p.accountability.ranking_fraction
        count = int(rules.ranking_quota(fraction, len(self.subordinates)))
        if count == 0:
            return
        ties = self.model.draws["rank"]
        order = sorted(
            self.subordinates,
            key=lambda s: (s.claim / max(s.target_received, 1e-12), ties[s.index]),
        )
        for subordinate in order[:count]:
            strategy = int(subordinate.strategy_code)
            cause = int(rules.finding_cause(strategy, subordinate.failed))
            wrongful = rules.wrongful(strategy, cause, subordinate.cause_level(cause), subordinate.level)
            subordinate.receive_sanction(1.0, wrongful=bool(wrongful))

    # --- 6. learn ----------------------------------------------------------------------------

    def learn(self) -> None:
        """Reinforce the chosen strategy with this period's payoff; update the sanction belief (ODD 7.6)."""
        p = self.model.p
        if self.is_grassroots and p.execution.fixed_strategy is None:
            strategy = int(self.strategy_code)
            value = rules.payoff(
                self.claim,
                self.output,
                self.harm,
                self.target_received,
                p.task.target,
                strategy,
                self.severity_now,
                self.reward_now,
                self.risk_aversion,
                p.task.weight,
                p.execution,
            )
            self.state.attractions[self.index] = rules.reinforce(
                self.attractions, strategy, value, p.learning.forgetting, p.learning.learning_rate
            )
        own = float(self.sanctions_now > 0)
        self.belief = rules.update_belief(
            self.belief, own, self.peer_sanction_share(own), p.learning.belief_rate, p.learning.peer_weight
        )

    def count_sanctioned_subordinates(self) -> None:
        """Tally how many subordinates were sanctioned this period (their peers' evidence)."""
        self.sanctioned_subordinates = sum(int(s.sanctions_now > 0) for s in self.subordinates)

    def peer_sanction_share(self, own: float) -> float:
        """Share of this official's siblings sanctioned this period (its own state without siblings)."""
        if self.superior is None or len(self.superior.subordinates) == 1:
            return own
        return (self.superior.sanctioned_subordinates - own) / (len(self.superior.subordinates) - 1)


class AgentEngine:
    """Runs the phases of one period official by official: the readable reference engine."""

    name = "agents"

    def relay(self, model: BureauModel) -> None:
        """Top-down: every official above the grassroots relays to its subordinates."""
        for level in range(model.relays):
            for official in model.officials[level]:
                official.relay()

    def execute(self, model: BureauModel) -> None:
        """Every grassroots official chooses and carries out a strategy."""
        for official in model.officials[-1]:
            official.execute()

    def report(self, model: BureauModel) -> None:
        """Bottom-up: every official reports once all its subordinates have."""
        for level in range(model.relays, -1, -1):
            for official in model.officials[level]:
                official.send_report()

    def hold_accountable(self, model: BureauModel) -> None:
        """Grassroots officials face inspection; their superiors rank them."""
        for official in model.officials[-1]:
            official.face_inspection()
        if model.relays > 0:
            for official in model.officials[-2]:
                official.rank_subordinates()

    def learn(self, model: BureauModel) -> None:
        """Superiors tally their sanctioned subordinates, then everyone learns."""
        for row in model.officials[:-1]:
            for official in row:
                official.count_sanctioned_subordinates()
        for row in model.officials:
            for official in row:
                official.learn()
