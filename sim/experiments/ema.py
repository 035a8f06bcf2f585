"""The EMA Workbench adapter: a scenario as an ``ema_workbench`` model, run by bureausim's own runs.

:func:`ema_model` turns a scenario into an ``ema_workbench.ReplicatorModel`` whose
uncertainties are the scenario's ``uncertainties:`` ranges, whose levers are its arms (one
categorical lever, ``arm``) and any further values given as ``levers`` (parameters, policy
options ``policies.<policy>.<option>``, hierarchy values ``hierarchy.<field>``, each with a
range), and whose outcomes are the scenario's, with their directions (``direction: none`` is
``INFO``). :func:`ema_policies` gives every arm as an ``ema_workbench.Policy``.

One experiment is the scenario's replications: replication *k* has the seed bureausim gives
replication *k* everywhere (``SeedSequence(seed).spawn``), so every policy and every
scenario of the workbench meets the same random numbers (common random numbers), and a
replication's outcome is its run value (the mean after the burn-in); the workbench reports
their mean over the replications. An experiment's numbers are therefore exactly those of
``bureausim robustness`` for the same future and arm. Uncertain values replace the
scenario's own before its policies and the arm act on them (as a future does); lever values
are set after the arm (as a sweep point is).

EMA names must be Python identifiers, so a path is named as its ``BureauModel`` keyword:
``relay.escalation`` is ``relay_escalation``, ``policies.fault_tolerance.strength`` is
``policies_fault_tolerance_strength``, ``hierarchy.extra_principals`` is
``hierarchy_extra_principals``.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.analysis.statistics import run_values
from sim.errors import ScenarioError
from sim.experiments.executors import payload_for
from sim.model.run import replication_seeds, run_one
from sim.scenario.loader import load_scenario
from sim.scenario.messages import user_error
from sim.scenario.parameters import parameter_paths
from sim.scenario.schema import Scenario, is_number_type, point_annotation

ARM_LEVER = "arm"
"""The name of the categorical lever that chooses one of the scenario's arms."""


def ema_name(path: str) -> str:
    """The identifier EMA knows a path by: its ``BureauModel`` keyword (``relay.escalation``: ``relay_escalation``)."""
    return path.replace(".", "_", 1) if path in parameter_paths() else path.replace(".", "_")


class ScenarioFunction:
    """The callable an EMA model runs: one replication of the scenario at given values, returning its run values.

    It holds the scenario as data, so it pickles to EMA's worker processes; each process
    rebuilds the scenario once.
    """

    def __init__(self, scenario: Scenario, uncertainties: Mapping[str, str], levers: Mapping[str, str]) -> None:
        self.payload = payload_for(scenario)
        self.uncertainties = dict(uncertainties)
        self.levers = dict(levers)
        self._scenario: Scenario | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_scenario": None}

    def scenario(self) -> Scenario:
        """The scenario, validated once per process."""
        if self._scenario is None:
            self._scenario = Scenario.model_validate(self.payload["scenario"])
            self._scenario.source = self.payload["source"]
        return self._scenario

    def __call__(self, seed: int, arm: str | None = None, **values: Any) -> dict[str, float]:
        """One replication: uncertain values as the world, the arm, lever values as a point; its run values."""
        scenario = self.scenario()
        world = {
            self.uncertainties[name]: _plain(value) for name, value in values.items() if name in self.uncertainties
        }
        point = {self.levers[name]: _plain(value) for name, value in values.items() if name in self.levers}
        steps = run_one(scenario, int(seed), arm=arm or None, world=world, overrides=point, agents=False).steps
        outcomes = run_values(steps, scenario.burn_in_periods)
        return {outcome.name: outcomes[outcome.name] for outcome in scenario.outcomes}


def ema_model(
    scenario: Scenario | str | os.PathLike,
    *,
    levers: Mapping[str, tuple[float, float]] | None = None,
    replications: int | None = None,
    name: str | None = None,
):
    """The scenario as an ``ema_workbench.ReplicatorModel``.

    Args:
        scenario: A scenario with ``uncertainties:`` (and arms, for policies), or its path.
        levers: Further levers by dotted path with their ranges: parameters, policy options
            (``policies.fault_tolerance.strength``) or hierarchy values; whole-number values
            become integer levers.
        replications: Replications per experiment (default: the scenario's).
        name: The model's name (letters and digits; default: the scenario's name without the rest).

    Returns:
        The model, for ``ema_workbench.perform_experiments(model, scenarios=..., policies=ema_policies(scenario))``.

    Raises:
        ScenarioError: for a scenario without uncertainties or a lever path that is not a value of the scenario.
    """
    from ema_workbench import (
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
        ReplicatorModel,
        ScalarOutcome,
    )

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not scenario.uncertainties:
        raise ScenarioError(
            "has no uncertainties: for the workbench to sample", source=scenario.source, field="uncertainties"
        )
    levers = dict(levers or {})
    _check_levers(scenario, levers)
    uncertain = {ema_name(path): path for path in scenario.uncertainties}
    levered = {ema_name(path): path for path in levers}
    model = ReplicatorModel(
        name or re.sub(r"[^A-Za-z0-9]", "", scenario.name) or "bureausim",
        ScenarioFunction(scenario, uncertain, levered),
    )
    model.uncertainties = [
        _parameter(ema_name(path), low, high, path, RealParameter, IntegerParameter)
        for path, (low, high) in scenario.uncertainties.items()
    ]
    model_levers = [CategoricalParameter(ARM_LEVER, [arm.name for arm in scenario.arms])] if scenario.arms else []
    model_levers += [
        _parameter(ema_name(path), low, high, path, RealParameter, IntegerParameter)
        for path, (low, high) in levers.items()
    ]
    model.levers = model_levers
    kinds = {"maximize": ScalarOutcome.MAXIMIZE, "minimize": ScalarOutcome.MINIMIZE, "none": ScalarOutcome.INFO}
    model.outcomes = [ScalarOutcome(o.name, kind=kinds[o.direction], function=np.mean) for o in scenario.outcomes]
    seeds = replication_seeds(scenario.seed, replications or scenario.replications)
    model.replications = [{"seed": seed} for seed in seeds]
    return model


def ema_policies(scenario: Scenario | str | os.PathLike) -> list:
    """Every arm of the scenario as an ``ema_workbench.Policy`` (named after the arm, choosing it)."""
    from ema_workbench import Policy

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return [Policy(arm.name, **{ARM_LEVER: arm.name}) for arm in scenario.arms]


def _check_levers(scenario: Scenario, levers: dict[str, tuple[float, float]]) -> None:
    """Every lever path is a value a sweep point could set, with a range low < high of valid values."""
    for path, bounds in levers.items():
        if path.startswith("hierarchy.") and path != "hierarchy.extra_principals":
            raise ScenarioError(
                f"{path}: only hierarchy.extra_principals is a number a lever can range over; "
                "sweep the other hierarchy values",
                source="levers",
            )
        try:
            low, high = bounds
            swept = Scenario.model_validate(
                scenario.model_dump(mode="json", exclude={"source"}) | {"sweep": {"grid": {path: [low, high]}}}
            )
            swept.at_point({path: low})
        except ValidationError as error:
            raise ScenarioError(user_error(error).message, source="levers") from None
        except (ScenarioError, TypeError, ValueError) as error:
            raise ScenarioError(f"{path}: {getattr(error, 'message', error)}", source="levers") from None
        if not path.startswith("hierarchy.") and not is_number_type(point_annotation(path)):
            raise ScenarioError(f"{path} is not numeric and cannot be a lever; sweep it instead", source="levers")
        if not low < high:
            raise ScenarioError(f"{path}: range [{low}, {high}] must have low < high", source="levers")


def _parameter(name: str, low: float, high: float, path: str, real, integer):
    """A real parameter, or an integer one for a whole-number value (a hierarchy count, a number of principals)."""
    whole = path.startswith("hierarchy.") or _is_int(point_annotation(path))
    return integer(name, int(low), int(high)) if whole else real(name, float(low), float(high))


def _is_int(annotation: Any) -> bool:
    return annotation is int or int in typing.get_args(annotation)


def _plain(value: Any) -> Any:
    """A numpy scalar from the workbench as the Python number a scenario's exact types accept."""
    return value.item() if isinstance(value, np.generic) else value
