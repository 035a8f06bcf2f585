"""A run's task portfolio as arrays: one entry per task, in the scenario's order (ODD section 11).

:class:`TaskTable` resolves every task against ``parameters.task`` (the fields a task leaves
out) and ``accountability.inspection_rate``, and groups the tasks by issuer: chain 0 is the
territorial line (the hierarchy's own officials), chains 1, 2, ... the line departments in
order of first appearance. Its attribute names match :class:`sim.scenario.parameters.Task`
(``target``, ``weight``, ``risk``, ...), so the rules read a table where they read the one
directive's parameters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from sim.scenario.parameters import Parameters
from sim.scenario.tasks import TASK_LEVEL_PATHS, issuers

NEVER = np.iinfo(np.int64).max
"""A period no run reaches: the start of a campaign that never starts, the end of one that never ends."""

_FROM_TASK = ("target", "clarity", "resources", "weight", "risk", "paperwork")
"""Task fields that default to ``parameters.task``'s value."""


@dataclass(frozen=True)
class TaskTable:
    """The portfolio's tasks as arrays over the task axis.

    Attributes:
        names: Task names, in order.
        issuers: Chain names, territorial first.
        chain: The chain index of each task.
        columns: Per chain, the indices of its tasks on the task axis.
        target, clarity, resources, weight, risk, paperwork, inspection_rate, measurability:
            One float per task (``resources`` as issued: the task's share times its target).
        veto: Whether each task carries a veto.
        start, end: Each task's window (periods counted from 1; ``end`` past the last period if open).
        pushed: Whether each task reaches the townships (``pushed_down``).
        relay: The ``relay`` group with the task-level fields as arrays over tasks.
        accountability: The ``accountability`` group, likewise.
        campaign: Each task's campaign window and strengths (``start``, ``end``,
            ``inspection_multiplier``, ``onsite_share``), as arrays over tasks.
    """

    names: tuple[str, ...]
    issuers: tuple[str, ...]
    chain: np.ndarray
    columns: tuple[np.ndarray, ...]
    target: np.ndarray
    clarity: np.ndarray
    resources: np.ndarray
    weight: np.ndarray
    risk: np.ndarray
    paperwork: np.ndarray
    inspection_rate: np.ndarray
    measurability: np.ndarray
    veto: np.ndarray
    start: np.ndarray
    end: np.ndarray
    pushed: np.ndarray
    relay: SimpleNamespace
    accountability: SimpleNamespace
    campaign: SimpleNamespace
    middle: SimpleNamespace

    @classmethod
    def of(cls, p: Parameters) -> TaskTable | None:
        """The table of ``p.tasks`` (``None`` for the one-directive model)."""
        if p.tasks is None:
            return None
        chains = issuers(p.tasks)
        chain = np.array([chains.index(task.issuer) for task in p.tasks], dtype=np.int64)
        fields = {
            name: np.array([getattr(p.task, name) if getattr(t, name) is None else getattr(t, name) for t in p.tasks])
            for name in _FROM_TASK
        }
        fields["resources"] = fields["resources"] * fields["target"]  # a share of what the task's own target needs
        rate = p.accountability.inspection_rate
        return cls(
            names=tuple(task.name for task in p.tasks),
            issuers=tuple(chains),
            chain=chain,
            columns=tuple(np.flatnonzero(chain == c) for c in range(len(chains))),
            inspection_rate=np.array([rate if t.inspection_rate is None else t.inspection_rate for t in p.tasks]),
            measurability=np.array([task.measurability for task in p.tasks]),
            veto=np.array([task.veto for task in p.tasks]),
            start=np.array([task.start or 1 for task in p.tasks], dtype=np.int64),
            end=np.array([task.end or NEVER for task in p.tasks], dtype=np.int64),
            pushed=np.array([task.pushed_down for task in p.tasks]),
            relay=_group_by_task(p, "relay"),
            accountability=_group_by_task(p, "accountability"),
            campaign=_group_by_task(p, "campaign"),
            middle=_group_by_task(p, "middle"),
            **fields,
        )

    def __len__(self) -> int:
        return len(self.names)

    def in_force(self, period: int) -> np.ndarray:
        """Which tasks are in force in ``period``: start <= period < end."""
        return (self.start <= period) & (period < self.end)

    def active(self, period: int) -> np.ndarray:
        """Which tasks the townships work on in ``period``: in force and pushed down to them."""
        return self.in_force(period) & self.pushed

    def relay_for(self, chain: int) -> SimpleNamespace:
        """The ``relay`` group for one issuer's chain: task-level values for that chain's tasks only."""
        columns = self.columns[chain]
        per_task = {path.split(".")[1] for path in TASK_LEVEL_PATHS if path.startswith("relay.")}
        return SimpleNamespace(
            **{name: value[columns] if name in per_task else value for name, value in vars(self.relay).items()}
        )

    def campaigning(self, period: int) -> np.ndarray:
        """Which tasks are under an inspection campaign in ``period``."""
        c = self.campaign
        return (c.start <= period) & (period < c.end)

    def announced(self, period: int) -> np.ndarray:
        """Which tasks' campaigns are announced in ``period``: start − notice <= period < start (ODD section 14)."""
        c = self.campaign
        return (c.notice > 0) & (c.start - c.notice <= period) & (period < c.start)

    def inspection_rates(self, period: int) -> np.ndarray:
        """Each task's inspection rate per principal in ``period``, raised by its campaign."""
        raised = self.inspection_rate * self.campaign.inspection_multiplier
        return np.where(self.campaigning(period), raised, self.inspection_rate)

    def onsite_shares(self, period: int) -> np.ndarray:
        """Each task's on-site share of inspections in ``period`` (its campaign's while one runs)."""
        return np.where(self.campaigning(period), self.campaign.onsite_share, self.accountability.onsite_share)

    @functools.cached_property
    def positions(self) -> np.ndarray:
        """Where each task sits among its own chain's tasks (the column of a chain's per-task arrays)."""
        positions = np.zeros(len(self), dtype=np.int64)
        for columns in self.columns:
            positions[columns] = np.arange(len(columns))
        return positions

    def column(self, task: int) -> int:
        """Where task ``task`` sits among its own chain's tasks."""
        return int(self.positions[task])


def _group_by_task(p: Parameters, group: str) -> SimpleNamespace:
    """A parameter group whose task-level fields are arrays over the tasks (a task's ``set:`` or the group's value).

    A campaign's ``start`` and ``end`` of null become :data:`NEVER`, so that windows compare as
    numbers (a campaign without a start never runs).
    """
    values = {name: getattr(getattr(p, group), name) for name in type(getattr(p, group)).model_fields}
    for path in TASK_LEVEL_PATHS:
        name = path.split(".")[1]
        if path.split(".")[0] == group:
            column = [task.set.get(path, values[name]) for task in p.tasks]
            if group == "campaign" and name in ("start", "end"):
                column = [NEVER if value is None else value for value in column]
            if name == "inspection_cap":  # no cap: a cap nothing reaches
                column = [np.inf if value is None else value for value in column]
            values[name] = np.array(column)
    return SimpleNamespace(**values)
