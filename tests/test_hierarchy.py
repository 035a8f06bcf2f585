"""The chain of command: building, reading, checking and laying out hierarchies."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from property import hierarchies

from sim.errors import HierarchyError, ScenarioError
from sim.model.hierarchy import (
    build_hierarchy,
    build_layout,
    check_hierarchy,
    default_level_names,
    layout,
    read_hierarchy,
)
from sim.scenario.schema import HierarchySpec


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def level_sizes(graph: nx.DiGraph) -> list[int]:
    levels = [level for _, level in graph.nodes(data="level")]
    return [levels.count(k) for k in range(max(levels) + 1)]


def write_graphml(path: Path, edges: list[tuple[str, str]], levels: dict[str, int | None]) -> Path:
    graph = nx.DiGraph()
    for node, level in levels.items():
        if level is None:
            graph.add_node(node)
        else:
            graph.add_node(node, level=level)
    graph.add_edges_from(edges)
    nx.write_graphml(graph, path)
    return path


def write_edges(path: Path, edges: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{u} {v}\n" for u, v in edges))
    return path


TREE_EDGES = [("top", "a"), ("top", "b"), ("a", "a1"), ("a", "a2"), ("b", "b1")]
TREE_LEVELS = {"top": 0, "a": 1, "b": 1, "a1": 2, "a2": 2, "b1": 2}


# --- building from branching and counts -----------------------------------------------------


def test_branching_builds_a_full_tree():
    graph = build_hierarchy(HierarchySpec(branching=[3, 2], extra_principals=2), rng())
    assert graph.number_of_nodes() == 1 + 3 + 6
    assert graph.number_of_edges() == 3 + 6
    assert level_sizes(graph) == [1, 3, 6]
    roots = [n for n, d in graph.in_degree() if d == 0]
    assert len(roots) == 1 and graph.nodes[roots[0]]["level"] == 0
    for superior, subordinate in graph.edges:
        assert graph.nodes[subordinate]["level"] == graph.nodes[superior]["level"] + 1
    for node, data in graph.nodes(data=True):
        if data["level"] < 2:
            assert graph.out_degree(node) == (3 if data["level"] == 0 else 2)
            assert "principals" not in data
        else:
            assert graph.out_degree(node) == 0
            assert data["principals"] == 3
    assert nx.is_arborescence(graph)


def test_principals_default_to_one():
    graph = build_hierarchy(HierarchySpec(branching=[2]), rng())
    grassroots = [d["principals"] for _, d in graph.nodes(data=True) if d["level"] == 1]
    assert grassroots == [1, 1]


def test_default_hierarchy_is_the_province():
    graph = build_hierarchy(HierarchySpec(), rng())
    assert level_sizes(graph) == [1, 16, 128, 1536]


@pytest.mark.parametrize("spread", ["even", "random"])
def test_counts_give_level_sizes_and_no_childless_superiors(spread):
    graph = build_hierarchy(HierarchySpec(counts=[3, 7, 20], spread=spread), rng(5))
    assert level_sizes(graph) == [1, 3, 7, 20]
    assert nx.is_arborescence(graph)
    for node, data in graph.nodes(data=True):
        if data["level"] < 3:
            assert graph.out_degree(node) >= 1, node
        else:
            assert graph.out_degree(node) == 0
    check_hierarchy(graph)


def test_even_spread_is_balanced():
    graph = build_hierarchy(HierarchySpec(counts=[3, 7, 20], spread="even"), rng())
    for level in (0, 1, 2):
        fan_out = [graph.out_degree(n) for n, d in graph.nodes(data=True) if d["level"] == level]
        assert max(fan_out) - min(fan_out) <= 1
    # and does not depend on the generator
    other = build_hierarchy(HierarchySpec(counts=[3, 7, 20], spread="even"), rng(99))
    assert set(graph.edges) == set(other.edges)


def test_random_spread_is_deterministic_per_seed():
    spec = HierarchySpec(counts=[3, 7, 20], spread="random")
    first = build_hierarchy(spec, np.random.default_rng(11))
    again = build_hierarchy(spec, np.random.default_rng(11))
    other = build_hierarchy(spec, np.random.default_rng(12))
    assert set(first.edges) == set(again.edges)
    assert set(first.edges) != set(other.edges)
    assert level_sizes(other) == [1, 3, 7, 20]


def test_random_spread_is_uneven_somewhere():
    spec = HierarchySpec(counts=[4, 40, 400], spread="random")
    graph = build_hierarchy(spec, rng(3))
    fan_out = [graph.out_degree(n) for n, d in graph.nodes(data=True) if d["level"] == 2]
    assert max(fan_out) - min(fan_out) > 1


@pytest.mark.parametrize("counts", [[3, 2], [3, 7, 6], [5, 5, 4]])
def test_counts_shrinking_below_superiors_refused(counts):
    with pytest.raises(HierarchyError) as info:
        build_hierarchy(HierarchySpec(counts=counts), rng())
    assert info.value.field == "hierarchy.counts"
    assert "superior" in info.value.message


def test_counts_equal_to_superiors_accepted():
    graph = build_hierarchy(HierarchySpec(counts=[3, 3, 3]), rng())
    assert level_sizes(graph) == [1, 3, 3, 3]


# --- reading files ---------------------------------------------------------------------------


def test_read_graphml_with_levels(tmp_path):
    path = write_graphml(tmp_path / "tree.graphml", TREE_EDGES, TREE_LEVELS)
    graph = read_hierarchy(path)
    assert isinstance(graph, nx.DiGraph)
    assert dict(graph.nodes(data="level")) == TREE_LEVELS
    assert set(graph.edges) == set(TREE_EDGES)
    check_hierarchy(graph)


def test_build_from_graphml_file_relative_to_base_dir(tmp_path):
    write_graphml(tmp_path / "tree.graphml", TREE_EDGES, TREE_LEVELS)
    graph = build_hierarchy(HierarchySpec(file="tree.graphml", extra_principals=1), rng(), base_dir=tmp_path)
    assert level_sizes(graph) == [1, 2, 3]
    assert {n: d.get("principals") for n, d in graph.nodes(data=True) if d["level"] == 2} == {
        "a1": 2,
        "a2": 2,
        "b1": 2,
    }


def test_read_edge_list_infers_levels_from_depth(tmp_path):
    path = write_edges(tmp_path / "tree.txt", TREE_EDGES)
    graph = read_hierarchy(path)
    assert dict(graph.nodes(data="level")) == TREE_LEVELS
    assert set(graph.edges) == set(TREE_EDGES)
    check_hierarchy(graph)


def test_edge_list_deeper_tree(tmp_path):
    edges = [("0", "1"), ("1", "2"), ("2", "3"), ("0", "4"), ("4", "5"), ("5", "6")]
    graph = build_hierarchy(HierarchySpec(file=str(write_edges(tmp_path / "chain.edges", edges))), rng())
    assert dict(graph.nodes(data="level")) == {"0": 0, "1": 1, "2": 2, "3": 3, "4": 1, "5": 2, "6": 3}


def refused(path: Path) -> HierarchyError:
    """The error raised when this graph file is read and checked the way a run does."""
    with pytest.raises(HierarchyError) as info:
        build_hierarchy(HierarchySpec(file=str(path)), rng())
    return info.value


@pytest.mark.parametrize("kind", ["graphml", "edges"])
def test_cycle_refused(tmp_path, kind):
    edges = [("top", "a"), ("a", "b"), ("b", "c"), ("c", "a")]
    if kind == "graphml":
        path = write_graphml(tmp_path / "g.graphml", edges, {"top": 0, "a": 1, "b": 2, "c": 3})
    else:
        path = write_edges(tmp_path / "g.txt", edges)
    error = refused(path)
    assert "cycle" in error.message
    assert "'a'" in error.message or "'b'" in error.message or "'c'" in error.message


@pytest.mark.parametrize("kind", ["graphml", "edges"])
def test_two_roots_refused(tmp_path, kind):
    edges = [("r1", "a"), ("r2", "b")]
    if kind == "graphml":
        path = write_graphml(tmp_path / "g.graphml", edges, {"r1": 0, "r2": 0, "a": 1, "b": 1})
    else:
        path = write_edges(tmp_path / "g.txt", edges)
    error = refused(path)
    assert "2 roots" in error.message
    assert "r1" in error.message and "r2" in error.message


def test_node_without_level_refused(tmp_path):
    path = write_graphml(tmp_path / "g.graphml", TREE_EDGES, {**TREE_LEVELS, "a2": None})
    error = refused(path)
    assert "'a2'" in error.message
    assert "level" in error.message
    assert error.source == str(path)


def test_non_integer_level_refused(tmp_path):
    graph = nx.DiGraph()
    graph.add_node("top", level="zero")
    graph.add_node("a", level="one")
    graph.add_edge("top", "a")
    nx.write_graphml(graph, tmp_path / "g.graphml")
    error = refused(tmp_path / "g.graphml")
    assert "'top'" in error.message


def test_inconsistent_levels_refused(tmp_path):
    path = write_graphml(tmp_path / "g.graphml", TREE_EDGES, {**TREE_LEVELS, "b": 2, "b1": 3})
    error = refused(path)
    assert "'b'" in error.message
    assert "'top'" in error.message


def test_root_not_on_level_zero_refused(tmp_path):
    levels = {node: level + 1 for node, level in TREE_LEVELS.items()}
    error = refused(write_graphml(tmp_path / "g.graphml", TREE_EDGES, levels))
    assert "'top'" in error.message


@pytest.mark.parametrize("kind", ["graphml", "edges"])
def test_two_superiors_refused(tmp_path, kind):
    edges = [*TREE_EDGES, ("b", "a2")]
    if kind == "graphml":
        path = write_graphml(tmp_path / "g.graphml", edges, TREE_LEVELS)
    else:
        path = write_edges(tmp_path / "g.txt", edges)
    error = refused(path)
    assert "'a2'" in error.message
    assert "superiors" in error.message


@pytest.mark.parametrize("kind", ["graphml", "edges"])
def test_leaf_above_grassroots_refused(tmp_path, kind):
    edges = [("top", "a"), ("top", "b"), ("a", "a1"), ("a1", "a11")]
    if kind == "graphml":
        path = write_graphml(tmp_path / "g.graphml", edges, {"top": 0, "a": 1, "b": 1, "a1": 2, "a11": 3})
    else:
        path = write_edges(tmp_path / "g.txt", edges)
    error = refused(path)
    assert "'b'" in error.message
    assert "grassroots" in error.message


@pytest.mark.parametrize("name", ["missing.graphml", "missing.txt"])
def test_missing_file_refused(tmp_path, name):
    error = refused(tmp_path / name)
    assert error.source == str(tmp_path / name)
    assert "no such" in error.message


def test_unparsable_graphml_refused(tmp_path):
    path = tmp_path / "g.graphml"
    path.write_text("<graphml><not closed")
    error = refused(path)
    assert error.source == str(path)
    assert isinstance(error, ScenarioError)


def test_empty_graph_refused():
    with pytest.raises(HierarchyError, match="no officials"):
        check_hierarchy(nx.DiGraph())


def test_check_hierarchy_accepts_built_graphs():
    for spec in (HierarchySpec(branching=[1]), HierarchySpec(branching=[2, 1, 3]), HierarchySpec(counts=[1, 4])):
        check_hierarchy(build_hierarchy(spec, rng()))


# --- layout ----------------------------------------------------------------------------------


def check_layout(graph: nx.DiGraph) -> None:
    """Every array of ``layout(graph)`` agrees with the graph itself."""
    lay = layout(graph)
    depth = max(level for _, level in graph.nodes(data="level"))
    assert lay.depth == depth
    assert lay.sizes == level_sizes(graph)
    grassroots = lay.nodes[depth]
    for k, nodes in enumerate(lay.nodes):
        assert all(graph.nodes[n]["level"] == k for n in nodes)
        assert len(set(nodes)) == len(nodes)
        # parents
        if k == 0:
            assert lay.parent[0].size == 0
        else:
            assert lay.parent[k].shape == (len(nodes),)
            for i, node in enumerate(nodes):
                assert list(graph.predecessors(node)) == [lay.nodes[k - 1][lay.parent[k][i]]]
            # siblings are contiguous: parents appear in non-decreasing order
            assert np.all(np.diff(lay.parent[k]) >= 0)
        # ancestors of every grassroots unit
        assert lay.ancestor[k].shape == (len(grassroots),)
        for j, unit in enumerate(grassroots):
            ancestor = nodes[lay.ancestor[k][j]]
            assert ancestor == unit if k == depth else ancestor in nx.ancestors(graph, unit)
        # leaves below each official
        for i, node in enumerate(nodes):
            below = {n for n in nx.descendants(graph, node) | {node} if graph.nodes[n]["level"] == depth}
            assert lay.leaves[k][i] == len(below)
        assert lay.leaves[k].sum() == len(grassroots)
    assert lay.principals.tolist() == [graph.nodes[n].get("principals", 1) for n in grassroots]


def test_layout_of_branching_tree():
    graph = build_hierarchy(HierarchySpec(branching=[3, 2], extra_principals=1), rng())
    lay = layout(graph)
    assert lay.sizes == [1, 3, 6]
    assert lay.parent[1].tolist() == [0, 0, 0]
    assert lay.parent[2].tolist() == [0, 0, 1, 1, 2, 2]
    assert lay.ancestor[0].tolist() == [0] * 6
    assert lay.ancestor[1].tolist() == [0, 0, 1, 1, 2, 2]
    assert lay.ancestor[2].tolist() == list(range(6))
    assert lay.leaves[0].tolist() == [6]
    assert lay.leaves[1].tolist() == [2, 2, 2]
    assert lay.leaves[2].tolist() == [1] * 6
    assert lay.principals.tolist() == [2] * 6
    check_layout(graph)


@pytest.mark.parametrize("spread", ["even", "random"])
def test_layout_of_uneven_tree(spread):
    check_layout(build_hierarchy(HierarchySpec(counts=[3, 7, 20], spread=spread), rng(2)))


def test_layout_of_file_tree_groups_siblings(tmp_path):
    # node names interleave the subtrees so that sorting by name alone would split sibling groups
    edges = [("r", "m"), ("r", "a"), ("m", "b"), ("a", "z"), ("m", "c"), ("a", "d"), ("a", "e")]
    graph = build_hierarchy(HierarchySpec(file=str(write_edges(tmp_path / "t.txt", edges))), rng())
    lay = layout(graph)
    assert lay.nodes[1] == ["a", "m"]
    assert lay.nodes[2] == ["d", "e", "z", "b", "c"]
    assert lay.leaves[1].tolist() == [3, 2]
    check_layout(graph)


def test_layout_is_deterministic_for_same_graph():
    spec = HierarchySpec(counts=[3, 7, 20], spread="random")
    first = layout(build_hierarchy(spec, rng(4)))
    second = layout(build_hierarchy(spec, rng(4)))
    assert first.nodes == second.nodes
    for a, b in zip(
        first.parent + first.ancestor + first.leaves, second.parent + second.ancestor + second.leaves, strict=True
    ):
        assert np.array_equal(a, b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(branching=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=4))
def test_layout_sizes_are_products_of_branching(branching):
    lay = layout(build_hierarchy(HierarchySpec(branching=branching), rng()))
    expected = [math.prod(branching[:k]) for k in range(len(branching) + 1)]
    assert lay.sizes == expected
    assert lay.depth == len(branching)
    grassroots = expected[-1]
    for k in range(len(branching) + 1):
        assert int(lay.leaves[k].sum()) == grassroots
        assert np.all(lay.leaves[k] == grassroots // expected[k])
        assert lay.ancestor[k].shape == (grassroots,)
        assert np.all(np.bincount(lay.ancestor[k], minlength=expected[k]) == lay.leaves[k])
        if k:
            assert np.all(np.bincount(lay.parent[k], minlength=expected[k - 1]) == branching[k - 1])


# --- level names -----------------------------------------------------------------------------


def test_default_level_names():
    assert default_level_names(4) == ["province", "municipality", "county", "township"]
    assert default_level_names(1) == ["township"]
    assert default_level_names(5)[0] == "centre"
    assert default_level_names(7) == [f"level_{k}" for k in range(7)]


@pytest.mark.parametrize("principals", [0, -1, 99, "many"])
def test_principals_from_a_file_must_be_sensible(tmp_path, principals):
    graph = nx.DiGraph()
    graph.add_node("top", level=0)
    graph.add_node("a", level=1, principals=principals)
    graph.add_edge("top", "a")
    path = tmp_path / "bad.graphml"
    nx.write_graphml(graph, path)
    with pytest.raises(HierarchyError, match=r"'a' has (a non-integer )?principals"):
        build_hierarchy(HierarchySpec(file=str(path)), np.random.default_rng(0))


@settings(max_examples=40, deadline=None)
@given(hierarchy=hierarchies(max_officials=600), seed=st.integers(0, 2**16))
def test_generated_layout_equals_the_layout_of_its_graph(hierarchy, seed):
    """Generated hierarchies skip the graph; laying out the graph they stand for gives the same arrays."""
    spec = HierarchySpec(**hierarchy)
    direct, graph = build_layout(spec, np.random.default_rng(seed))
    assert graph is None
    via_graph = layout(build_hierarchy(spec, np.random.default_rng(seed)))
    assert [list(level) for level in direct.nodes] == via_graph.nodes
    for name in ("parent", "ancestor", "leaves", "siblings"):
        for mine, theirs in zip(getattr(direct, name), getattr(via_graph, name), strict=True):
            np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(direct.principals, via_graph.principals)


@pytest.mark.parametrize("line", ["b c d", "lonely"])
def test_edge_list_lines_must_be_two_names(tmp_path, line):
    path = tmp_path / "tree.txt"
    path.write_text(f"# a comment\na b\n{line}  # trailing comment\n\n")
    with pytest.raises(HierarchyError, match="expected two names") as caught:
        read_hierarchy(path)
    assert caught.value.line == 3


@pytest.mark.parametrize(
    "data, edges",
    [
        (b"top a  # a comment after the names\ntop b\n", [("top", "a"), ("top", "b")]),
        (b"\xef\xbb\xbftop a\r\ntop b\r\n\r\n", [("top", "a"), ("top", "b")]),  # byte-order mark, CRLF
        (b"top\ta\n# only a comment\n\ntop\tb\n", [("top", "a"), ("top", "b")]),
    ],
    ids=["comment", "bom_crlf", "tabs"],
)
def test_edge_lists_read_comments_byte_order_marks_and_line_ends(tmp_path, data, edges):
    path = tmp_path / "tree.edges"
    path.write_bytes(data)
    assert sorted(read_hierarchy(path).edges) == edges


def test_an_edge_list_with_carriage_returns_only_is_one_line_and_refused(tmp_path):
    path = tmp_path / "mac.edges"
    path.write_bytes(b"top a\rtop b\ra c\r")
    with pytest.raises(HierarchyError, match="found 6") as caught:
        read_hierarchy(path)
    assert caught.value.line == 1


def test_an_edge_list_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.edges"
    path.write_bytes(b"top a\ntop \xe9t\xe9\n")
    with pytest.raises(HierarchyError, match="is not UTF-8 text") as caught:
        read_hierarchy(path)
    assert caught.value.line == 2


@pytest.mark.parametrize("kind", ["graphml", "edges"])
def test_a_graph_file_over_the_official_cap_is_refused_before_the_graph_is_built(tmp_path, monkeypatch, kind):
    """The cap on officials holds for graph files too, judged before networkx builds anything."""
    import sim.model.graph_files as graph_files

    monkeypatch.setattr(graph_files, "MAX_OFFICIALS", 5)
    monkeypatch.setattr(nx, "read_graphml", lambda *a, **k: pytest.fail("the graph was parsed"))
    monkeypatch.setattr(nx.DiGraph, "add_edges_from", lambda *a, **k: pytest.fail("the graph was built"))
    edges = [("top", f"n{k}") for k in range(6)]
    if kind == "graphml":
        path = tmp_path / "g.graphml"
        nodes = "".join(f'<node id="{name}"/>' for name in ["top", *(child for _, child in edges)])
        path.write_text(f'<graphml><graph edgedefault="directed">{nodes}</graph></graphml>')
    else:
        path = tmp_path / "g.edges"
        path.write_text("".join(f"{a} {b}\n" for a, b in edges))
    with pytest.raises(HierarchyError, match=r"holds more than 5 officials .* at most 5 are allowed"):
        read_hierarchy(path)


def test_an_integral_float_level_is_read_as_the_integer(tmp_path):
    graph = nx.DiGraph()
    graph.add_node("top", level=0.0)
    graph.add_node("a", level=1.0)
    graph.add_edge("top", "a")
    nx.write_graphml(graph, tmp_path / "g.graphml")
    levels = dict(read_hierarchy(tmp_path / "g.graphml").nodes(data="level"))
    assert levels == {"top": 0, "a": 1} and all(type(level) is int for level in levels.values())
