"""The engines a model can run on, by name, and what an engine is.

An engine runs the phases of one period (docs/ODD.md, section 3) on a
:class:`sim.model.state.ChainState`: the per-level arrays, the parameters, the layout and the
random numbers the model has drawn for the phase. Engines schedule and index; every
equation they apply is in :mod:`sim.model.rules`. Registering an engine here is all it takes
for the engine contract tests and the golden tests to check it against the others.
"""

from __future__ import annotations

from typing import Protocol

from sim.model.agent_engine import AgentEngine
from sim.model.state import ChainState
from sim.model.vectorized_engine import VectorizedEngine


class Engine(Protocol):
    """The phases of a period, each reading and writing only what :class:`ChainState` lists."""

    name: str

    def relay(self, state: ChainState) -> None:
        """Pass the directive down, level by level (ODD 7.1)."""

    def execute(self, state: ChainState) -> None:
        """The grassroots choose strategies and carry them out (ODD 7.2)."""

    def report(self, state: ChainState) -> None:
        """Reports go up, level by level (ODD 7.3)."""

    def hold_accountable(self, state: ChainState) -> None:
        """Inspect, attribute findings, sanction and reward (ODD 7.4-7.5)."""

    def learn(self, state: ChainState) -> None:
        """Reinforce strategies and update beliefs (ODD 7.6)."""


ENGINES: dict[str, type[Engine]] = {"vectorized": VectorizedEngine, "agents": AgentEngine}
"""The registered engines, by the name a scenario's ``engine:`` gives."""
