"""Reading a hierarchy from a graph file: GraphML, or an edge list.

A graph file is input from outside, so it is read defensively: only a regular file of at most
:data:`sim.scenario.files.GRAPH_FILE_CAP` bytes; its officials counted before the graph is
built (the cap of the scenario schema, :data:`sim.scenario.schema.MAX_OFFICIALS`, holds for
every hierarchy source); levels and principals must be integers (``1.5`` is refused, not
truncated); an edge given twice is refused, not merged. Messages name nodes and line numbers
but never echo the file's text, so that a path to a file that is not a graph (``/etc/passwd``)
discloses nothing of it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from sim.errors import GraphFileError
from sim.scenario.files import GRAPH_FILE_CAP, read_regular_file
from sim.scenario.schema import MAX_OFFICIALS, officials_memory

_GRAPHML_NODE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?node[\s/>]")
"""An opening ``<node`` element (with any namespace prefix): counted before parsing, conservatively."""


def read_hierarchy(path: Path) -> nx.DiGraph:
    """Read a GraphML file (``.graphml``, with ``level`` on every node) or an edge list.

    An edge list has one ``superior subordinate`` pair per line; its levels are the depths
    from the root.

    Raises:
        GraphFileError: for a file that cannot be read as such a graph, naming the file.
    """
    data = read_regular_file(path, GRAPH_FILE_CAP, "graph file", GraphFileError)
    source = str(path)
    if path.suffix.lower() == ".graphml":
        graph = _read_graphml(data, source)
    else:
        graph = _read_edge_list(data, source)
        _assign_depths(graph)
    return graph


def integer_attribute(node: object, name: str, value: Any, source: str) -> int:
    """A node's integer attribute from a file: an int, integral text or an integral float; else refused."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
    if number is None:
        raise GraphFileError(f"node {node!r} has a non-integer {name} {value!r}", source=source)
    return number


def _read_graphml(data: bytes, source: str) -> nx.DiGraph:
    nodes = len(_GRAPHML_NODE.findall(data))
    _check_count(nodes, source)
    try:
        graph = nx.read_graphml(io.BytesIO(data))
    except Exception as error:  # a parser error is a user mistake in the file
        raise GraphFileError(f"cannot read graph: {_parser_problem(error)}", source=source) from None
    if not graph.is_directed():
        raise GraphFileError("the graph must be directed (superior -> subordinate)", source=source)
    if graph.is_multigraph():
        for superior, subordinate in graph.edges():
            if graph.number_of_edges(superior, subordinate) > 1:
                raise GraphFileError(
                    f"the edge {superior!r} -> {subordinate!r} is given more than once; give each edge once",
                    source=source,
                )
    for node, attributes in graph.nodes(data=True):
        if "level" not in attributes:
            raise GraphFileError(f"node {node!r} has no 'level' attribute", source=source)
        attributes["level"] = integer_attribute(node, "level", attributes["level"], source)
    return nx.DiGraph(graph)


def _parser_problem(error: Exception) -> str:
    """What a parser said, without any of the file's text (an XML error gives line and column only)."""
    position = getattr(error, "position", None)
    if position is not None:
        return f"not well-formed XML at line {position[0]}, column {position[1]}"
    return type(error).__name__ if not str(error) or len(str(error)) > 200 else str(error)


def _read_edge_list(data: bytes, source: str) -> nx.DiGraph:
    """An edge list, one ``superior subordinate`` pair per line (``#`` starts a comment).

    Lines end at a line feed (a carriage return before it is dropped); a line with other than
    two names is refused with its number (networkx alone would ignore extra names), a UTF-8
    byte-order mark is not taken for part of the first name, and an edge given twice is refused.
    """
    edges: dict[tuple[str, str], int] = {}
    names: set[str] = set()
    for number, line in _lines(data, source):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise GraphFileError(
                f"expected two names, 'superior subordinate', but found {len(fields)}", source=source, line=number
            )
        edge = (fields[0], fields[1])
        if edge in edges:
            raise GraphFileError(
                f"the edge {edge[0]!r} -> {edge[1]!r} is given twice (first on line {edges[edge]})"
                "; give each edge once",
                source=source,
                line=number,
            )
        edges[edge] = number
        names.update(edge)
        _check_count(len(names), source)
    graph = nx.DiGraph()
    graph.add_edges_from(edges)
    return graph


def _lines(data: bytes, source: str) -> Iterable[tuple[int, str]]:
    """The file's lines, numbered from 1, decoded as UTF-8 (a byte-order mark dropped)."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise GraphFileError("is not UTF-8 text", source=source, line=number) from None


def _check_count(officials: int, source: str) -> None:
    """Refuse a file with more officials than any hierarchy may have, before the graph is built."""
    if officials > MAX_OFFICIALS:
        raise GraphFileError(
            f"holds more than {MAX_OFFICIALS:,} officials ({officials:,} counted so far, so a run would need "
            f"{officials_memory(officials)}); at most {MAX_OFFICIALS:,} are allowed",
            source=source,
        )


def _assign_depths(graph: nx.DiGraph) -> None:
    """Levels of an edge list's nodes: their depth from the root (when there is one root and no cycle)."""
    roots = [n for n, d in graph.in_degree() if d == 0]
    if len(roots) == 1 and nx.is_directed_acyclic_graph(graph):
        for node, depth in nx.single_source_shortest_path_length(graph, roots[0]).items():
            graph.nodes[node]["level"] = depth
    # anything else (cycles, several roots) is reported by check_hierarchy with the node named
