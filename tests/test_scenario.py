"""Scenario schema and YAML loader: every user mistake is a ScenarioError naming file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.errors import HierarchyError, ScenarioError
from sim.scenario.loader import load_scenario, parse_scenario
from sim.scenario.output_names import DIRECTIONS
from sim.scenario.parameters import Parameters
from sim.scenario.policies import REGISTRY
from sim.scenario.schema import MAX_OFFICIALS, Scenario
from sim.scenario.strategies import Strategy

REPO = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((REPO / "scenarios").glob("**/*.yaml"))


def yaml_text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle`` (computed independently of the loader)."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def parse_error(text: str, source: str = "case.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source=source)
    return info.value


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- files that must load -------------------------------------------------------------------


def test_there_are_scenarios_to_check():
    assert len(SCENARIO_FILES) >= 10
    assert REPO / "scenarios" / "baseline.yaml" in SCENARIO_FILES


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: str(p.relative_to(REPO / "scenarios")))
def test_every_shipped_scenario_loads(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.source == str(path)
    assert scenario.name == path.stem
    # every arm resolves to valid parameters
    assert isinstance(scenario.resolved_parameters(), Parameters)
    for arm in scenario.arms:
        assert isinstance(scenario.resolved_parameters(arm.name), Parameters)


def test_minimal_file_gives_defaults(tmp_path):
    scenario = load_scenario(write(tmp_path, "name: x\n"))
    assert scenario.name == "x"
    assert scenario.seed == 42
    assert scenario.steps == 60
    assert scenario.replications == 10
    assert scenario.hierarchy.branching is None
    assert scenario.hierarchy.branching_or_default == [16, 8, 12]
    assert scenario.hierarchy.counts is None
    assert scenario.hierarchy.file is None
    assert scenario.hierarchy.extra_principals == 0
    assert scenario.parameters.model_dump() == Parameters().model_dump()
    assert scenario.policies == []
    assert scenario.arms == []
    assert scenario.uncertainties == {}
    assert {(o.name, o.direction) for o in scenario.outcomes} == set(DIRECTIONS.items())
    assert scenario.source == str(tmp_path / "scenario.yaml")


def test_full_scenario_is_read_into_typed_fields():
    text = yaml_text(
        """
        name: full
        description: every section
        seed: 7
        steps: 5
        replications: 3
        hierarchy:
          counts: [3, 9]
          spread: random
          levels: [top, middle, bottom]
          extra_principals: 2
        parameters:
          relay: {escalation: 0.3, funded_escalation: true}
          accountability: {inspection_cap: 2}
        policies:
          - fault_tolerance
          - campaign: {start: 2, end: 4}
        arms:
          - {name: a}
          - name: b
            policies: [onsite_inspection]
            set: {relay.dilution: 0.2}
        uncertainties:
          relay.escalation: [0.0, 0.5]
        outcomes:
          - {name: goal_attainment, direction: maximize}
          - {name: sanction_share_bottom, direction: minimize}
        """
    )
    scenario = parse_scenario(text)
    assert (scenario.seed, scenario.steps, scenario.replications) == (7, 5, 3)
    assert scenario.hierarchy.counts == [3, 9]
    assert scenario.hierarchy.branching is None
    assert scenario.hierarchy.levels == ["top", "middle", "bottom"]
    assert scenario.parameters.relay.escalation == 0.3
    assert scenario.parameters.relay.funded_escalation is True
    assert scenario.parameters.accountability.inspection_cap == 2
    assert [(p.name, p.options) for p in scenario.policies] == [
        ("fault_tolerance", {}),
        ("campaign", {"start": 2, "end": 4}),
    ]
    assert [a.name for a in scenario.arms] == ["a", "b"]
    assert scenario.uncertainties == {"relay.escalation": (0.0, 0.5)}
    assert [o.direction for o in scenario.outcomes] == ["maximize", "minimize"]


def test_fixed_strategy_accepts_the_strategy_label():
    text = yaml_text(
        """
        name: x
        parameters:
          execution: {fixed_strategy: substantive}
        arms:
          - name: a
            set: {execution.fixed_strategy: formalism}
        """
    )
    scenario = parse_scenario(text)
    assert scenario.parameters.execution.fixed_strategy == Strategy.SUBSTANTIVE
    assert scenario.resolved_parameters("a").execution.fixed_strategy == Strategy.FORMALISM
    error = parse_error(text.replace("substantive", "substantiv"))
    assert error.field == "parameters.execution.fixed_strategy"


# --- unknown keys -------------------------------------------------------------------------


def test_unknown_top_level_key():
    text = "name: x\nsteps: 3\nstepz: 4\n"
    error = parse_error(text)
    assert error.line == 3
    assert error.field == "stepz"
    assert "did you mean 'steps'" in error.message
    assert error.source == "case.yaml"


def test_unknown_nested_key_names_line_field_and_near_miss():
    text = yaml_text(
        """
        name: x
        steps: 3
        parameters:
          task:
            target: 1.0
          relay:
            dilution: 0.1
            escalaton: 0.2
        """
    )
    error = parse_error(text)
    assert error.line == line_of(text, "escalaton") == 8
    assert error.field == "parameters.relay.escalaton"
    assert "did you mean 'escalation'" in error.message
    assert str(error).startswith("case.yaml:8: parameters.relay.escalaton: ")


def test_unknown_key_in_hierarchy_lists_allowed_keys():
    text = "name: x\nhierarchy:\n  brnaching: [2, 2]\n"
    error = parse_error(text)
    assert error.line == 3
    assert error.field == "hierarchy.brnaching"
    assert "did you mean 'branching'" in error.message
    assert "allowed:" in error.message and "extra_principals" in error.message


# --- wrong types and ranges -----------------------------------------------------------------


def test_string_for_a_float():
    text = yaml_text(
        """
        name: x
        parameters:
          relay:
            escalation: lots
        """
    )
    error = parse_error(text)
    assert error.line == 4
    assert error.field == "parameters.relay.escalation"
    assert "number" in error.message
    assert "'lots'" in error.message


def test_fractional_steps_refused():
    error = parse_error("name: x\nsteps: 3.5\n")
    assert (error.line, error.field) == (2, "steps")


@pytest.mark.parametrize(
    ("section", "key", "value", "bound"),
    [
        ("relay", "dilution", "1.5", "1"),
        ("relay", "escalation", "-0.1", "0"),
        ("accountability", "onsite_share", "2", "1"),
        ("task", "target", "0", "0"),
    ],
)
def test_out_of_range_value_names_field_and_line(section, key, value, bound):
    text = f"name: x\nseed: 1\nparameters:\n  {section}:\n    {key}: {value}\n"
    error = parse_error(text)
    assert error.line == 5
    assert error.field == f"parameters.{section}.{key}"
    assert bound in error.message
    assert value in error.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: x\nsteps: 0\n", "steps"),
        ("name: x\nreplications: -1\n", "replications"),
        ("name: x\nseed: -5\n", "seed"),
        ("name: 'has space'\n", "name"),
    ],
)
def test_top_level_ranges(text, field):
    error = parse_error(text)
    assert (error.line, error.field) == (line_of(text, field.split(".")[0]), field)


# --- policies -------------------------------------------------------------------------------


def test_unknown_policy_with_did_you_mean():
    text = "name: x\npolicies:\n  - fault_tolerance\n  - onsite_inspektion\n"
    error = parse_error(text)
    assert (error.line, error.field) == (4, "policies.1")  # the entry at fault, on its own line
    assert "'onsite_inspektion'" in error.message
    assert "did you mean 'onsite_inspection'" in error.message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{fault_tolerance: {strength: 2.0}}", "strength"),
        ("{fault_tolerance: {strenght: 0.5}}", "did you mean 'strength'"),
        ("{campaign: {start: soon}}", "start"),
        ("{precise_accountability: {level: 1}}", "unknown key"),
        ("{fault_tolerance: 0.5}", "must be a mapping"),
        ("{fault_tolerance: {}, campaign: {}}", "one-key mapping"),
    ],
)
def test_bad_policy_option(entry, expected):
    error = parse_error(f"name: x\npolicies:\n  - {entry}\n")
    assert (error.line, error.field) == (3, "policies.0")
    assert expected in error.message and not error.message.startswith("entry")


def test_policies_must_be_a_list():
    error = parse_error("name: x\npolicies: fault_tolerance\n")
    assert (error.line, error.field) == (2, "policies")
    assert "list" in error.message


# --- YAML-level mistakes --------------------------------------------------------------------


def test_duplicate_top_level_key_names_second_line():
    text = "name: x\nsteps: 3\nseed: 1\nsteps: 4\n"
    error = parse_error(text)
    assert error.line == 4
    assert error.field == "steps"
    assert "duplicate" in error.message
    assert "line 2" in error.message


def test_duplicate_nested_key_names_second_line():
    text = yaml_text(
        """
        name: x
        parameters:
          relay:
            escalation: 0.1
            dilution: 0.1
            escalation: 0.2
        """
    )
    error = parse_error(text)
    assert error.line == line_of(text, "escalation", occurrence=2) == 6
    assert error.field == "parameters.relay.escalation"
    assert "line 4" in error.message


def test_yaml_aliases_refused():
    text = yaml_text(
        """
        name: x
        hierarchy:
          branching: &b [2, 2]
          levels: *b
        """
    )
    error = parse_error(text)
    assert error.line == 4
    assert "alias" in error.message.lower()


def test_alias_bomb_refused_quickly():
    lines = ["name: x", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    error = parse_error("\n".join(lines) + "\n")
    assert "alias" in error.message.lower()
    assert error.line == 3


@pytest.mark.parametrize(
    "tagged",
    [
        "seed: !!python/object:builtins.int {}\n",
        "seed: !!python/object/new:builtins.int [3]\n",
        "description: !!python/name:os.system\n",
    ],
)
def test_python_tags_refused_with_scenario_error(tagged):
    error = parse_error("name: x\n" + tagged)
    assert type(error) is ScenarioError
    assert error.line == 2


def test_python_apply_tag_does_not_execute(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, f"name: x\ndescription: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.line == 2
    assert not marker.exists()


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert "empty" in info.value.message
    assert info.value.source == str(tmp_path / "scenario.yaml")


@pytest.mark.parametrize(
    ("text", "kind"), [("- name: x\n- steps: 3\n", "a list"), ("just a string\n", "text"), ("42\n", "a number")]
)
def test_top_level_must_be_a_mapping(text, kind):
    error = parse_error(text)
    assert "mapping" in error.message
    assert kind in error.message
    assert error.line == 1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: x\nsteps: [1, 2\nseed: 3\n", 3),
        ("name: x\nhierarchy:\n  branching: [2]\n bad: 1\n", 4),
        ("name: x\n\tsteps: 3\n", 2),
        ("name: 'x\nsteps: 3\n", 3),
    ],
)
def test_invalid_yaml_gives_a_line(text, line):
    error = parse_error(text)
    assert "not valid YAML" in error.message
    assert error.line == line
    assert str(error).startswith(f"case.yaml:{line}: ")


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00n\x00a\x00m\x00e", b"name: caf\xe9\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"],
    ids=["utf16", "latin1", "png"],
)
def test_binary_or_non_utf8_file(tmp_path, content):
    path = tmp_path / "binary.yaml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.source == str(path)
    assert str(info.value).startswith(str(path))


def test_nul_byte_in_utf8_file(tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"name: x\x00\n")
    with pytest.raises(ScenarioError, match="binary"):
        load_scenario(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.source == str(path)
    assert "no such scenario file" in info.value.message


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError, match="directory"):
        load_scenario(tmp_path)


# --- uncertainties, arms, outcomes, hierarchy --------------------------------------------------


def test_uncertainty_unknown_path():
    text = "name: x\nuncertainties:\n  relay.escalaton: [0.0, 0.5]\n"
    error = parse_error(text)
    assert error.field.startswith("uncertainties")
    assert error.line in (2, 3)
    assert "did you mean 'relay.escalation'" in error.message


@pytest.mark.parametrize("pair", ["[0.5, 0.2]", "[0.3, 0.3]"])
def test_uncertainty_low_not_below_high(pair):
    error = parse_error(f"name: x\nuncertainties:\n  relay.escalation: {pair}\n")
    assert error.field.startswith("uncertainties")
    assert "low < high" in error.message


@pytest.mark.parametrize("path", ["relay.funded_escalation", "accountability.precise", "execution.fixed_strategy"])
def test_uncertainty_on_non_numeric_parameter(path):
    error = parse_error(f"name: x\nuncertainties:\n  {path}: [0, 1]\n")
    assert path in error.message
    assert "not numeric" in error.message


def test_uncertainty_range_outside_parameter_range():
    error = parse_error("name: x\nuncertainties:\n  relay.dilution: [0.5, 1.5]\n")
    assert "relay.dilution" in error.message


@pytest.mark.parametrize("value", ["0.3", "[a, 1]", "[0.1, 0.2, 0.3]"])
def test_uncertainty_must_be_a_numeric_pair(value):
    text = f"name: x\nuncertainties:\n  relay.escalation: {value}\n"
    error = parse_error(text)
    assert error.line == 3
    assert error.field.startswith("uncertainties.relay.escalation")


def test_duplicate_arm_names():
    text = "name: x\narms:\n  - {name: a}\n  - {name: b}\n  - {name: a}\n"
    error = parse_error(text)
    assert error.field == "arms"
    assert error.line == 2
    assert "distinct" in error.message and "a" in error.message


def test_arm_set_unknown_path():
    text = "name: x\narms:\n  - name: a\n    set:\n      relay.escalaton: 0.3\n"
    error = parse_error(text)
    assert error.field.startswith("arms.0.set")
    assert error.line in (4, 5)
    assert "did you mean 'relay.escalation'" in error.message


@pytest.mark.parametrize(("path", "value"), [("relay.dilution", "2"), ("relay.escalation", "high")])
def test_arm_set_bad_value(path, value):
    text = f"name: x\narms:\n  - name: a\n  - name: b\n    set:\n      {path}: {value}\n"
    error = parse_error(text)
    assert error.field.startswith("arms.1.set")
    assert error.line in (5, 6)
    assert path in error.message


def test_arm_bad_policy_and_bad_name():
    error = parse_error("name: x\narms:\n  - name: a\n    policies: [campain]\n")
    assert error.field.startswith("arms.0.policies")
    assert error.line == 4
    assert "did you mean 'campaign'" in error.message
    error = parse_error("name: x\narms:\n  - name: 'a b'\n")
    assert (error.line, error.field) == (3, "arms.0.name")


def test_unknown_outcome():
    text = "name: x\noutcomes:\n  - {name: goal_attainmnt}\n"
    error = parse_error(text)
    assert error.field.startswith("outcomes")
    assert "did you mean 'goal_attainment'" in error.message


def test_bad_outcome_direction():
    error = parse_error("name: x\noutcomes:\n  - {name: burden, direction: down}\n")
    assert error.line == 3
    assert error.field == "outcomes.0.direction"


def test_hierarchy_with_both_branching_and_counts():
    text = "name: x\nhierarchy:\n  branching: [2, 2]\n  counts: [2, 4]\n"
    error = parse_error(text)
    assert error.field == "hierarchy"
    assert error.line == 2
    assert "branching" in error.message and "counts" in error.message


def test_hierarchy_with_file_and_branching():
    error = parse_error("name: x\nhierarchy:\n  file: tree.graphml\n  branching: [2]\n")
    assert error.field == "hierarchy"
    assert "file" in error.message


@pytest.mark.parametrize(
    ("sizes", "total"),
    [("branching: [1000, 1000, 1000]", 1_001_001_001), ("counts: [1000, 1000000, 1500000]", 2_501_001)],
)
def test_hierarchy_too_large(sizes, total):
    error = parse_error(f"name: x\nhierarchy:\n  {sizes}\n")
    assert error.field == "hierarchy"
    assert f"{total:,}" in error.message
    assert "officials" in error.message
    assert f"{MAX_OFFICIALS:,}" in error.message


def test_hierarchy_just_below_limit_accepted():
    scenario = parse_scenario("name: x\nhierarchy:\n  branching: [1000, 1998]\n")
    assert scenario.hierarchy.branching == [1000, 1998]  # 1 + 1000 + 1,998,000 officials


@pytest.mark.parametrize("levels", ["[a, b]", "[a, b, c, d]"])
def test_level_names_count_mismatch(levels):
    error = parse_error(f"name: x\nhierarchy:\n  branching: [2, 2]\n  levels: {levels}\n")
    assert error.field == "hierarchy"
    assert "level names" in error.message
    assert "3 levels" in error.message


@pytest.mark.parametrize(("levels", "expected"), [("[a, a, b]", "distinct"), ("[a, 'b c', d]", "identifier")])
def test_level_names_must_be_distinct_identifiers(levels, expected):
    error = parse_error(f"name: x\nhierarchy:\n  branching: [2, 2]\n  levels: {levels}\n")
    assert expected in error.message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("branching: [2, 0]", "hierarchy.branching.1"),
        ("spread: lumpy", "hierarchy.spread"),
        ("extra_principals: 21", "hierarchy.extra_principals"),
    ],
)
def test_hierarchy_field_errors(body, field):
    error = parse_error(f"name: x\nhierarchy:\n  {body}\n")
    assert error.field == field
    assert error.line == 3


def test_counts_below_superiors_fails_when_built():
    # the schema cannot see it; the hierarchy builder refuses it (see tests/test_hierarchy.py)
    import numpy as np

    from sim.model.hierarchy import build_hierarchy

    scenario = parse_scenario("name: x\nhierarchy:\n  counts: [3, 2]\n")
    with pytest.raises(HierarchyError):
        build_hierarchy(scenario.hierarchy, np.random.default_rng(0))


# --- with_overrides ------------------------------------------------------------------------


@pytest.fixture
def small() -> Scenario:
    return parse_scenario("name: small\nsteps: 3\nhierarchy:\n  branching: [2, 2]\n", source="small.yaml")


@pytest.mark.parametrize(
    ("assignment", "read", "expected"),
    [
        ("parameters.relay.escalation=0.3", lambda s: s.parameters.relay.escalation, 0.3),
        ("steps=7", lambda s: s.steps, 7),
        ("hierarchy.branching=[3, 3]", lambda s: s.hierarchy.branching, [3, 3]),
        ("parameters.relay.funded_escalation=true", lambda s: s.parameters.relay.funded_escalation, True),
        ("parameters.accountability.inspection_cap=3", lambda s: s.parameters.accountability.inspection_cap, 3),
        ("parameters.execution.fixed_strategy=shirk", lambda s: s.parameters.execution.fixed_strategy, Strategy.SHIRK),
        ("description=hello world", lambda s: s.description, "hello world"),
    ],
)
def test_with_overrides_changes_value(small, assignment, read, expected):
    changed = small.with_overrides([assignment])
    assert read(changed) == expected
    assert read(small) != expected  # the original is untouched
    assert changed.source == "small.yaml"


def test_with_overrides_applies_in_order(small):
    changed = small.with_overrides(["steps=7", "seed=3", "steps=9"])
    assert (changed.steps, changed.seed) == (9, 3)


def test_with_overrides_keeps_policies_and_arms():
    scenario = parse_scenario(
        yaml_text(
            """
            name: x
            policies:
              - fault_tolerance: {strength: 0.4}
            arms:
              - {name: a, policies: [precise_accountability], set: {relay.dilution: 0.2}}
            uncertainties:
              relay.escalation: [0.0, 0.5]
            """
        )
    )
    changed = scenario.with_overrides(["steps=5"])
    assert changed.steps == 5
    assert changed.policies == scenario.policies
    assert changed.arms == scenario.arms
    assert changed.uncertainties == scenario.uncertainties
    assert changed.resolved_parameters("a").model_dump() == scenario.resolved_parameters("a").model_dump()


@pytest.mark.parametrize(
    ("assignment", "field", "hint"),
    [
        ("parameters.relay.escalaton=0.3", "parameters.relay.escalaton", "escalation"),
        ("parameters.rlay.escalation=0.3", "parameters.rlay", "relay"),
        ("stesp=3", "stesp", "steps"),
        ("hierarchy.branchin=[2]", "hierarchy.branchin", "branching"),
    ],
)
def test_with_overrides_unknown_path(small, assignment, field, hint):
    with pytest.raises(ScenarioError) as info:
        small.with_overrides([assignment])
    assert info.value.field == field
    assert info.value.source == "--set"
    assert f"did you mean '{hint}'" in info.value.message


def test_with_overrides_path_through_a_value(small):
    with pytest.raises(ScenarioError) as info:
        small.with_overrides(["steps.count=3"])
    assert info.value.field == "steps"


@pytest.mark.parametrize(
    ("assignment", "field"),
    [
        ("parameters.relay.escalation=abc", "parameters.relay.escalation"),
        ("parameters.relay.dilution=1.5", "parameters.relay.dilution"),
        ("steps=many", "steps"),
        ("hierarchy.branching=3", "hierarchy.branching"),
        ("hierarchy.counts=[4, 8]", "hierarchy"),
    ],
)
def test_with_overrides_bad_value(small, assignment, field):
    with pytest.raises(ScenarioError) as info:
        small.with_overrides([assignment])
    assert info.value.field == field
    assert info.value.source == "--set"


@pytest.mark.parametrize("assignment", ["steps", "=3", "steps=[1, 2"])
def test_with_overrides_malformed(small, assignment):
    with pytest.raises(ScenarioError):
        small.with_overrides([assignment])


# --- resolved_parameters -------------------------------------------------------------------

ORDERED = yaml_text(
    """
    name: ordered
    parameters:
      relay: {dilution: 0.2}
    policies:
      - fault_tolerance: {strength: 0.3}
      - clarify_directives
    arms:
      - name: plain
      - name: later_policy
        policies:
          - fault_tolerance: {strength: 0.6}
          - clarify_directives: {strength: 0.5}
      - name: set_last
        policies: [clarify_directives, resources_follow_tasks]
        set:
          relay.dilution: 0.4
          relay.stripping: 0.25
    """
)


def test_resolved_parameters_applies_scenario_policies():
    scenario = parse_scenario(ORDERED)
    resolved = scenario.resolved_parameters()
    assert resolved.accountability.excuse_genuine == pytest.approx(0.3)
    assert resolved.relay.dilution == pytest.approx(0.2 * 0.3)
    assert scenario.resolved_parameters("plain").model_dump() == resolved.model_dump()


def test_resolved_parameters_applies_arm_policies_after_scenario_policies():
    resolved = parse_scenario(ORDERED).resolved_parameters("later_policy")
    assert resolved.accountability.excuse_genuine == pytest.approx(0.6)
    assert resolved.relay.dilution == pytest.approx(0.2 * 0.3 * 0.5)


def test_resolved_parameters_applies_arm_set_last():
    resolved = parse_scenario(ORDERED).resolved_parameters("set_last")
    assert resolved.relay.dilution == pytest.approx(0.4)  # not 0.4 * 0.3: set comes after the policies
    assert resolved.relay.stripping == pytest.approx(0.25)  # not 0 from resources_follow_tasks
    assert resolved.relay.funded_escalation is True
    assert resolved.accountability.excuse_genuine == pytest.approx(0.3)


def test_resolved_parameters_do_not_touch_the_scenario():
    scenario = parse_scenario("name: x\narms:\n  - name: a\n    set: {relay.escalation: 0.7}\n")
    before = scenario.parameters.model_dump()
    assert scenario.resolved_parameters("a").relay.escalation == 0.7
    assert scenario.parameters.model_dump() == before
    assert scenario.resolved_parameters().relay.escalation == 0.1
    scenario.resolved_parameters().relay.escalation = 0.9
    assert scenario.parameters.relay.escalation == 0.1


def test_resolved_parameters_unknown_arm():
    with pytest.raises(ScenarioError) as info:
        parse_scenario(ORDERED).resolved_parameters("nope")
    assert "nope" in info.value.message
    assert "set_last" in info.value.message


# --- the error's shape ---------------------------------------------------------------------


def test_scenario_error_str_format():
    error = ScenarioError("bad value", source="a.yaml", line=12, field="parameters.relay.escalation")
    assert str(error) == "a.yaml:12: parameters.relay.escalation: bad value"
    assert str(ScenarioError("m", source="a.yaml", field="f")) == "a.yaml: f: m"
    assert str(ScenarioError("m", source="a.yaml")) == "a.yaml: m"
    assert str(ScenarioError("m", field="f")) == "f: m"
    assert str(ScenarioError("m")) == "m"
    assert isinstance(error, ValueError)
    assert issubclass(HierarchyError, ScenarioError)


def test_loaded_error_str_has_file_line_field(tmp_path):
    path = write(tmp_path, "name: x\nparameters:\n  relay:\n    escalaton: 0.2\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert text.startswith(f"{path}:4: parameters.relay.escalaton: unknown key")
    assert "did you mean 'escalation'" in text


def test_all_policy_names_accepted_by_the_schema():
    text = "name: x\npolicies:\n" + "".join(f"  - {name}\n" for name in REGISTRY)
    scenario = parse_scenario(text)
    assert [p.name for p in scenario.policies] == list(REGISTRY)


def test_set_can_switch_the_hierarchy_source_of_a_default_scenario(tmp_path):
    scenario = load_scenario(write(tmp_path, "name: x\n"))
    switched = scenario.with_overrides(["hierarchy.counts=[3, 7, 20]"])
    assert switched.hierarchy.counts == [3, 7, 20]
    assert switched.hierarchy.branching_or_default == []


def test_optional_numeric_parameters_can_be_uncertain(tmp_path):
    text = "name: x\nuncertainties:\n  accountability.inspection_cap: [1, 4]\n  campaign.start: [5, 10]\n"
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.uncertainties["accountability.inspection_cap"] == (1, 4)


def test_unknown_arm_names_the_file_and_suggests(tmp_path):
    path = write(tmp_path, "name: x\narms:\n  - {name: onsite}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path).resolved_parameters("onsit")
    assert str(path) in str(caught.value) and "did you mean 'onsite'" in str(caught.value)


@pytest.mark.parametrize(
    "entry, message",
    [
        ("clarify_directives: {1: 2}", "option names of 'clarify_directives' must be text"),
        ("{name: {a: 1}, options: {}}", "a policy's name must be text"),
    ],
)
def test_policy_entries_of_the_wrong_kind_are_user_mistakes(entry, message):
    error = parse_error(f"name: x\npolicies:\n  - fault_tolerance\n  - {entry}\n")
    assert (error.line, error.field) == (4, "policies.1") and message in error.message


def test_block_style_arm_policies_point_at_the_entry():
    text = "name: x\narms:\n  - name: a\n    policies:\n      - fault_tolerance\n      - onsite_inspektion\n"
    error = parse_error(text)
    assert (error.line, error.field) == (6, "arms.0.policies.1")


def test_outcomes_must_be_distinct():
    error = parse_error("name: x\noutcomes:\n  - {name: burden}\n  - {name: burden, direction: minimize}\n")
    assert error.field == "outcomes" and "burden more than once" in error.message


# --- YAML 1.2 core schema, and no coercion into numbers ---------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-2", 0.01),
        ("-2.5E+1", -25.0),
        (".5", 0.5),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("1:30", "1:30"),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("true", True),
        ("FALSE", False),
        ("~", None),
        ("null", None),
        ("1_000", "1_000"),
        (".inf", float("inf")),
        ("[1e-2, 5e-2, 1e-1]", [0.01, 0.05, 0.1]),
        ("{on: 1, no: 2}", {"on": 1, "no": 2}),
    ],
)
def test_values_are_read_with_yaml_1_2_core_meaning(text, value):
    from sim.scenario.yaml12 import load_value

    assert load_value(text) == value
    assert type(load_value(text)) is type(value)


def test_a_sweep_over_scientific_notation_is_numeric():
    scenario = parse_scenario("name: x\nsweep:\n  grid:\n    relay.escalation: [1e-2, 5e-2, 1e-1]\n")
    assert [point["relay.escalation"] for point in scenario.sweep.points()] == [0.01, 0.05, 0.1]


def test_yaml_1_1_words_are_names_where_names_belong():
    scenario = parse_scenario("name: no\narms: [{name: yes}, {name: off}]\n")
    assert scenario.name == "no" and [arm.name for arm in scenario.arms] == ["yes", "off"]
    assert parse_scenario("name: x\nsteps: 010\n").steps == 10


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("relay.escalation", True, "true is a boolean"),
        ("relay.escalation", "0.2", "text"),
        ("accountability.inspection_cap", False, "boolean"),
        ("execution.fixed_strategy", True, "boolean"),
        ("task.target", [1.0], "valid number"),
    ],
)
def test_nothing_is_coerced_into_a_number(path, value, fragment):
    from sim.scenario.parameters import Parameters, with_values

    with pytest.raises(ValidationError, match=fragment):
        with_values(Parameters(), {path: value})


def test_set_reaches_list_entries_and_path_keyed_mappings():
    scenario = parse_scenario(
        "name: x\narms: [{name: a}, {name: b, set: {relay.dilution: 0.2}}]\n"
        "uncertainties: {relay.escalation: [0, 0.3]}\nparameters: {relay: {dilution: 0.3, stripping: 0.2}}\n"
    )
    changed = scenario.with_overrides(
        [
            "arms.1.name=bb",
            "arms.1.set.relay.dilution=0.4",
            "outcomes.0.direction=minimize",
            "uncertainties.relay.escalation=[0, 0.5]",
            "uncertainties.campaign.start=[1, 9]",
        ]
    )
    assert [arm.name for arm in changed.arms] == ["a", "bb"]
    assert changed.arms[1].set == {"relay.dilution": 0.4}
    assert changed.outcomes[0].direction == "minimize"
    assert changed.uncertainties == {"relay.escalation": (0, 0.5), "campaign.start": (1, 9)}


def test_set_merges_a_mapping_value_instead_of_restoring_defaults():
    scenario = parse_scenario("name: x\nparameters: {relay: {dilution: 0.3, stripping: 0.2}}\n")
    relay = scenario.with_overrides(["parameters.relay={escalation: 0.3}"]).parameters.relay
    assert (relay.escalation, relay.dilution, relay.stripping) == (0.3, 0.3, 0.2)


@pytest.mark.parametrize(
    "assignment, fragment",
    [
        ("hierarchy.branching=", "empty value"),
        ("hierarchy.branching=  ", "empty value"),
        ("arms.2.name=x", "arms has 2 entries"),
        ("arms.first.name=x", "arms has 2 entries"),
        ("steps.x=3", "is a single value"),
    ],
)
def test_set_refuses_empty_values_and_paths_that_lead_nowhere(assignment, fragment):
    scenario = parse_scenario("name: x\narms: [{name: a}, {name: b}]\n")
    with pytest.raises(ScenarioError, match=fragment):
        scenario.with_overrides([assignment])


@pytest.mark.parametrize(
    "text, line, field",
    [
        ("name: x\narms: [{name: a}]\nsteps: 5\nreference: b\n", 4, "reference"),
        ("name: x\nsteps: 5\nreplications: 2\nburn_in: 9\n", 4, "burn_in"),
    ],
)
def test_cross_field_errors_point_at_the_fields_own_line(text, line, field):
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, "s.yaml")
    assert (error.value.line, error.value.field) == (line, field)


def test_set_takes_parameter_paths_without_the_prefix_and_suggests_across_groups():
    scenario = parse_scenario("name: x\n")
    assert scenario.with_overrides(["relay.escalation=0.3"]).parameters.relay.escalation == 0.3
    for wrong in ("accountability.escalation=0.3", "parameters.accountability.escalation=0.3"):
        with pytest.raises(ScenarioError, match=r"did you mean 'relay\.escalation'"):
            scenario.with_overrides([wrong])
    with pytest.raises(ScenarioError, match=r"unknown parameter 'accountability\.escalation' \(did you mean"):
        parse_scenario("name: x\nsweep: {grid: {accountability.escalation: [0.1]}}\n")
