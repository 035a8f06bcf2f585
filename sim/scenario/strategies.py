"""The strategies a grassroots official chooses from: one table that everything reads.

Each row of :data:`STRATEGIES` says everything the code needs to know about one strategy:
its code and label, how the page and the figures show it, the share of free capacity it
uses, whether it is a genuine attempt at the directive, and which rule of
:mod:`sim.model.rules` gives its real output, its claim and its risk. The model's arrays
(effort shares, genuineness), the output names (``share_<label>``), the interactive page's
colours and the figures' legends are built from this table, so adding a strategy means a
member of :class:`Strategy` and a row here, plus a rule in :mod:`sim.model.rules` if none of
the existing ones fits (docs/ARCHITECTURE.md, "Adding a strategy").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal


class Strategy(IntEnum):
    """What a grassroots official does with the directive in one period (codes index every strategy array)."""

    SUBSTANTIVE = 0
    FORMALISM = 1
    FALSIFY = 2
    BLANKET_BAN = 3
    INNOVATE = 4
    SHIRK = 5

    @property
    def label(self) -> str:
        """The lower-case name used in outputs (``share_<label>``) and scenario files."""
        return self.name.lower()

    @property
    def spec(self) -> StrategySpec:
        """This strategy's row of :data:`STRATEGIES`."""
        return STRATEGIES[self]


OutputRule = Literal["substantive", "formalism", "ban", "innovative", "none"]
"""How real output is made (ODD 7.2): the names of the cases of :func:`sim.model.rules.execute`."""
ClaimRule = Literal["output", "formalism", "target", "none"]
"""What is claimed on paper: the real output, the formalism share of the target, the whole target, nothing."""
RiskRule = Literal["task", "innovation", "none"]
"""The risk that the attempt fails: the task's, the task's times the innovation multiplier, none."""


@dataclass(frozen=True)
class StrategySpec:
    """One strategy's row of the table.

    Attributes:
        strategy: The strategy.
        title: Its name in words, for figures and the page.
        colour: Its colour, for figures and the page.
        effort_share: Share of free capacity it uses (ODD 7.2).
        genuine: Whether it is a genuine attempt at the directive (a failure of it can be
            bad luck or bad conditions, never the official's own choice).
        output: The rule for its real output.
        claim: The rule for its claim.
        risk: The rule for its risk of failing.
        fabricated: Whether its claim is made up, so that only detection (not an on-site
            look) shows an inspector the truth, and a detected claim is a falsification.
        harm: Whether it does collateral harm (``execution.ban_harm``).
    """

    strategy: Strategy
    title: str
    colour: str
    effort_share: float
    genuine: bool
    output: OutputRule
    claim: ClaimRule
    risk: RiskRule = "none"
    fabricated: bool = False
    harm: bool = False

    @property
    def label(self) -> str:
        """The strategy's label (``share_<label>`` in outputs)."""
        return self.strategy.label


STRATEGIES: tuple[StrategySpec, ...] = (
    StrategySpec(Strategy.SUBSTANTIVE, "substantive work", "#2ca02c", 1.0, True, "substantive", "output", "task"),
    StrategySpec(Strategy.FORMALISM, "formalism", "#bcbd22", 0.8, False, "formalism", "formalism"),
    StrategySpec(Strategy.FALSIFY, "falsification", "#d62728", 0.2, False, "none", "target", fabricated=True),
    StrategySpec(Strategy.BLANKET_BAN, "blanket ban", "#9467bd", 0.3, False, "ban", "target", harm=True),
    StrategySpec(Strategy.INNOVATE, "innovation", "#1f77b4", 1.0, True, "innovative", "output", "innovation"),
    StrategySpec(Strategy.SHIRK, "shirking", "#7f7f7f", 0.0, False, "none", "none"),
)
"""Every strategy, in code order (``STRATEGIES[code]``)."""

N_STRATEGIES = len(STRATEGIES)

if [spec.strategy for spec in STRATEGIES] != list(Strategy):  # pragma: no cover - a table edited out of order
    raise RuntimeError("STRATEGIES must list every Strategy once, in code order")
