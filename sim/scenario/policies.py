"""Reform policies: named, documented, composable bundles of parameter changes.

A policy is declared once, with a one-line description, what it changes, and the options a
scenario may tune (a small pydantic model, so tuning is type- and range-checked like every
other input). Scenarios switch policies on by name, in order; each one is applied to the
parameters left by the previous one. ``bureausim describe`` prints this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from sim.scenario.exact import ExactModel
from sim.scenario.parameters import Parameters, check_window


class Options(ExactModel):
    """Base of every policy's tunable options: unknown options are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Policy:
    """A reform: what it is, what it changes, and how.

    Attributes:
        name: Identifier used in scenario files.
        description: One line: the reform in the language of its users.
        changes: One line: the parameters or rules it changes.
        options: The pydantic model of its tunable options (all with defaults).
        apply: Changes a :class:`Parameters` in place, given validated options.
    """

    name: str
    description: str
    changes: str
    options: type[Options]
    apply: Callable[[Parameters, Any], None]

    def applied(self, parameters: Parameters, **options: Any) -> Parameters:
        """Return a copy of ``parameters`` with this policy applied."""
        result = parameters.model_copy(deep=True)
        self.apply(result, self.options(**options))
        return result


REGISTRY: dict[str, Policy] = {}


def policy(name: str, description: str, changes: str, options: type[Options] = Options):
    """Register the decorated function as the ``apply`` of a new policy."""

    def register(apply: Callable[[Parameters, Any], None]) -> Callable[[Parameters, Any], None]:
        REGISTRY[name] = Policy(name, description, changes, options, apply)
        return apply

    return register


class _Strength(Options):
    strength: float = Field(0.9, ge=0, le=1, description="chance a genuine attempt's finding is excused")


@policy(
    "fault_tolerance",
    "容错纠错: failures of genuine effort are excused; falsification never is.",
    "accountability.excuse_genuine = strength",
    _Strength,
)
def _fault_tolerance(p: Parameters, o: _Strength) -> None:
    p.accountability.excuse_genuine = o.strength


class _BurdenCut(Options):
    cut: float = Field(0.5, ge=0, le=1, description="share of paperwork removed")
    cap: int | None = Field(1, ge=0, le=1000, description="most inspections a unit hosts per period")


@policy(
    "burden_reduction",
    "减负: caps on paperwork and on inspections per unit.",
    "task.paperwork and relay.paperwork_per_relay × (1 − cut); accountability.inspection_cap = cap",
    _BurdenCut,
)
def _burden_reduction(p: Parameters, o: _BurdenCut) -> None:
    p.task.paperwork *= 1 - o.cut
    p.relay.paperwork_per_relay *= 1 - o.cut
    p.accountability.inspection_cap = o.cap


class _Share(Options):
    share: float = Field(0.8, ge=0, le=1, description="share of inspections made on site")


@policy(
    "onsite_inspection",
    "现场看实物、查实情: inspectors look at real output instead of reports and traces.",
    "accountability.onsite_share = share",
    _Share,
)
def _onsite_inspection(p: Parameters, o: _Share) -> None:
    p.accountability.onsite_share = o.share


@policy(
    "precise_accountability",
    "精准问责: sanction where the failing decision was made; no shifting of blame.",
    "accountability.precise = true",
)
def _precise_accountability(p: Parameters, o: Options) -> None:
    p.accountability.precise = True


@policy(
    "resources_follow_tasks",
    "费随事转: funding travels with the task and with every escalation of it.",
    "relay.stripping = 0; relay.funded_escalation = true",
)
def _resources_follow_tasks(p: Parameters, o: Options) -> None:
    p.relay.stripping = 0.0
    p.relay.funded_escalation = True


class _Clarity(Options):
    strength: float = Field(0.7, ge=0, le=1, description="share of per-relay dilution removed")


@policy(
    "clarify_directives",
    "明确化: directives are made specific at every relay, so less clarity is lost.",
    "relay.dilution × (1 − strength)",
    _Clarity,
)
def _clarify_directives(p: Parameters, o: _Clarity) -> None:
    p.relay.dilution *= 1 - o.strength


class _Fraction(Options):
    fraction: float = Field(
        0.1,
        ge=0,
        le=1,
        description="bottom share of each sibling group sanctioned (rounded down: none in small groups)",
    )


@policy(
    "ranking_accountability",
    "排名靠后约谈: the bottom fraction of each group of grassroots peers is sanctioned, however well it did.",
    "accountability.ranking_fraction = fraction",
    _Fraction,
)
def _ranking_accountability(p: Parameters, o: _Fraction) -> None:
    p.accountability.ranking_fraction = o.fraction


class _Rate(Options):
    rate: float = Field(0.2, ge=0, le=1, description="share of units evaluated each period")


@policy(
    "third_party_evaluation",
    "第三方评估: independent on-site scoring that ignores traces and cannot be blamed down.",
    "accountability.third_party_rate = rate",
    _Rate,
)
def _third_party_evaluation(p: Parameters, o: _Rate) -> None:
    p.accountability.third_party_rate = o.rate


class _Campaign(Options):
    start: int = Field(20, ge=0, le=1_000_000, description="first period of the campaign")
    end: int = Field(30, ge=0, le=1_000_000, description="first period after the campaign")
    multiplier: float = Field(1.5, ge=0, le=100, description="inspection rate multiplier")
    onsite_share: float = Field(1.0, ge=0, le=1, description="on-site share during the campaign")

    @model_validator(mode="after")
    def _window(self) -> _Campaign:
        check_window(self.start, self.end)
        return self


@policy(
    "campaign",
    "运动式执行: a temporary surge of (mostly on-site) inspection.",
    "campaign.start, campaign.end, campaign.inspection_multiplier = multiplier, campaign.onsite_share",
    _Campaign,
)
def _campaign(p: Parameters, o: _Campaign) -> None:
    p.campaign.end = None  # so the window is valid at every assignment
    p.campaign.start = o.start
    p.campaign.end = o.end
    p.campaign.inspection_multiplier = o.multiplier
    p.campaign.onsite_share = o.onsite_share


class _Reward(Options):
    reward: float = Field(0.5, ge=0, le=100, description="payoff of a reward for evaluated success")


@policy(
    "positive_incentives",
    "奖优罚劣: evaluated success is rewarded.",
    "accountability.reward = reward",
    _Reward,
)
def _positive_incentives(p: Parameters, o: _Reward) -> None:
    p.accountability.reward = o.reward


def apply_policies(parameters: Parameters, policies: list[tuple[str, dict[str, Any]]]) -> Parameters:
    """Apply ``(name, options)`` pairs in order and return the resulting parameters."""
    for name, options in policies:
        parameters = REGISTRY[name].applied(parameters, **options)
    return parameters
