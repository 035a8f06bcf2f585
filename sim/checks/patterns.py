"""Patterns P3–P13 as declared claims, evaluated the same way by the tests and the report.

A pattern is a scenario (``scenarios/patterns/<stem>.yaml``) and a list of claims. A claim
compares one side with another, pair by pair over replications (common random numbers), and
holds when the 95% confidence interval of the mean paired difference lies above a margin. A
side is an arm (or the scenario without arms), a sum of outputs (an output written ``-name``
is subtracted: ``goal_attainment[veto]`` minus ``goal_attainment[soft]`` is one side), and a
window of periods over which each replication's outputs are averaged. A claim without a right side says that
the left side's mean lies above the margin. The closed forms P1 and P2 are checked exactly
elsewhere (:mod:`sim.checks.validation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.statistics import describe
from sim.model.run import replication_seeds, run_one
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Side:
    """What one side of a claim measures: an arm, a sum of outputs, a window of periods (1-based, end excluded)."""

    arm: str | None
    outputs: tuple[str, ...]
    window: tuple[int, int]

    def label(self) -> str:
        """Readable name of the side."""
        where = self.arm or "scenario"
        return f"{' + '.join(self.outputs)} [{where}, periods {self.window[0]}-{self.window[1] - 1}]"


@dataclass(frozen=True)
class Claim:
    """``left − right > margin`` (or ``left > margin`` without a right side), paired over replications."""

    text: str
    left: Side
    right: Side | None = None
    margin: float = 0.0


@dataclass(frozen=True)
class Pattern:
    """A pattern of the model's validation: its scenario, run length and claims."""

    id: str
    title: str
    stem: str
    steps: int
    claims: tuple[Claim, ...]
    second_edition: bool = False  # its scenario turns on switches of ODD sections 12-13: no constraint of the defaults


WINDOW = (21, 41)  # after 20 periods of learning
LATE = (31, 61)  # a portfolio's capacity split settles more slowly: the second half of 60 periods


def _side(arm: str | None, *outputs: str, window: tuple[int, int] = WINDOW) -> Side:
    return Side(arm, outputs, window)


OVERSIGHT_OPTIMUM = (
    Claim("some oversight beats none", _side("moderate", "goal_attainment"), _side("none", "goal_attainment")),
    Claim("too much oversight hurts", _side("moderate", "goal_attainment"), _side("very_heavy", "goal_attainment")),
    Claim(
        "no oversight invites falsification and shirking",
        _side("none", "share_falsify", "share_shirk"),
        _side("moderate", "share_falsify", "share_shirk"),
        margin=0.05,
    ),
)
"""P7's interior optimum of oversight, claimed again by P7h with officials who differ."""

PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "P3",
        "blame sinks: with blame shifting the grassroots carry most sanctions",
        "p3_blame_sinks",
        40,
        (
            Claim("most sanctions fall on townships", _side("blame_shifting", "sanction_share_township"), margin=0.85),
            Claim(
                "more of them than under precise accountability",
                _side("blame_shifting", "sanction_share_township"),
                _side("precise", "sanction_share_township"),
                margin=0.1,
            ),
            Claim(
                "and more of them wrongful",
                _side("blame_shifting", "wrongful_sanction_rate"),
                _side("precise", "wrongful_sanction_rate"),
            ),
        ),
    ),
    Pattern(
        "P4",
        "fear freezes: harsh undifferentiated accountability raises bans and cuts innovation; "
        "fault tolerance reverses it",
        "p4_fear_freezes",
        40,
        (
            Claim("bans rise", _side("harsh", "share_blanket_ban"), _side("mild", "share_blanket_ban")),
            Claim("innovation falls", _side("mild", "share_innovate"), _side("harsh", "share_innovate")),
            Claim(
                "fault tolerance cuts bans",
                _side("harsh", "share_blanket_ban"),
                _side("harsh_fault_tolerance", "share_blanket_ban"),
            ),
            Claim(
                "fault tolerance restores innovation",
                _side("harsh_fault_tolerance", "share_innovate"),
                _side("harsh", "share_innovate"),
            ),
        ),
    ),
    Pattern(
        "P5",
        "traces over substance: paper inspection yields more formalism and falsification than on-site inspection",
        "p5_traces",
        40,
        (
            Claim(
                "formalism + falsification",
                _side("paper", "share_formalism", "share_falsify"),
                _side("onsite", "share_formalism", "share_falsify"),
                margin=0.05,
            ),
            Claim("implementation gap", _side("paper", "implementation_gap"), _side("onsite", "implementation_gap")),
        ),
    ),
    Pattern(
        "P6",
        "campaigns rebound: attainment rises during a campaign (periods 60-74) and falls back after it",
        "p6_campaign",
        110,
        (
            Claim(
                "attainment rises",
                _side(None, "goal_attainment", window=(62, 75)),
                _side(None, "goal_attainment", window=(45, 60)),
            ),
            Claim(
                "and falls back",
                _side(None, "goal_attainment", window=(62, 75)),
                _side(None, "goal_attainment", window=(95, 111)),
            ),
            Claim(
                "falsification dips",
                _side(None, "share_falsify", window=(45, 60)),
                _side(None, "share_falsify", window=(62, 75)),
            ),
            Claim(
                "and returns",
                _side(None, "share_falsify", window=(95, 111)),
                _side(None, "share_falsify", window=(62, 75)),
            ),
        ),
    ),
    Pattern(
        "P7",
        "oversight has an interior optimum: none invites faking, much costs the grassroots",
        "p7_oversight",
        40,
        (
            *OVERSIGHT_OPTIMUM,
            Claim("burden: light > none", _side("light", "burden"), _side("none", "burden")),
            Claim("burden: moderate > light", _side("moderate", "burden"), _side("light", "burden")),
            Claim("burden: heavy > moderate", _side("heavy", "burden"), _side("moderate", "burden")),
            Claim("burden: very heavy > heavy", _side("very_heavy", "burden"), _side("heavy", "burden")),
        ),
    ),
    Pattern(
        "P7h",
        "with officials who differ, oversight's interior optimum holds at a realistic gap",
        "p7h_oversight_differ",
        40,
        (
            *OVERSIGHT_OPTIMUM,
            Claim(
                "the weakly motivated falsify more than the strongly motivated",
                _side("moderate", "share_falsify_unmotivated"),
                _side("moderate", "share_falsify_motivated"),
            ),
            Claim("attainment at moderate oversight below 0.9", _side("moderate", "-goal_attainment"), margin=-0.9),
            Claim("gap at moderate oversight above 0.1", _side("moderate", "implementation_gap"), margin=0.1),
            Claim("gap at moderate oversight below 0.3", _side("moderate", "-implementation_gap"), margin=-0.3),
            Claim("burden: heavy > moderate", _side("heavy", "burden"), _side("moderate", "burden")),
        ),
        second_edition=True,
    ),
    Pattern(
        "P8",
        "unfunded mandates: stripping resources while pushing blame down lowers attainment, raises wrongful sanctions",
        "p8_unfunded_mandates",
        40,
        (
            Claim(
                "attainment",
                _side("funded_precise", "goal_attainment"),
                _side("unfunded_shifted", "goal_attainment"),
                margin=0.1,
            ),
            Claim(
                "wrongful sanctions",
                _side("unfunded_shifted", "wrongful_sanction_rate"),
                _side("funded_precise", "wrongful_sanction_rate"),
            ),
        ),
    ),
    Pattern(
        "P9",
        "selective implementation: capacity and attainment go to veto and hard tasks, away from soft ones",
        "p9_selective_implementation",
        60,
        (
            Claim(
                "capacity: veto task > soft task",
                _side("four_tasks", "capacity_share[veto]", window=LATE),
                _side("four_tasks", "capacity_share[soft]", window=LATE),
                margin=0.1,
            ),
            Claim(
                "capacity: hard task > soft task",
                _side("four_tasks", "capacity_share[hard]", window=LATE),
                _side("four_tasks", "capacity_share[soft]", window=LATE),
            ),
            Claim(
                "attainment: veto task > soft task",
                _side("four_tasks", "goal_attainment[veto]", window=LATE),
                _side("four_tasks", "goal_attainment[soft]", window=LATE),
                margin=0.1,
            ),
            Claim(
                "attainment: hard task > soft task",
                _side("four_tasks", "goal_attainment[hard]", window=LATE),
                _side("four_tasks", "goal_attainment[soft]", window=LATE),
            ),
            Claim(
                "genuine work (substantive or innovative): veto task > soft task",
                _side("four_tasks", "share_substantive[veto]", "share_innovate[veto]", window=LATE),
                _side("four_tasks", "share_substantive[soft]", "share_innovate[soft]", window=LATE),
            ),
            Claim(
                "two more tasks cost the soft task more than the veto task",
                _side("six_tasks", "goal_attainment[veto]", "-goal_attainment[soft]", window=LATE),
                _side("four_tasks", "goal_attainment[veto]", "-goal_attainment[soft]", window=LATE),
            ),
        ),
    ),
    Pattern(
        "P10",
        "crowding: the same total target as more tasks from more issuers means more formalism and burden, less done",
        "p10_crowding",
        60,
        (
            Claim(
                "formalism: four tasks > one",
                _side("four_tasks_one_issuer", "share_formalism", window=LATE),
                _side("one_task", "share_formalism", window=LATE),
                margin=0.1,
            ),
            Claim(
                "burden: four tasks > one",
                _side("four_tasks_one_issuer", "burden", window=LATE),
                _side("one_task", "burden", window=LATE),
                margin=0.1,
            ),
            Claim(
                "attainment: one task > four",
                _side("one_task", "goal_attainment", window=LATE),
                _side("four_tasks_one_issuer", "goal_attainment", window=LATE),
                margin=0.1,
            ),
            Claim(
                "burden: four issuers > one",
                _side("four_tasks_four_issuers", "burden", window=LATE),
                _side("four_tasks_one_issuer", "burden", window=LATE),
            ),
            Claim(
                "attainment: one issuer > four",
                _side("four_tasks_one_issuer", "goal_attainment", window=LATE),
                _side("four_tasks_four_issuers", "goal_attainment", window=LATE),
            ),
        ),
    ),
    Pattern(
        "P11",
        "collusion hides failure: shielding raises the gap; level-skipping inspections and third parties reduce it",
        "p11_collusion",
        60,
        (
            Claim(
                "shielding raises the gap",
                _side("shielding", "implementation_gap"),
                _side("no_shielding", "implementation_gap"),
                margin=0.02,
            ),
            Claim(
                "shielding invites falsification",
                _side("shielding", "share_falsify"),
                _side("no_shielding", "share_falsify"),
                margin=0.03,
            ),
            Claim(
                "level-skipping inspections reduce the gap",
                _side("shielding", "implementation_gap"),
                _side("level_skipping", "implementation_gap"),
                margin=0.05,
            ),
            Claim(
                "third parties reduce the gap",
                _side("shielding", "implementation_gap"),
                _side("third_party", "implementation_gap"),
                margin=0.05,
            ),
            Claim(
                "level-skipping inspections deter shielding",
                _side("shielding", "shield_share"),
                _side("level_skipping", "shield_share"),
                margin=0.2,
            ),
            Claim(
                "third parties deter shielding",
                _side("shielding", "shield_share"),
                _side("third_party", "shield_share"),
                margin=0.2,
            ),
        ),
        second_edition=True,
    ),
    Pattern(
        "P12",
        "middle levels pass documents on under pressure: they clarify with time and checks, relay verbatim without",
        "p12_middle_relay",
        60,
        (
            Claim(
                "clarifying middle levels raise grassroots clarity",
                _side("deciding", "clarity_at_bottom"),
                _side("first_edition", "clarity_at_bottom"),
                margin=0.1,
            ),
            Claim(
                "pressure on the middle's time makes it relay verbatim",
                _side("deciding", "relay_share_clarify"),
                _side("pressure", "relay_share_clarify"),
                margin=0.1,
            ),
            Claim(
                "less capacity makes it relay verbatim",
                _side("deciding", "relay_share_clarify"),
                _side("less_capacity", "relay_share_clarify"),
                margin=0.1,
            ),
            Claim(
                "inspections of relay work make it clarify",
                _side("inspected", "relay_share_clarify"),
                _side("deciding", "relay_share_clarify"),
                margin=0.05,
            ),
            Claim(
                "inspections of relay work move sanctions up the chain",
                _side("inspected", "sanction_share_county"),
                _side("deciding", "sanction_share_county"),
                margin=0.1,
            ),
        ),
        second_edition=True,
    ),
    Pattern(
        "P13",
        "reports that can show the gap: audits shrink it, inflation widens it",
        "p13_audits",
        60,
        (
            Claim(
                "audits shrink the gap",
                _side("status_quo", "implementation_gap", window=LATE),
                _side("audited", "implementation_gap", window=LATE),
                margin=0.05,
            ),
            Claim(
                "audits deter inflated reports",
                _side("status_quo", "report_inflation_chosen", window=LATE),
                _side("audited", "report_inflation_chosen", window=LATE),
            ),
            Claim(
                "audits deter falsification",
                _side("status_quo", "share_falsify", window=LATE),
                _side("audited", "share_falsify", window=LATE),
            ),
            Claim(
                "the gap grows with inflation: some > none",
                _side("status_quo", "implementation_gap", window=LATE),
                _side("no_inflation", "implementation_gap", window=LATE),
                margin=0.05,
            ),
            Claim(
                "the gap grows with inflation: more > some",
                _side("more_inflation", "implementation_gap", window=LATE),
                _side("status_quo", "implementation_gap", window=LATE),
            ),
            Claim(
                "inflation changes what the top believes, not what is done",
                _side("more_inflation", "reported_attainment", "-goal_attainment", window=LATE),
                _side("no_inflation", "reported_attainment", "-goal_attainment", window=LATE),
                margin=0.1,
            ),
        ),
        second_edition=True,
    ),
)


@dataclass
class ClaimResult:
    """A claim's statistic over replications: mean paired difference (or level), its CI, verdict."""

    pattern: str
    claim: str
    replications: int
    mean: float
    ci_low: float
    ci_high: float
    margin: float

    @property
    def holds(self) -> bool:
        """Whether the whole 95% CI lies above the margin."""
        return self.ci_low > self.margin


def pattern_scenario(pattern: Pattern, folder: Path) -> Scenario:
    """The pattern's scenario file from ``folder`` (``scenarios/patterns``)."""
    return load_scenario(folder / f"{pattern.stem}.yaml")


def check_replications(scenario: Scenario, requested: int) -> int:
    """Replications for a check of a pattern: at least its scenario's own ``replications:``.

    A pattern file asks for more where a claim's effect is small (P9's last claim), so that a
    check with fewer (the test suite's, a calibration's) does not lack the power to show it.
    """
    return max(requested, scenario.replications)


def evaluate(
    pattern: Pattern,
    scenario: Scenario,
    replications: int,
    overrides: dict[str, object] | None = None,
) -> list[ClaimResult]:
    """Run the pattern's arms for ``replications`` (shared seeds) and evaluate every claim."""
    arms = sorted({side.arm or "" for claim in pattern.claims for side in (claim.left, claim.right) if side})
    seeds = replication_seeds(scenario.seed, replications)
    tables = {
        arm: [
            run_one(
                scenario, seed, arm=arm or None, replication=k, steps=pattern.steps, overrides=overrides, agents=False
            ).steps
            for k, seed in enumerate(seeds)
        ]
        for arm in arms
    }
    results = []
    for claim in pattern.claims:
        values = side_values(tables, claim.left)
        if claim.right is not None:
            values = values - side_values(tables, claim.right)
        summary = describe(values)
        results.append(
            ClaimResult(
                pattern.id,
                claim.text,
                replications,
                summary["mean"],
                summary["ci_low"],
                summary["ci_high"],
                claim.margin,
            )
        )
    return results


def side_values(tables: dict[str, list[pd.DataFrame]], side: Side) -> np.ndarray:
    """Per replication, the mean over the side's window of the sum of its outputs."""
    values = []
    for steps in tables[side.arm or ""]:
        inside = steps[(steps["period"] >= side.window[0]) & (steps["period"] < side.window[1])]
        signs = np.array([-1.0 if name.startswith("-") else 1.0 for name in side.outputs])
        columns = [name.removeprefix("-") for name in side.outputs]
        values.append(float((inside[columns].to_numpy() * signs).sum(axis=1).mean()))
    return np.asarray(values)
