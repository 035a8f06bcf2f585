"""The Mesa model: construction, agents backed by level arrays, one period's phases,
outputs, determinism, independence from activation order, and mesa.batch_run."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import not_finite_outputs, small

from sim import BureauModel, ScenarioError
from sim.model.agent_engine import Official
from sim.model.engines import ENGINES
from sim.scenario.output_names import AGENT_OUTPUTS, MOTIVATION_TYPES, STRATEGY_SHARES, model_output_names


def stepped(model: BureauModel, steps: int) -> BureauModel:
    for _ in range(steps):
        model.step()
    return model


def test_one_official_per_node_in_a_mesa_agentset():
    model = BureauModel(small(), seed=1)
    assert len(model.agents) == model.graph.number_of_nodes() == 1 + 4 + 16 + 96
    assert isinstance(model.agents, mesa.agent.AgentSet)
    levels = model.agents.groupby("level")
    assert {level: len(group) for level, group in levels} == {0: 1, 1: 4, 2: 16, 3: 96}
    assert model.level_names == ["province", "municipality", "county", "township"]
    assert all(isinstance(a, Official) for a in model.agents)


def test_agent_attributes_read_and_write_the_level_arrays():
    model = stepped(BureauModel(small(), seed=1), 1)
    official = model.officials[3][7]
    state = model.levels[3]
    assert official.capacity == state.capacity[7]
    assert official.target_received == state.target_received[7]
    official.belief = 0.42
    assert state.belief[7] == 0.42
    official.attractions[2] = 9.0
    assert state.attractions[7, 2] == 9.0
    assert official.strategy in {"substantive", "formalism", "falsify", "blanket_ban", "innovate", "shirk"}
    assert model.officials[1][0].strategy is None  # intermediate levels relay, they do not execute


def test_relay_compounds_escalation_dilution_and_stripping_along_each_chain():
    model = stepped(BureauModel(small(), seed=3), 5)
    p = model.p
    for official in model.officials[3][:10]:
        target, clarity, resources = p.task.target, p.task.clarity, p.task.resources
        for ancestor in official.chain[:-1]:
            target *= 1 + ancestor.escalation_applied
            clarity *= 1 - p.relay.dilution
            resources *= 1 - p.relay.stripping
        assert official.target_received == pytest.approx(target)
        assert official.clarity_received == pytest.approx(clarity)
        assert official.resources_received == pytest.approx(resources)


def test_sanction_beliefs_raise_escalation_when_pressure_is_on():
    model = stepped(BureauModel(small(), seed=3), 10)
    applied = np.concatenate([model.levels[k].escalation_applied for k in range(3)])
    beliefs = np.concatenate([model.levels[k].belief for k in range(3)])
    assert (applied >= model.p.relay.escalation).all()
    assert (beliefs > 0).any() and (applied > model.p.relay.escalation).any()
    calm = stepped(BureauModel(small(), seed=3, relay_escalation_pressure=0.0), 10)
    assert all(np.allclose(calm.levels[k].escalation_applied, 0.1) for k in range(3))


def test_reports_aggregate_upwards_and_never_exceed_the_demand():
    model = stepped(BureauModel(small(), seed=2), 3)
    for level in range(model.relays):
        for official in model.officials[level]:
            below = sum(s.report for s in official.subordinates)
            inflation = model.p.relay.report_inflation if level > 0 else 0.0
            leaves = model.layout.leaves[level][official.index]
            assert official.report == pytest.approx(min((1 + inflation) * below, official.target_received * leaves))
    n = len(model.officials[-1])
    assert model.outputs["reported_attainment"] == pytest.approx(model.officials[0][0].report / n)


def test_every_sanction_is_recorded_on_exactly_one_official():
    model = BureauModel(small(), seed=4)
    for _ in range(15):
        model.step()
        per_level = [int(state.sanctions_now.sum()) for state in model.levels]
        total = sum(per_level)
        if total:
            shares = [model.outputs[f"sanction_share_{name}"] for name in model.level_names]
            assert shares == pytest.approx([c / total for c in per_level])
    cumulative = sum(int(state.sanctions.sum()) for state in model.levels)
    assert cumulative == sum(a.sanctions for a in model.agents)
    assert cumulative > 0


def test_line_departments_add_paperwork_and_inspections():
    one = stepped(BureauModel(small(), seed=5), 10)
    three = stepped(BureauModel(small(hierarchy={"branching": [4, 4, 6], "extra_principals": 2}), seed=5), 10)
    assert (three.levels[-1].principals == 3).all()
    assert three.levels[-1].paperwork == pytest.approx(3 * one.levels[-1].paperwork)
    burden_one = one.datacollector.get_model_vars_dataframe()["burden"].mean()
    burden_three = three.datacollector.get_model_vars_dataframe()["burden"].mean()
    assert burden_three > 2.5 * burden_one


def test_outputs_have_their_fixed_names_and_ranges():
    model = stepped(BureauModel(small(), seed=6), 8)
    frame = model.datacollector.get_model_vars_dataframe()
    run_values = [f"run_value_{outcome.name}" for outcome in small().outcomes]
    assert list(frame.columns) == ["seed", *model_output_names(model.level_names, parameters=model.p), *run_values]
    assert (frame["seed"] == 6).all()
    body = frame.drop(columns=["seed", *run_values])
    for kind in ("", *(f"_{kind}" for kind in MOTIVATION_TYPES)):  # all officials, then each type of them
        assert body[[f"{share}{kind}" for share in STRATEGY_SHARES]].sum(axis=1).to_numpy() == pytest.approx(1.0)
    for column in body.columns:
        assert np.isfinite(body[column]).all(), column
        if column not in ("escalation_at_bottom", "implementation_gap", "collateral_harm"):
            assert body[column].between(0, 1).all(), column
    assert (body["escalation_at_bottom"] >= 1).all()
    assert body["implementation_gap"].to_numpy() == pytest.approx(
        (body["reported_attainment"] - body["goal_attainment"]).to_numpy()
    )
    agents = model.datacollector.get_agent_vars_dataframe()
    assert list(agents.columns) == list(AGENT_OUTPUTS)


def test_same_seed_same_numbers_different_seed_different_numbers():
    def run(seed):
        model = stepped(BureauModel(small(), seed=seed), 12)
        return model.datacollector.get_model_vars_dataframe(), model

    first, model_a = run(11)
    second, model_b = run(11)
    other, _ = run(12)
    pd.testing.assert_frame_equal(first, second)
    for a, b in zip(model_a.levels, model_b.levels, strict=True):
        np.testing.assert_array_equal(a.attractions, b.attractions)
        np.testing.assert_array_equal(a.belief, b.belief)
    assert not first.equals(other)


def test_results_do_not_depend_on_activation_order():
    """Reversing the order in which officials act within every level changes nothing."""
    forward = stepped(BureauModel(small(), seed=8, engine="agents", policies=["ranking_accountability"]), 10)
    backward = BureauModel(small(), seed=8, engine="agents", policies=["ranking_accountability"])
    backward.officials = [list(reversed(row)) for row in backward.officials]
    stepped(backward, 10)
    pd.testing.assert_frame_equal(
        forward.datacollector.get_model_vars_dataframe(), backward.datacollector.get_model_vars_dataframe()
    )


def test_keyword_arguments_are_validated():
    model = BureauModel(branching=[2, 2], relay_escalation=0.3, policies=["fault_tolerance"], seed=1)
    assert model.p.relay.escalation == 0.3
    assert model.p.accountability.excuse_genuine == 0.9
    with pytest.raises(ScenarioError, match=r"'relay_escalaton' \(did you mean 'relay_escalation'\?\)"):
        BureauModel(relay_escalaton=0.3)
    with pytest.raises(ScenarioError, match=r"relay\.dilution"):
        BureauModel(relay_dilution=1.5)
    with pytest.raises(ScenarioError, match=r"unknown policy 'fault_tolerence' \(did you mean 'fault_tolerance'\?\)"):
        BureauModel(policies=["fault_tolerence"])


def test_policies_with_options_are_given_as_in_a_scenario_file():
    strong = BureauModel(small(), policies=[{"fault_tolerance": {"strength": 0.5}}], seed=1)
    default = BureauModel(small(), policies=["fault_tolerance"], seed=1)
    assert strong.p != default.p
    with pytest.raises(ScenarioError, match="policy 'fault_tolerance' option strength") as error:
        BureauModel(small(), policies=[{"fault_tolerance": {"strength": 7}}])
    assert error.value.field == "policies"


def test_from_scenario_uses_the_scenario_seed_and_arms(pattern):
    scenario = pattern("p5_traces")
    paper = BureauModel.from_scenario(scenario, arm="paper")
    assert paper.p.accountability.onsite_share == 0.0
    assert BureauModel.from_scenario(scenario, arm="onsite").p.accountability.onsite_share == 1.0
    default = BureauModel.from_scenario(scenario)
    assert default.rng.random() == BureauModel.from_scenario(scenario, seed=scenario.seed).rng.random()


def test_single_official_and_deep_chain_stay_finite():
    for branching in ([], [1] * 9):
        model = stepped(BureauModel(branching=branching, seed=1), 5)
        assert not not_finite_outputs(model)
        assert model.outputs["escalation_at_bottom"] >= 1


def test_mesa_batch_run_drives_the_model():
    from mesa.batchrunner import batch_run

    rows = batch_run(
        BureauModel,
        parameters={"branching": [(2, 3)], "relay_escalation": [0.1, 0.3], "relay_escalation_pressure": [0.0]},
        iterations=2,
        max_steps=3,
        number_processes=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    for name in ("goal_attainment", "reported_attainment", "implementation_gap", "burden", "sanction_share_county"):
        assert name in frame.columns
    by_escalation = frame.groupby("relay_escalation")["escalation_at_bottom"].first()
    assert by_escalation[0.1] == pytest.approx(1.1**2)
    assert by_escalation[0.3] == pytest.approx(1.3**2)


def test_a_falsifier_inspected_on_paper_and_not_caught_keeps_its_reward():
    """Detection draws for checks that did not happen must not cost a reward."""
    model = BureauModel(
        small(),
        seed=3,
        execution_fixed_strategy="falsify",
        accountability_inspection_rate=1.0,
        accountability_onsite_share=0.0,
        accountability_detect_paper=0.0,
        accountability_third_party_rate=0.0,
        accountability_reward=0.5,
    )
    model.step()
    assert (model.levels[-1].reward_now == 0.5).all()
    assert model.outputs["wrongful_sanction_rate"] == 0.0


def test_ranking_is_not_wrongful_when_the_unit_itself_is_the_cause():
    """With no relay damage, a genuine attempt ranked last was decided at the unit: not wrongful."""
    frictionless = {
        "relay_escalation": 0.0,
        "relay_dilution": 0.0,
        "relay_stripping": 0.0,
        "task_risk": 0.0,
        "accountability_inspection_rate": 0.0,
        "execution_fixed_strategy": "substantive",
        "accountability_ranking_fraction": 0.25,
    }
    for engine in ENGINES:
        model = stepped(BureauModel(small(), seed=1, engine=engine, **frictionless), 1)
        assert model.levels[-1].sanctions_now.sum() == 16  # one in four of each group of six
        assert model.outputs["wrongful_sanction_rate"] == 0.0
        shifted = stepped(BureauModel(small(), seed=1, engine=engine, **{**frictionless, "relay_escalation": 0.2}), 1)
        assert shifted.outputs["wrongful_sanction_rate"] == 1.0


def test_campaign_window_must_end_after_it_starts():
    with pytest.raises(ScenarioError, match="must come after"):
        BureauModel(small(), campaign_start=10, campaign_end=5)
    model = BureauModel(small(), policies=["campaign"], campaign_start=50, campaign_end=60)
    assert (model.p.campaign.start, model.p.campaign.end) == (50, 60)


def test_a_chain_whose_targets_could_overflow_is_refused_with_the_figure():
    with pytest.raises(ScenarioError, match=r"400 relays, .* to about 1e\d{3}, beyond what floating point holds") as e:
        BureauModel(branching=[1] * 400, relay_escalation=5.0, seed=1)
    assert e.value.field == "parameters.relay.escalation"


def test_without_the_check_that_chain_does_give_an_infinite_output(monkeypatch):
    """Negative control: the refusal guards a real failure, not a hypothetical one."""
    import sim.model.bureau_model as bureau_model

    monkeypatch.setattr(bureau_model, "check_finite_targets", lambda *args, **kwargs: None)
    model = BureauModel(branching=[1] * 400, relay_escalation=5.0, seed=1)
    with np.errstate(all="ignore"):
        for _ in range(3):
            model.step()
    assert not all(np.isfinite(value) for value in model.outputs.values())


@pytest.mark.parametrize("sd", [0.3, 1.5, 3.0])
def test_every_output_is_finite_just_inside_the_bound(sd):
    """The deepest chain the bound accepts, at several spreads of risk aversion, keeps every output finite."""
    from sim.model.bounds import log10_target_bound
    from sim.scenario.parameters import with_values

    values = {"relay.escalation": 5.0, "relay.escalation_pressure": 20.0, "execution.risk_aversion_sd": sd}
    parameters = with_values(small().parameters, values)
    per_relay = log10_target_bound(parameters, 1, 1) - log10_target_bound(parameters, 0, 1)
    depth = int(300 / per_relay)
    keywords = {path.replace(".", "_", 1): value for path, value in values.items()}
    model = BureauModel(branching=[1] * depth, seed=3, **keywords)
    with pytest.raises(ScenarioError, match="beyond what floating point holds"):
        BureauModel(branching=[1] * (depth + 1), seed=3, **keywords)
    for _ in range(6):
        model.step()
        assert not not_finite_outputs(model)
    assert max(float(level.target_received.max()) for level in model.levels) < 1e300


def test_risk_aversion_stays_below_its_stated_ceiling():
    from sim.model.bounds import risk_aversion_ceiling

    model = BureauModel(small(), execution_risk_aversion_sd=3.0, seed=5)
    drawn = max(float(level.risk_aversion.max()) for level in model.levels)
    assert 0 < drawn <= risk_aversion_ceiling(model.p.execution)


@pytest.mark.parametrize("processes", [1, 2])
def test_batch_run_replications_differ_and_repeat_exactly_when_seeded(processes):
    """Without a seed each model draws a fresh one (as Mesa's models do) and records it; with seeds, runs repeat."""
    from mesa.batchrunner import batch_run

    common = {"iterations": 3, "max_steps": 4, "number_processes": processes, "display_progress": False}
    fresh = pd.DataFrame(batch_run(BureauModel, parameters={"branching": [(3, 4)]}, **common))
    last = fresh[fresh["Step"] == 4]
    assert last["seed"].nunique() == 3, "each replication has its own recorded seed"
    assert last["goal_attainment"].nunique() == 3, "replications without a seed must differ"
    seeded = {"branching": [(3, 4)], "seed": list(last["seed"])}
    again = pd.DataFrame(batch_run(BureauModel, parameters=seeded, **{**common, "iterations": 1}))
    once_more = pd.DataFrame(batch_run(BureauModel, parameters=seeded, **{**common, "iterations": 1}))

    def in_order(frame: pd.DataFrame) -> pd.DataFrame:  # processes finish in any order, and number runs so
        keys = [column for column in ("seed", "Step", "AgentID") if column in frame]
        return frame.drop(columns="RunId").sort_values(keys, kind="stable").reset_index(drop=True)

    pd.testing.assert_frame_equal(in_order(again), in_order(once_more))
    replayed = again[again["Step"] == 4].set_index("seed")["goal_attainment"]
    assert replayed.to_dict() == last.set_index("seed")["goal_attainment"].to_dict(), "a recorded seed replays its run"


def test_run_model_stops_after_the_scenarios_steps_or_the_steps_keyword():
    model = BureauModel(small(steps=5), seed=1)
    model.run_model()
    assert (model.steps, model.running) == (5, False)
    model = BureauModel(small(), steps=3, seed=1)
    model.run_model()
    assert (model.steps, model.running) == (3, False)
    assert len(model.datacollector.get_model_vars_dataframe()) == 3  # one row per period, none before the first


def test_from_scenario_uses_the_scenarios_seed_and_the_constructor_records_a_fresh_one():
    scenario = small()
    assert BureauModel.from_scenario(scenario).seed == scenario.seed
    first, second = BureauModel(scenario), BureauModel(scenario)
    assert first.seed != second.seed and 0 <= first.seed < 2**63


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"branching": [4, 6]}, "branching"),  # a sweep over branching=4 and branching=6
        ({"policies": ["fault_tolerance", "onsite_inspection"]}, "policies"),  # policies='fault_tolerance', ...
        ({"policies": [{"fault_tolerance": {"strength": 0.5}}]}, "policies"),
    ],
)
def test_a_list_keyword_swept_by_batch_run_explains_mesas_list_rule(parameters, field):
    """mesa.batch_run reads a list as a sweep over its items; the message says to wrap one list in another."""
    from mesa.batchrunner import batch_run

    with pytest.raises(ScenarioError, match="list of values is a sweep over its items") as raised:
        batch_run(BureauModel, parameters=parameters, iterations=1, max_steps=2, display_progress=False)
    assert raised.value.field == field
    assert "wrap it in a list of one" in str(raised.value)
    wrapped = {field: [list(parameters[field])]}  # the fix the message names runs
    rows = batch_run(BureauModel, parameters=wrapped | {"seed": [1]}, iterations=1, max_steps=2, display_progress=False)
    assert len(pd.DataFrame(rows)) > 0


def test_a_bad_branching_keyword_is_a_scenario_error_not_a_pydantic_trace():
    with pytest.raises(ScenarioError, match="branching"):
        BureauModel(branching=(3, "a"), seed=1)


def test_run_value_reporters_are_the_run_values_every_experiment_uses():
    """batch_run's run_value_* columns equal run_one's post-burn-in means bit for bit, and are NaN until the end."""
    from sim.analysis.statistics import run_values
    from sim.model.run import run_one

    scenario = small(steps=9, burn_in=4)
    model = BureauModel.from_scenario(scenario, seed=3)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    expected = run_values(run_one(scenario, 3, agents=False).steps, scenario.burn_in_periods)
    for outcome in scenario.outcomes:
        column = frame[f"run_value_{outcome.name}"]
        assert column.iloc[:-1].isna().all(), "a run's value is not known before its last period"
        assert column.iloc[-1] == expected[outcome.name]
        after = frame[outcome.name].iloc[4:]  # periods 5..9: row k is period k + 1
        assert column.iloc[-1] == pytest.approx(after.mean(), abs=1e-15)
    assert model.burn_in == 4 == scenario.burn_in_periods


def test_the_default_burn_in_is_a_third_of_the_steps_the_model_runs():
    assert BureauModel(small(steps=60), seed=1).burn_in == 20
    assert BureauModel(small(steps=60), steps=30, seed=1).burn_in == 10
    with pytest.raises(ScenarioError, match="leave none after"):
        BureauModel(small(steps=60, burn_in=40), steps=30, seed=1)


def test_batch_run_returns_the_last_period_and_the_run_values_compare_uses():
    """Mesa 3.3's batch_run reads row steps - 1 (mesa issue #2514): with no row before period 1, that is the last."""
    from mesa.batchrunner import batch_run

    from sim.analysis.statistics import run_values
    from sim.model.run import run_one

    scenario = small(steps=9)
    rows = batch_run(
        BureauModel,
        parameters={"scenario": [scenario], "seed": [5]},
        iterations=1,
        data_collection_period=-1,
        number_processes=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    steps = run_one(scenario, 5).steps
    expected = run_values(steps, scenario.burn_in_periods)
    last = steps[steps["period"] == 9].iloc[0]
    assert frame["goal_attainment"].eq(last["goal_attainment"]).all(), "the plain columns are the last period's"
    for outcome in scenario.outcomes:
        assert frame[f"run_value_{outcome.name}"].eq(expected[outcome.name]).all(), outcome.name
    agents = run_one(scenario, 5).agents.set_index("agent_id")
    mine = frame.set_index("AgentID")
    assert len(mine) == len(agents)
    assert (mine.loc[agents.index, "target_received"] == agents["target_received"]).all(), "agents of the last period"
