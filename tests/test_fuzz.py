"""Fuzzing the scenario loader: any YAML document either loads as a valid scenario or raises
the project's ScenarioError, never anything else; any valid scenario (of a size that runs in a
test) runs two periods with finite outputs. The documents include what YAML 1.1 and loose
loaders get wrong: complex keys (``? [a, b]``), huge integers, booleans in every YAML 1.1
spelling and sexagesimal numbers (``1:30``), hex, octal and special floats, in numeric fields;
a numeric field must then hold exactly the number the text means in YAML 1.2, or be refused.

CI runs a few hundred examples; ``FUZZ_EXAMPLES=3000 pytest tests/test_fuzz.py`` runs more.
"""

from __future__ import annotations

import math
import os
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import BureauModel, ScenarioError, parse_scenario
from sim.scenario.parameters import parameter_paths

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))

keys = st.sampled_from(
    [
        "name",
        "steps",
        "replications",
        "seed",
        "hierarchy",
        "parameters",
        "policies",
        "arms",
        "uncertainties",
        "outcomes",
        "sweep",
        "branching",
        "counts",
        "relay",
        "escalation",
        "task",
        "campaign",
        "start",
        "end",
        "levels",
        "file",
        "burn_in",
        "reference",
        "engine",
        "x",
    ]
)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True), st.text(max_size=8)
)
documents = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)
# scalars as written in a file, which a YAML 1.1 loader would read as booleans or base-60 numbers
hostile_scalars = st.one_of(
    st.sampled_from(["yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", ".inf", "-.Inf", ".nan"]),
    st.builds(lambda a, b: f"{a}:{b:02d}", st.integers(0, 999), st.integers(0, 59)),  # sexagesimal
    st.builds(lambda a, b, c: f"{a}:{b:02d}:{c:02d}", st.integers(0, 99), st.integers(0, 59), st.integers(0, 59)),
    st.integers(-(2**200), 2**200).map(str),  # huge integers
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:e}"),  # scientific notation
    st.tuples(st.integers(0, 10**6), st.sampled_from([hex, oct, "+{}".format, "{}.0".format, "{:_}".format])).map(
        lambda pair: pair[1](pair[0])
    ),
)
complex_keys = st.sampled_from(["? [a, b]\n: 1\n", "? {relay: 1}\n: 2\n", "? [steps]\n: 3\n"])


@st.composite
def hostile_documents(draw) -> str:
    """A scenario text with a hostile scalar in some field, and sometimes a complex key somewhere."""
    field = draw(st.sampled_from(NUMERIC_FIELDS))
    value = draw(hostile_scalars)
    text = "name: fuzz\n" + _nested(field, value)
    if draw(st.booleans()):
        key = draw(complex_keys)
        text = (
            key + text
            if draw(st.booleans())
            else text + "parameters:\n" + "".join(f"  {line}\n" for line in key.splitlines())
        )
    return text


texts = st.one_of(documents.map(yaml.safe_dump), st.text(max_size=300), hostile_documents())


def _numeric(annotation) -> bool:
    import typing

    return bool({int, float} & {annotation, *typing.get_args(annotation)})


NUMERIC_FIELDS = [
    "steps",
    "replications",
    "seed",
    "burn_in",
    *(f"parameters.{path}" for path, info in parameter_paths().items() if _numeric(info.annotation)),
]


def _nested(field: str, value: str) -> str:
    """``a.b.c`` and a scalar as block YAML."""
    parts = field.split(".")
    return "".join(f"{'  ' * depth}{part}:\n" for depth, part in enumerate(parts[:-1])) + (
        f"{'  ' * (len(parts) - 1)}{parts[-1]}: {value}\n"
    )


_CORE_INT = re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_CORE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


NOT_A_NUMBER = object()


def core_meaning(text: str):
    """What a scalar means in YAML 1.2's core schema: an int, a float, ``None`` for null, else :data:`NOT_A_NUMBER`."""
    if text in ("~", "null", "Null", "NULL"):
        return None
    if _CORE_INT.match(text):
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if _CORE_FLOAT.match(text):
        return float(text)
    if text.lower() in (".inf", "+.inf", "-.inf", ".nan"):
        return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    return NOT_A_NUMBER


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(NUMERIC_FIELDS), hostile_scalars)
def test_a_numeric_field_holds_exactly_what_its_text_means_in_yaml_1_2_or_is_refused(field, text):
    """No boolean, base-60 number or text becomes a number; a number is read as YAML 1.2 reads it, or refused."""
    try:
        scenario = parse_scenario("name: fuzz\n" + _nested(field, text), "fuzz.yaml")
    except ScenarioError as error:
        assert error.field is not None and error.field.startswith(field.split(".")[0]), str(error)
        return
    meaning = core_meaning(text)
    assert meaning is not NOT_A_NUMBER, f"{text!r} is not a number in YAML 1.2, yet {field} accepted it"
    node = scenario
    for part in field.split("."):
        node = getattr(node, part)
    assert not isinstance(node, bool) and node == meaning, (field, text, node)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(texts)
def test_any_document_loads_or_raises_a_scenario_error_and_valid_ones_run(text):
    try:
        scenario = parse_scenario(text, "fuzz.yaml")
    except ScenarioError:
        return
    sizes = scenario.hierarchy.counts or scenario.hierarchy.branching_or_default
    if scenario.hierarchy.file is not None or sum(sizes) * max(sizes or [1]) > 5_000:
        return  # reading files and running large hierarchies are tested elsewhere
    try:
        model = BureauModel.from_scenario(scenario)
    except ScenarioError:
        return  # e.g. counts with fewer units than superiors: refused when the hierarchy is built
    for _ in range(2):
        model.step()
    assert all(math.isfinite(value) for value in model.outputs.values())
