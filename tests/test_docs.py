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


def test_readme_layout_names_every_module():
    modules = sorted(
        path.name for path in (ROOT / "sim").glob("*.py") if path.name not in ("__init__.py", "__main__.py")
    )
    missing = [name for name in modules if f"sim/{name}" not in README]
    assert not missing, f"the README's layout does not list: {missing}"


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
