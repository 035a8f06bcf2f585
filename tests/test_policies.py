"""The reform registry: documented, validated, non-mutating bundles of parameter changes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sim.scenario.parameters import Parameters
from sim.scenario.policies import REGISTRY, apply_policies

REFORMS = list(REGISTRY)


def changed_fields(before: dict, after: dict) -> set[str]:
    return {
        f"{group}.{name}" for group in before for name in before[group] if before[group][name] != after[group][name]
    }


@pytest.mark.parametrize("name", REFORMS)
def test_policy_is_documented(name):
    policy = REGISTRY[name]
    assert policy.name == name
    assert policy.description.strip()
    assert policy.changes.strip()
    for option, info in policy.options.model_fields.items():
        assert info.description, f"{name}.{option} has no description"


@pytest.mark.parametrize("name", REFORMS)
def test_policy_changes_something_and_does_not_mutate_input(name):
    parameters = Parameters()
    before = parameters.model_dump()
    result = REGISTRY[name].applied(parameters)
    assert result is not parameters
    assert parameters.model_dump() == before
    assert changed_fields(before, result.model_dump())


@pytest.mark.parametrize("name", REFORMS)
def test_changed_parameters_are_named_in_changes(name):
    before = Parameters().model_dump()
    changed = changed_fields(before, REGISTRY[name].applied(Parameters()).model_dump())
    for path in changed:
        assert path in REGISTRY[name].changes, f"{name} changes {path} but does not say so"


@pytest.mark.parametrize("name", REFORMS)
def test_unknown_option_refused(name):
    with pytest.raises(ValidationError):
        REGISTRY[name].applied(Parameters(), no_such_option=1)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("fault_tolerance", {"strength": 2.0}),
        ("fault_tolerance", {"strength": -0.1}),
        ("burden_reduction", {"cut": 1.5}),
        ("burden_reduction", {"cap": -1}),
        ("onsite_inspection", {"share": "most"}),
        ("clarify_directives", {"strength": 1.01}),
        ("ranking_accountability", {"fraction": 2}),
        ("third_party_evaluation", {"rate": -0.5}),
        ("campaign", {"start": -1}),
        ("campaign", {"multiplier": "big"}),
        ("positive_incentives", {"reward": -1}),
    ],
)
def test_option_values_validated(name, options):
    parameters = Parameters()
    before = parameters.model_dump()
    with pytest.raises(ValidationError):
        REGISTRY[name].applied(parameters, **options)
    assert parameters.model_dump() == before


def test_fault_tolerance():
    assert REGISTRY["fault_tolerance"].applied(Parameters()).accountability.excuse_genuine == 0.9
    assert REGISTRY["fault_tolerance"].applied(Parameters(), strength=0.4).accountability.excuse_genuine == 0.4


def test_resources_follow_tasks():
    result = REGISTRY["resources_follow_tasks"].applied(Parameters())
    assert result.relay.stripping == 0
    assert result.relay.funded_escalation is True


@pytest.mark.parametrize("dilution", [0.05, 0.2, 1.0])
def test_clarify_directives_multiplies_dilution(dilution):
    parameters = Parameters()
    parameters.relay.dilution = dilution
    result = REGISTRY["clarify_directives"].applied(parameters)
    assert result.relay.dilution == pytest.approx(dilution * 0.3)
    assert REGISTRY["clarify_directives"].applied(parameters, strength=1.0).relay.dilution == 0


def test_burden_reduction():
    parameters = Parameters()
    parameters.task.paperwork = 0.4
    parameters.relay.paperwork_per_relay = 0.1
    result = REGISTRY["burden_reduction"].applied(parameters)
    assert result.task.paperwork == pytest.approx(0.2)
    assert result.relay.paperwork_per_relay == pytest.approx(0.05)
    assert result.accountability.inspection_cap == 1
    custom = REGISTRY["burden_reduction"].applied(parameters, cut=0.25, cap=None)
    assert custom.task.paperwork == pytest.approx(0.3)
    assert custom.accountability.inspection_cap is None


def test_campaign():
    result = REGISTRY["campaign"].applied(Parameters())
    assert (result.campaign.start, result.campaign.end) == (20, 30)
    assert result.campaign.inspection_multiplier == 1.5
    custom = REGISTRY["campaign"].applied(Parameters(), start=5, end=8, multiplier=3.0, onsite_share=0.5)
    assert (custom.campaign.start, custom.campaign.end) == (5, 8)
    assert custom.campaign.inspection_multiplier == 3.0
    assert custom.campaign.onsite_share == 0.5


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("onsite_inspection", ("accountability", "onsite_share"), 0.8),
        ("precise_accountability", ("accountability", "precise"), True),
        ("ranking_accountability", ("accountability", "ranking_fraction"), 0.1),
        ("third_party_evaluation", ("accountability", "third_party_rate"), 0.2),
        ("positive_incentives", ("accountability", "reward"), 0.5),
    ],
)
def test_simple_setters(name, path, value):
    group, field = path
    result = REGISTRY[name].applied(Parameters())
    assert getattr(getattr(result, group), field) == value


def test_apply_policies_in_order_without_mutation():
    parameters = Parameters()
    before = parameters.model_dump()
    twice = apply_policies(parameters, [("clarify_directives", {}), ("clarify_directives", {"strength": 0.5})])
    assert twice.relay.dilution == pytest.approx(0.05 * 0.3 * 0.5)
    last_wins = apply_policies(parameters, [("fault_tolerance", {"strength": 0.2}), ("fault_tolerance", {})])
    assert last_wins.accountability.excuse_genuine == 0.9
    assert parameters.model_dump() == before
    all_of_them = apply_policies(parameters, [(name, {}) for name in REFORMS])
    assert all_of_them.accountability.precise is True
    assert all_of_them.campaign.start == 20
    assert parameters.model_dump() == before
