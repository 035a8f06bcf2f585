"""The registry of experiment kinds, by name: every kind that :func:`sim.experiments.template.run_experiment` runs.

Reopening a results folder (:func:`sim.experiments.reopen.load_results`) finds its kind here
by the name its manifest records, and the test suite checks every kind registered here
against the same contract. A new kind is a module defining an
:class:`~sim.experiments.template.ExperimentKind` (and its public function), added below.
"""

from __future__ import annotations

from sim.experiments.compare import CompareKind
from sim.experiments.robustness import RobustnessKind
from sim.experiments.sensitivity import SensitivityKind
from sim.experiments.sweep import SweepKind
from sim.experiments.template import ExperimentKind

KINDS: dict[str, type[ExperimentKind]] = {
    kind.name: kind for kind in (CompareKind, SweepKind, SensitivityKind, RobustnessKind)
}
"""Every experiment kind, by the name its command and its results folders use."""
