"""Hypothesis strategies for valid scenarios: hierarchies, parameters and policies."""

from __future__ import annotations

from hypothesis import strategies as st

from sim.scenario.policies import REGISTRY
from sim.scenario.schema import Scenario


@st.composite
def parameters(draw) -> dict:
    """Random values across the full range of the parameters that drive behaviour."""
    unit = st.floats(0, 1, allow_nan=False)
    return {
        "task": {"risk": draw(unit), "paperwork": draw(st.floats(0, 0.5)), "weight": draw(st.floats(0, 3))},
        "relay": {
            "escalation": draw(st.floats(0, 1)),
            "escalation_pressure": draw(st.floats(0, 5)),
            "dilution": draw(unit),
            "stripping": draw(unit),
            "report_inflation": draw(st.floats(0, 0.5)),
        },
        "execution": {
            "capacity_mean": draw(st.floats(0.01, 5)),
            "capacity_sd": draw(st.floats(0, 1)),
            "risk_aversion_sd": draw(st.floats(0, 1)),
        },
        "accountability": {
            "inspection_rate": draw(st.floats(0, 5)),
            "onsite_share": draw(unit),
            "incident_visibility": draw(unit),
            "blame_shift": draw(unit),
            "ranking_fraction": draw(unit),
        },
        "learning": {"temperature": draw(st.floats(0, 2)), "forgetting": draw(unit)},
    }


@st.composite
def hierarchies(draw, max_officials: int = 400) -> dict:
    """A hierarchy section of at most about ``max_officials`` officials, from one official to
    five levels: branching factors, or counts per level spread evenly or at random."""
    principals = draw(st.integers(0, 2))
    depth = draw(st.integers(0, 4))
    total, width, sizes = 1, 1, []
    use_counts = depth > 0 and draw(st.booleans())
    for _ in range(depth):
        room = max(0, max_officials - total)
        if use_counts:
            width = draw(st.integers(width, max(width, min(12 * width, room))))
            sizes.append(width)
        else:
            factor = draw(st.integers(1, max(1, min(12, room // width))))
            width *= factor
            sizes.append(factor)
        total += width
    if use_counts:
        return {"counts": sizes, "spread": draw(st.sampled_from(["even", "random"])), "extra_principals": principals}
    return {"branching": sizes, "extra_principals": principals}


@st.composite
def scenarios(draw, max_officials: int = 400, tasks: bool = False) -> Scenario:
    """A valid scenario of at most about ``max_officials`` officials, with any policies (and a portfolio)."""
    data = {
        "name": "property",
        "seed": draw(st.integers(0, 2**32)),
        "hierarchy": draw(hierarchies(max_officials)),
        "parameters": draw(parameters()),
        "policies": draw(st.lists(st.sampled_from(sorted(REGISTRY)), unique=True, max_size=len(REGISTRY))),
    }
    if draw(st.booleans()):
        hierarchy = data["hierarchy"]
        relays = len(hierarchy.get("branching", hierarchy.get("counts", [])))
        for group, values in draw(second_edition(relays)).items():
            data["parameters"][group] = data["parameters"].get(group, {}) | values
    if tasks:
        data["tasks"] = draw(portfolios())
        data["parameters"]["portfolio"] = {
            "allocation_temperature": draw(st.floats(0, 2)),
            "allocation_rate": draw(st.floats(0, 1)),
            "issuer_load": draw(st.floats(0, 0.1)),
            "veto_penalty": draw(st.floats(1, 5)),
        }
    return Scenario.model_validate(data)


@st.composite
def second_edition(draw, relays: int) -> dict:
    """Any switch of ODD sections 12-13: officials who differ, rate reports, inflation, audits, middle levels."""
    unit = st.floats(0, 1, allow_nan=False)
    found: dict[str, dict] = {"execution": {}, "relay": {}, "accountability": {}}
    if draw(st.booleans()):
        found["execution"] |= {
            "motivated_share": draw(unit),
            "motivation_high": draw(st.floats(0, 3)),
            "motivation_low": draw(st.floats(0, 3)),
        }
    if draw(st.booleans()):
        found["execution"]["motivation_spread"] = draw(st.floats(0, 1.5))
    found["relay"]["report_rule"] = draw(st.sampled_from(["sum", "rate"]))
    if draw(st.booleans()):
        found["relay"]["inflation_options"] = draw(st.lists(st.floats(0, 0.5), min_size=1, max_size=4))
        found["accountability"]["report_audit_rate"] = draw(unit)
    if draw(st.booleans()):
        found["accountability"] |= {"audit_rate": draw(unit), "audit_lag": draw(st.integers(1, 4))}
    if relays and draw(st.booleans()):
        found["relay"]["escalation_by_level"] = draw(st.lists(st.floats(0, 1), min_size=relays, max_size=relays))
        found["relay"]["escalation"] = 0.1  # the default, which the rates by level replace
    found["relay"]["tournament_markup"] = draw(st.sampled_from([0.0, 0.2]))
    found["accountability"]["statistical_discount"] = draw(st.sampled_from([0.0, 0.1]))
    if draw(st.booleans()):  # middle levels that decide (ODD 13)
        found["middle"] = {
            "relay_choice": True,
            "clarify_gain": draw(unit),
            "clarify_time": draw(st.sampled_from([0.0, 0.3, 2.0])),
            "escalate_margin": draw(st.floats(0, 0.5)),
            "capacity_factor": draw(st.floats(0, 2)),
            "paperwork": draw(st.floats(0, 1.5)),
            "inspection_rate": draw(unit),
            "detect_verbatim": draw(unit),
        }
    if draw(st.booleans()):  # a length of time and feedback from the top (ODD sections 14-15)
        found["time"] = {"period_months": draw(st.sampled_from([1.0, 3.0, 6.0]))}
        found["feedback"] = {"every": draw(st.integers(1, 4)), "target_response": draw(st.floats(0, 1))}
    if draw(st.booleans()):  # shielding, level-skipping inspections (ODD 13.3)
        found.setdefault("middle", {}).update(
            {
                "shielding": draw(st.booleans()),
                "warning_effect": draw(unit),
                "settle_share": draw(unit),
                "collusion_penalty": draw(st.floats(0, 5)),
                "skip_level_rate": draw(unit),
                "territorial_responsibility": draw(st.floats(0, 2)),
            }
        )
    return found


@st.composite
def portfolios(draw, most: int = 5) -> list[dict]:
    """A task portfolio of 1 to ``most`` tasks from up to three issuers, with any measurability, vetoes and windows."""
    found = []
    for index in range(draw(st.integers(1, most))):
        task = {
            "name": f"task{index}",
            "issuer": draw(st.sampled_from(["territorial", "environment", "safety"])),
            "target": draw(st.floats(0.05, 2)),
            "weight": draw(st.floats(0, 3)),
            "measurability": draw(st.floats(0, 1)),
            "veto": draw(st.booleans()),
        }
        if draw(st.booleans()):
            task["inspection_rate"] = draw(st.floats(0, 3))
        if draw(st.booleans()):
            start = draw(st.integers(1, 5))
            task |= {"start": start, "end": draw(st.integers(start + 1, 8))}
        if draw(st.booleans()):
            task["pushed_down"] = draw(st.booleans())
        if draw(st.booleans()):  # task-level values of its own, a surge on it among them
            surge = draw(st.integers(1, 6))
            task["set"] = {
                "accountability.onsite_share": draw(st.floats(0, 1)),
                "accountability.excuse_genuine": draw(st.floats(0, 1)),
                "relay.dilution": draw(st.floats(0, 1)),
                "relay.funded_escalation": draw(st.booleans()),
                "campaign.start": surge,
                "campaign.end": surge + draw(st.integers(1, 4)),
                "accountability.precise": draw(st.booleans()),
                "accountability.ranking_fraction": draw(st.sampled_from([0.0, 0.3, 0.6])),
                "accountability.inspection_cap": draw(st.sampled_from([None, 0, 1, 2])),
            }
        found.append(task)
    return found
