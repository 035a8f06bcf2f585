"""The registry of experiment kinds, by name: every kind that :func:`sim.experiments.template.run_experiment` runs.

Reopening a results folder (:func:`sim.experiments.reopen.load_results`) finds its kind here
by the name its manifest records, and the test suite checks every kind registered here
against the same contract. A new kind is a module defining an
:class:`~sim.experiments.template.ExperimentKind` (and its public function), added below.
"""

from __future__ import annotations

from sim.experiments.compare import CompareKind
from sim.experiments.explain import ExplainKind
from sim.experiments.robustness import RobustnessKind
from sim.experiments.scenario_checks import check_runs
from sim.experiments.sensitivity import SensitivityKind
from sim.experiments.sweep import SweepKind
from sim.experiments.template import ExperimentKind, ExperimentOptions, check_design
from sim.scenario.schema import Scenario

KINDS: dict[str, type[ExperimentKind]] = {
    kind.name: kind for kind in (CompareKind, SweepKind, SensitivityKind, RobustnessKind, ExplainKind)
}
"""Every experiment kind, by the name its command and its results folders use."""


def check_every_command(scenario: Scenario) -> list[str]:
    """Make every check that ``run`` and each experiment the scenario allows would make before its first run.

    This is ``bureausim validate``: the scenario alone and under each arm (what ``run`` and
    ``run --arm`` check), then, for every kind the scenario has what it needs for, that kind's
    design with its default options and every one of its runs (:func:`check_design`), and a
    calibration's design (its targets' outputs, the corners of its box) when it has one.

    Returns:
        The names of the experiment kinds checked.

    Raises:
        UserError: the first mistake any of those commands would refuse.
    """
    check_runs(scenario)
    checked = []
    for name, kind in KINDS.items():
        if kind.applies(scenario):
            check_design(kind().design(scenario, ExperimentOptions(progress=False)))
            checked.append(name)
    if scenario.calibration is not None:
        from sim.experiments.calibrate import calibration_design  # its modules import only when needed

        check_design(calibration_design(scenario))
        checked.append("calibrate")
    return checked
