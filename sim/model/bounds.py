"""Bounds known before a model is built: the worst case of its traits and of its targets.

Targets grow geometrically down the chain (docs/ODD.md, 7.1), so a deep chain with high
escalation can leave floating point and make every output degenerate. Risk aversion has a
known ceiling (its normal draws are clipped, ODD section 5) and a belief is at most 1, so the
largest target a hierarchy can produce follows from the parameters and the hierarchy's shape
alone, with no draws: a run can be refused up front, with the figure, and ``bureausim
validate`` can make the same check.
"""

from __future__ import annotations

import math

from sim.errors import ScenarioError
from sim.model.rules import escalation_rate, tournament_factor
from sim.scenario.parameters import Execution, Parameters, Relay

RISK_AVERSION_Z_CLIP = 8.0
"""Risk aversion's normal draws are clipped to ±this (a draw beyond it has a chance of about 1e-15)."""

FLOAT_ROOM = 1e300
"""The largest figure a target, a resource or a sum of reports may reach (floating point ends near 1.8e308)."""


def risk_aversion_ceiling(execution: Execution) -> float:
    """ρ_max = mean × exp(8σ − σ²/2): no official's risk aversion exceeds it."""
    sigma = execution.risk_aversion_sd
    return execution.risk_aversion_mean * math.exp(RISK_AVERSION_Z_CLIP * sigma - sigma**2 / 2)


def worst_escalation(parameters: Parameters, grassroots: int = 1) -> float:
    """The largest escalation one relay can apply: e (1 + η w ρ_max), a belief being at most 1 (ODD 7.1).

    With rates by level the largest of them counts, and a tournament markup at most
    1 + κ ln N (no official has more subordinates than there are grassroots units).
    """
    relay = parameters.relay
    ceiling = risk_aversion_ceiling(parameters.execution)
    base = relay.escalation if relay.escalation_by_level is None else max(relay.escalation_by_level)
    worst = escalation_rate(base, relay.escalation_pressure, parameters.task.weight, ceiling, 1.0)
    return worst * float(tournament_factor(relay.tournament_markup, grassroots))


def check_relay_levels(parameters: Parameters, relays: int, *, source: str | None = None) -> None:
    """Refuse escalation rates by level that do not give one rate per relay, or beside an escalation they replace.

    ``relay.escalation`` at anything but its default next to the list is a value the model would
    ignore (an arm, sweep point or future setting it changes nothing), so it is refused.
    """
    by_level = parameters.relay.escalation_by_level
    if by_level is not None and parameters.relay.escalation != Relay.model_fields["escalation"].default:
        raise ScenarioError(
            f"relay.escalation would not be used ({parameters.relay.escalation:g}): relay.escalation_by_level gives "
            "the rate of every relay; set one of them, not both",
            source=source,
            field="parameters.relay.escalation",
        )
    outside = [relay for relay in parameters.relay.exempt_relays if relay >= relays]
    if outside:
        raise ScenarioError(
            f"names relay {outside[0]}, but the hierarchy has {relays} relay{'' if relays == 1 else 's'} "
            f"(numbered 0 to {relays - 1} from the top)",
            source=source,
            field="parameters.relay.exempt_relays",
        )
    if by_level is not None and len(by_level) != relays:
        raise ScenarioError(
            f"gives {len(by_level)} escalation rate{'' if len(by_level) == 1 else 's'}, but the hierarchy has "
            f"{relays} relay{'' if relays == 1 else 's'} (one rate per relay, from the top)",
            source=source,
            field="parameters.relay.escalation_by_level",
        )


def log10_target_bound(parameters: Parameters, relays: int, grassroots: int) -> float:
    """log10 of the largest target or resource times the grassroots units whose reports are summed.

    One relay multiplies the target (and, under funded escalation, the resources) by at most
    1 + :func:`worst_escalation`.
    """
    start = max(parameters.task.target, parameters.task.resources, 1.0) * max(grassroots, 1)
    return math.log10(start) + relays * math.log10(1.0 + worst_escalation(parameters, grassroots))


def check_finite_targets(parameters: Parameters, relays: int, grassroots: int, *, source: str | None = None) -> None:
    """Refuse parameters whose targets could leave floating point on a hierarchy of this shape.

    Args:
        parameters: The run's resolved parameters.
        relays: Number of relays L of the hierarchy.
        grassroots: Number of grassroots units N.
        source: The scenario file, for the message.

    Raises:
        ScenarioError: naming ``parameters.relay.escalation`` and the figure it could reach.
    """
    bound = log10_target_bound(parameters, relays, grassroots)
    if bound <= math.log10(FLOAT_ROOM):
        return
    relay = parameters.relay
    factor = 1 + worst_escalation(parameters, grassroots)
    ceiling = risk_aversion_ceiling(parameters.execution)
    units = f"{grassroots:,} grassroots unit{'' if grassroots == 1 else 's'}"
    raise ScenarioError(
        f"{relays} relays, each multiplying the target by up to {factor:.3g} (escalation {relay.escalation:g}, "
        f"pressure {relay.escalation_pressure:g}, risk aversion up to {ceiling:.3g}), could take targets summed "
        f"over {units} to about 1e{bound:.0f}, beyond what floating point holds (about "
        "1e300); lower relay.escalation, relay.escalation_pressure or execution.risk_aversion_sd, or use a "
        "shallower hierarchy",
        source=source,
        field="parameters.relay.escalation",
    )
