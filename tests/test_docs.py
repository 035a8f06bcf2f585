"""The model description and the README keep up with the code."""

from __future__ import annotations

from conftest import ROOT

from sim.scenario.output_names import AGENT_OUTPUTS, MODEL_OUTPUTS
from sim.scenario.parameters import parameter_paths
from sim.scenario.policies import REGISTRY

ODD = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_odd_names_every_parameter_policy_and_output():
    names = [*parameter_paths(), *REGISTRY, *MODEL_OUTPUTS, *AGENT_OUTPUTS]
    missing = [name for name in names if f"`{name}`" not in ODD]
    assert not missing, f"docs/ODD.md does not mention: {missing}"


def test_readme_quick_start_and_outputs():
    assert "make run" in README and "make test" in README
    missing = [name for name in (*MODEL_OUTPUTS, *AGENT_OUTPUTS) if f"`{name}`" not in README]
    assert not missing, f"README.md does not list: {missing}"


def test_architecture_names_every_module_and_the_readme_every_layer():
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1]: line for line in architecture.splitlines() if line.startswith("| `")}
    packages = sorted(path.parent for path in (ROOT / "sim").glob("*/__init__.py"))
    assert packages, "no sub-packages found"
    for package in packages:
        row = rows.get(f"{package.name}/")
        assert row is not None, f"docs/ARCHITECTURE.md has no row for {package.name}/"
        stems = sorted(path.stem for path in package.glob("*.py") if path.name != "__init__.py")
        missing = [stem for stem in stems if f"`{stem}`" not in row]
        assert not missing, f"docs/ARCHITECTURE.md's row for {package.name}/ does not list: {missing}"
        assert f"sim/{package.name}/" in README, f"the README's layout does not show sim/{package.name}/"


def test_readme_command_line_lists_every_command():
    from sim.app.cli import build_parser

    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    block = README.split("## Command line")[1].split("```")[1]
    missing = [name for name in commands if f"bureausim {name}" not in block]
    assert not missing, f"the README's command-line block does not show: {missing}"


def test_readme_counts_the_catalogue_of_bad_inputs():
    from catalogue import CASES

    assert f"lists {len(CASES)} bad inputs" in README


def test_the_readmes_python_examples_run_as_written(tmp_path, monkeypatch):
    """Every Python block of the README's "From Python" section, run in order, from a folder beside the scenarios."""
    import re

    section = README[README.index("## From Python") : README.index("## Experiments: comparing reforms")]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) >= 2
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), names)  # the README's own examples, as a reader runs them
    assert names["model"].record_agents == "end"
    assert {"cohens_d", "paired_dz", "p_adjusted"} <= set(names["effects"].columns)
    assert len(names["experiments"]) == 4 * len(names["scenario"].arms)
    assert set(names["outcomes"]) == {o.name for o in names["scenario"].outcomes}
