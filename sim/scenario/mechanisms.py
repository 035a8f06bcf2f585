"""The model's mechanisms: when each is at work in a parameter set, and the values that switch it off.

One table that ``bureausim explain`` reads (docs/ODD.md, section 17). A mechanism is *at work*
when its parameters let it change anything; *switching it off* sets them to the values at
which it changes nothing (a rate of 0, a switch off, a strategy ruled out). Each entry names
the parameter paths it sets; a portfolio's tasks that give their own values to one of them are
switched off with it, never left half on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.scenario.parameters import Parameters, value_at
from sim.scenario.strategies import Strategy


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of the chain.

    Attributes:
        name: Its identifier in tables (``dilution``).
        title: Its name in words, in English and in Chinese.
        at_work: Whether it can change anything under these parameters.
        off: The values (by dotted path) that switch it off, given the parameters.
        paths: The parameter paths ``off`` sets.
        level: Where it acts: ``relay`` (between levels) or ``grassroots``.
    """

    name: str
    title: tuple[str, str]
    at_work: Callable[[Parameters], bool]
    off: Callable[[Parameters], dict[str, Any]]
    paths: tuple[str, ...]
    level: str


def _rule_out(strategy: Strategy) -> Mechanism:
    """A strategy as a mechanism: at work unless ruled out or everybody's strategy is fixed."""

    def at_work(p: Parameters) -> bool:
        return strategy not in p.execution.ruled_out and p.execution.fixed_strategy is None

    def off(p: Parameters) -> dict[str, Any]:
        return {"execution.ruled_out": [s.label for s in [*p.execution.ruled_out, strategy]]}

    titles = {
        Strategy.FORMALISM: ("formalism", "形式主义"),
        Strategy.FALSIFY: ("falsification", "数据造假"),
        Strategy.BLANKET_BAN: ("blanket bans", "一刀切"),
        Strategy.SHIRK: ("shirking", "躺平"),
    }
    return Mechanism(strategy.label, titles[strategy], at_work, off, ("execution.ruled_out",), "grassroots")


BURDEN_PATHS = (
    "task.paperwork",
    "relay.paperwork_per_relay",
    "middle.paperwork",
    "portfolio.issuer_load",
    "accountability.hosting_cost",
)
"""What the grassroots' burden is made of: paperwork (文山会海) and hosting inspections (迎检)."""


MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism(
        "dilution",
        ("dilution", "上下一般粗"),
        lambda p: p.relay.dilution > 0,
        lambda p: {"relay.dilution": 0.0},
        ("relay.dilution",),
        "relay",
    ),
    Mechanism(
        "escalation",
        ("target escalation", "层层加码"),
        lambda p: (p.relay.escalation if p.relay.escalation_by_level is None else max(p.relay.escalation_by_level)) > 0,
        lambda p: (
            {"relay.escalation": 0.0}
            if p.relay.escalation_by_level is None
            else {"relay.escalation_by_level": [0.0] * len(p.relay.escalation_by_level)}
        ),
        ("relay.escalation", "relay.escalation_by_level"),
        "relay",
    ),
    Mechanism(
        "stripping",
        ("resources kept back", "截留资源"),
        lambda p: p.relay.stripping > 0 and not p.relay.funded_escalation,
        lambda p: {"relay.stripping": 0.0},
        ("relay.stripping",),
        "relay",
    ),
    Mechanism(
        "burden",
        ("paperwork and hosting", "文山会海与迎检"),
        lambda p: any(value_at(p, path) > 0 for path in BURDEN_PATHS),
        lambda p: dict.fromkeys(BURDEN_PATHS, 0.0),
        BURDEN_PATHS,
        "grassroots",
    ),
    Mechanism(
        "inflation",
        ("report inflation", "层层注水"),
        lambda p: p.relay.report_inflation > 0 or p.relay.inflation_options is not None,
        lambda p: {"relay.report_inflation": 0.0, "relay.inflation_options": None},
        ("relay.report_inflation", "relay.inflation_options"),
        "relay",
    ),
    _rule_out(Strategy.FORMALISM),
    _rule_out(Strategy.FALSIFY),
    _rule_out(Strategy.BLANKET_BAN),
    _rule_out(Strategy.SHIRK),
    Mechanism(
        "middle_choice",
        ("middle levels that decide", "中层自主"),
        lambda p: p.middle.relay_choice,
        lambda p: {"middle.relay_choice": False},
        ("middle.relay_choice",),
        "relay",
    ),
    Mechanism(
        "shielding",
        ("shielding by superiors", "上级庇护"),
        lambda p: p.middle.shielding,
        lambda p: {"middle.shielding": False},
        ("middle.shielding",),
        "grassroots",
    ),
    Mechanism(
        "feedback",
        ("the top's revisions", "上级调整"),
        lambda p: p.feedback.every is not None,
        lambda p: {"feedback.every": None},
        ("feedback.every",),
        "relay",
    ),
)
"""Every mechanism ``explain`` can switch off, in the order its tables list them."""

BY_NAME = {mechanism.name: mechanism for mechanism in MECHANISMS}


def at_work(p: Parameters) -> list[str]:
    """The names of the mechanisms at work under ``p``, in table order."""
    return [mechanism.name for mechanism in MECHANISMS if mechanism.at_work(p)]


def switched_off(p: Parameters, names) -> dict[str, Any]:
    """The values (by dotted path) that switch off every mechanism named, applied in table order.

    Strategies ruled out accumulate into one ``execution.ruled_out`` list; a portfolio's tasks
    that give their own value to a parameter switched off get the same value
    (``tasks.<task>.paperwork``, ``tasks.<task>.set``).
    """
    values: dict[str, Any] = {}
    for mechanism in MECHANISMS:
        if mechanism.name in names:
            for path, value in mechanism.off(p).items():
                if path == "execution.ruled_out" and path in values:  # strategies ruled out add up
                    value = [*values[path], *(label for label in value if label not in values[path])]
                values[path] = value
    for task in p.tasks or []:  # a task's own values of the same parameters are switched off with them
        if "task.paperwork" in values and task.paperwork is not None:
            values[f"tasks.{task.name}.paperwork"] = values["task.paperwork"]
        own = {path: values[path] for path in task.set if path in values}
        if own:
            values[f"tasks.{task.name}.set"] = dict(task.set) | own
    return values


def title(name: str, language: str = "en") -> str:
    """A mechanism's name in words, in English (``en``) or Chinese (``zh``)."""
    return BY_NAME[name].title[0 if language == "en" else 1]
