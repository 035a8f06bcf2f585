"""The reform registry: documented, validated, non-mutating bundles of parameter changes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sim.scenario.parameters import Parameters
from sim.scenario.policies import REGISTRY, Options, Policy, apply_policies

REFORMS = list(REGISTRY)
PORTFOLIO_ONLY = {"veto_removal"}
"""Reforms that act on a portfolio of tasks only, tested on one."""


def base(name: str) -> Parameters:
    """Default parameters, with a portfolio of two tasks for a reform that acts on portfolios only."""
    if name in PORTFOLIO_ONLY:
        return Parameters.model_validate({"tasks": [{"name": "a", "veto": True}, {"name": "b"}]})
    return Parameters()


def changed_fields(before: dict, after: dict) -> set[str]:
    changed = set()
    for group, values in before.items():
        if group == "tasks":
            for old, new in zip(values or [], after[group] or [], strict=True):
                changed |= {f"tasks.{name}" for name in old if old[name] != new[name]}
            continue
        changed |= {f"{group}.{name}" for name in values if values[name] != after[group][name]}
    return changed


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
    parameters = base(name)
    before = parameters.model_dump()
    result = REGISTRY[name].applied(parameters)
    assert result is not parameters
    assert parameters.model_dump() == before
    assert changed_fields(before, result.model_dump())


@pytest.mark.parametrize("name", REFORMS)
def test_changed_parameters_are_named_in_changes(name):
    before = base(name).model_dump()
    changed = changed_fields(before, REGISTRY[name].applied(base(name)).model_dump())
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
    assert twice.relay.dilution == pytest.approx(parameters.relay.dilution * 0.3 * 0.5)
    last_wins = apply_policies(parameters, [("fault_tolerance", {"strength": 0.2}), ("fault_tolerance", {})])
    assert last_wins.accountability.excuse_genuine == 0.9
    assert parameters.model_dump() == before
    all_of_them = apply_policies(parameters, [(name, {}) for name in REFORMS])
    assert all_of_them.accountability.precise is True
    assert all_of_them.campaign.start == 20
    assert parameters.model_dump() == before


TASKS = [
    {"name": "env", "issuer": "ecology", "target": 0.3, "weight": 2.0, "veto": True, "paperwork": 0.2},
    {"name": "stats", "issuer": "statistics", "target": 0.1, "measurability": 0.5},
    {"name": "survey", "issuer": "statistics", "target": 0.3, "measurability": 1.0},
    {"name": "roads", "target": 0.3, "set": {"accountability.onsite_share": 0.5}},
]


def portfolio() -> Parameters:
    return Parameters.model_validate({"tasks": TASKS})


def test_a_reform_on_a_portfolio_acts_on_the_tasks_own_values_too():
    cut = REGISTRY["burden_reduction"].applied(portfolio())
    assert cut.task.paperwork == pytest.approx(0.025)
    assert cut.tasks[0].paperwork == pytest.approx(0.1) and cut.tasks[1].paperwork is None
    onsite = REGISTRY["onsite_inspection"].applied(portfolio(), share=0.9)
    assert onsite.accountability.onsite_share == 0.9 and onsite.tasks[3].set["accountability.onsite_share"] == 0.9


def test_a_reform_can_target_some_tasks_only():
    result = REGISTRY["onsite_inspection"].applied(portfolio(), share=0.9, tasks=["env"])
    assert result.accountability.onsite_share == 0.2  # the scenario's value, for every other task
    assert result.tasks[0].set == {"accountability.onsite_share": 0.9}
    assert result.tasks[3].set == {"accountability.onsite_share": 0.5}
    surge = REGISTRY["campaign"].applied(portfolio(), tasks=["roads"], start=5, end=9)
    assert surge.campaign.start is None and surge.tasks[3].set["campaign.start"] == 5
    assert REGISTRY["veto_removal"].applied(portfolio(), tasks=["stats"]).tasks[0].veto


@pytest.mark.parametrize("name", REFORMS)
def test_every_reform_can_target_one_task(name):
    """Each reform changes the targeted task's values and leaves the scenario's and the other tasks' alone."""
    before = portfolio()
    after = REGISTRY[name].applied(before, tasks=["env"])
    assert changed_fields({k: v for k, v in before.model_dump().items() if k != "tasks"}, after.model_dump()) == set()
    assert after.tasks[1:] == before.tasks[1:]
    assert after.tasks[0] != before.tasks[0]


def test_a_reform_that_cannot_target_tasks_says_why(monkeypatch):
    def shift(p, o):
        p.accountability.blame_shift = 0.5

    monkeypatch.setitem(
        REGISTRY, "shift_blame", Policy("shift_blame", "test", "accountability.blame_shift", Options, shift)
    )
    with pytest.raises(ValueError, match=r"accountability\.blame_shift, which every task shares"):
        REGISTRY["shift_blame"].applied(portfolio(), tasks=["env"])
    with pytest.raises(ValueError, match="no task named water"):
        REGISTRY["onsite_inspection"].applied(portfolio(), tasks=["water"])
    with pytest.raises(ValueError, match="needs a portfolio"):
        REGISTRY["onsite_inspection"].applied(Parameters(), tasks=["env"])


def test_merging_tasks_of_one_issuer_sums_targets_and_saves_paperwork():
    merged = REGISTRY["burden_reduction"].applied(portfolio(), cut=0.0, cap=None, merge=[["stats", "survey"]])
    names = [task.name for task in merged.tasks]
    assert names == ["env", "stats", "roads"]
    stats = merged.tasks[1]
    assert stats.target == pytest.approx(0.4) and stats.measurability == pytest.approx((0.05 + 0.3) / 0.4)
    with pytest.raises(ValueError, match="one issuer"):
        REGISTRY["burden_reduction"].applied(portfolio(), merge=[["env", "stats"]])
    with pytest.raises(ValueError, match="two or more distinct tasks"):
        REGISTRY["burden_reduction"].applied(portfolio(), merge=[["stats"]])


def test_a_task_list_pushes_down_only_the_weightiest_tasks():
    listed = REGISTRY["burden_reduction"].applied(portfolio(), cut=0.0, cap=None, task_cap=2)
    assert [task.pushed_down for task in listed.tasks] == [True, False, True, False]  # env (weight 2), then by target
    with pytest.raises(ValueError, match="act on a whole portfolio"):
        REGISTRY["burden_reduction"].applied(Parameters(), task_cap=2)


def test_a_task_list_counts_only_tasks_still_pushed_down():
    tasks = [
        {"name": "kept_above", "target": 0.3, "weight": 3.0, "pushed_down": False},
        {"name": "b", "target": 0.3, "weight": 2.0},
        {"name": "c", "target": 0.3, "weight": 1.0},
    ]
    listed = REGISTRY["burden_reduction"].applied(Parameters.model_validate({"tasks": tasks}), cap=None, task_cap=2)
    assert [task.pushed_down for task in listed.tasks] == [False, True, True]


def test_a_merge_takes_defaults_for_missing_values_and_checks_the_merged_task():
    tasks = [{"name": "a", "target": 60.0, "resources": 0.5}, {"name": "b", "target": 60.0, "weight": 2.0}]
    with pytest.raises(ValueError, match=r"merged task's target"):
        REGISTRY["burden_reduction"].applied(Parameters.model_validate({"tasks": tasks}), merge=[["a", "b"]])
    tasks[0]["target"] = tasks[1]["target"] = 0.3
    merged = REGISTRY["burden_reduction"].applied(
        Parameters.model_validate({"tasks": tasks}), cut=0, merge=[["a", "b"]]
    )
    only = merged.tasks[0]
    assert only.target == pytest.approx(0.6) and only.weight == 2.0 and only.resources == pytest.approx(0.75)


def test_a_reform_on_no_task_at_all_is_refused():
    with pytest.raises(ValidationError):
        REGISTRY["onsite_inspection"].applied(portfolio(), tasks=[])
