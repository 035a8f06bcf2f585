"""Every registered experiment kind keeps the template's contract, on one tiny scenario.

Parametrized over ``KINDS``: a new kind is checked as soon as it is registered. Each kind must
give the same tables in a new folder, run nothing when its finished folder is run again, give
the same tables with two worker processes as with one, and return a result that pickles.
"""

import json
import pickle
import re
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.errors import ScenarioError
from sim.experiments.kinds import KINDS
from sim.experiments.reopen import load_results
from sim.experiments.template import ExperimentOptions, run_experiment
from sim.scenario.loader import parse_scenario

TINY = """
name: tiny
seed: 7
steps: 6
replications: 2
hierarchy: {branching: [2, 2, 3]}
arms:
  - {name: status_quo}
  - {name: fault_tolerance, policies: [fault_tolerance]}
uncertainties:
  relay.escalation: [0.0, 0.4]
  task.risk: [0.0, 0.2]
sweep:
  grid:
    relay.escalation: [0.0, 0.3]
robustness:
  futures: 3
  satisficing: [goal_attainment >= 0.5]
outcomes:
  - {name: goal_attainment, direction: maximize}
  - {name: burden, direction: minimize}
"""


def run(name: str, out: Path, workers: int = 1):
    return run_experiment(
        KINDS[name](), parse_scenario(TINY), ExperimentOptions(out=out, workers=workers, progress=False)
    )


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Every table a folder holds: its CSV files and its runs."""
    found = {path.name: pd.read_csv(path) for path in sorted(folder.glob("*.csv"))}
    return found | {"runs.parquet": pd.read_parquet(folder / "runs.parquet")}


def assert_same_tables(folder: Path, other: Path) -> None:
    mine, theirs = tables(folder), tables(other)
    assert mine.keys() == theirs.keys()
    for name, table in mine.items():
        assert_frame_equal(table, theirs[name], check_exact=True, obj=name)


def frames(result) -> dict[str, pd.DataFrame]:
    return {
        f.name: getattr(result, f.name) for f in fields(result) if isinstance(getattr(result, f.name), pd.DataFrame)
    }


@pytest.fixture(scope="module", params=sorted(KINDS))
def finished(request, tmp_path_factory):
    """Each kind run once into its own folder: (name, folder, result)."""
    folder = tmp_path_factory.mktemp(request.param) / "first"
    return request.param, folder, run(request.param, folder)


def test_a_second_folder_gets_the_same_tables(finished, tmp_path):
    name, folder, _ = finished
    run(name, tmp_path / "second")
    assert_same_tables(folder, tmp_path / "second")


def test_a_finished_folder_resumes_without_running(finished):
    name, folder, result = finished
    before = tables(folder)
    again = run(name, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == name
    assert manifest["invocations"][-1]["runs_run"] == 0
    assert manifest["invocations"][0]["runs_run"] == len(result.runs)
    for table, frame in tables(folder).items():
        assert_frame_equal(frame, before[table], check_exact=True, obj=table)
    for table, frame in frames(result).items():
        assert_frame_equal(frames(again)[table], frame, check_exact=True, obj=table)


def test_two_workers_give_the_same_tables(finished, tmp_path):
    name, folder, _ = finished
    run(name, tmp_path / "parallel", workers=2)
    assert_same_tables(folder, tmp_path / "parallel")


def test_the_result_pickles_and_reopens(finished):
    _, folder, result = finished
    copy = pickle.loads(pickle.dumps(result))
    reopened = load_results(folder)
    assert type(copy) is type(result) is type(reopened)
    for table, frame in frames(result).items():
        assert_frame_equal(frames(copy)[table], frame, check_exact=True, obj=table)
        if table in frames(reopened) and not frames(reopened)[table].empty:  # as written: index not kept
            assert_frame_equal(frames(reopened)[table].reset_index(drop=True), frame.reset_index(drop=True), obj=table)


def test_validate_checks_every_kind_a_scenario_allows(tmp_path):
    """check_every_command designs every kind the scenario has what it needs for, and refuses what they refuse."""
    from sim.experiments.kinds import KINDS, check_every_command
    from sim.scenario.loader import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nsteps: 3\nreplications: 1\nhierarchy: {branching: [2, 2]}\n"
        "arms: [{name: a}, {name: b}]\nsweep: {grid: {relay.escalation: [0.1, 0.2]}}\n"
        "uncertainties: {relay.escalation: [0, 0.3], campaign.start: [1, 30]}\nparameters: {campaign: {end: 20}}\n"
    )
    with pytest.raises(ScenarioError, match=r"uncertainties: .* not a valid set of parameters"):
        check_every_command(load_scenario(path))  # some drawn campaigns start after period 20
    path.write_text(path.read_text().replace("campaign.start: [1, 30]", "campaign.start: [1, 19]"))
    assert check_every_command(load_scenario(path)) == list(KINDS)


@pytest.mark.parametrize(
    "damage, fragment",
    [
        ({"manifest.json": "not json"}, "manifest.json is damaged (not JSON)"),
        ({"manifest.json": "[]"}, "not a JSON object"),
        ({"manifest.json": '{"kind": "forecast", "scenario": {}}'}, "unknown kind 'forecast'"),
        ({"manifest.json": '{"kind": "run", "scenario": {"steps": -1}}'}, "its scenario is not valid"),
        ({"steps.parquet": "PAR1 cut short"}, "a table is missing or damaged"),
        ({"summary.csv": None}, "a table is missing or damaged"),
    ],
)
def test_load_results_on_a_damaged_folder_says_so_in_one_paragraph(tmp_path, damage, fragment):
    from sim.app.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nsteps: 2\nreplications: 1\nhierarchy: {branching: [2]}\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    load_results(tmp_path / "out")  # whole, it reads back
    for name, text in damage.items():
        if text is None:
            (tmp_path / "out" / name).unlink()
        else:
            (tmp_path / "out" / name).write_text(text)
    with pytest.raises(ScenarioError, match=re.escape(fragment)) as error:
        load_results(tmp_path / "out")
    assert len(str(error.value).splitlines()) == 1
