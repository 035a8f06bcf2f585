"""The command line: ``run``, ``validate`` and ``describe``, in process and as ``python -m sim``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.app.cli import main
from sim.scenario.output_names import MODEL_OUTPUTS, STRATEGY_SHARES
from sim.scenario.parameters import parameter_paths
from sim.scenario.policies import REGISTRY
from sim.storage.provenance import DEPENDENCIES

REPO = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((REPO / "scenarios").glob("**/*.yaml"))

TINY = """\
name: tiny
seed: 5
steps: 3
replications: 2
hierarchy:
  branching: [2, 3]
  levels: [top, middle, bottom]
arms:
  - {name: plain}
  - {name: reformed, policies: [fault_tolerance, {clarify_directives: {strength: 0.5}}]}
"""
LEVELS = ["top", "middle", "bottom"]
OFFICIALS = 1 + 2 + 6


def tiny_scenario(folder: Path, text: str = TINY, name: str = "tiny.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run_quietly(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with stdout and stderr captured (for module-scoped fixtures, where capsys is not available)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>" for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("first")
    scenario = tiny_scenario(folder)
    out = folder / "results"
    status, stdout, stderr = run_quietly(["run", str(scenario), "--out", str(out)])
    return {"status": status, "stdout": stdout, "stderr": stderr, "out": out, "scenario": scenario}


# --- a successful run -------------------------------------------------------------------------


def test_run_returns_zero_and_prints_folder(first_run):
    assert first_run["status"] == 0, first_run["stderr"]
    assert first_run["stdout"].strip().splitlines()[-1] == str(first_run["out"])
    assert sorted(p.name for p in first_run["out"].iterdir()) == [
        "agents.parquet",
        "manifest.json",
        "plots",
        "steps.parquet",
        "summary.csv",
    ]
    # nothing left behind by the staging step (the lock file beside the folder is kept on purpose)
    hidden = [p.name for p in first_run["out"].parent.iterdir() if p.name.startswith(".")]
    assert hidden in ([], [f".{first_run['out'].name}.lock"])


def test_steps_table(first_run):
    steps = pd.read_parquet(first_run["out"] / "steps.parquet")
    assert len(steps) == 2 * 3
    expected = [
        "arm",
        "replication",
        "seed",
        "period",
        "goal_attainment",
        "reported_attainment",
        "implementation_gap",
        "share_substantive",
        "share_formalism",
        "share_falsify",
        "share_blanket_ban",
        "share_innovate",
        "share_shirk",
        "escalation_at_bottom",
        "clarity_at_bottom",
        "burden",
        *(f"sanction_share_{level}" for level in LEVELS),
        "wrongful_sanction_rate",
        "collateral_harm",
    ]
    assert set(expected) <= set(steps.columns)
    assert sorted(steps["replication"].unique()) == [0, 1]
    assert steps.groupby("replication")["period"].apply(list).tolist() == [[1, 2, 3], [1, 2, 3]]
    assert (steps["arm"] == "tiny").all()
    assert steps.groupby("replication")["seed"].nunique().tolist() == [1, 1]
    assert steps["seed"].nunique() == 2
    assert steps[list(MODEL_OUTPUTS)].notna().all().all()
    shares = steps[list(STRATEGY_SHARES)].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(1.0)


def test_agents_table(first_run):
    agents = pd.read_parquet(first_run["out"] / "agents.parquet")
    assert len(agents) == 2 * OFFICIALS
    assert {"level", "strategy", "capacity_used", "sanctions", "target_received", "clarity_received"} <= set(
        agents.columns
    )
    assert {"arm", "replication", "seed"} <= set(agents.columns)
    assert (
        agents.groupby("replication")["level"].apply(lambda s: sorted(s.tolist())).tolist()
        == [[0, 1, 1, 2, 2, 2, 2, 2, 2]] * 2
    )


def test_summary_csv(first_run):
    summary = pd.read_csv(first_run["out"] / "summary.csv")
    assert {"output", "mean", "sd", "ci_low", "ci_high"} <= set(summary.columns)
    assert {"goal_attainment", "sanction_share_bottom", "collateral_harm"} <= set(summary["output"])
    assert len(summary) > 0
    assert summary["mean"].notna().all()
    tolerance = 1e-12
    assert (summary["ci_low"] <= summary["mean"] + tolerance).all()
    assert (summary["mean"] <= summary["ci_high"] + tolerance).all()


def test_summary_means_are_the_runs_post_burn_in_values_and_the_last_period_is_apart(first_run):
    """One definition: a run's value is its mean after the burn-in, as compare and sweep use it."""
    from sim.analysis.statistics import run_values

    summary = pd.read_csv(first_run["out"] / "summary.csv").set_index("output")
    steps = pd.read_parquet(first_run["out"] / "steps.parquet")
    burn_in = int(summary["burn_in"].iloc[0])
    values = pd.DataFrame([run_values(run, burn_in) for _, run in steps.groupby("replication")])
    last = steps[steps["period"] == steps["period"].max()]
    for output in ("goal_attainment", "burden"):
        assert summary.loc[output, "mean"] == pytest.approx(values[output].mean(), abs=1e-15)
        assert summary.loc[output, "last_period_mean"] == pytest.approx(last[output].mean(), abs=1e-15)
    assert burn_in == 1  # a third of the tiny scenario's 3 steps


def test_manifest(first_run):
    manifest = json.loads((first_run["out"] / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "tiny"
    assert manifest["scenario"]["steps"] == 3
    assert manifest["scenario"]["hierarchy"]["branching"] == [2, 3]
    assert manifest["resolved_parameters"]["relay"]["escalation"] == 0.1
    assert manifest["master_seed"] == 5
    seeds = manifest["replication_seeds"]
    assert isinstance(seeds, list) and len(seeds) == 2
    steps = pd.read_parquet(first_run["out"] / "steps.parquet")
    assert steps.groupby("replication")["seed"].first().tolist() == seeds
    assert manifest["python"] == sys.version.split()[0]
    assert set(DEPENDENCIES) <= set(manifest["dependencies"])
    assert manifest["dependencies"]["numpy"]
    assert isinstance(manifest["wall_time_seconds"], float | int)
    assert manifest["wall_time_seconds"] >= 0
    assert manifest["scenario_file"] == str(first_run["scenario"])


def test_plots(first_run):
    plots = sorted((first_run["out"] / "plots").glob("*.png"))
    assert plots
    for plot in plots:
        assert plot.stat().st_size > 1000
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_numbers_in_a_new_process(first_run, tmp_path):
    """Also proves that ``python -m sim`` works."""
    out = tmp_path / "again"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(first_run["scenario"]), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    first = pd.read_parquet(first_run["out"] / "steps.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(out / "steps.parquet"), first)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "agents.parquet"), pd.read_parquet(first_run["out"] / "agents.parquet")
    )


def test_different_seed_different_numbers(first_run, tmp_path, capsys):
    out = tmp_path / "other"
    assert main(["run", str(first_run["scenario"]), "--out", str(out), "--seed", "6", "--quiet"]) == 0
    capsys.readouterr()
    first = pd.read_parquet(first_run["out"] / "steps.parquet")
    other = pd.read_parquet(out / "steps.parquet")
    assert first.shape == other.shape
    assert not first["seed"].equals(other["seed"])
    assert not first[list(MODEL_OUTPUTS)].equals(other[list(MODEL_OUTPUTS)])
    assert json.loads((out / "manifest.json").read_text())["master_seed"] == 6


def test_command_line_overrides(first_run, tmp_path, capsys):
    out = tmp_path / "overridden"
    status = main(
        [
            "run",
            str(first_run["scenario"]),
            "--out",
            str(out),
            "--seed",
            "9",
            "--steps",
            "2",
            "--replications",
            "3",
            "--set",
            "parameters.relay.escalation=0.3",
            "--set",
            "hierarchy.branching=[2, 2]",
            "--arm",
            "reformed",
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.strip() == str(out)
    steps = pd.read_parquet(out / "steps.parquet")
    assert len(steps) == 3 * 2
    assert (steps["arm"] == "reformed").all()
    agents = pd.read_parquet(out / "agents.parquet")
    assert len(agents) == 3 * (1 + 2 + 4)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["master_seed"] == 9
    assert len(manifest["replication_seeds"]) == 3
    assert manifest["scenario"]["steps"] == 2
    assert manifest["scenario"]["parameters"]["relay"]["escalation"] == 0.3
    assert manifest["scenario"]["hierarchy"]["branching"] == [2, 2]
    assert manifest["command"][-1] == "--quiet"


def test_set_reaches_the_model(tmp_path, capsys):
    scenario = tiny_scenario(
        tmp_path,
        "name: fixed\nsteps: 2\nreplications: 1\nhierarchy: {branching: [2, 2]}\n"
        "parameters:\n  relay: {escalation_pressure: 0.0}\n",
    )
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet", "--set", "parameters.relay.escalation=0.5"]) == 0
    capsys.readouterr()
    steps = pd.read_parquet(out / "steps.parquet")
    assert steps["escalation_at_bottom"].to_numpy() == pytest.approx(1.5**2)


# --- user mistakes: exit 2, a message, no traceback, nothing written -----------------------------


def assert_refused(status: int, err: str, tmp_path: Path, before: set[str]) -> None:
    assert status == 2
    assert "Traceback" not in err
    assert err.startswith("bureausim: error: ")
    assert {p.name for p in tmp_path.iterdir()} == before


def test_scenario_typo(tmp_path, capsys):
    scenario = tiny_scenario(tmp_path, TINY.replace("seed: 5", "parameters:\n  relay:\n    escalaton: 0.2"))
    line = TINY.replace("seed: 5", "parameters:\n  relay:\n    escalaton: 0.2").splitlines().index("    escalaton: 0.2")
    before = {p.name for p in tmp_path.iterdir()}
    out = tmp_path / "out"
    status = main(["run", str(scenario), "--out", str(out)])
    captured = capsys.readouterr()
    assert_refused(status, captured.err, tmp_path, before)
    assert f"{scenario}:{line + 1}:" in captured.err
    assert "parameters.relay.escalaton" in captured.err
    assert "did you mean 'escalation'" in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_scenario_typo_in_a_new_process(tmp_path):
    scenario = tiny_scenario(tmp_path, "name: x\nstepz: 3\n")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(scenario), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{scenario}:2: stepz:" in result.stderr
    assert "did you mean 'steps'" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--set", "parameters.relay.escalaton=0.3"], "did you mean 'escalation'"),
        (["--set", "parameters.relay.escalation=high"], "parameters.relay.escalation"),
        (["--set", "steps"], "dotted.path=value"),
        (["--steps", "0"], "steps"),
        (["--replications", "-2"], "replications"),
        (["--arm", "nope"], "'nope'"),
        (["--arm", "plian"], "plain"),
    ],
)
def test_bad_options(tmp_path, capsys, option, expected):
    scenario = tiny_scenario(tmp_path)
    before = {p.name for p in tmp_path.iterdir()}
    status = main(["run", str(scenario), "--out", str(tmp_path / "out"), *option])
    captured = capsys.readouterr()
    assert_refused(status, captured.err, tmp_path, before)
    assert expected in captured.err


def test_existing_output_folder_is_left_alone(tmp_path, capsys):
    scenario = tiny_scenario(tmp_path)
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    (out / "sub").mkdir()
    (out / "sub" / "steps.parquet").write_bytes(b"old")
    before_content = snapshot(out)
    before = {p.name for p in tmp_path.iterdir()}
    status = main(["run", str(scenario), "--out", str(out)])
    captured = capsys.readouterr()
    assert_refused(status, captured.err, tmp_path, before)
    assert str(out) in captured.err
    assert snapshot(out) == before_content


def test_output_path_that_is_a_file(tmp_path, capsys):
    scenario = tiny_scenario(tmp_path)
    out = tmp_path / "a_file"
    out.write_text("x")
    status = main(["run", str(scenario), "--out", str(out)])
    assert status == 2
    assert out.read_text() == "x"
    assert "Traceback" not in capsys.readouterr().err


def test_empty_existing_output_folder_is_used(tmp_path, capsys):
    scenario = tiny_scenario(tmp_path, TINY.replace("replications: 2", "replications: 1"))
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", str(scenario), "--out", str(out), "--quiet", "--steps", "1"]) == 0
    capsys.readouterr()
    assert (out / "steps.parquet").exists()


def test_missing_scenario_file(tmp_path, capsys):
    status = main(["run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert "nope.yaml" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_bad_graph_file(tmp_path, capsys):
    (tmp_path / "tree.txt").write_text("top a\na b\nb a\n")
    scenario = tiny_scenario(tmp_path, "name: g\nsteps: 1\nreplications: 1\nhierarchy: {file: tree.txt}\n")
    before = {p.name for p in tmp_path.iterdir()}
    status = main(["run", str(scenario), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert_refused(status, captured.err, tmp_path, before)
    assert "cycle" in captured.err


# --- validate and describe --------------------------------------------------------------------


def test_validate_every_shipped_scenario(capsys):
    assert SCENARIO_FILES
    status = main(["validate", *map(str, SCENARIO_FILES)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    for path in SCENARIO_FILES:
        assert f"{path}: ok" in captured.out
    assert captured.err == ""


def test_validate_reports_good_and_bad(tmp_path, capsys):
    good = tiny_scenario(tmp_path)
    bad = tiny_scenario(tmp_path, "name: x\nparameters:\n  relay:\n    dilution: 1.5\n", name="bad.yaml")
    other = REPO / "scenarios" / "baseline.yaml"
    status = main(["validate", str(good), str(bad), str(other)])
    captured = capsys.readouterr()
    assert status == 2
    assert f"{good}: ok" in captured.out
    assert f"{other}: ok" in captured.out
    assert str(bad) not in captured.out
    assert f"{bad}:4: parameters.relay.dilution:" in captured.err
    assert "Traceback" not in captured.err


def test_describe_lists_parameters_and_policies(capsys):
    assert main(["describe"]) == 0
    out = capsys.readouterr().out
    for path, info in parameter_paths().items():
        assert path in out
        assert info.description in out
    for name, policy in REGISTRY.items():
        assert name in out
        assert policy.description in out


def test_describe_states_the_default_seed_and_outcomes(capsys):
    import re

    from sim.scenario.output_names import DIRECTIONS

    assert main(["describe"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  seed +42 ", out, re.MULTILINE)
    assert re.search(r"^  burn_in +a third of steps", out, re.MULTILINE)
    for name, direction in DIRECTIONS.items():
        assert re.search(rf"^ +{name} +{direction} ", out, re.MULTILINE), name
    assert re.search(r"reported_attainment +none +reported, not judged", out)


def test_describe_into_a_closed_pipe_is_not_an_error():
    command = f"{sys.executable} -m sim describe | head -1"
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("SCENARIO DEFAULTS")
    assert "Traceback" not in done.stderr


HEAVY = ("matplotlib", "pandas", "pyarrow", "mesa")
"""Libraries that ``--version`` and ``import sim`` must not load: each costs a noticeable part of a second."""

RUN_AS_MAIN = """
import runpy, sys
sys.argv = ["sim", "--version"]
try:
    runpy.run_module("sim", run_name="__main__")
except SystemExit:
    pass
"""
"""``python -m sim --version``, run so that the modules it loaded can be listed afterwards."""


def _loaded_after(code: str) -> list[str]:
    """The heavy libraries ``sys.modules`` holds after ``code`` runs in a new interpreter."""
    probe = f"{code}\nimport sys\nprint('loaded:', *(n for n in {HEAVY!r} if n in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("loaded:"))
    return line.split()[1:]


def test_version_loads_no_heavy_library():
    assert _loaded_after(RUN_AS_MAIN) == []


def test_import_sim_loads_no_heavy_library():
    assert _loaded_after("import sim") == []


@pytest.mark.parametrize("command", ["compare", "sweep", "sensitivity", "robustness"])
def test_dry_run_says_how_many_runs_and_runs_nothing(tmp_path, capsys, command):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: d\nsteps: 3\nreplications: 2\nhierarchy: {branching: [2]}\narms: [{name: a}, {name: b}]\n"
        "sweep: {grid: {relay.escalation: [0.1, 0.2, 0.3]}}\n"
        "uncertainties: {relay.escalation: [0, 0.3], relay.dilution: [0, 0.1]}\nrobustness: {futures: 4}\n"
    )
    out = tmp_path / "out"
    assert main([command, str(scenario), "--out", str(out), "--dry-run", "--replications", "5", "--workers", "1"]) == 0
    expected = {"compare": 2 * 5, "sweep": 3 * 2 * 5, "sensitivity": 16 * 3 * 5, "robustness": 4 * 2 * 5}[command]
    assert f"{expected:,} runs on 1 worker" in capsys.readouterr().out
    assert not out.exists() and not list(tmp_path.glob(".out*"))


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--min-effect", "-0.1"], "--min-effect: must be a positive number"),
        (["--min-effect", "nan"], "--min-effect: must be a positive number"),
        (["--adjust", "bonferroni"], "invalid choice: 'bonferroni'"),
    ],
)
def test_bad_judgement_options_are_refused_before_anything_runs(tmp_path, capsys, options, fragment):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: d\nsteps: 3\nreplications: 2\nhierarchy: {branching: [2]}\narms: [{name: a}, {name: b}]")
    try:
        status = main(["compare", str(scenario), "--out", str(tmp_path / "out"), "--quiet", *options])
    except SystemExit as stopped:  # argparse's own refusals
        status = stopped.code
    assert status == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_compare_writes_adjusted_p_values_and_records_the_judgement(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: d\nsteps: 6\nreplications: 3\nhierarchy: {branching: [2, 3]}\n"
        "arms: [{name: a}, {name: b, policies: [fault_tolerance]}]\n"
    )
    out = tmp_path / "out"
    command = ["compare", str(scenario), "--out", str(out), "--quiet", "--adjust", "bh", "--min-effect", "0.5"]
    assert main(command) == 0
    effects = pd.read_csv(out / "effects.csv")
    assert {"cohens_d", "paired_dz", "p_value", "p_adjusted"} <= set(effects.columns)
    others = effects[effects["arm"] == "b"]
    assert (others["p_adjusted"] >= others["p_value"] - 1e-15).all()
    assert set(others["verdict"]) <= {"negligible", "no detectable difference", "better", "worse", "higher", "lower"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["adjust"], manifest["min_effect"]) == ("bh", 0.5)


def test_experiments_take_steps_and_replications_like_run(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: d\nsteps: 9\nreplications: 4\nhierarchy: {branching: [2]}\narms: [{name: a}]\n")
    out = tmp_path / "out"
    assert main(["compare", str(scenario), "--out", str(out), "--steps", "2", "--replications", "3", "--quiet"]) == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 3
    assert json.loads((out / "manifest.json").read_text())["scenario"]["steps"] == 2


def test_explain_writes_its_tables_and_waterfalls_in_the_formats_asked_for(tmp_path, capsys):
    from conftest import SCENARIOS

    out = tmp_path / "explained"
    tiny = ["hierarchy.branching=[2,2,3]", "steps=8", "replications=2"]
    sets = [part for value in tiny for part in ("--set", value)]
    arguments = ["explain", str(SCENARIOS / "baseline.yaml"), "--out", str(out), "--quiet", "--permutations", "2"]
    status = main([*arguments, "--format", "svg,pdf", "--language", "zh", *sets])
    assert status == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == str(out)
    shortfall = pd.read_csv(out / "shortfall.csv")
    parts = shortfall[shortfall["part"] != "total"]["mean"].sum()
    assert parts == pytest.approx(shortfall.loc[shortfall["part"] == "total", "mean"].iloc[0], abs=1e-12)
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "waterfall.pdf",
        "waterfall.svg",
        "waterfall_levels.pdf",
        "waterfall_levels.svg",
    ]
    assert "上下一般粗" in (out / "plots" / "waterfall.svg").read_text(encoding="utf-8")


def test_a_bad_figure_option_is_refused_before_anything_is_written(tmp_path, capsys):
    from conftest import SCENARIOS

    out = tmp_path / "never"
    assert main(["run", str(SCENARIOS / "baseline.yaml"), "--out", str(out), "--format", "gif"]) == 2
    error = capsys.readouterr().err
    assert "--format: gif is not a figure format" in error and "Traceback" not in error
    assert not out.exists()
