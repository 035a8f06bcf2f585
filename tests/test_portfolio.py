"""A portfolio of tasks (docs/ODD.md, section 11): the one-task special case, chains per issuer, windows, vetoes.

The portfolio's equations reduce to the one directive's: one territorial task with no issuer
load reproduces the one-task model's outputs to the last bit (every term multiplies by one or
adds zero). Selective implementation and crowding, the portfolio's patterns, are claims in
sim.checks.patterns (P9, P10, tests/test_patterns.py); their negative controls are here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, small

from sim import BureauModel
from sim.checks.patterns import PATTERNS, evaluate, pattern_scenario
from sim.errors import ScenarioError
from sim.scenario.loader import load_scenario
from sim.scenario.output_names import MODEL_OUTPUTS, STRATEGY_SHARES, long_task_table
from sim.scenario.policies import REGISTRY

ONE_TASK_OUTPUTS = [*MODEL_OUTPUTS, "sanction_share_township", "sanction_share_province"]


def run(scenario, steps=12, **keywords) -> pd.DataFrame:
    model = BureauModel(scenario, seed=5, steps=steps, **keywords)
    model.run_model()
    return model.datacollector.get_model_vars_dataframe()


@pytest.mark.parametrize("policies", [[], sorted(REGISTRY)])
@pytest.mark.parametrize("engine", ["vectorized", "agents"])
def test_one_territorial_task_is_the_one_task_model_bit_for_bit(policies, engine):
    hierarchy = {"branching": [3, 4, 5], "extra_principals": 1}
    plain = small(hierarchy=hierarchy, policies=policies, engine=engine)
    portfolio = small(
        hierarchy=hierarchy,
        policies=policies,
        engine=engine,
        parameters={"portfolio": {"issuer_load": 0.0}},
        tasks=[{"name": "only"}],
    )
    expected, got = run(plain, steps=25), run(portfolio, steps=25)
    for name in ONE_TASK_OUTPUTS:
        np.testing.assert_array_equal(got[name].to_numpy(), expected[name].to_numpy(), err_msg=name)
    np.testing.assert_array_equal(got["goal_attainment[only]"].to_numpy(), expected["goal_attainment"].to_numpy())


def test_negative_control_an_issuer_load_breaks_the_equality():
    hierarchy = {"branching": [3, 4, 5]}
    expected = run(small(hierarchy=hierarchy))
    got = run(small(hierarchy=hierarchy, tasks=[{"name": "only"}]))  # default issuer load 0.03
    assert (got["burden"] > expected["burden"]).all()


def test_blame_for_a_department_task_lands_on_the_department_not_the_territorial_line():
    scenario = small(
        hierarchy={"branching": [3, 4, 5]},
        parameters={"accountability": {"blame_shift": 0.0}},  # every sanction rises to the top of its chain
        tasks=[{"name": "environment", "issuer": "environment_bureau", "target": 0.5}],
    )
    model = BureauModel(scenario, seed=2, steps=10)
    model.run_model()
    department, territorial = model.chains[1], model.chains[0]
    assert department[0].sanctions.sum() > 0
    assert all(state.sanctions.sum() == 0 for state in territorial) and model.levels[-1].sanctions.sum() == 0
    assert len(model.offices[1][0]) == 1 and model.offices[1][0][0].chain_index == 1


def test_a_line_department_relays_with_its_own_offices_beliefs():
    scenario = small(
        hierarchy={"branching": [3, 4, 5]},
        tasks=[{"name": "a", "target": 0.5}, {"name": "b", "issuer": "bureau", "target": 0.5}],
    )
    model = BureauModel(scenario, seed=2)
    model.chains[1][0].belief[:] = 0.9  # the department's top office fears sanctions; the governor does not
    model.step()
    g = model.levels[-1]
    assert (g.target_received[:, 1] > g.target_received[:, 0]).all()


def test_a_task_outside_its_window_takes_no_capacity_paperwork_or_inspection():
    scenario = small(
        hierarchy={"branching": [3, 4, 5]},
        tasks=[{"name": "standing", "target": 0.5}, {"name": "campaign", "target": 0.5, "start": 4, "end": 7}],
    )
    model = BureauModel(scenario, seed=3, steps=9)
    paperwork = []
    for _ in range(9):
        model.step()
        paperwork.append(float(model.levels[-1].paperwork[0]))
        g = model.levels[-1]
        if model.steps in (4, 5, 6):
            assert (g.capacity_share[:, 1] > 0).all()
        else:
            assert (g.capacity_share[:, 1] == 0).all() and (g.strategy_code[:, 1] == -1).all()
            assert g.output[:, 1].sum() == 0 and g.task_severity[:, 1].sum() == 0
    frame = model.datacollector.get_model_vars_dataframe()
    inside = frame["goal_attainment[campaign]"].notna().to_numpy()
    assert inside.tolist() == [False] * 3 + [True] * 3 + [False] * 3
    assert paperwork[3] > paperwork[0] and paperwork[6] == paperwork[0]


def test_a_veto_finding_is_heavier_and_voids_rewards():
    common = {
        "hierarchy": {"branching": [3, 4, 5]},
        "parameters": {"accountability": {"inspection_rate": 2.0, "reward": 0.3, "onsite_share": 1.0}},
    }
    tasks = [{"name": "a", "target": 0.3}, {"name": "b", "target": 0.3}]
    plain = BureauModel(small(tasks=tasks, **common), seed=4, steps=8)
    vetoed = BureauModel(small(tasks=[tasks[0], tasks[1] | {"veto": True}], **common), seed=4, steps=8)
    plain.step(), vetoed.step()  # the same draws and choices in the first period
    g, v = plain.levels[-1], vetoed.levels[-1]
    assert (g.strategy_code == v.strategy_code).all()
    found = v.task_severity[:, 1] > 0
    assert found.any()
    np.testing.assert_allclose(v.task_severity[found, 1], 3.0 * g.task_severity[found, 1])
    assert (v.task_reward[found] == 0).all() and (v.reward_now[found] == 0).all()
    assert (g.task_reward[found, 0] > 0).any()  # without the veto, task a's reward was kept


def test_the_long_task_table_has_one_row_per_period_and_task():
    steps = run(small(hierarchy={"branching": [3, 4]}, tasks=[{"name": "x"}, {"name": "y", "issuer": "d"}]), steps=4)
    steps.insert(0, "period", np.arange(1, 5))
    table = long_task_table(steps)
    assert table[["period", "task"]].values.tolist() == [[p, t] for p in range(1, 5) for t in ("x", "y")]
    assert table.loc[table.task == "y", "goal_attainment"].tolist() == steps["goal_attainment[y]"].tolist()


def _with(pattern_id: str, **parameters):
    pattern = next(p for p in PATTERNS if p.id == pattern_id)
    return pattern, pattern_scenario(pattern, SCENARIOS / "patterns")


def test_p9_negative_control_capacity_that_cannot_follow_sanctions_is_not_selective():
    """With allocation_rate 0 every task keeps an equal share: P9's capacity claims fail."""
    pattern, scenario = _with("P9")
    results = evaluate(pattern, scenario, 4, overrides={"portfolio.allocation_rate": 0.0})
    capacity = [r for r in results if r.claim.startswith("capacity")]
    assert capacity and not any(r.holds for r in capacity)


def test_p10_negative_control_without_paperwork_or_hosting_crowding_costs_no_burden():
    """Without per-task paperwork, issuer load and hosting, four tasks are no more burden than one."""
    pattern, scenario = _with("P10")
    zero = {
        "task.paperwork": 0.0,
        "relay.paperwork_per_relay": 0.0,
        "portfolio.issuer_load": 0.0,
        "accountability.hosting_cost": 0.0,
    }
    results = {r.claim: r for r in evaluate(pattern, scenario, 4, overrides=zero)}
    assert not results["burden: four tasks > one"].holds and not results["burden: four issuers > one"].holds


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ("[{name: a}, {name: a}]", "task names must be distinct"),
        ("[{name: a, start: 5, end: 5}]", "must come after start"),
        ("[{name: a, measurability: 1.5}]", "measurability"),
        ("[{name: 'a b'}]", "name"),
        ("[]", "give 1 to 32 tasks"),
    ],
)
def test_a_bad_portfolio_is_refused_with_its_file_and_line(tmp_path, tasks, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nsteps: 5\ntasks: {tasks}\n")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    text = str(error.value)
    assert "bad.yaml:3" in text and message in text


def test_an_outcome_or_a_setting_naming_no_task_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntasks: [{name: water}]\noutcomes: [{name: 'goal_attainment[waters]'}]\n")
    with pytest.raises(ScenarioError, match=r"names no task of the scenario.*did you mean 'water'"):
        load_scenario(path)
    path.write_text("name: bad\ntasks: [{name: water}]\narms: [{name: x, set: {tasks.air.veto: true}}]\n")
    with pytest.raises(ScenarioError, match="names no task"):
        load_scenario(path)
    path.write_text("name: bad\nparameters: {tasks: [{name: water}]}\n")
    with pytest.raises(ScenarioError, match="at the top of the scenario"):
        load_scenario(path)


def test_a_task_field_is_a_path_for_sweeps_futures_and_keywords():
    """tasks.<task>.<field> as a sweep point, a future (before policies) and a keyword give the same run."""
    from sim.model.run import run_one

    tasks = [{"name": "hard", "target": 0.5}, {"name": "soft", "target": 0.5, "measurability": 0.2}]
    scenario = small(hierarchy={"branching": [3, 4]}, tasks=tasks)
    direct = small(hierarchy={"branching": [3, 4]}, tasks=[tasks[0], tasks[1] | {"measurability": 0.9}])
    expected = run_one(direct, 3, steps=6, agents=False).steps
    for how in ("overrides", "world"):
        got = run_one(scenario, 3, steps=6, agents=False, **{how: {"tasks.soft.measurability": 0.9}}).steps
        pd.testing.assert_frame_equal(got, expected)
    keyword = run(scenario, steps=6, **{"tasks_soft.measurability": 0.9})
    pd.testing.assert_frame_equal(keyword.drop(columns="seed"), run(direct, steps=6).drop(columns="seed"))
    assert BureauModel(scenario, seed=1, **{"tasks_soft.measurability": 0.9}).tasks.measurability[1] == 0.9
    with pytest.raises(ScenarioError, match="names no task"):
        scenario.with_overrides(["uncertainties.tasks.water.measurability=[0, 1]"])


def test_a_campaign_task_s_run_value_is_its_mean_while_in_force(tmp_path):
    """Periods outside a task's window have no value; its run value averages the periods it has one."""
    from sim.scenario.outcome_values import run_value

    assert run_value([np.nan, 0.2, 0.4, np.nan]) == pytest.approx(0.3)
    assert np.isnan(run_value([np.nan, np.nan]))
    assert run_value([0.1, 0.2, 0.3]) == np.mean([0.1, 0.2, 0.3])
    scenario = small(
        hierarchy={"branching": [3, 4]},
        steps=12,
        tasks=[{"name": "a", "target": 0.5}, {"name": "w", "target": 0.5, "start": 8, "end": 11}],
        outcomes=[{"name": "goal_attainment[w]"}, {"name": "goal_attainment"}],
    )
    model = BureauModel(scenario, seed=1)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["run_value_goal_attainment[w]"].iloc[-1] == pytest.approx(
        frame["goal_attainment[w]"].iloc[7:10].mean()
    )


def test_resources_are_a_share_of_the_task_s_own_target():
    """A small task with resources 0.5 is half funded, as the one directive is with resources 0.5."""
    scenario = small(hierarchy={"branching": [3, 4]}, tasks=[{"name": "a", "target": 0.2, "resources": 0.5}])
    model = BureauModel(scenario, seed=1)
    assert model.tasks.resources[0] == pytest.approx(0.1)
    model.step()
    g = model.levels[-1]
    np.testing.assert_allclose(g.resources_received[:, 0] / g.target_received[:, 0], 0.5 * 0.9**2 / 1.1**2, rtol=0.2)


def test_a_task_kept_above_counts_with_nothing_done_and_has_no_strategies():
    scenario = small(
        hierarchy={"branching": [3, 4]},
        tasks=[{"name": "a", "target": 0.5}, {"name": "kept", "target": 0.5, "pushed_down": False}],
    )
    frame = run(scenario, steps=4)
    assert (frame["goal_attainment[kept]"] == 0).all()
    assert frame["share_substantive[kept]"].isna().all() and frame["escalation_at_bottom[kept]"].isna().all()
    shares = frame[list(STRATEGY_SHARES)].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    np.testing.assert_allclose(frame["goal_attainment"], frame["goal_attainment[a]"] / 2)


def test_a_reform_removing_a_task_is_checked_against_what_names_it(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text(
        "name: merge\ntasks: [{name: a, target: 0.5}, {name: b, target: 0.5}]\n"
        "arms:\n  - {name: x, policies: [{burden_reduction: {merge: [[a, b]]}}]}\n"
        "outcomes: [{name: 'goal_attainment[b]'}]\n"
    )
    with pytest.raises(ScenarioError, match=r"merge.yaml:5: outcomes.0.name: .*arm x's policies merge away"):
        load_scenario(path)
    path.write_text("name: bad\ntasks:\n  - name: a\n    set: {relay.escalation: 9}\n")
    with pytest.raises(ScenarioError, match=r"merge.yaml:4: tasks.0.set.relay.escalation"):
        load_scenario(path)


def test_a_line_departments_offices_are_in_the_agents_table_with_their_line():
    """Every Mesa agent is recorded, offices included, in Mesa's order, with its level, strategy and sanctions.

    (Mesa's attribute reporters read a portfolio's per-task arrays; the record gives their
    summaries, ``_recorded``, so only the scalar fields are compared.)
    """
    import mesa

    from sim.model.run import run_one

    scenario = load_scenario(SCENARIOS / "township_portfolio.yaml").with_overrides(
        ["hierarchy.branching=[2,2,3]", "steps=10", "parameters.accountability.blame_shift=0"]
    )  # blame not shifted down: sanctions on department tasks rise to the departments' offices
    model = BureauModel(scenario, seed=3)
    for _ in range(10):
        model.step()
    fast = list(model.datacollector._record_agents(model))
    reference = list(mesa.DataCollector._record_agents(model.datacollector, model))
    assert len(fast) == len(reference) == len(model.agents) > sum(model.layout.sizes)
    for row, expected in zip(fast, reference, strict=True):
        assert row[:4] == expected[:4] and row[5] == expected[5]
    assert sum(row[5] for row in fast[sum(model.layout.sizes) :]) > 0, "no office of a department was sanctioned"
    agents = run_one(scenario, 3, replication=0).agents
    departments = model.tasks.issuers[1:]
    above = sum(model.layout.sizes[:-1])
    assert agents["line"].value_counts().to_dict() == {
        "territorial": sum(model.layout.sizes),
        **dict.fromkeys(departments, above),
    }
    assert set(agents.loc[agents["line"] != "territorial", "level_name"]) == set(model.level_names[:-1])
    one_task = run_one(small(), 3, replication=0).agents
    assert "line" not in one_task  # no departments, no column: the one-task model's table is as it was
