"""bureausim: an agent-based simulator of bureaucratic implementation chains.

A directive issued at the top of a hierarchy is relayed, escalated, diluted and stripped of
resources on its way down; grassroots officials choose between substantive work, formalism,
falsification, blanket bans, innovation and shirking; superiors inspect, sanction and reward;
everyone learns. See docs/ODD.md for the model and README.md for the tool.
"""

from sim.errors import HierarchyError, ScenarioError
from sim.experiments.compare import compare
from sim.experiments.reopen import load_results
from sim.experiments.robustness import robustness
from sim.experiments.sensitivity import sensitivity
from sim.experiments.sweep import sweep
from sim.model.bureau_model import BureauModel
from sim.scenario.parameters import Parameters, Strategy
from sim.scenario.policies import REGISTRY as POLICIES
from sim.scenario.schema import Scenario, load_scenario, parse_scenario

__version__ = "0.1.0"

__all__ = [
    "POLICIES",
    "BureauModel",
    "HierarchyError",
    "Parameters",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "__version__",
    "compare",
    "load_results",
    "load_scenario",
    "parse_scenario",
    "robustness",
    "sensitivity",
    "sweep",
]
