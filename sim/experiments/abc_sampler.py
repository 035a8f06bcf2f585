"""ABC-SMC by pyabc, with a sampler that gives the same posterior on any number of workers.

pyabc runs the algorithm: the prior, the perturbation kernels, the tolerance schedule, the
weights, its database of populations (``abc.db``: a stopped calibration loads it and goes on
from the last generation stored). Its own parallel samplers accept whichever candidates finish
first, so a population depends on timing. :class:`BatchSampler` instead proposes each batch of
candidates from seeds fixed by (seed, generation, batch, candidate), runs the whole batch through
bureausim's executor and run store (so runs are parallel, on processes or Dask, and stored as
they finish), and accepts in proposal order until the population is full.

It does so in two passes over pyabc's ``simulate_one`` (which proposes a parameter, simulates
and accepts in one call): a first pass, with each candidate's seed, only records the parameters
proposed (the simulator answers with the observed values, and nothing is kept); the batch is
then run; a second pass, with the same seeds, proposes the same parameters (pyabc draws them from
NumPy's global generator, reseeded per candidate) and the simulator answers with the stored
results. The second pass's particles are the population.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.history_matching import box_to_unit
from sim.errors import RunsFailed
from sim.experiments.calibrate import ABC, PointRunner, not_ruled_out, observations, own_seeds

if TYPE_CHECKING:
    from sim.analysis.history_matching import Emulator
    from sim.scenario.targets import CalibrationSpec, Target

GENERATION = 1_000_000
"""Candidate ids of generation *t* start at ``ABC + (t + 1) × GENERATION`` (t = −1: pyabc's first tolerance)."""


def _pyabc():
    import pyabc  # imported when a calibration runs: it is slow to import

    logging.getLogger("ABC").setLevel(logging.WARNING)  # bureausim shows progress itself
    return pyabc


class Simulator:
    """The model pyabc calls: records proposals in the first pass, answers with stored results in the second."""

    def __init__(self, names: list[str], placeholder: dict[str, float]) -> None:
        self.names, self.placeholder = names, placeholder
        self.recorded: list[dict[str, float]] = []
        self.results: list[dict[str, float]] | None = None
        self.position = 0

    def __call__(self, parameter) -> dict[str, float]:
        """The placeholder (first pass), or the stored statistics of the same proposal (second pass)."""
        theta = {name: float(parameter[name]) for name in self.names}
        if self.results is None:
            self.recorded.append(theta)
            return dict(self.placeholder)
        if theta != self.recorded[self.position]:
            raise RuntimeError("the second pass proposed another parameter than the first: pyabc's draws moved")
        result = self.results[self.position]
        self.position += 1
        return result


def make_sampler(runner: PointRunner, simulator: Simulator, key_of, seed: int):
    """A pyabc sampler that runs each batch of candidates through ``runner`` (see the module's docstring)."""
    pyabc = _pyabc()

    class BatchSampler(pyabc.sampler.Sampler):
        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
            sample = self._create_empty_sample()
            accepted = evaluated = batch = 0
            start = ABC + (t + 1) * GENERATION
            while accepted < n:
                size = n - accepted if all_accepted else max(2 * (n - accepted), 4)
                if evaluated + size > GENERATION:  # the next generation's ids would be reused
                    raise RunsFailed(
                        f"ABC-SMC generation {t + 1} accepted {accepted} of {n} particles in {evaluated:,} candidates: "
                        "the tolerance cannot be met; widen the targets' uncertainty or lower calibration.population"
                    )
                seeds = np.random.SeedSequence([seed, 7, t + 1, batch]).generate_state(size)
                simulator.recorded, simulator.results, simulator.position = [], None, 0
                for word in seeds:
                    np.random.seed(int(word))
                    simulate_one()
                ids = [start + evaluated + i for i in range(size)]
                simulator.results = key_of(simulator.recorded, ids, t)
                for word in seeds:
                    np.random.seed(int(word))
                    particle = simulate_one()
                    sample.append(particle)
                    evaluated += 1
                    if particle.accepted:
                        accepted += 1
                        if accepted == n:
                            break
                batch += 1
                if evaluated >= max_eval:
                    break
            self.nr_evaluations_ = evaluated
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return BatchSampler()


TOLERANCE_FLOOR = 1.0
"""The least tolerance, in total sds: the model is not asked to come closer than observation error and discrepancy."""


def make_tolerance():
    """The median of the last generation's distances, never below :data:`TOLERANCE_FLOOR`.

    A quantile schedule alone keeps shrinking whatever the targets' uncertainty, so the posterior
    would contract onto the runs that happened to come closest even for targets that say nothing;
    accepting within one total sd is ABC under the observation-error model (Wilkinson 2013).
    """
    pyabc = _pyabc()

    class Floored(pyabc.epsilon.QuantileEpsilon):
        def __call__(self, t: int) -> float:
            return max(super().__call__(t), TOLERANCE_FLOOR)

    return Floored(alpha=0.5)


def make_prior(box: dict[str, tuple[float, float]], names: list[str], inside):
    """The uniform prior over the box, restricted to the region history matching did not rule out."""
    pyabc = _pyabc()

    class NotRuledOut(pyabc.Distribution):
        def rvs(self, *args, **kwargs):
            while True:
                theta = super().rvs(*args, **kwargs)
                if inside(theta):
                    return theta

        def pdf(self, x):
            return super().pdf(x) if inside(x) else 0.0

    rvs = {name: pyabc.RV("uniform", low, high - low) for name, (low, high) in zip(names, box.values(), strict=True)}
    return NotRuledOut(**rvs)


def run_abc(
    runner: PointRunner,
    spec: CalibrationSpec,
    fitted: list[Target],
    box: dict[str, tuple[float, float]],
    emulators: list[list[Emulator]],
    folder: Path,
    seed: int,
    progress: bool,
) -> pd.DataFrame:
    """ABC-SMC over the box not ruled out; the last population: parameters by path, weight and distance."""
    pyabc = _pyabc()
    paths = list(box)
    names = [f"p{i}" for i in range(len(paths))]  # pyabc's own names; the table uses the paths
    observed = observations(fitted, spec.discrepancy)
    x0 = {t.name: t.observed for t in fitted}
    scales = {o.name: math.sqrt(o.variance) for o in observed}

    def inside(theta) -> bool:
        values = np.array([[float(theta[name]) for name in names]])
        if not np.all((values >= [low for low, _ in box.values()]) & (values <= [high for _, high in box.values()])):
            return False
        return bool(not emulators or not_ruled_out(emulators, box_to_unit(values, box), observed, spec.cutoff)[0])

    def distance(x, x_0) -> float:
        terms = [((x[name] - x_0[name]) / scales[name]) ** 2 for name in scales]
        value = math.sqrt(sum(terms) / len(terms))
        return value if math.isfinite(value) else math.inf

    def key_of(recorded: list[dict[str, float]], ids: list[int], t: int) -> list[dict[str, float]]:
        points = [{path: theta[name] for path, name in zip(paths, names, strict=True)} for theta in recorded]
        seeds = [own_seeds(seed, point_id, spec.replications) for point_id in ids]
        label = "ABC-SMC: first tolerance" if t < 0 else f"ABC-SMC: generation {t + 1} of {spec.generations}"
        stats = runner.statistics(points, ids, label, seeds)
        return [{o.name: float(row[o.name]) for o in observed} for _, row in stats.iterrows()]

    simulator = Simulator(names, x0)
    abc = pyabc.ABCSMC(
        simulator,
        make_prior(box, names, inside),
        distance,
        population_size=spec.population,
        eps=make_tolerance(),
        sampler=make_sampler(runner, simulator, key_of, seed),
    )
    database = f"sqlite:///{folder / 'abc.db'}"
    if (folder / "abc.db").exists():
        history = abc.load(database, 1)
        remaining = spec.generations - history.n_populations
    else:
        abc.new(database, x0)
        remaining = spec.generations
    if remaining > 0:
        abc.run(max_nr_populations=remaining)
    history = abc.history
    population = history.get_population(t=history.max_t).particles  # each particle's values, weight and distance
    particles = pd.DataFrame(
        {path: [float(p.parameter[name]) for p in population] for path, name in zip(paths, names, strict=True)}
    )
    particles["weight"] = np.array([p.weight for p in population], dtype=float)
    particles["distance"] = np.array([p.distance for p in population], dtype=float)
    return particles
