"""The Python route: ``sim.run``, agent recording in ``BureauModel``, and the tables they return."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SCENARIOS, small
from pandas.testing import assert_frame_equal

import sim
from sim import BureauModel, ScenarioError
from sim.app.cli import main

BASELINE = SCENARIOS / "baseline.yaml"
LITTLE = ["hierarchy.branching=[2, 3]"]


def test_sim_run_returns_the_tables_bureausim_run_writes(tmp_path):
    result = sim.run(BASELINE, steps=5, replications=2, overrides=LITTLE)
    out = tmp_path / "out"
    command = ["run", str(BASELINE), "--steps", "5", "--replications", "2", "--set", LITTLE[0], "--out", str(out)]
    assert main([*command, "--quiet"]) == 0
    assert_frame_equal(result.steps, pd.read_parquet(out / "steps.parquet"), check_exact=True)
    assert_frame_equal(result.agents, pd.read_parquet(out / "agents.parquet"), check_exact=True)
    written = pd.read_csv(out / "summary.csv")
    assert_frame_equal(result.summary, written, check_exact=False, rtol=1e-15, atol=0)
    assert len(result.steps) == 2 * 5 and result.seeds == sorted(set(result.steps["seed"]), key=result.seeds.index)
    assert result.folder is None and result.scenario.steps == 5


def test_sim_run_with_out_writes_the_folder_and_refuses_a_taken_one(tmp_path):
    result = sim.run(BASELINE, steps=3, replications=1, overrides=LITTLE, out=tmp_path / "out")
    assert result.folder == tmp_path / "out"
    written = {path.name for path in result.folder.iterdir()}
    assert {"steps.parquet", "agents.parquet", "summary.csv", "manifest.json"} <= written
    with pytest.raises(sim.UserError, match="exists and is not an empty folder"):
        sim.run(BASELINE, steps=3, replications=1, overrides=LITTLE, out=tmp_path / "out")


def test_sim_run_refuses_mistakes_before_running(tmp_path):
    with pytest.raises(ScenarioError, match=r"relay\.escalaton: unknown path \(did you mean 'escalation'"):
        sim.run(BASELINE, overrides=["relay.escalaton=0.2"], out=tmp_path / "out")
    with pytest.raises(ScenarioError, match="arm"):
        sim.run(BASELINE, arm="no_such_arm", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def agent_periods(model: BureauModel) -> list[int]:
    frame = model.datacollector.get_agent_vars_dataframe()
    return [] if frame.empty else sorted(set(frame.index.get_level_values("Step")))


@pytest.mark.parametrize(
    ("record", "periods"),
    [(True, [1, 2, 3, 4, 5, 6]), (False, []), ("end", [6]), (3, [3, 6]), (4, [4])],
)
def test_agents_are_recorded_in_the_periods_asked_for(record, periods):
    model = BureauModel(small(steps=6), seed=1, record_agents=record)
    model.run_model()
    assert agent_periods(model) == periods


def test_recording_agents_less_often_changes_no_model_output():
    every = BureauModel(small(steps=6), seed=2, record_agents=True)
    end = BureauModel(small(steps=6), seed=2, record_agents="end")
    every.run_model()
    end.run_model()
    assert_frame_equal(
        every.datacollector.get_model_vars_dataframe(), end.datacollector.get_model_vars_dataframe(), check_exact=True
    )
    last = every.datacollector.get_agent_vars_dataframe().xs(6, level="Step")
    assert_frame_equal(last, end.datacollector.get_agent_vars_dataframe().xs(6, level="Step"), check_exact=True)


@pytest.mark.parametrize("record", [0, -2, "sometimes", 1.5, None])
def test_a_bad_record_agents_value_is_refused(record):
    with pytest.raises(ScenarioError, match="record_agents"):
        BureauModel(small(), seed=1, record_agents=record)
