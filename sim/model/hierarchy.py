"""The chain of command as a ``networkx.DiGraph`` and its per-level array layout.

Edges run superior → subordinate; every node has an integer ``level`` (0 at the single root)
and every edge goes from level *k* to *k* + 1, so the graph is a tree whose leaves are all on
the deepest level, the grassroots. Grassroots nodes carry ``principals``: 1 plus the line
departments (条) that also direct the unit.

:func:`build_layout` turns a :class:`sim.scenario.schema.HierarchySpec` into the index arrays the
model's per-level state uses (:class:`Layout`), reading a graph file when there is one;
:func:`build_hierarchy` gives the same hierarchy as a graph; :func:`check_hierarchy` refuses
any graph that is not such a tree, naming the node at fault.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from sim.errors import GraphFileError, ScenarioError
from sim.model.graph_files import integer_attribute, read_hierarchy
from sim.scenario.schema import HierarchySpec

DEFAULT_LEVEL_NAMES = ("centre", "province", "municipality", "county", "township")


def default_level_names(depth: int) -> list[str]:
    """Level names for ``depth`` levels: the last ones of centre → township, else ``level_k``."""
    if depth <= len(DEFAULT_LEVEL_NAMES):
        return list(DEFAULT_LEVEL_NAMES[-depth:])
    return [f"level_{k}" for k in range(depth)]


def level_names(spec: HierarchySpec, levels: int, source: str | None = None, line: int | None = None) -> list[str]:
    """The names of a hierarchy's ``levels`` levels, top first: the scenario's, or the defaults.

    Raises:
        ScenarioError: when the scenario names another number of levels than the hierarchy has
            (known for a graph file only once it is read).
    """
    if spec.levels is None:
        return default_level_names(levels)
    if len(spec.levels) != levels:
        raise ScenarioError(
            f"{len(spec.levels)} level names for a hierarchy of {levels} levels",
            source=source,
            line=line,
            field="hierarchy.levels",
        )
    return list(spec.levels)


def build_layout(
    spec: HierarchySpec, rng: np.random.Generator, base_dir: Path | None = None
) -> tuple[Layout, nx.DiGraph | None]:
    """The per-level layout a scenario describes, and its graph when one had to be read.

    Hierarchies generated from ``branching`` or ``counts`` are trees by construction, so their
    layout is built straight from parent indices, without a graph (a national hierarchy's graph
    costs more memory than all the model's state); :func:`graph_from_layout` makes the graph
    when it is wanted. A graph file is read, checked and laid out.

    Args:
        spec: The scenario's ``hierarchy`` section.
        rng: The model's generator (used only by ``spread: random``).
        base_dir: Folder that a relative ``file`` is read from.
    """
    if spec.file is None:
        if spec.counts is not None:
            parents = _parents_from_counts(spec.counts, spec.spread, rng)
        else:
            parents = _parents_from_branching(spec.branching_or_default)
        return _layout_from_parents(parents, 1 + spec.extra_principals), None
    path = spec.file_in(base_dir)
    graph = read_hierarchy(path)
    check_hierarchy(graph, source=str(path))
    _set_principals(graph, 1 + spec.extra_principals, source=str(path))
    return layout(graph), graph


def build_hierarchy(spec: HierarchySpec, rng: np.random.Generator, base_dir: Path | None = None) -> nx.DiGraph:
    """Build and check the hierarchy a scenario describes, as a graph.

    Returns:
        A checked graph with ``level`` on every node and ``principals`` on the grassroots.
    """
    chain, graph = build_layout(spec, rng, base_dir)
    return graph if graph is not None else graph_from_layout(chain)


def _parents_from_branching(branching: list[int]) -> list[np.ndarray]:
    """Parent index of every official, level by level, for ``branching`` subordinates each."""
    parents, width = [], 1
    for factor in branching:
        parents.append(np.repeat(np.arange(width), factor))
        width *= factor
    return parents


def _parents_from_counts(counts: list[int], spread: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Parent index of every official for ``counts`` units per level, spread evenly or at random."""
    parents, width = [], 1
    for depth, count in enumerate(counts, start=1):
        if count < width:
            raise GraphFileError(
                f"level {depth} has {count} units for {width} superiors; every superior needs a subordinate",
                field="hierarchy.counts",
            )
        if spread == "even":
            owner = (np.arange(count) * width) // count
        else:
            extra = rng.integers(0, width, size=count - width)
            owner = np.sort(np.concatenate([np.arange(width), extra]))
        parents.append(owner)
        width = count
    return parents


def _set_principals(graph: nx.DiGraph, default: int, source: str) -> None:
    """Give every grassroots node of a read graph its principals, checking values from the file."""
    depth = max(level for _, level in graph.nodes(data="level"))
    for node, data in graph.nodes(data=True):
        if data["level"] != depth:
            continue
        data["principals"] = integer_attribute(node, "principals", data.get("principals", default), source)
        if not 1 <= data["principals"] <= 21:
            raise GraphFileError(
                f"node {node!r} has principals {data['principals']!r}; "
                "a grassroots unit has 1 to 21 principals (itself plus up to 20 line departments)",
                source=source,
            )


def check_hierarchy(graph: nx.DiGraph, source: str | None = None) -> None:
    """Refuse a graph that is not a single-rooted tree with consistent levels.

    Raises:
        GraphFileError: naming the first node at fault.
    """
    if graph.number_of_nodes() == 0:
        raise GraphFileError("the hierarchy has no officials", source=source)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise GraphFileError(
            f"cycle through node {cycle[0][0]!r}: {' -> '.join(str(u) for u, _ in cycle)}", source=source
        )
    roots = sorted((n for n, d in graph.in_degree() if d == 0), key=str)
    if len(roots) != 1:
        raise GraphFileError(
            f"{len(roots)} roots ({', '.join(map(str, roots[:5]))}); a hierarchy has exactly one top", source=source
        )
    for node, data in graph.nodes(data=True):
        if "level" not in data:
            raise GraphFileError(f"node {node!r} has no level", source=source)
        if graph.in_degree(node) > 1:
            superiors = ", ".join(map(str, graph.predecessors(node)))
            raise GraphFileError(
                f"node {node!r} has several superiors ({superiors}); "
                "model line departments with hierarchy.extra_principals",
                source=source,
            )
    if graph.nodes[roots[0]]["level"] != 0:
        raise GraphFileError(f"root {roots[0]!r} has level {graph.nodes[roots[0]]['level']}, expected 0", source=source)
    for superior, subordinate in graph.edges:
        expected = graph.nodes[superior]["level"] + 1
        if graph.nodes[subordinate]["level"] != expected:
            raise GraphFileError(
                f"node {subordinate!r} has level {graph.nodes[subordinate]['level']} but its superior "
                f"{superior!r} has level {expected - 1}",
                source=source,
            )
    depth = max(level for _, level in graph.nodes(data="level"))
    for node in graph:
        if graph.out_degree(node) == 0 and graph.nodes[node]["level"] != depth:
            raise GraphFileError(
                f"node {node!r} on level {graph.nodes[node]['level']} has no subordinates; "
                f"every leaf must be on the grassroots level {depth}",
                source=source,
            )


@dataclass(frozen=True)
class Layout:
    """Index arrays for per-level state.

    Attributes:
        nodes: Per level, the graph nodes in state order (grouped by superior); a range of
            integers for generated hierarchies.
        parent: Per level, the index of each official's superior in the level above
            (level 0 gets an empty array).
        ancestor: Per level *k*, the index of each grassroots unit's ancestor on level *k*.
        leaves: Per level, the number of grassroots units below each official.
        principals: Principals of each grassroots unit.
        siblings: Per level, the size of each official's sibling group (1 for the root).
    """

    nodes: list[Sequence]
    parent: list[np.ndarray]
    ancestor: list[np.ndarray]
    leaves: list[np.ndarray]
    principals: np.ndarray
    siblings: list[np.ndarray]

    @property
    def depth(self) -> int:
        """Number of relays *L* (the grassroots level)."""
        return len(self.nodes) - 1

    @property
    def sizes(self) -> list[int]:
        """Officials per level."""
        return [len(level) for level in self.nodes]

    @functools.cached_property
    def subordinates(self) -> list[np.ndarray]:
        """Per level above the grassroots, each official's number of direct subordinates (counted once)."""
        return [np.bincount(self.parent[k + 1], minlength=self.sizes[k]) for k in range(self.depth)]


def layout(graph: nx.DiGraph) -> Layout:
    """Order every level of a checked graph by superior (stable, so siblings are contiguous) and index it."""
    root = next(n for n, d in graph.in_degree() if d == 0)
    nodes: list[list] = [[root]]
    parent: list[np.ndarray] = []
    while True:
        children, owners = [], []
        for index, node in enumerate(nodes[-1]):
            kids = sorted(graph.successors(node), key=_node_key)
            children.extend(kids)
            owners.extend([index] * len(kids))
        if not children:
            break
        nodes.append(children)
        parent.append(np.asarray(owners, dtype=np.int64))
    principals = np.array([graph.nodes[n].get("principals", 1) for n in nodes[-1]], dtype=np.int64)
    return _index(nodes, parent, principals)


def _layout_from_parents(parents: list[np.ndarray], principals: int) -> Layout:
    """The layout of a generated hierarchy: nodes numbered 0, 1, ... top-down, level by level."""
    sizes = [1] + [len(p) for p in parents]
    offsets = np.cumsum([0, *sizes])
    nodes = [range(offsets[k], offsets[k + 1]) for k in range(len(sizes))]
    return _index(nodes, [np.asarray(p, dtype=np.int64) for p in parents], np.full(sizes[-1], principals))


def _index(nodes: list, parent: list[np.ndarray], principals: np.ndarray) -> Layout:
    """Derive ancestors, leaf counts and sibling counts from parent indices."""
    depth = len(nodes) - 1
    parent = [np.zeros(0, dtype=np.int64), *parent]
    ancestor = [np.arange(len(nodes[depth]))]
    for k in range(depth, 0, -1):
        ancestor.insert(0, parent[k][ancestor[0]])
    leaves = [np.bincount(ancestor[k], minlength=len(nodes[k])) for k in range(depth + 1)]
    siblings = [np.ones(1, dtype=np.int64)] + [np.bincount(parent[k])[parent[k]] for k in range(1, depth + 1)]
    return Layout(
        nodes=nodes, parent=parent, ancestor=ancestor, leaves=leaves, principals=principals, siblings=siblings
    )


def graph_from_layout(chain: Layout) -> nx.DiGraph:
    """The hierarchy of a layout as a graph: ``level`` on every node, ``principals`` on the grassroots."""
    graph = nx.DiGraph()
    for level, nodes in enumerate(chain.nodes):
        graph.add_nodes_from(nodes, level=level)
        if level > 0:
            above = chain.nodes[level - 1]
            graph.add_edges_from((above[p], node) for p, node in zip(chain.parent[level], nodes, strict=True))
    for node, principals in zip(chain.nodes[-1], chain.principals.tolist(), strict=True):
        graph.nodes[node]["principals"] = principals
    return graph


def _node_key(node: object) -> tuple[int, object]:
    """Sort integers numerically and everything else as text, deterministically."""
    return (0, node) if isinstance(node, int) else (1, str(node))
