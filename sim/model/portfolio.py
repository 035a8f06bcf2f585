"""A run's task portfolio as arrays: one entry per task, in the scenario's order (ODD section 11).

:class:`TaskTable` resolves every task against ``parameters.task`` (the fields a task leaves
out) and ``accountability.inspection_rate``, and groups the tasks by issuer: chain 0 is the
territorial line (the hierarchy's own officials), chains 1, 2, ... the line departments in
order of first appearance. Its attribute names match :class:`sim.scenario.parameters.Task`
(``target``, ``weight``, ``risk``, ...), so the rules read a table where they read the one
directive's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.parameters import Parameters
from sim.scenario.tasks import issuers

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
            One float per task.
        veto: Whether each task carries a veto.
        start, end: Each task's window (periods counted from 1; ``end`` past the last period if open).
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
            end=np.array([task.end or np.iinfo(np.int64).max for task in p.tasks], dtype=np.int64),
            **fields,
        )

    def __len__(self) -> int:
        return len(self.names)

    def active(self, period: int) -> np.ndarray:
        """Which tasks are in force in ``period``: start <= period < end."""
        return (self.start <= period) & (period < self.end)

    def column(self, task: int) -> int:
        """Where task ``task`` sits among its own chain's tasks."""
        return int(np.flatnonzero(self.columns[self.chain[task]] == task)[0])
