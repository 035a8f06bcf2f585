"""bureausim: an agent-based simulator of bureaucratic implementation chains.

A directive issued at the top of a hierarchy is relayed, escalated, diluted and stripped of
resources on its way down; grassroots officials choose between substantive work, formalism,
falsification, blanket bans, innovation and shirking; superiors inspect, sanction and reward;
everyone learns. See docs/ODD.md for the model, docs/ARCHITECTURE.md for the code and
README.md for the tool.

The public names below are loaded on first use (PEP 562), so ``import sim`` costs little:
the model, pandas, matplotlib and the experiment stack load only when a name that needs them
is touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.errors import (
    ClusterUnreachable,
    FolderBusy,
    GraphFileError,
    HierarchyError,
    RunsFailed,
    ScenarioError,
    UserError,
)

__version__ = "0.1.0"

_LAZY = {
    "BureauModel": ("sim.model.bureau_model", "BureauModel"),
    "Parameters": ("sim.scenario.parameters", "Parameters"),
    "POLICIES": ("sim.scenario.policies", "REGISTRY"),
    "Scenario": ("sim.scenario.schema", "Scenario"),
    "Strategy": ("sim.scenario.strategies", "Strategy"),
    "compare": ("sim.experiments.compare", "compare"),
    "ema_model": ("sim.experiments.ema", "ema_model"),
    "explain": ("sim.experiments.explain", "explain"),
    "ema_policies": ("sim.experiments.ema", "ema_policies"),
    "load_results": ("sim.experiments.reopen", "load_results"),
    "load_scenario": ("sim.scenario.loader", "load_scenario"),
    "parse_scenario": ("sim.scenario.loader", "parse_scenario"),
    "redraw": ("sim.experiments.redraw", "redraw"),
    "robustness": ("sim.experiments.robustness", "robustness"),
    "run": ("sim.experiments.replications", "run"),
    "run_one": ("sim.model.run", "run_one"),
    "sensitivity": ("sim.experiments.sensitivity", "sensitivity"),
    "sweep": ("sim.experiments.sweep", "sweep"),
}
"""Public name -> (module, attribute), imported when the name is first used."""

if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from sim.experiments.compare import compare
    from sim.experiments.ema import ema_model, ema_policies
    from sim.experiments.explain import explain
    from sim.experiments.redraw import redraw
    from sim.experiments.reopen import load_results
    from sim.experiments.replications import run
    from sim.experiments.robustness import robustness
    from sim.experiments.sensitivity import sensitivity
    from sim.experiments.sweep import sweep
    from sim.model.bureau_model import BureauModel
    from sim.model.run import run_one
    from sim.scenario.loader import load_scenario, parse_scenario
    from sim.scenario.parameters import Parameters
    from sim.scenario.policies import REGISTRY as POLICIES
    from sim.scenario.schema import Scenario
    from sim.scenario.strategies import Strategy


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name (PEP 562)."""
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'sim' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted([*globals(), *_LAZY])


__all__ = [
    "POLICIES",
    "BureauModel",
    "ClusterUnreachable",
    "FolderBusy",
    "GraphFileError",
    "HierarchyError",
    "Parameters",
    "RunsFailed",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "UserError",
    "__version__",
    "compare",
    "ema_model",
    "ema_policies",
    "explain",
    "load_results",
    "load_scenario",
    "parse_scenario",
    "redraw",
    "robustness",
    "run",
    "run_one",
    "sensitivity",
    "sweep",
]
