"""``BureauModel``: the implementation chain as a Mesa model.

The model owns the hierarchy, the per-level state arrays and the random number generator.
Each :meth:`BureauModel.step` runs one period, phase by phase (docs/ODD.md, section 3):
before each phase that needs chance, the model draws every random number the phase uses as
one array per purpose, in a fixed order, and the officials read their own entries. Outputs
are recorded by a Mesa ``DataCollector`` under the names of :mod:`sim.scenario.output_names`.
"""

from __future__ import annotations

import collections
import operator
from collections.abc import Sequence
from functools import partial
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.errors import ScenarioError, UserError
from sim.model.agent_engine import Official
from sim.model.bounds import RISK_AVERSION_Z_CLIP, check_finite_targets, check_relay_levels
from sim.model.engines import ENGINES
from sim.model.hierarchy import build_layout, graph_from_layout, level_names
from sim.model.measures import (
    chosen_inflation_mean,
    escalation_by_level,
    gaps_by_level,
    middle_outputs,
    outputs_by_type,
    shield_share,
    target_weighted,
)
from sim.model.portfolio import TaskTable
from sim.model.rules import (
    RELAY_OPTIONS,
    believed_attainment,
    levels_skipped,
    mean_one_lognormal,
    motivated_type,
    motivation_factors,
    over_tasks,
    paperwork_load,
    portfolio_paperwork,
)
from sim.model.state import (
    FINDING_CHANNELS,
    AccountabilityDraws,
    ExecutionDraws,
    LevelState,
    MiddleDraws,
    ReportDraws,
    ShieldDraws,
    switches_on,
)
from sim.scenario.messages import did_you_mean, user_error
from sim.scenario.outcome_values import RUN_VALUE_PREFIX, burn_in_periods, run_value
from sim.scenario.output_names import (
    AGENT_OUTPUTS,
    CHOSEN_INFLATION,
    SHIELD_SHARE,
    STRATEGY_SHARES,
    TASK_OUTPUTS,
    model_output_names,
    sanction_share_name,
    task_output_name,
)
from sim.scenario.parameters import Parameters, is_task_path, parameter_paths, with_values
from sim.scenario.policies import apply_policies
from sim.scenario.schema import HIERARCHY_POINT_FIELDS, Scenario, parse_policies
from sim.scenario.strategies import N_STRATEGIES, Strategy
from sim.scenario.timing import in_model_periods, period_fraction


class BureauModel(mesa.Model):
    """An administrative hierarchy implementing one directive, period by period.

    Build it from a scenario (:meth:`from_scenario`) or from keyword arguments, which is what
    ``mesa.batch_run`` does. Every parameter of ``bureausim describe`` is a keyword argument,
    its dotted path written with an underscore (``relay_escalation=0.2``); values are checked
    against the same types and ranges as scenario files.

    Args:
        scenario: Scenario to start from (default: all defaults, the one-province chain).
        arm: Name of one of the scenario's arms to apply.
        seed: Seed of the model's random number generator. Without one, as with every Mesa
            model, a fresh seed is drawn from the operating system and recorded (``seed``,
            and a ``seed`` column in the collected data), so that replications differ and
            each can be replayed; :meth:`from_scenario` uses the scenario's seed instead.
        steps: Periods :meth:`run_model` runs before it sets ``running`` to ``False``
            (default: the scenario's ``steps``).
        branching: Subordinates per official at each relay, replacing the scenario's hierarchy.
            The other hierarchy values are keywords too: ``counts``, ``spread``, ``levels``
            and ``extra_principals`` (line departments per grassroots unit).
        policies: Policies to switch on, after the scenario's and the arm's: names, or ``{name: {option: value}}``.
        engine: ``"vectorized"`` (whole levels at once) or ``"agents"`` (official by
            official); default: the scenario's. Both give the same numbers.
        record_agents: In which periods the DataCollector records the agents' outputs:
            ``True`` every period, ``False`` never, ``"end"`` only
            the last of the ``steps`` periods, or a whole number *k* every *k*-th period. At
            national scale recording every official every period costs more than half of a
            period's time; it may be changed between steps.
        **parameters: Parameter overrides, e.g. ``accountability_onsite_share=0.8``.

    Attributes:
        p: The resolved parameters (policies applied).
        graph: The hierarchy (``networkx.DiGraph``).
        layout: Index arrays of the hierarchy (:class:`sim.model.hierarchy.Layout`).
        levels: Per level, the :class:`sim.model.agent_engine.LevelState` arrays.
        officials: Per level, the :class:`sim.model.agent_engine.Official` agents in state order.
        agent_ids: Per level, the agents' ``unique_id`` in state order.
        engine: The engine running the phases.
        level_names: Name of each level, top first.
        relays: Number of relays *L*; the grassroots are level *L*.
        outputs: The model outputs of the last period (or of initialisation).
        burn_in: Periods left out of the run's outcome values (the scenario's ``burn_in``, or a
            third of ``steps``).
        after_burn_in: Per outcome of the scenario, its values in the periods after the burn-in.
            The model reporters ``run_value_<outcome>`` hold their mean (the run's value, as
            every experiment defines it) from the run's last period on, NaN before.
        execution_draws: This period's random numbers of the execute phase.
        accountability_draws: This period's random numbers of the accountability phase.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        arm: str | None = None,
        seed: int | None = None,
        steps: int | None = None,
        branching: Sequence[int] | None = None,
        policies: Sequence[str | dict[str, Any]] = (),
        engine: str | None = None,
        record_agents: bool | int | str = True,
        **parameters: Any,
    ) -> None:
        scenario = scenario or Scenario()
        self.seed = fresh_seed() if seed is None else seed
        super().__init__(seed=self.seed)
        self.max_steps = scenario.steps if steps is None else steps
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise ScenarioError(f"must be a whole number of periods, at least 1 (got {steps!r})", field="steps")
        policies = _list_keyword("policies", policies, '[["fault_tolerance"]]')
        hierarchy = {f"hierarchy.{name}": parameters.pop(name) for name in HIERARCHY_POINT_FIELDS if name in parameters}
        if branching is not None:
            hierarchy["hierarchy.branching"] = _list_keyword("branching", branching, "[(4, 4, 6)]")
        for key in ("hierarchy.counts", "hierarchy.levels"):
            if key in hierarchy:
                hierarchy[key] = _list_keyword(key.split(".")[1], hierarchy[key], "[[31, 333, 2844]]")
        if hierarchy:
            try:
                scenario, _ = scenario.at_point(hierarchy)
            except ValidationError as error:
                raise user_error(error) from None
        self.scenario = scenario
        self.engine = ENGINES[engine or scenario.engine]()
        self.record_agents = _check_agent_periods(record_agents)
        self.p = _resolve(scenario, arm, policies, parameters)
        self.tasks = TaskTable.of(self.p)
        self.active_tasks = None if self.tasks is None else self.tasks.active(1)
        self.tasks_in_force = None if self.tasks is None else self.tasks.in_force(1)
        self.layout, self._graph = build_layout(scenario.hierarchy, self.rng, scenario.folder)
        self.relays = self.layout.depth
        self.level_names = level_names(
            scenario.hierarchy, self.relays + 1, scenario.source, scenario.line_of("hierarchy", "levels")
        )
        check_relay_levels(self.p, self.relays, source=scenario.source)
        check_finite_targets(self.p, self.relays, self.layout.sizes[-1], source=scenario.source)
        self.burn_in = burn_in_periods(scenario.burn_in, self.max_steps)
        if self.burn_in >= self.max_steps:
            raise ScenarioError(
                f"{self.max_steps} periods leave none after the scenario's burn_in of {self.burn_in}", field="steps"
            )
        self._initialise_state()
        self._create_officials()
        self._prepare_reports_and_audits()
        self.inspection_factor = self.target_factor = 1.0  # the top's revisions (ODD section 15)
        self._believed: list[float] = []
        self.outputs = dict.fromkeys(model_output_names(self.level_names, self.task_names, self.p), 0.0)
        self.after_burn_in: dict[str, list[float]] = {outcome.name: [] for outcome in scenario.outcomes}
        for index, name in enumerate(self.after_burn_in):
            if name not in self.outputs:
                raise ScenarioError(
                    f"{name!r} is not an output of this hierarchy; its outputs: {', '.join(self.outputs)}",
                    source=scenario.source,
                    field=f"outcomes.{index}.name",
                )
        outputs = {name: partial(_output, name=name) for name in self.outputs}
        run_values = {f"{RUN_VALUE_PREFIX}{name}": partial(_run_value, name=name) for name in self.after_burn_in}
        self.datacollector = OutputCollector(
            model_reporters={"seed": "seed"} | outputs | run_values,
            agent_reporters={name: operator.attrgetter(name) for name in AGENT_OUTPUTS},
        )  # nothing is collected before the first period: row k of the collected data is period k + 1

    @property
    def task_names(self) -> tuple[str, ...]:
        """The portfolio's task names, in order (none for the one-directive model)."""
        return () if self.tasks is None else self.tasks.names

    @property
    def graph(self) -> nx.DiGraph:
        """The hierarchy as a ``networkx.DiGraph`` (superior -> subordinate, ``level`` on every node).

        Made on first use for generated hierarchies, whose model does not need it to run.
        """
        if self._graph is None:
            self._graph = graph_from_layout(self.layout)
        return self._graph

    def release(self) -> None:
        """Let the model be garbage-collected once the caller drops it.

        Mesa 3.3 keeps every model in a class-level dictionary of agent-id counters
        (``mesa.Agent._ids``, mesa issue #3179, fixed in later Mesa), so without this a process
        that runs many models keeps all of them. Call it when a run's results have been read.
        """
        mesa.Agent._ids.pop(self, None)

    @classmethod
    def from_scenario(cls, scenario: Scenario, seed: int | None = None, arm: str | None = None) -> BureauModel:
        """Build the model a scenario describes (optionally one of its arms), with its seed unless one is given."""
        return cls(scenario, arm=arm, seed=scenario.seed if seed is None else seed)

    # --- initialisation ----------------------------------------------------------------------

    def _initialise_state(self) -> None:
        """Allocate per-level arrays and draw capacity and risk aversion (ODD section 5)."""
        sizes = self.layout.sizes
        total = sum(sizes)
        execution = self.p.execution
        capacity = mean_one_lognormal(self.rng.standard_normal(total), execution.capacity_sd)
        aversion_z = np.clip(self.rng.standard_normal(total), -RISK_AVERSION_Z_CLIP, RISK_AVERSION_Z_CLIP)
        aversion = mean_one_lognormal(aversion_z, execution.risk_aversion_sd)
        widths = (
            [None] * len(sizes)
            if self.tasks is None
            else [len(self.tasks.columns[0])] * self.relays + [len(self.tasks)]
        )
        self.levels = self._level_states(capacity, aversion, widths)
        self._draw_motivation(total)
        grassroots = self.levels[-1]
        grassroots.principals[:] = self.layout.principals
        self.chains = [self.levels[:-1]]
        if self.tasks is None:
            grassroots.paperwork[:] = paperwork_load(
                self.layout.principals, self.p.task.paperwork, self.p.relay.paperwork_per_relay, self.relays
            )
            grassroots.attractions[:, Strategy.SUBSTANTIVE] = self.p.learning.initial_attraction
            return
        grassroots.attractions[:, :, Strategy.SUBSTANTIVE] = self.p.learning.initial_attraction
        for columns in self.tasks.columns[1:]:  # a line department's offices, drawn after everything above
            offices = sum(sizes[:-1])
            capacity = mean_one_lognormal(self.rng.standard_normal(offices), execution.capacity_sd)
            aversion_z = np.clip(self.rng.standard_normal(offices), -RISK_AVERSION_Z_CLIP, RISK_AVERSION_Z_CLIP)
            aversion = mean_one_lognormal(aversion_z, execution.risk_aversion_sd)
            self.chains.append(self._level_states(capacity, aversion, [len(columns)] * self.relays))
            if execution.heterogeneous:  # their own field, which no rule of theirs reads
                for state in self.chains[-1]:
                    state.motivation[:] = execution.intrinsic_motivation

    def _draw_motivation(self, total: int) -> None:
        """Public-service motivation per official of the territorial line and the grassroots (ODD 12.1).

        Drawn from a stream of its own, and only with a switch on, so that the model's other
        draws stay as they were.
        """
        execution = self.p.execution
        if not execution.heterogeneous:
            return
        types = None
        if execution.motivated_share is not None:
            types = np.random.default_rng([self.seed, MOTIVATION_STREAM]).random(total)
        spread = None
        if execution.motivation_spread > 0:
            spread = np.random.default_rng([self.seed, SPREAD_STREAM]).standard_normal(total)
        factors = np.broadcast_to(motivation_factors(execution, types, spread), (total,))
        start = 0
        for state in self.levels:
            state.motivation[:] = execution.intrinsic_motivation * factors[start : start + len(state.motivation)]
            start += len(state.motivation)
        grassroots = slice(total - len(self.levels[-1].motivation), total)
        self.motivated = (  # by drawn type in a mixture; else by a motivation at least the scenario's
            motivated_type(execution, types[grassroots])
            if types is not None
            else self.levels[-1].motivation >= execution.intrinsic_motivation
        )

    def _prepare_reports_and_audits(self) -> None:
        """Streams, attractions and records of chosen inflation, audits of past periods and relay choice (12.3-13)."""
        relay, a = self.p.relay, self.p.accountability
        self.report_draws = None
        self.audit_draws = None
        self.history = None
        self._inflation_stream = np.random.default_rng([self.seed, INFLATION_STREAM])
        self._audit_stream = np.random.default_rng([self.seed, AUDIT_STREAM])
        if relay.inflation_options is not None:
            for chain in self.chains:
                for state in chain[1:]:  # below the top, which reports to no one
                    state.report_attractions = np.zeros((*state.report.shape, len(relay.inflation_options)))
        self._records: collections.deque[np.ndarray] = collections.deque(maxlen=a.audit_lag)
        self.middle_draws = None
        self.shield_draws = None
        self._middle_stream = np.random.default_rng([self.seed, MIDDLE_STREAM])
        self._shield_stream = np.random.default_rng([self.seed, SHIELD_STREAM])
        self._anticipation_stream = np.random.default_rng([self.seed, ANTICIPATION_STREAM])
        middle = self.p.middle
        for chain in self.chains:
            for level, state in enumerate(chain):
                shape = state.target_received.shape
                if middle.relay_choice:
                    state.relay_attractions = np.zeros((*shape, len(RELAY_OPTIONS)))
                if middle.deciding:
                    state.shifted_severity = np.zeros((*shape, FINDING_CHANNELS))
                if middle.shielding and level == self.relays - 1:  # the grassroots' superiors
                    state.shield_attractions = np.zeros((*shape, 2))

    def _level_states(self, capacity: np.ndarray, aversion: np.ndarray, widths: list[int | None]) -> list[LevelState]:
        """One :class:`LevelState` per level from the top, with these capacity and risk-aversion factors, in order."""
        execution = self.p.execution
        states = []
        start = 0
        for size, width in zip(self.layout.sizes, widths, strict=False):
            state = LevelState(size, width, switches_on(self.p))
            state.capacity[:] = execution.capacity_mean * capacity[start : start + size]
            state.risk_aversion[:] = execution.risk_aversion_mean * aversion[start : start + size]
            state.capacity_used[:] = np.nan
            states.append(state)
            start += size
        return states

    def _create_officials(self) -> None:
        """One :class:`Official` per node, linked to its superior and subordinates."""
        self.officials: list[list[Official]] = []
        for level, nodes in enumerate(self.layout.nodes):
            row = [Official(self, level, index) for index in range(len(nodes))]
            if level > 0:
                above = self.officials[level - 1]
                for official, parent in zip(row, self.layout.parent[level].tolist(), strict=True):
                    above[parent].attach(official)
            self.officials.append(row)
        self.agent_ids = [[official.unique_id for official in row] for row in self.officials]
        self.offices = [self.officials[:-1]]  # per chain, its officials above the grassroots
        for chain in range(1, len(self.chains)):
            rows: list[list[Official]] = []
            for level in range(self.relays):
                row = [Official(self, level, index, chain) for index in range(self.layout.sizes[level])]
                below = self.officials[-1] if level == self.relays - 1 else None
                if level > 0:
                    for official, parent in zip(row, self.layout.parent[level].tolist(), strict=True):
                        rows[-1][parent].attach(official)
                rows.append(row)
                if below is not None:  # the department's lowest offices serve the townships, which keep their superior
                    for unit, parent in zip(below, self.layout.parent[level + 1].tolist(), strict=True):
                        row[parent].attach(unit, as_superior=False)
            self.offices.append(rows)

    def records_agents_now(self) -> bool:
        """Whether this period's agent outputs are recorded (see ``record_agents``)."""
        when = self.record_agents
        if isinstance(when, bool):
            return when
        if when == "end":
            return self.steps >= self.max_steps
        return self.steps % when == 0

    # --- one period --------------------------------------------------------------------------

    @property
    def campaign_active(self) -> bool:
        """Whether the current period lies in the campaign window (periods count from 1)."""
        return self.p.campaign.active(self.steps)

    def inspection_intensity(self) -> tuple[float, float]:
        """Inspection rate per principal and on-site share this period (raised in a campaign, revised by the top)."""
        a, c = self.p.accountability, self.p.campaign
        rate, onsite = a.inspection_rate, a.onsite_share
        if self.campaign_active:
            rate, onsite = a.inspection_rate * c.inspection_multiplier, c.onsite_share
        return (rate * self.inspection_factor if self.p.feedback.every else rate), onsite

    def ranks_now(self) -> bool:
        """Whether superiors rank this period: every period, or once per stated period when periods are shorter.

        Ranking (排名约谈) sanctions a fixed share of every sibling group whenever it happens, with no
        chance to convert, so with periods shorter than the ones values are stated for it happens at
        the first model period of every stated period (ODD section 14).
        """
        delta = period_fraction(self.p)
        if delta is None or delta >= 1:
            return True
        return (self.steps - 1) % max(1, round(1 / delta)) == 0

    def task_inspection_rates(self) -> np.ndarray:
        """Inspection rate per principal of each task this period (raised by its campaign, revised by the top)."""
        rates = self.tasks.inspection_rates(self.steps)
        return rates * self.inspection_factor if self.p.feedback.every else rates

    def task_onsite_shares(self) -> np.ndarray:
        """On-site share of each task's inspections this period (its campaign's while one runs)."""
        return self.tasks.onsite_shares(self.steps)

    def step(self) -> None:
        """Run one period: issue, relay, execute, report, inspect and hold accountable, learn."""
        self._reset_period()
        self._issue()
        self._draw_middle()
        self.engine.relay(self)
        self._draw_execution()
        self.engine.execute(self)
        self._draw_reports()
        self.engine.report(self)
        self._draw_accountability()
        self._draw_audits()
        self._draw_shielding()
        self.engine.hold_accountable(self)
        self.engine.learn(self)
        self._keep_record()
        self.outputs = self._measure()
        self._revise()
        if self.steps > self.burn_in:
            for name, values in self.after_burn_in.items():
                values.append(self.outputs[name])
        self.datacollector.collect(self)
        if self.steps >= self.max_steps:
            self.running = False  # so that run_model() returns after the scenario's periods

    def _reset_period(self) -> None:
        for state in [*self.levels, *(state for chain in self.chains[1:] for state in chain)]:
            state.start_period()

    def _issue(self) -> None:
        if self.tasks is None:
            task = self.p.task
            self.officials[0][0].receive(self._issued(task.target), task.clarity, task.resources)
            return
        tasks = self.tasks
        self.tasks_in_force = tasks.in_force(self.steps)
        self.active_tasks = tasks.active(self.steps)
        g = self.levels[-1]
        g.paperwork[:] = portfolio_paperwork(
            g.principals,
            tasks.paperwork,
            tasks.relay.paperwork_per_relay,
            self.relays,
            self.active_tasks,
            tasks.chain,
            self.p.portfolio.issuer_load,
        )
        for chain, columns in enumerate(tasks.columns):
            issued = self._issued(tasks.target[columns]), tasks.clarity[columns], tasks.resources[columns]
            if self.relays == 0:  # a hierarchy of one unit: it receives the tasks as issued
                self.officials[0][0].receive(*issued, columns=columns)
            else:
                self.offices[chain][0][0].receive(*issued)

    def _issued(self, target):
        """The target the top issues: the original, times its revision with feedback (ODD section 15)."""
        return target * self.target_factor if self.p.feedback.every else target

    def _revise(self) -> None:
        """At the end of a round, the top revises inspections and targets from what it believed (ODD section 15)."""
        f = self.p.feedback
        if f.every is None:
            return
        if np.isfinite(self.outputs["reported_attainment"]):  # a portfolio with no task in force believes nothing
            self._believed.append(self.outputs["reported_attainment"])
        if self.steps % f.every:
            return
        if not self._believed:
            return  # a round without a belief revises nothing
        believed = float(np.mean(self._believed))
        self._believed = []
        self.inspection_factor = revised(self.inspection_factor, f.inspection_response * (f.aspiration - believed), f)
        self.target_factor = revised(self.target_factor, f.target_response * (believed - f.aspiration), f)

    def _draw_execution(self) -> None:
        """Random numbers of the execute phase: strategy choice, then risk; and preparing for an announced campaign."""
        self.execution_draws = ExecutionDraws.draw(self.rng, self.layout.sizes[-1], self._task_axis)
        self.announced = (
            self.p.campaign.announced(self.steps) if self.tasks is None else self.tasks.announced(self.steps)
        )
        self.anticipation_draws = None
        if np.any(self.announced) and self.p.execution.fixed_strategy is None:  # its own stream (ODD section 14)
            self.anticipation_draws = self._anticipation_stream.random(self.execution_draws.choice.shape)

    def _draw_accountability(self) -> None:
        """Random numbers of the accountability phase, in the order of :class:`AccountabilityDraws`' fields."""
        slots = int(self.layout.principals.max())
        self.accountability_draws = AccountabilityDraws.draw(
            self.rng, self.layout.sizes[-1], self._task_axis, slots=slots, channels=FINDING_CHANNELS
        )

    def _draw_reports(self) -> None:
        """Uniforms of chosen inflation and report audits, level by level of every chain (ODD 12.3)."""
        if self.p.relay.inflation_options is None:
            return
        self.report_draws = [
            [None, *(ReportDraws.draw(self._inflation_stream, state.report.shape) for state in chain[1:])]
            for chain in self.chains
        ]

    def _draw_middle(self) -> None:
        """Uniforms of relay choices and inspections of relay work, level by level of every chain (ODD 13)."""
        if not self.p.middle.relay_choice:
            return
        self.middle_draws = [
            [MiddleDraws.draw(self._middle_stream, state.target_received.shape) for state in chain]
            for chain in self.chains
        ]

    def _draw_shielding(self) -> None:
        """Uniforms of shielding and level-skipping inspections, once there is a level above the grassroots (13.3)."""
        middle = self.p.middle
        if self.relays == 0 or not (middle.shielding or levels_skipped(self.p, self.tasks)):
            return
        offices = [chain[-1].target_received.shape for chain in self.chains]
        self.shield_draws = ShieldDraws.draw(self._shield_stream, offices, self.levels[-1].target_received.shape)

    def _draw_audits(self) -> None:
        """The record of ``audit_lag`` periods ago and the uniforms of auditing it, once it exists (ODD 12.4)."""
        a = self.p.accountability
        if a.audit_rate == 0 or len(self._records) < a.audit_lag:
            return
        self.history = self._records[0]
        shape = self.history.shape
        self.audit_draws = (self._audit_stream.random(shape), self._audit_stream.random(shape))

    def _keep_record(self) -> None:
        """Keep this period's strategy codes for audits of past periods (the oldest falls out of the record)."""
        if self.p.accountability.audit_rate > 0:
            self._records.append(self.levels[-1].strategy_code.astype(np.int8))

    @property
    def _task_axis(self) -> int | None:
        return None if self.tasks is None else len(self.tasks)

    def _measure(self) -> dict[str, float]:
        """The model outputs of this period (ODD section 8)."""
        if self.tasks is not None:
            return self._measure_portfolio()
        g = self.levels[-1]
        n = len(g.output)
        t0 = self.p.task.target
        relay = self.p.relay
        outputs: dict[str, float] = {
            "goal_attainment": float(np.minimum(g.output, t0).sum() / (t0 * n)),
            "reported_attainment": float(
                believed_attainment(
                    self.levels[0].report[0],
                    relay.report_rule,
                    self.p.accountability.statistical_discount,
                    self._issued(t0),  # what the top asked for (its revised target, with feedback)
                    n,
                )
            ),
        }
        outputs["implementation_gap"] = outputs["reported_attainment"] - outputs["goal_attainment"]
        counts = np.bincount(g.strategy_code, minlength=N_STRATEGIES) / n
        for strategy in Strategy:
            outputs[f"share_{strategy.label}"] = float(counts[strategy])
        outputs["escalation_at_bottom"] = float(g.target_received.mean() / t0)
        outputs["clarity_at_bottom"] = float(g.clarity_received.mean())
        outputs["burden"] = float(g.burden_share.mean())
        per_level = np.array([state.sanctions_now.sum() for state in self.levels], dtype=float)
        total = per_level.sum()
        for name, count in zip(self.level_names, per_level, strict=True):
            outputs[sanction_share_name(name)] = float(count / total) if total else 0.0
        wrongful = sum(int(state.wrongful_now.sum()) for state in self.levels)
        outputs["wrongful_sanction_rate"] = float(wrongful / total) if total else 0.0
        outputs["collateral_harm"] = float(g.harm.mean())
        return outputs | self._measure_second_edition()

    def _measure_portfolio(self) -> dict[str, float]:
        """The outputs of a portfolio (ODD section 11): per task, and their target-weighted aggregates."""
        g, tasks = self.levels[-1], self.tasks
        n = len(g.belief)
        t0 = tasks.target
        in_force, worked = self.tasks_in_force, self.active_tasks
        achieved = np.minimum(g.output, t0).sum(axis=0) / (t0 * n)
        roots = np.zeros(len(tasks))
        for chain, columns in enumerate(tasks.columns):
            roots[columns] = self.chains[chain][0].report[0] if self.relays else g.report[0, columns]
        believed = believed_attainment(
            roots, self.p.relay.report_rule, self.p.accountability.statistical_discount, self._issued(t0), n
        )
        per_task = {
            "goal_attainment": achieved,
            "reported_attainment": believed,
            "implementation_gap": believed - achieved,
        }
        for strategy in Strategy:
            per_task[f"share_{strategy.label}"] = (g.strategy_code == strategy).mean(axis=0)
        per_task["escalation_at_bottom"] = g.target_received.mean(axis=0) / t0
        per_task["clarity_at_bottom"] = g.clarity_received.mean(axis=0)
        per_task["capacity_share"] = g.capacity_share.mean(axis=0)
        per_task["sanction_severity"] = g.task_severity.mean(axis=0)

        def aggregate(values: np.ndarray, over: np.ndarray) -> float:
            return target_weighted(values, over, t0)

        outputs = {name: aggregate(per_task[name], in_force) for name in ("goal_attainment", "reported_attainment")}
        outputs["implementation_gap"] = outputs["reported_attainment"] - outputs["goal_attainment"]
        for name in WORKED_OUTPUTS[:-1]:  # what the townships do, over the tasks they work on
            outputs[name] = aggregate(per_task[name], worked)
        outputs["burden"] = float(g.burden_share.mean())
        per_level = np.array(
            [sum(chain[k].sanctions_now.sum() for chain in self.chains) for k in range(self.relays)]
            + [g.sanctions_now.sum()],
            dtype=float,
        )
        count = per_level.sum()
        for name, level_count in zip(self.level_names, per_level, strict=True):
            outputs[sanction_share_name(name)] = float(level_count / count) if count else 0.0
        wrongful = sum(int(state.wrongful_now.sum()) for chain in [self.levels, *self.chains[1:]] for state in chain)
        outputs["wrongful_sanction_rate"] = float(wrongful / count) if count else 0.0
        outputs["collateral_harm"] = float(over_tasks(g.harm).mean())
        for index, task in enumerate(tasks.names):
            for name in TASK_OUTPUTS:
                defined = (worked if name in WORKED_OUTPUTS else in_force)[index]
                outputs[task_output_name(name, task)] = float(per_task[name][index]) if defined else np.nan
        return outputs | self._measure_second_edition()

    def _measure_second_edition(self) -> dict[str, float]:
        """The outputs of ODD sections 12-13 whose switches are on: by type, gap by level, inflation, relay options."""
        outputs: dict[str, float] = {}
        if self.p.execution.heterogeneous:
            outputs |= outputs_by_type(self.levels[-1], self.motivated, self.tasks, self.active_tasks)
        if self.p.relay.report_rule == "rate":
            outputs |= gaps_by_level(self)
        if self.p.relay.inflation_options is not None and self.relays > 1:
            outputs[CHOSEN_INFLATION] = chosen_inflation_mean(self)
        if self.p.relay.escalation_by_level is not None:
            outputs |= escalation_by_level(self)
        if self.p.middle.relay_choice and self.relays > 0:
            outputs |= middle_outputs(self)
        if self.p.middle.shielding and self.relays > 0:
            outputs[SHIELD_SHARE] = shield_share(self)
        if self.p.feedback.every is not None:
            outputs |= {"inspection_factor": self.inspection_factor, "target_factor": self.target_factor}
        return outputs


WORKED_OUTPUTS = (*STRATEGY_SHARES, "escalation_at_bottom", "clarity_at_bottom", "capacity_share")
"""A portfolio's outputs about what the townships do: defined for the tasks they work on (in force, pushed down)."""


class OutputCollector(mesa.DataCollector):
    """A Mesa DataCollector that reads agent outputs straight from the level arrays.

    It records exactly what Mesa's attribute reporters would (same rows, same order), in a
    fraction of the time, and only in the periods ``model.record_agents`` names.

    The model collects once per period and not before the first, so row *k* of the model
    data is period *k* + 1, and agent records are kept under the same row number (each record
    still carries its period as ``Step``). Mesa 3.3's ``batch_run`` reads row ``steps - 1``
    for a run's last period (mesa issue #2514) and agent records under that number, so it
    gets the last period of both, consistently.
    """

    def collect(self, model: BureauModel) -> None:
        """Record this period's outputs; agent records go under the row number of this collection."""
        super().collect(model)
        if self.agent_reporters:
            row = len(next(iter(self.model_vars.values()))) - 1
            self._agent_records[row] = self._agent_records.pop(model.steps)

    def get_agent_vars_dataframe(self):
        """The agent outputs recorded, indexed by ``Step`` and ``AgentID``; empty, with those names, if none were.

        Mesa 3.3 builds a frame of NaN rows from an empty record, which a model recording no
        agents (``record_agents=False``) would otherwise return.
        """
        if any(self._agent_records.values()):
            return super().get_agent_vars_dataframe()
        index = pd.MultiIndex.from_arrays([[], []], names=["Step", "AgentID"])
        return pd.DataFrame(index=index, columns=list(self.agent_reporters))

    def _record_agents(self, model: BureauModel):
        if not model.records_agents_now():
            return []
        labels = np.array([*(s.label for s in Strategy), None], dtype=object)  # code -1 reads as None
        records = []
        offices = [  # the territorial line with the grassroots, then each line department's offices
            (level, state, model.agent_ids[level]) for level, state in enumerate(model.levels)
        ] + [
            (level, state, [official.unique_id for official in row])
            for chain in range(1, len(model.chains))
            for level, (state, row) in enumerate(zip(model.chains[chain], model.offices[chain], strict=True))
        ]
        for level, state, ids in offices:
            strategy, target, clarity = _recorded(state)
            records.extend(
                zip(
                    [model.steps] * len(ids),
                    ids,
                    [level] * len(ids),
                    labels[strategy].tolist(),
                    state.capacity_used.tolist(),
                    state.sanctions.tolist(),
                    target.tolist(),
                    clarity.tolist(),
                    strict=True,
                )
            )
        return records


def _recorded(state: LevelState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An official's strategy, target and clarity as its agent record gives them.

    In a portfolio: the strategy on the task that gets most of its capacity (the first of
    equals), the sum of its targets and the mean clarity of its tasks (NaN with none).
    """
    if state.tasks is None:
        return state.strategy_code, state.target_received, state.clarity_received
    size = len(state.belief)
    if state.tasks == 0:  # a chain that carries none of the tasks
        return np.full(size, -1), np.zeros(size), np.full(size, np.nan)
    main = np.argmax(state.capacity_share, axis=1)
    rows = np.arange(size)
    return state.strategy_code[rows, main], state.target_received.sum(axis=1), state.clarity_received.mean(axis=1)


def _check_agent_periods(value: Any) -> bool | int | str:
    """``record_agents`` checked: a boolean, ``"end"`` or a whole number of periods of at least 1."""
    if isinstance(value, bool) or value == "end" or (isinstance(value, int) and value >= 1):
        return value
    raise ScenarioError(
        f"must be True (every period), False (never), 'end' (the last period) or a whole number k >= 1 "
        f"(every k-th period); got {value!r}",
        field="record_agents",
    )


def _list_keyword(name: str, value: Any, example: str) -> list:
    """A keyword that takes a list (``branching``, ``policies``), refused with Mesa's sweep rule in mind if not one.

    ``mesa.batch_run`` reads a list value as a sweep over its items, so
    ``parameters={"branching": [4, 4, 6]}`` makes three models with ``branching=4``, ``4`` and
    ``6``: the message says how to pass one list instead.
    """
    if isinstance(value, list | tuple):
        return list(value)
    raise ScenarioError(
        f"must be a list, got {value!r}; in mesa.batch_run a list of values is a sweep over its items, so to give "
        f"every model the same {name}, wrap it in a list of one: parameters={{{name!r}: {example}}}",
        field=name,
    )


def _output(model: BureauModel, name: str) -> float:
    return model.outputs[name]


def _run_value(model: BureauModel, name: str) -> float:
    """The run's value of outcome ``name`` once the run has its ``steps`` periods (NaN before: not known yet)."""
    if model.steps < model.max_steps:
        return np.nan
    return run_value(model.after_burn_in[name])


MOTIVATION_STREAM, INFLATION_STREAM, AUDIT_STREAM, SPREAD_STREAM, MIDDLE_STREAM, SHIELD_STREAM = 1, 2, 3, 4, 5, 6
ANTICIPATION_STREAM = 7
"""Stream numbers of the random draws of ODD sections 12-14, each its own generator of (seed, stream)."""


def revised(factor: float, step: float, feedback) -> float:
    """A revision factor times exp(step), kept within [1 / max_factor, max_factor] (ODD section 15)."""
    return float(np.clip(factor * np.exp(step), 1.0 / feedback.max_factor, feedback.max_factor))


def fresh_seed() -> int:
    """A seed from the operating system's entropy, in the range a scenario's seed may take (0 to 2**63 - 1)."""
    return int(np.random.SeedSequence().entropy % 2**63)


def _resolve(
    scenario: Scenario, arm: str | None, policies: Sequence[str | dict], overrides: dict[str, Any]
) -> Parameters:
    """Scenario parameters, arm, extra policies, then keyword overrides, all validated.

    Policies are given as in a scenario file: a name, or ``{name: {option: value}}``.
    """
    try:
        choices = parse_policies(list(policies))
    except ValueError as error:
        raise ScenarioError(str(error), field="policies") from None
    paths = parameter_paths()
    values = {key.replace("_", ".", 1): value for key, value in overrides.items()}
    keywords = [path.replace(".", "_", 1) for path in paths]
    for key, path in zip(overrides, values, strict=True):
        if path not in paths and not is_task_path(path):
            raise ScenarioError(
                f"unknown keyword argument {key!r}{did_you_mean(key, keywords)}; parameters are written "
                "group_name, e.g. relay_escalation (bureausim describe lists them)",
                field=key,
            )
    try:
        return run_parameters(scenario, arm, values, [(choice.name, choice.options) for choice in choices])
    except ValidationError as error:
        raise user_error(error) from None
    except UserError:
        raise
    except ValueError as error:  # a policy that cannot act on the portfolio, or a task it does not have
        raise ScenarioError(str(error), field="policies") from None


def run_parameters(
    scenario: Scenario,
    arm: str | None = None,
    values: dict[str, Any] | None = None,
    policies: Sequence[tuple[str, dict[str, Any]]] = (),
) -> Parameters:
    """The parameters a model uses: the scenario's and its policies, the arm's, extra policies, then ``values``.

    With a length of time (ODD section 14), the time-dependent values are then converted to the model's period.

    ``values`` are by dotted path (a sweep or sample point). This is how every run resolves its
    parameters, so that an experiment can check all of its runs' parameters before the first.

    Raises:
        ScenarioError: for an unknown arm or a bad arm setting.
        pydantic.ValidationError: for values that are not valid together.
    """
    parameters = apply_policies(scenario.resolved_parameters(arm), list(policies))
    return in_model_periods(with_values(parameters, values or {}))
