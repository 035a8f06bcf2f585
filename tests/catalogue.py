"""A catalogue of bad inputs: what a user may feed bureausim, and what they must see.

Every case is a set of files written into an empty folder and a command run there. The
tests (tests/test_reliability.py) check that each ends with exit status 2, a one-paragraph
message containing the expected fragments (file, line, field where they exist), no
traceback, and nothing written. ``python tests/catalogue.py docs/RELIABILITY.md`` (``make
reliability``) runs every case and writes the table users can read, from what happened.
"""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

GOOD = "name: ok\nhierarchy: {branching: [2, 2]}\nsteps: 2\nreplications: 1\n"


def _graph(kind: str) -> str:
    """A GraphML hierarchy with one defect."""
    graph = nx.DiGraph()
    graph.add_node("top", level=0)
    for child in ("a", "b"):
        graph.add_node(child, level=1)
        graph.add_edge("top", child)
    if kind == "cycle":
        graph.add_edge("b", "top")
    elif kind == "two_roots":
        graph.add_node("other", level=0)
        graph.add_node("c", level=1)
        graph.add_edge("other", "c")
    elif kind == "levels":
        graph.nodes["b"]["level"] = 2
    elif kind == "no_level":
        graph.add_node("d")
        graph.add_edge("a", "d")
    elif kind == "principals":
        graph.nodes["a"]["principals"] = 0
    elif kind == "float_level":
        for node, level in (("top", 0.0), ("a", 1.0), ("b", 1.5)):
            graph.nodes[node]["level"] = level
    elif kind == "float_principals":
        graph.nodes["a"]["principals"] = 1.5
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    text = buffer.getvalue().decode()
    if kind == "twice":  # the same edge given twice (networkx cannot write that from a DiGraph)
        text = text.replace('<edge source="top" target="a" />', '<edge source="top" target="a" />' * 2)
    return text


class Fifo:
    """A named pipe in place of a file: reading it would wait for a writer forever."""


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to ``target`` in place of a file."""

    target: str


def _bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        name, previous = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "name: bomb\n" + "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """One bad input: its files, the command run on them, and fragments the message must contain."""

    id: str
    what: str
    args: tuple[str, ...]
    files: dict[str, str | bytes | Fifo | Symlink] = field(default_factory=dict)
    expect: tuple[str, ...] = ()


def scenario(text: str) -> dict[str, str]:
    return {"s.yaml": text}


RUN = ("run", "s.yaml", "--out", "out", "--quiet")
COMPARE = ("compare", "s.yaml", "--out", "out", "--quiet", "--workers", "1")
SWEEP = ("sweep", "s.yaml", "--out", "out", "--quiet", "--workers", "1")
SENSITIVITY = ("sensitivity", "s.yaml", "--out", "out", "--quiet", "--workers", "1")
VALIDATE = ("validate", "s.yaml")
# a 200-relay chain: finite at the default escalation, beyond floating point at escalation 5
DEEP = "name: x\nsteps: 2\nreplications: 1\nhierarchy: {branching: [" + ", ".join(["1"] * 200) + "]}\n"
# two lines of arms, the second with a campaign that ends before it starts (line 6)
ARM_WINDOW = GOOD + "arms:\n  - {name: a}\n  - {name: b, set: {campaign.start: 50, campaign.end: 10}}\n"
SWEEP_WINDOW = GOOD + "sweep: {grid: {campaign.start: [1, 50], campaign.end: [10, 60]}}\n"
RANGES_WINDOW = GOOD + "uncertainties: {campaign.start: [1, 50], campaign.end: [10, 60]}\n"
ROBUST = ("robustness", "s.yaml", "--out", "out", "--quiet", "--workers", "1")
# six lines: two arms and one uncertainty, enough for robustness; a robustness: section goes on line 7
ROBUST_GOOD = GOOD + "arms: [{name: a}, {name: b}]\nuncertainties: {relay.escalation: [0, 0.3]}\n"
CALIBRATE = ("calibrate", "s.yaml", "--out", "out", "--quiet", "--workers", "1")
# a calibration's two sections from line 5: one target (line 6), one parameter (line 8)
TARGET = '  - {name: gap, output: implementation_gap, range: [0.1, 0.3], source: "a survey"}\n'
CALIBRATION = "calibration:\n  parameters: {relay.dilution: [0, 0.1]}\n"

CASES: tuple[Case, ...] = (
    Case("empty", "empty file", RUN, scenario(""), ("s.yaml", "empty")),
    Case("comments", "only comments", RUN, scenario("# nothing here\n"), ("s.yaml", "empty")),
    Case("not_yaml", "not YAML", RUN, scenario("name: [unclosed\n"), ("s.yaml", "not valid YAML")),
    Case("binary", "binary file", RUN, scenario(b"\x89PNG\r\n\x1a\n\x00\x00"), ("s.yaml", "binary")),
    Case("latin1", "not UTF-8", RUN, scenario("name: caf\xe9\n".encode("latin-1")), ("s.yaml", "UTF-8")),
    Case("list", "a list, not a mapping", RUN, scenario("- a\n- b\n"), ("s.yaml:1", "mapping")),
    Case("scalar", "a bare scalar", RUN, scenario("42\n"), ("s.yaml:1", "mapping")),
    Case("missing", "no such file", ("run", "nothing.yaml"), {}, ("nothing.yaml", "no such scenario file")),
    Case("directory", "a directory", ("run", "."), {}, ("directory",)),
    Case("type_steps", "wrong type (text for a number)", RUN, scenario("name: x\nsteps: ten\n"), ("s.yaml:2", "steps")),
    Case(
        "float_int", "fraction for a count", RUN, scenario("name: x\nreplications: 2.5\n"), ("s.yaml:2", "replications")
    ),
    Case(
        "range",
        "value out of range",
        RUN,
        scenario("name: x\nparameters:\n  relay:\n    dilution: 1.5\n"),
        ("s.yaml:4", "parameters.relay.dilution", "less than or equal to 1"),
    ),
    Case("steps_negative", "negative steps", RUN, scenario("name: x\nsteps: -5\n"), ("s.yaml:2", "steps")),
    Case("steps_zero", "zero steps", RUN, scenario("name: x\nsteps: 0\n"), ("s.yaml:2", "steps")),
    Case("steps_absurd", "absurd steps", RUN, scenario("name: x\nsteps: 1000000000\n"), ("s.yaml:2", "steps")),
    Case("reps_zero", "zero replications", RUN, scenario("name: x\nreplications: 0\n"), ("s.yaml:2", "replications")),
    Case("reps_absurd", "absurd replications", RUN, scenario("name: x\nreplications: 10000000\n"), ("s.yaml:2",)),
    Case(
        "nan",
        "NaN",
        RUN,
        scenario("name: x\nparameters:\n  relay:\n    escalation: .nan\n"),
        ("s.yaml:4", "parameters.relay.escalation"),
    ),
    Case(
        "infinity",
        "infinity",
        RUN,
        scenario("name: x\nparameters:\n  relay:\n    escalation: .inf\n"),
        ("s.yaml:4", "parameters.relay.escalation"),
    ),
    Case("unknown_top", "unknown key", RUN, scenario("name: x\nstep: 3\n"), ("s.yaml:2", "did you mean 'steps'")),
    Case(
        "unknown_nested",
        "misspelt parameter",
        RUN,
        scenario("name: x\nparameters:\n  relay:\n    escalaton: 0.2\n"),
        ("s.yaml:4", "parameters.relay.escalaton", "did you mean 'escalation'"),
    ),
    Case(
        "unknown_group",
        "unknown parameter group",
        RUN,
        scenario("name: x\nparameters:\n  relays: {}\n"),
        ("s.yaml:3", "did you mean 'relay'"),
    ),
    Case(
        "unknown_policy",
        "unknown policy",
        RUN,
        scenario("name: x\npolicies: [fault_tolerence]\n"),
        ("s.yaml:2", "did you mean 'fault_tolerance'"),
    ),
    Case(
        "policy_option",
        "unknown policy option",
        RUN,
        scenario("name: x\npolicies:\n  - campaign: {begin: 3}\n"),
        ("s.yaml", "begin"),
    ),
    Case(
        "policy_range",
        "policy option out of range",
        RUN,
        scenario("name: x\npolicies:\n  - fault_tolerance: {strength: 2}\n"),
        ("s.yaml", "strength"),
    ),
    Case("duplicate", "duplicate key", RUN, scenario("name: x\nsteps: 3\nsteps: 4\n"), ("s.yaml:3", "duplicate key")),
    Case(
        "python_tag",
        "YAML tag that builds an object",
        RUN,
        scenario("name: !!python/object:os.system {}\n"),
        ("s.yaml:1", "not valid YAML"),
    ),
    Case(
        "python_apply",
        "YAML tag that would run a command",
        RUN,
        scenario("name: !!python/object/apply:os.system ['touch pwned']\n"),
        ("s.yaml:1", "not valid YAML"),
    ),
    Case("alias_bomb", "alias bomb (billion laughs)", RUN, scenario(_bomb()), ("s.yaml:3", "aliases")),
    Case(
        "deep",
        "very deep nesting",
        RUN,
        scenario("name: x\ndescription: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("s.yaml", "nested too deeply"),
    ),
    Case(
        "huge_hierarchy",
        "absurd hierarchy size",
        RUN,
        scenario("name: x\nhierarchy: {branching: [1000, 1000, 1000]}\n"),
        ("s.yaml:2", "1,001,001,001 officials", "GB"),
    ),
    Case(
        "two_sources",
        "two hierarchy sources",
        RUN,
        scenario("name: x\nhierarchy: {branching: [2], counts: [3]}\n"),
        ("s.yaml:2", "give one of branching, counts or file"),
    ),
    Case(
        "counts_shrink",
        "fewer units than superiors",
        RUN,
        scenario("name: x\nhierarchy: {counts: [5, 3]}\n"),
        ("hierarchy.counts", "every superior needs a subordinate"),
    ),
    Case(
        "graph_missing",
        "graph file missing",
        RUN,
        scenario("name: x\nhierarchy: {file: g.graphml}\n"),
        ("g.graphml", "no such graph file"),
    ),
    *(
        Case(
            f"graph_{kind}",
            what,
            RUN,
            {"s.yaml": "name: x\nhierarchy: {file: g.graphml}\n", "g.graphml": _graph(kind)},
            ("g.graphml", *fragments),
        )
        for kind, what, fragments in (
            ("cycle", "cyclic graph", ("cycle",)),
            ("two_roots", "several roots", ("2 roots",)),
            ("levels", "inconsistent levels", ("node 'b'", "level")),
            ("no_level", "node without a level", ("node 'd'", "no 'level'")),
            ("principals", "impossible number of principals", ("node 'a'", "principals")),
        )
    ),
    Case(
        "edges_three_names",
        "edge-list line with three names",
        RUN,
        {"s.yaml": "name: x\nhierarchy: {file: g.edges}\n", "g.edges": "a b\nb c d\n"},
        ("g.edges:2", "expected two names"),
    ),
    Case(
        "set_unknown",
        "--set with an unknown path",
        (*RUN, "--set", "parameters.relay.escalaton=1"),
        scenario(GOOD),
        ("--set", "did you mean 'escalation'"),
    ),
    Case("set_type", "--set with a wrong type", (*RUN, "--set", "steps=many"), scenario(GOOD), ("--set", "steps")),
    Case("set_form", "--set without '='", (*RUN, "--set", "steps"), scenario(GOOD), ("--set", "dotted.path=value")),
    Case("name_path", "scenario name with path separators", RUN, scenario("name: ../../evil\n"), ("s.yaml:1", "name")),
    Case(
        "out_file",
        "output folder under a file",
        ("run", "s.yaml", "--out", "blocker/out"),
        {"s.yaml": GOOD, "blocker": "x"},
        ("blocker",),
    ),
    Case(
        "out_nonempty",
        "output folder not empty",
        RUN,
        {"s.yaml": GOOD, "out/keep.txt": "mine"},
        ("out", "not an empty folder"),
    ),
    Case(
        "arm_unknown", "unknown --arm", (*RUN, "--arm", "reform"), scenario(GOOD), ("s.yaml", "no arm named 'reform'")
    ),
    Case(
        "uncertainty_range",
        "uncertainty with low >= high",
        RUN,
        scenario("name: x\nuncertainties:\n  relay.escalation: [0.3, 0.1]\n"),
        ("s.yaml:3", "low < high"),
    ),
    Case(
        "reference",
        "reference that is not an arm",
        RUN,
        scenario("name: x\narms: [{name: a}]\nreference: b\n"),
        ("s.yaml:3", "reference: 'b' is not an arm"),
    ),
    Case(
        "burn_in",
        "burn-in longer than the run",
        RUN,
        scenario("name: x\nsteps: 5\nburn_in: 9\n"),
        ("s.yaml:3", "burn_in: 9 periods must be shorter than the run (5 steps)"),
    ),
    Case(
        "sweep_policy_nowhere",
        "sweep of an option of a policy switched on nowhere",
        SWEEP,
        scenario(GOOD + "sweep: {grid: {policies.fault_tolerance.strength: [0.5]}}\n"),
        ("s.yaml:5", "fault_tolerance is not switched on in the scenario or any arm"),
    ),
    Case(
        "sweep_arm_clash",
        "sweep of a path an arm sets",
        SWEEP,
        scenario(GOOD + "arms: [{name: a, set: {relay.escalation: 0.2}}]\nsweep: {grid: {relay.escalation: [0.1]}}\n"),
        ("s.yaml:6", "arm a sets relay.escalation, which the sweep varies"),
    ),
    Case(
        "sweep_hierarchy_typo",
        "misspelt hierarchy value in a sweep",
        SWEEP,
        scenario(GOOD + "sweep: {grid: {hierarchy.extra_principal: [1]}}\n"),
        ("s.yaml:5", "did you mean 'extra_principals'"),
    ),
    Case(
        "uncertain_hierarchy",
        "range on a hierarchy value",
        RUN,
        scenario(GOOD + "uncertainties: {hierarchy.extra_principals: [0, 2]}\n"),
        ("s.yaml:5", "a hierarchy value cannot be given a range"),
    ),
    Case(
        "factors_and_arms",
        "factorial design with arms of its own",
        RUN,
        scenario(
            GOOD + "arms: [{name: a}]\nfactors: {x: {policies: [fault_tolerance]}, y: {policies: [burden_reduction]}}\n"
        ),
        ("s.yaml", "makes its own arms"),
    ),
    Case(
        "factors_one",
        "factorial design of one factor",
        RUN,
        scenario(GOOD + "factors: {x: {policies: [fault_tolerance]}}\n"),
        ("s.yaml", "give 2 to 6 factors"),
    ),
    Case(
        "min_effect_zero",
        "smallest effect of interest not positive",
        RUN,
        scenario(GOOD + "outcomes: [{name: goal_attainment, min_effect: 0}]\n"),
        ("s.yaml:5", "min_effect"),
    ),
    Case(
        "min_effect_option",
        "--min-effect not positive",
        (*COMPARE, "--min-effect", "-1"),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("--min-effect", "must be a positive number"),
    ),
    Case(
        "compare_no_arms",
        "compare without arms",
        ("compare", "s.yaml", "--out", "out", "--quiet", "--workers", "1"),
        scenario(GOOD),
        ("s.yaml", "arms"),
    ),
    Case(
        "workers_zero",
        "--workers 0",
        ("compare", "s.yaml", "--out", "out", "--quiet", "--workers", "0"),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("--workers", "at least 1"),
    ),
    Case(
        "precision",
        "negative --precision",
        ("compare", "s.yaml", "--out", "out", "--quiet", "--precision", "-1"),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("--precision", "positive"),
    ),
    Case(
        "sobol_samples",
        "Sobol samples not a power of two",
        ("sensitivity", "s.yaml", "--method", "sobol", "--samples", "6", "--out", "out", "--quiet"),
        scenario(GOOD + "uncertainties: {relay.escalation: [0, 0.3], relay.dilution: [0, 0.1]}\n"),
        ("--samples", "power of two"),
    ),
    Case(
        "sweep_none",
        "sweep without a sweep: section",
        ("sweep", "s.yaml", "--out", "out", "--quiet"),
        scenario(GOOD),
        ("s.yaml", "sweep"),
    ),
    Case(
        "robust_satisficing",
        "satisficing threshold on a misspelt outcome",
        ROBUST,
        scenario(ROBUST_GOOD + "robustness: {satisficing: [goal_atainment >= 0.5]}\n"),
        ("s.yaml:7", "robustness.satisficing", "did you mean 'goal_attainment'"),
    ),
    Case(
        "robust_satisficing_arm",
        "satisficing threshold against an arm",
        ROBUST,
        scenario(ROBUST_GOOD + "robustness: {satisficing: [goal_attainment >= a]}\n"),
        ("s.yaml:7", "robustness.satisficing", "'a' is not a number"),
    ),
    Case(
        "robust_discover_arm",
        "discovery question on an unknown arm",
        ROBUST,
        scenario(ROBUST_GOOD + "robustness: {discover: [{arm: c, when: goal_attainment <= a}]}\n"),
        ("s.yaml", "robustness.discover", "'c' is not an arm"),
    ),
    Case(
        "robust_density",
        "discovery density above 1",
        ROBUST,
        scenario(ROBUST_GOOD + "robustness: {discover: [{arm: b, when: goal_attainment <= a, density: 2}]}\n"),
        ("s.yaml:7", "robustness.discover.0.density", "less than or equal to 1"),
    ),
    Case(
        "robust_discover_form",
        "--discover without 'ARM:'",
        (*ROBUST, "--discover", "goal_attainment <= a"),
        scenario(ROBUST_GOOD),
        ("--discover", "ARM: CONDITION"),
    ),
    Case(
        "robust_discover_outcome",
        "--discover with a misspelt outcome",
        (*ROBUST, "--discover", "b: goal_atainment <= a"),
        scenario(ROBUST_GOOD),
        ("--discover", "did you mean 'goal_attainment'"),
    ),
    Case(
        "robust_futures",
        "--futures 1",
        (*ROBUST, "--futures", "1"),
        scenario(ROBUST_GOOD),
        ("--futures", "must be from 2 to"),
    ),
    Case(
        "robust_no_uncertainties",
        "robustness without uncertainties",
        ROBUST,
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("s.yaml", "uncertainties", "needs uncertain parameters"),
    ),
    Case(
        "robust_one_arm",
        "robustness with one arm",
        ROBUST,
        scenario(GOOD + "arms: [{name: a}]\nuncertainties: {relay.escalation: [0, 0.3]}\n"),
        ("s.yaml", "arms", "at least two arms"),
    ),
    Case(
        "report_no_manifest",
        "report on a folder that holds no results",
        ("report", "out"),
        {"out/notes.txt": "mine"},
        ("out", "no manifest.json"),
    ),
    # output paths the file system cannot hold, or that lead nowhere
    Case(
        "out_name_too_long",
        "--out with a 300-byte name",
        ("run", "s.yaml", "--out", "a" * 300, "--quiet"),
        scenario(GOOD),
        ("has a name of 300 bytes", "at most 255"),
    ),
    Case(
        "out_name_no_room",
        "--out with a 250-byte name (no room for the lock beside it)",
        ("compare", "s.yaml", "--out", "b" * 250, "--quiet", "--workers", "1"),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("has a name of 250 bytes", "room for the hidden lock"),
    ),
    Case(
        "out_dangling",
        "--out a symlink to nowhere",
        COMPARE,
        {**scenario(GOOD + "arms: [{name: a}, {name: b}]\n"), "out": Symlink("/nonexistent/folder")},
        ("out", "is a symlink to /nonexistent/folder, which does not exist"),
    ),
    Case(
        "out_through_dangling",
        "--out below a symlink to nowhere",
        ("run", "s.yaml", "--out", "link/out", "--quiet"),
        {**scenario(GOOD), "link": Symlink("/nonexistent/folder")},
        ("link/out", "goes through link, which is a symlink to /nonexistent/folder"),
    ),
    Case(
        "out_under_a_file",
        "--out inside a file",
        ("sweep", "s.yaml", "--out", "s.yaml/out", "--quiet", "--workers", "1"),
        scenario(GOOD + "sweep: {grid: {relay.escalation: [0.1]}}\n"),
        ("s.yaml/out", "cannot be created: s.yaml is not a folder"),
    ),
    Case(
        "report_out_folder",
        "report --out an existing folder",
        ("report", "res", "--out", "res"),
        {"res/manifest.json": '{"kind": "run", "scenario": {"name": "x"}}'},
        ("res", "is a folder, not a file to write"),
    ),
    # damaged results folders: one paragraph and exit 2 from report, resume and load_results
    Case(
        "report_garbage_manifest",
        "report on a folder whose manifest is garbage",
        ("report", "out"),
        {"out/manifest.json": "\x00garbage{"},
        ("out", "manifest.json is damaged (not JSON)"),
    ),
    Case(
        "report_manifest_list",
        "report on a manifest that is a JSON list",
        ("report", "out"),
        {"out/manifest.json": "[1, 2]"},
        ("out", "manifest.json is damaged (not a JSON object)"),
    ),
    Case(
        "report_manifest_no_scenario",
        "report on a manifest without its scenario",
        ("report", "out"),
        {"out/manifest.json": '{"kind": "compare"}'},
        ("out", "its 'scenario' is missing or of the wrong type"),
    ),
    Case(
        "report_manifest_bad_scenario",
        "report on a manifest whose scenario is not valid",
        ("report", "out"),
        {"out/manifest.json": '{"kind": "run", "scenario": {"steps": "many"}}'},
        ("out", "its scenario is not valid", "steps"),
    ),
    Case(
        "report_unknown_kind",
        "report on a folder of an unknown kind",
        ("report", "out"),
        {"out/manifest.json": '{"kind": "forecast", "scenario": {}}'},
        ("out", "unknown kind 'forecast'", "known: run, compare"),
    ),
    Case(
        "report_missing_table",
        "report on a run folder whose tables were removed",
        ("report", "out"),
        {"out/manifest.json": '{"kind": "run", "scenario": {"name": "x"}}'},
        ("out", "a table or the manifest is missing or damaged"),
    ),
    Case(
        "plot_no_manifest",
        "plot on a folder that holds no results",
        ("plot", "out"),
        {"out/notes.txt": "mine"},
        ("out", "no manifest.json"),
    ),
    Case(
        "plot_unfinished",
        "plot on an experiment that has not finished",
        ("plot", "out"),
        {"out/experiment.json": "{}"},
        ("out", "has not finished", "same --out"),
    ),
    Case(
        "plot_missing_table",
        "plot on a run folder whose tables were removed",
        ("plot", "out"),
        {"out/manifest.json": '{"kind": "run", "scenario": {"name": "x"}}'},
        ("out", "cannot be read back: a table is missing or damaged"),
    ),
    Case(
        "plot_bad_format",
        "plot --format a format figures are not written in",
        ("plot", "out", "--format", "png,gif"),
        {"out/manifest.json": '{"kind": "run", "scenario": {"name": "x"}}'},
        ("--format", "gif is not a figure format", "png, pdf, svg"),
    ),
    Case(
        "plot_empty_format",
        "plot --format with an empty name in its list",
        ("plot", "out", "--format", "png,,svg"),
        {"out/manifest.json": '{"kind": "run", "scenario": {"name": "x"}}'},
        ("--format", "an empty name is not a figure format"),
    ),
    Case(
        "explain_exact_and_permutations",
        "explain --exact with --permutations",
        ("explain", "s.yaml", "--out", "out", "--quiet", "--workers", "1", "--exact", "--permutations", "4"),
        scenario(GOOD),
        ("--permutations", "cannot be given with --exact"),
    ),
    Case(
        "explain_odd_permutations",
        "explain --permutations an odd number",
        ("explain", "s.yaml", "--out", "out", "--quiet", "--workers", "1", "--permutations", "3"),
        scenario(GOOD),
        ("--permutations", "must be a positive even number", "not 3"),
    ),
    Case(
        "plot_bad_size",
        "plot --size that is not width x height",
        ("plot", "out", "--size", "A4"),
        {"out/manifest.json": '{"kind": "run", "scenario": {"name": "x"}}'},
        ("--size", "'A4' is not a size", "7x4"),
    ),
    Case(
        "resume_garbage_identity",
        "resuming a folder whose experiment.json is garbage",
        COMPARE,
        {**scenario(GOOD + "arms: [{name: a}, {name: b}]\n"), "out/experiment.json": "not json"},
        ("out", "experiment.json is damaged (not JSON)", "cannot be resumed"),
    ),
    Case(
        "resume_identity_shape",
        "resuming a folder whose experiment.json has the wrong shape",
        COMPARE,
        {**scenario(GOOD + "arms: [{name: a}, {name: b}]\n"), "out/experiment.json": '{"kind": 3}'},
        ("out", "experiment.json is damaged (its 'kind' is missing or of the wrong type)"),
    ),
    # every check before the first run: targets that stay finite, and values that must agree
    Case(
        "overflow",
        "a chain whose escalated targets could leave floating point",
        RUN,
        scenario(DEEP + "parameters: {relay: {escalation: 5}}\n"),
        ("s.yaml:5", "parameters.relay.escalation", "200 relays", "beyond what floating point holds"),
    ),
    Case(
        "overflow_validate",
        "validate on that chain",
        VALIDATE,
        scenario(DEEP + "parameters: {relay: {escalation: 5}}\n"),
        ("s.yaml:5", "parameters.relay.escalation", "beyond what floating point holds"),
    ),
    Case(
        "overflow_arm",
        "an arm that escalates a deep chain beyond floating point",
        COMPARE,
        scenario(DEEP + "arms: [{name: a}, {name: b, set: {relay.escalation: 5}}]\n"),
        ("s.yaml:5", "arms.1.set", "arm b: 200 relays"),
    ),
    Case(
        "overflow_point",
        "a sweep point that escalates a deep chain beyond floating point",
        SWEEP,
        scenario(DEEP + "sweep: {grid: {relay.escalation: [0.1, 5]}}\n"),
        ("s.yaml:5", "sweep", "point 1 (relay.escalation=5)", "beyond what floating point holds"),
    ),
    Case(
        "arm_window",
        "an arm whose campaign ends before it starts",
        COMPARE,
        scenario(ARM_WINDOW),
        ("s.yaml:7", "arms.1.set", "campaign end (10) must come after its start (50)"),
    ),
    Case(
        "arm_window_validate",
        "validate on that arm",
        VALIDATE,
        scenario(ARM_WINDOW),
        ("s.yaml:7", "arms.1.set", "campaign end (10)"),
    ),
    Case(
        "arm_window_run",
        "run --arm on that arm",
        (*RUN, "--arm", "b"),
        scenario(ARM_WINDOW),
        ("s.yaml:7", "arms.1.set", "campaign end (10)"),
    ),
    Case(
        "sweep_window",
        "a sweep point whose campaign ends before it starts",
        SWEEP,
        scenario(SWEEP_WINDOW),
        ("s.yaml:5", "sweep", "point 2 (campaign.start=50, campaign.end=10)", "not a valid set of parameters"),
    ),
    Case(
        "sweep_window_validate",
        "validate on that sweep",
        VALIDATE,
        scenario(SWEEP_WINDOW),
        ("s.yaml:5", "sweep", "point 2"),
    ),
    Case(
        "ranges_window",
        "sensitivity ranges that give campaigns ending before they start",
        SENSITIVITY,
        scenario(RANGES_WINDOW),
        ("s.yaml:5", "uncertainties", "is not a valid set of parameters", "narrow the ranges"),
    ),
    Case(
        "ranges_window_validate",
        "validate on those ranges",
        VALIDATE,
        scenario(RANGES_WINDOW),
        ("s.yaml:5", "uncertainties", "narrow the ranges"),
    ),
    Case(
        "graph_level_names",
        "three level names for a two-level graph file",
        COMPARE,
        {
            "s.yaml": "name: x\nhierarchy: {file: g.graphml, levels: [a, b, c]}\narms: [{name: a}, {name: b}]\n",
            "g.graphml": _graph("ok"),
        },
        ("s.yaml:2", "hierarchy.levels", "3 level names for a hierarchy of 2 levels"),
    ),
    # files that are not regular files, or too large, are refused before a byte is read
    Case("scenario_fifo", "a FIFO as scenario file", ("run", "f.yaml"), {"f.yaml": Fifo()}, ("f.yaml", "is a FIFO")),
    Case("scenario_device", "/dev/zero as scenario file", ("run", "/dev/zero"), {}, ("/dev/zero", "is a device")),
    Case(
        "scenario_huge",
        "a 5 MiB scenario file",
        RUN,
        scenario("name: x\n" + "# padding\n" * 524_288),
        ("s.yaml", "larger than the 4.0 MiB a scenario file may have (5.0 MiB)"),
    ),
    Case(
        "graph_fifo",
        "a FIFO as graph file",
        RUN,
        {"s.yaml": "name: x\nhierarchy: {file: g.edges}\n", "g.edges": Fifo()},
        ("g.edges", "is a FIFO"),
    ),
    Case(
        "graph_device",
        "/dev/zero as graph file (absolute paths allowed)",
        (*RUN, "--allow-absolute-paths"),
        scenario("name: x\nhierarchy: {file: /dev/zero}\n"),
        ("/dev/zero", "is a device, not a graph file"),
    ),
    Case(
        "graph_absolute",
        "an absolute graph-file path",
        RUN,
        scenario("name: x\nhierarchy:\n  file: /etc/passwd\n"),
        ("s.yaml:3", "hierarchy.file", "absolute path", "--allow-absolute-paths"),
    ),
    Case(
        "graph_absolute_set",
        "an absolute graph-file path given with --set",
        (*RUN, "--set", "hierarchy.file=/etc/passwd", "--set", "hierarchy.branching=null"),
        scenario(GOOD),
        ("--set", "hierarchy.file", "absolute path"),
    ),
    Case(
        "graph_not_a_graph",
        "a text file that is not a graph (its text is not echoed)",
        RUN,
        {"s.yaml": "name: x\nhierarchy: {file: notes.txt}\n", "notes.txt": "my password is hunter2\n"},
        ("notes.txt:1", "expected two names", "found 4"),
    ),
    Case(
        "graph_float_level",
        "a GraphML level of 1.5",
        RUN,
        {"s.yaml": "name: x\nhierarchy: {file: g.graphml}\n", "g.graphml": _graph("float_level")},
        ("g.graphml", "node 'b' has a non-integer level 1.5"),
    ),
    Case(
        "graph_float_principals",
        "a GraphML principals of 1.5",
        RUN,
        {"s.yaml": "name: x\nhierarchy: {file: g.graphml}\n", "g.graphml": _graph("float_principals")},
        ("g.graphml", "node 'a' has a non-integer principals 1.5"),
    ),
    Case(
        "graph_edge_twice",
        "a GraphML edge given twice",
        RUN,
        {"s.yaml": "name: x\nhierarchy: {file: g.graphml}\n", "g.graphml": _graph("twice")},
        ("g.graphml", "'top' -> 'a' is given more than once"),
    ),
    Case(
        "edges_twice",
        "an edge-list line given twice",
        RUN,
        {"s.yaml": "name: x\nhierarchy: {file: g.edges}\n", "g.edges": "top a\ntop b\ntop a\n"},
        ("g.edges:3", "'top' -> 'a' is given twice (first on line 1)"),
    ),
    # sizes judged before anything is allocated: a refusal gives the count and the time it would take
    Case(
        "sweep_huge",
        "a sweep grid of 10^12 points",
        SWEEP,
        scenario(
            GOOD
            + "sweep: {grid: {"
            + ", ".join(
                f"{p}: [{', '.join(['0.1'] * 1000)}]"
                for p in ("relay.escalation", "relay.dilution", "relay.stripping", "relay.report_inflation")
            )
            + "}}\n"
        ),
        (
            "s.yaml:5",
            "sweep",
            "1,000 x 1,000 x 1,000 x 1,000 points x 1 replication is 1,000,000,000,000 runs",
            "years on one core",
        ),
    ),
    Case(
        "samples_huge",
        "sensitivity with --samples 10^9",
        (*SENSITIVITY, "--samples", "1000000000"),
        scenario(GOOD + "uncertainties: {relay.escalation: [0, 0.3], relay.dilution: [0, 0.2]}\n"),
        ("--samples", "1,000,000,000 morris samples x 3 points each x 1 replication", "at most 10,000,000"),
    ),
    Case(
        "max_replications_huge",
        "compare --precision with --max-replications 10^9",
        (*COMPARE, "--precision", "0.01", "--max-replications", "1000000000"),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("--max-replications", "2 arms x 1,000,000,000 replications is 2,000,000,000 runs"),
    ),
    Case(
        "scheduler_no_port",
        "a --scheduler address without a port",
        ("compare", "s.yaml", "--out", "out", "--quiet", "--scheduler", "tcp://"),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("--scheduler", "is not a scheduler address", "tcp://10.0.0.5:8786"),
    ),
    Case(
        "scheduler_bad_port",
        "a --scheduler port out of range",
        ("sweep", "s.yaml", "--out", "out", "--quiet", "--scheduler", "10.0.0.5:99999"),
        scenario(GOOD + "sweep: {grid: {relay.escalation: [0.1, 0.2]}}\n"),
        ("--scheduler", "port 99999 is not 1 to 65535"),
    ),
    # --set reaches list entries and merges mappings; it never reads an empty value as null
    Case(
        "set_empty",
        "--set with an empty value",
        (*RUN, "--set", "hierarchy.branching="),
        scenario(GOOD),
        ("--set", "hierarchy.branching", "empty value"),
    ),
    Case(
        "set_list_index",
        "--set on a list entry that does not exist",
        (*RUN, "--set", "arms.3.name=x"),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("--set", "arms.3", "arms has 2 entries, numbered from 0"),
    ),
    Case(
        "set_into_value",
        "--set below a single value",
        (*RUN, "--set", "steps.count=3"),
        scenario(GOOD),
        ("--set: steps:", "is a single value, with no 'count' inside it"),
    ),
    Case(
        "set_mapping_typo",
        "--set a mapping with a misspelt key",
        (*RUN, "--set", "parameters.relay={escalaton: 0.3}"),
        scenario(GOOD),
        ("--set", "parameters.relay.escalaton", "did you mean 'escalation'"),
    ),
    Case(
        "complex_key",
        "a YAML complex key (a list as a key)",
        RUN,
        scenario("name: x\nparameters:\n  ? [relay, task]\n  : {escalation: 0.2}\n"),
        ("s.yaml:3", "parameters", "a key must be a name, not a list"),
    ),
    Case(
        "complex_key_top",
        "a mapping as a top-level key",
        RUN,
        scenario("name: x\n? {steps: 3}\n: 4\n"),
        ("s.yaml:2", "a key must be a name, not a mapping"),
    ),
    Case(
        "set_wrong_group",
        "--set a parameter under the wrong group",
        (*RUN, "--set", "accountability.escalation=0.3"),
        scenario(GOOD),
        ("--set", "parameters.accountability.escalation", "did you mean 'relay.escalation'"),
    ),
    Case(
        "sweep_wrong_group",
        "a sweep over a parameter under the wrong group",
        SWEEP,
        scenario(GOOD + "sweep: {grid: {accountability.escalation: [0.1, 0.2]}}\n"),
        ("s.yaml:5", "sweep", "did you mean 'relay.escalation'"),
    ),
    # YAML 1.2 core schema: yes/no/on/off are text, 1:30 is not a number, and nothing is coerced into one
    Case(
        "yaml11_yes",
        "YAML 1.1 'yes' for a number",
        RUN,
        scenario("name: x\nparameters:\n  relay:\n    escalation: yes\n"),
        ("s.yaml:4", "parameters.relay.escalation", "'yes' is text, not a number"),
    ),
    Case(
        "yaml11_no_strategy",
        "YAML 1.1 'no' for a strategy",
        RUN,
        scenario("name: x\nparameters:\n  execution:\n    fixed_strategy: no\n"),
        ("s.yaml:4", "parameters.execution.fixed_strategy", "unknown strategy 'no'"),
    ),
    Case(
        "yaml11_no_cap",
        "YAML 1.1 'no' for a cap",
        RUN,
        scenario("name: x\nparameters:\n  accountability:\n    inspection_cap: no\n"),
        ("s.yaml:4", "parameters.accountability.inspection_cap", "text"),
    ),
    Case(
        "sexagesimal",
        "sexagesimal steps (1:30)",
        RUN,
        scenario("name: x\nsteps: 1:30\n"),
        ("s.yaml:2", "steps", "'1:30'"),
    ),
    Case(
        "bool_number",
        "a boolean for a number",
        RUN,
        scenario("name: x\nparameters:\n  relay:\n    escalation: true\n"),
        ("s.yaml:4", "parameters.relay.escalation", "true is a boolean"),
    ),
    Case(
        "bool_strategy",
        "a boolean for a strategy",
        RUN,
        scenario("name: x\nparameters:\n  execution:\n    fixed_strategy: true\n"),
        ("s.yaml:4", "parameters.execution.fixed_strategy", "boolean"),
    ),
    Case(
        "bool_in_list",
        "a boolean among branching factors",
        RUN,
        scenario("name: x\nhierarchy:\n  branching: [4, true]\n"),
        ("s.yaml:3", "hierarchy.branching", "boolean"),
    ),
    Case("bool_seed", "a boolean seed", RUN, scenario("name: x\nseed: false\n"), ("s.yaml:2", "seed", "boolean")),
    Case(
        "quoted_number",
        "a quoted number",
        RUN,
        scenario('name: x\nparameters:\n  relay:\n    escalation: "0.2"\n'),
        ("s.yaml:4", "parameters.relay.escalation", "text"),
    ),
    Case(
        "bool_option",
        "a boolean policy option",
        RUN,
        scenario("name: x\npolicies:\n  - fault_tolerance: {strength: true}\n"),
        ("s.yaml:3", "strength", "boolean"),
    ),
    Case(
        "set_yes",
        "--set with YAML 1.1 'yes' for a number",
        (*RUN, "--set", "parameters.relay.escalation=yes"),
        scenario(GOOD),
        ("--set", "parameters.relay.escalation", "text"),
    ),
    Case(
        "set_bool",
        "--set with a boolean for a count",
        (*RUN, "--set", "replications=true"),
        scenario(GOOD),
        ("--set", "replications", "boolean"),
    ),
    Case(
        "task_twice",
        "two tasks with one name",
        RUN,
        scenario("name: x\ntasks:\n  - {name: water}\n  - {name: water}\n"),
        ("s.yaml:2", "distinct", "water"),
    ),
    Case(
        "task_window",
        "a task that ends before it starts",
        RUN,
        scenario("name: x\ntasks:\n  - {name: campaign, start: 10, end: 5}\n"),
        ("s.yaml:3", "end (5) must come after start (10)"),
    ),
    Case(
        "task_measurability",
        "a measurability above 1",
        RUN,
        scenario("name: x\ntasks:\n  - {name: services, measurability: 1.5}\n"),
        ("s.yaml:3", "tasks.0.measurability"),
    ),
    Case(
        "task_bool_target",
        "a boolean task target",
        RUN,
        scenario("name: x\ntasks:\n  - {name: water, target: yes}\n"),
        ("s.yaml:3", "tasks.0.target", "text"),
    ),
    Case(
        "task_shared_value",
        "a task setting a parameter every task shares",
        RUN,
        scenario("name: x\ntasks:\n  - {name: water, set: {accountability.blame_shift: 0.5}}\n"),
        ("s.yaml:3", "cannot differ between tasks"),
    ),
    Case(
        "task_outcome",
        "an outcome naming no task",
        RUN,
        scenario("name: x\ntasks:\n  - {name: water}\noutcomes:\n  - {name: 'goal_attainment[air]'}\n"),
        ("s.yaml", "names no task", "water"),
    ),
    Case(
        "task_reform",
        "a reform on a task the portfolio does not have",
        RUN,
        scenario("name: x\ntasks:\n  - {name: water}\npolicies:\n  - {precise_accountability: {tasks: [air]}}\n"),
        ("s.yaml:5", "no task named air"),
    ),
    Case(
        "task_cap_alone",
        "a task list without a portfolio",
        RUN,
        scenario("name: x\npolicies:\n  - {burden_reduction: {task_cap: 3}}\n"),
        ("s.yaml:3", "whole portfolio"),
    ),
    Case(
        "task_at_parameters",
        "tasks under parameters",
        RUN,
        scenario("name: x\nparameters:\n  tasks: [{name: water}]\n"),
        ("s.yaml:3", "at the top of the scenario"),
    ),
    Case(
        "escalation_levels",
        "escalation rates by level that do not match the relays",
        RUN,
        scenario(GOOD + "parameters:\n  relay:\n    escalation_by_level: [0.3, 0.1, 0.05]\n"),
        ("s.yaml", "relay.escalation_by_level", "3 escalation rates", "2 relays"),
    ),
    Case(
        "escalation_levels_task",
        "a task's own escalation beside rates by level",
        RUN,
        scenario(
            GOOD
            + "parameters:\n  relay: {escalation_by_level: [0.3, 0.1]}\n"
            + "tasks:\n  - {name: water, set: {relay.escalation: 0.2}}\n"
        ),
        ("s.yaml:8", "tasks.0.set", "would not be used"),
    ),
    Case(
        "report_rule",
        "an unknown report rule",
        RUN,
        scenario(GOOD + "parameters:\n  relay: {report_rule: average}\n"),
        ("s.yaml:6", "relay.report_rule", "sum", "rate"),
    ),
    Case(
        "inflation_options_empty",
        "an empty list of inflation options",
        RUN,
        scenario(GOOD + "parameters:\n  relay: {inflation_options: []}\n"),
        ("s.yaml:6", "relay.inflation_options"),
    ),
    Case(
        "switched_off_outcome",
        "an outcome that exists only with a switch that is off",
        RUN,
        scenario(
            GOOD
            + "parameters:\n  execution: {motivated_share: null}\n"
            + "outcomes:\n  - {name: share_falsify_motivated}\n"
        ),
        ("s.yaml:8", "outcomes.0", "execution.motivated_share"),
    ),
    Case(
        "level_gap_outcome",
        "a gap-by-level outcome for the grassroots",
        RUN,
        scenario(
            GOOD + "parameters:\n  relay: {report_rule: rate}\noutcomes:\n  - {name: implementation_gap_township}\n"
        ),
        ("s.yaml:8", "outcomes.0", "implementation_gap_municipality"),
    ),
    Case(
        "middle_switch_string",
        "a middle-level switch given as a string",
        RUN,
        scenario(GOOD + "parameters:\n  middle: {relay_choice: 'yes'}\n"),
        ("s.yaml:6", "middle.relay_choice"),
    ),
    Case(
        "relay_share_switched_off",
        "a relay-option outcome with middle levels that do not decide",
        RUN,
        scenario(GOOD + "outcomes:\n  - {name: relay_share_clarify}\n"),
        ("s.yaml:6", "outcomes.0", "middle.relay_choice"),
    ),
    Case(
        "period_length_zero",
        "a period of no length",
        RUN,
        scenario(GOOD + "parameters:\n  time: {period_months: 0}\n"),
        ("s.yaml:6", "time.period_months"),
    ),
    Case(
        "feedback_round_zero",
        "a feedback round of no periods",
        RUN,
        scenario(GOOD + "parameters:\n  feedback: {every: 0}\n"),
        ("s.yaml:6", "feedback.every"),
    ),
    Case(
        "target_without_uncertainty",
        "a calibration target with neither sd nor range",
        CALIBRATE,
        scenario(
            GOOD + "targets:\n  - {name: gap, output: implementation_gap, value: 0.2, source: a survey}\n" + CALIBRATION
        ),
        ("s.yaml:6", "targets.0", "sd", "range"),
    ),
    Case(
        "target_unknown_output",
        "a calibration target matching no output",
        CALIBRATE,
        scenario(
            GOOD
            + "targets:\n  - {name: gap, output: implementation_gapp, sd: 0.1, value: 0.2, source: s s}\n"
            + CALIBRATION
        ),
        ("s.yaml:6", "targets.0.output", "implementation_gap"),
    ),
    Case(
        "target_without_source",
        "a calibration target without its source",
        CALIBRATE,
        scenario(GOOD + "targets:\n  - {name: gap, output: implementation_gap, range: [0.1, 0.3]}\n" + CALIBRATION),
        ("s.yaml:6", "targets.0.source"),
    ),
    Case(
        "calibration_without_parameters",
        "calibrate without a calibration: section",
        CALIBRATE,
        scenario(GOOD + "targets:\n" + TARGET),
        ("s.yaml", "calibration:"),
    ),
    Case(
        "calibration_all_held_out",
        "calibrate with every target held out",
        CALIBRATE,
        scenario(GOOD + "targets:\n" + TARGET.replace("}", ", held_out: true}") + CALIBRATION),
        ("s.yaml:5", "targets", "not held out"),
    ),
    Case(
        "calibration_policy_option",
        "a policy's option as a calibration parameter",
        CALIBRATE,
        scenario(
            GOOD + "targets:\n" + TARGET + "calibration:\n  parameters: {policies.fault_tolerance.strength: [0, 1]}\n"
        ),
        ("s.yaml:8", "calibration.parameters.policies.fault_tolerance.strength", "model parameters only"),
    ),
    Case(
        "calibration_unknown_pattern",
        "a calibration constrained by a pattern that does not exist",
        CALIBRATE,
        scenario(GOOD + "targets:\n" + TARGET + CALIBRATION + "  patterns: [P99]\n"),
        ("s.yaml:9", "calibration.patterns.0", "P99"),
    ),
    Case(
        "posterior_not_a_calibration",
        "compare --posterior with a folder that is no calibration",
        (*COMPARE, "--posterior", "."),
        scenario(GOOD + "arms: [{name: a}, {name: b}]\n"),
        ("not the folder of a finished calibration",),
    ),
)


@dataclass
class Observation:
    """What a user saw: exit status, what was printed on standard error, what was written."""

    status: int
    message: str
    written: list[str]


def observe(case: Case, folder: Path) -> Observation:
    """Run one case in ``folder`` (empty), in this process, as the command line would."""
    import os

    from sim.app.cli import main

    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, Symlink):
            path.symlink_to(content.target)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    before = {str(p.relative_to(folder)) for p in folder.rglob("*")}
    errors = io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(list(case.args))
        except SystemExit as exit_:
            status = int(exit_.code or 0)
    after = {str(p.relative_to(folder)) for p in folder.rglob("*")}
    return Observation(status, errors.getvalue().strip(), sorted(after - before))


def write_report(path: Path) -> None:
    """Run every case and write the Markdown catalogue of what users see."""
    import tempfile

    lines = [
        "# Reliability: every bad input answered clearly",
        "",
        "Generated by `make reliability` (`python tests/catalogue.py docs/RELIABILITY.md`) from the catalogue "
        "in `tests/catalogue.py`, which `tests/test_reliability.py` also runs: each case must end with exit "
        "status 2, a one-paragraph message naming the file, line and field where they exist, no traceback, "
        "and nothing written. The messages below are what the command printed (paths shortened to the file name).",
        "",
        f"{len(CASES)} cases.",
        "",
        "| case | input | command | what the user sees | exit | written |",
        "|---|---|---|---|---|---|",
    ]
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            seen = observe(case, Path(folder))
            message = seen.message.replace(folder + "/", "").replace("|", "\\|").replace("\n", " ")
        command = "bureausim " + " ".join(case.args)
        written = ", ".join(seen.written) or "nothing"
        lines.append(f"| `{case.id}` | {case.what} | `{command}` | {message} | {seen.status} | {written} |")
    lines += [
        "",
        "## Faults, fuzzing and numerical edges",
        "",
        "Each is an automated test (run in CI); the file and test name say where.",
        "",
        "| what | what happens | test |",
        "|---|---|---|",
        "| a run raises | the others finish; the run and its traceback go to `failures.jsonl`; exit 1; "
        "`--retry-failed` runs only it | `tests/test_experiments.py` |",
        "| every run raises | exit 1, 'no run finished', no traceback | `tests/test_experiments.py` |",
        "| SIGKILL to a comparison | the same command resumes; tables equal an uninterrupted run's | "
        "`tests/test_experiments.py` |",
        "| resuming a folder started under other code (another version, an edited model, or a bureausim "
        "that recorded no code) | refused before any run, naming both codes (version and model-source hash); "
        "`--allow-other-code` resumes and the manifest records it | `tests/test_experiments.py` |",
        "| `--out` a symlink to (or a path through a symlinked parent of) a folder another command is writing "
        "| refused: the lock belongs to the resolved folder | `tests/test_experiments.py` |",
        "| an edited line in `index.jsonl` (a changed value, or another part named) | the line fails its "
        "check and is recomputed from its part on resume: the tables equal an undisturbed run's | "
        "`tests/test_experiments.py` |",
        "| a run part that cannot be read | moved to `runs/damaged/`, named on stderr and in the manifest; its "
        "runs are run again and the tables equal an undisturbed run's | `tests/test_experiments.py` |",
        "| SIGKILL to a worker process | exit 1 with a resume hint, no traceback; the same command completes "
        "the batch, no run lost or duplicated | `tests/test_reliability.py` |",
        "| a Dask worker lost (SIGKILL) | its tasks run again; tables equal a serial run's | "
        "`tests/test_reliability.py` |",
        "| Ctrl-C (SIGINT) | exit 130, no traceback, finished runs kept; resuming equals an undisturbed run | "
        "`tests/test_reliability.py` |",
        "| two commands writing one folder | the second exits 2 ('being written by another bureausim command') | "
        "`tests/test_reliability.py` |",
        "| any YAML document, including complex keys (`? [a, b]`), huge integers, YAML 1.1 booleans, "
        "sexagesimal, hex, octal and special floats in numeric fields | loads or raises the project's error, "
        "nothing else; valid ones run with finite outputs; a numeric field holds exactly the YAML 1.2 number "
        "its text means, or is refused naming the field (300 examples each in CI; 3,000 each passed with "
        "`FUZZ_EXAMPLES=3000`) | `tests/test_fuzz.py` |",
        "| extreme parameters (all zero, all one, zero temperature, huge and tiny capacity, saturated "
        "inspection, maximal pressure) on one official, a chain of depth 10, a small tree | every output and "
        "attraction finite | `tests/test_reliability.py` |",
        "| many runs in one process | models are released (Mesa 3.3 keeps them otherwise, mesa issue #3179) | "
        "`tests/test_reliability.py` |",
        "| the deepest chain the overflow bound accepts, at several spreads of risk aversion | every output "
        "finite; one relay more is refused; without the check a deeper chain gives an infinite output "
        "(negative control) | `tests/test_model.py` |",
        "| a graph file that is not a graph (passwd-like, notes, keys, broken XML, binary) | refused by line "
        "or position; none of its text is echoed | `tests/test_reliability.py` |",
        "| a graph file with more officials than allowed (GraphML or edge list) | refused before networkx "
        "parses or builds anything | `tests/test_hierarchy.py` |",
        "| `--workers` beyond the cores or the runs | lowered to them, and said on stderr; a remote "
        "scheduler's count is left alone | `tests/test_experiments.py` |",
        "| SIGTERM or SIGHUP to `run` | exit 143 or 129, 'interrupted (SIGTERM)', no traceback, nothing written "
        "| `tests/test_reliability.py` |",
        "| SIGTERM and SIGKILL to a comparison at random moments, resumed each time | nothing it started "
        "(workers, forkserver, resource tracker) is left; the finished tables equal an undisturbed run's "
        "(see Kills at random moments below) | `tests/test_reliability.py`, `tests/faults.py` |",
        "| a crash while a table, plot, manifest or report is written | the old file or the new one, never a "
        "truncated one; a killed writer's temporary files (and a killed `run`'s hidden folder) are removed "
        "at the next start | `tests/test_atomic.py` |",
        "| `--set` on list entries, parameter-keyed maps, a mapping value, an empty value | works (entries by "
        "index, mappings merged) or is refused; nothing returns to its default unasked | `tests/test_scenario.py` |",
        "| `validate` on a scenario with arms, a sweep and uncertainties | makes the checks of run and of "
        "every kind the scenario allows; refuses what they refuse | `tests/test_experiment_kinds.py` |",
        "",
        "Clamps in the model: free capacity at 0; funded share and capacity used at 1; denominators of "
        "targets and capacities at 1e-12; logit weights of a near-zero temperature underflow to 0 by design "
        "(docs/ODD.md, section 7).",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_report(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/RELIABILITY.md"))
