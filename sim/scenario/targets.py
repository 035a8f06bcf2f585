"""Calibration targets and settings as data: a scenario's ``targets:`` and ``calibration:`` sections.

A target is one number from the world the model should reproduce: the output it matches (by
level or task where the output's name says so, in one arm if needed), the observed value with
its uncertainty, the model discrepancy allowed, its source, and whether it is held out of the
fit (then only posterior predictive checks use it). ``calibration:`` names the parameters a
calibration may move, with their prior ranges, and the settings of its three steps (docs/ODD.md,
section 16): screening, history matching in waves, ABC-SMC.
"""

from __future__ import annotations

import math
import re

from pydantic import ConfigDict, Field, field_validator, model_validator

from sim.scenario.conditions import check_outcome_name
from sim.scenario.exact import ExactModel

RANGE_SDS = 2 * 1.959963984540054
"""A target's ``range`` is read as a 95% interval: its width is this many standard deviations."""

PATTERN_ID = r"^P[0-9]+h?$"
"""How a pattern is named in ``calibration.patterns`` (``P3``, ``P7h``)."""


RESERVED_NAMES = ("point", "wave", "implausibility", "not_ruled_out")
"""Columns of the calibration's tables a target's name may not take (nor any name ending in ``_var``)."""


class _Section(ExactModel):
    model_config = ConfigDict(extra="forbid")


class Target(_Section):
    """One number from the world: what it matches, its value and uncertainty, and where it comes from."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$", description="identifier used in the calibration's tables")
    output: str = Field(description="the output it matches (any name of a run's table: sanction_share_county, ...)")
    arm: str | None = Field(None, description="the arm whose runs it is matched in (default: the scenario itself)")
    value: float | None = Field(None, allow_inf_nan=False, description="the observed value (default: range's centre)")
    sd: float | None = Field(None, gt=0, allow_inf_nan=False, description="the observation's standard deviation")
    range: tuple[float, float] | None = Field(None, description="a 95% interval of the observation, instead of sd")
    discrepancy: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="model discrepancy's sd (default: calibration.discrepancy times |value|)",
    )
    source: str = Field(min_length=3, description="where the number comes from (a citation)")
    held_out: bool = Field(False, description="kept out of the fit: checked by posterior prediction only")
    note: str = Field("", description="how the number was read, and what it does not say")

    @field_validator("name")
    @classmethod
    def _not_a_column(cls, value: str) -> str:
        if value in RESERVED_NAMES or value.endswith("_var"):
            raise ValueError(f"{value!r} names a column of the calibration's tables; choose another name")
        return value

    @field_validator("output")
    @classmethod
    def _known_output(cls, value: str) -> str:
        return check_outcome_name(value)

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None:
            low, high = value
            if not (math.isfinite(low) and math.isfinite(high)):
                raise ValueError("a range's ends must be finite numbers")
            if not low < high:
                raise ValueError(f"range [{low}, {high}] must have low < high")
        return value

    @model_validator(mode="after")
    def _one_uncertainty(self) -> Target:
        if self.sd is None and self.range is None:
            raise ValueError(f"target {self.name}: give its uncertainty, as sd (with value) or as range")
        if self.sd is not None and self.range is not None:
            raise ValueError(f"target {self.name}: give its uncertainty as sd or as range, not both")
        if self.sd is not None and self.value is None:
            raise ValueError(f"target {self.name}: a target given by sd needs its value")
        if self.range is not None and self.value is not None and not self.range[0] <= self.value <= self.range[1]:
            raise ValueError(f"target {self.name}: value {self.value} lies outside its range {list(self.range)}")
        return self

    @property
    def observed(self) -> float:
        """The observed value: ``value``, or the centre of ``range``."""
        if self.value is not None:
            return self.value
        low, high = self.range
        return (low + high) / 2

    @property
    def observation_sd(self) -> float:
        """The observation's standard deviation: ``sd``, or ``range``'s width over 3.92."""
        if self.sd is not None:
            return self.sd
        low, high = self.range
        return (high - low) / RANGE_SDS

    def discrepancy_sd(self, relative: float) -> float:
        """The model discrepancy's sd: ``discrepancy``, or ``relative`` times the observed value's size."""
        return self.discrepancy if self.discrepancy is not None else relative * abs(self.observed)

    def total_sd(self, relative: float) -> float:
        """√(V_o + V_d): the scale in which the model's distance from this target is measured."""
        return math.sqrt(self.observation_sd**2 + self.discrepancy_sd(relative) ** 2)


class CalibrationSpec(_Section):
    """What ``bureausim calibrate`` may move, and the settings of its steps (docs/ODD.md, section 16)."""

    parameters: dict[str, tuple[float, float]] = Field(
        description="prior ranges of the parameters the calibration may move, by dotted path"
    )
    replications: int = Field(
        2, ge=2, le=1_000, description="replications per parameter point (two at least: their spread is the noise)"
    )
    screening: int = Field(
        8, ge=0, le=1_000, description="Morris trajectories of the screening (0: no screening, keep every parameter)"
    )
    screen_threshold: float = Field(
        0.25,
        ge=0,
        allow_inf_nan=False,
        description="least mu* (in target sds over the parameter's range) on some fitted target to keep a parameter",
    )
    waves: int = Field(3, ge=1, le=20, description="history-matching waves")
    points: int = Field(60, ge=4, le=100_000, description="parameter points run in each wave")
    cutoff: float = Field(3.0, gt=0, allow_inf_nan=False, description="implausibility above which a point is ruled out")
    space_sample: int = Field(
        20_000, ge=100, le=10_000_000, description="Monte Carlo points of the box on which ruled-out space is measured"
    )
    discrepancy: float = Field(
        0.05, ge=0, allow_inf_nan=False, description="default model discrepancy sd, as a share of a target's |value|"
    )
    population: int = Field(100, ge=5, le=100_000, description="ABC-SMC particles per generation")
    generations: int = Field(4, ge=1, le=50, description="ABC-SMC generations")
    draws: int = Field(20, ge=2, le=10_000, description="posterior draws for the posterior predictive checks")
    patterns: list[str] = Field(
        default_factory=list, description="pattern claims the calibrated point must hold (P3, P7h, ...)"
    )
    pattern_points: int = Field(3, ge=1, le=100, description="NROY points closest to the targets checked against them")
    pattern_replications: int = Field(
        6, ge=2, le=1_000, description="replications of each pattern check (at least its pattern file's own)"
    )

    @field_validator("patterns")
    @classmethod
    def _pattern_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(PATTERN_ID, name):
                raise ValueError(f"{name!r} is not a pattern's name (P1 ... P13, P7h)")
        if len(set(value)) != len(value):
            raise ValueError("a pattern is named twice")
        return value

    @field_validator("parameters")
    @classmethod
    def _some(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        if not value:
            raise ValueError("name at least one parameter to calibrate, with its prior range")
        return value


def check_targets(targets: list[Target], arms: list[str]) -> None:
    """Refuse targets named twice, or matched in an arm the scenario does not have."""
    seen: set[str] = set()
    for index, target in enumerate(targets):
        if target.name in seen:
            raise ValueError(f"targets.{index}: target {target.name} is named twice")
        seen.add(target.name)
        if target.arm is not None and target.arm not in arms:
            known = ", ".join(arms) if arms else "none"
            raise ValueError(f"targets.{index}: target {target.name}: no arm {target.arm} (arms: {known})")
