"""bureausim: an agent-based simulator of bureaucratic implementation chains.

A directive issued at the top of a hierarchy is relayed, escalated, diluted and stripped of
resources on its way down; grassroots officials choose between substantive work, formalism,
falsification, blanket bans, innovation and shirking; superiors inspect, sanction and reward;
everyone learns. See docs/ODD.md for the model and README.md for the tool.
"""

from sim.comparison import compare
from sim.errors import HierarchyError, ScenarioError
from sim.model import BureauModel
from sim.parameters import Parameters, Strategy
from sim.policies import REGISTRY as POLICIES
from sim.results import load_results
from sim.robust_choice import robustness
from sim.scenario import Scenario, load_scenario, parse_scenario
from sim.sensitivity_analysis import sensitivity
from sim.sweeps import sweep

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
