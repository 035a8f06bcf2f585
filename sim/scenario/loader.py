"""Reading scenario files: a line-aware YAML loader and validation with file:line:field errors.

Files are read with ``yaml.safe_load`` semantics only (no tags that build objects, no
aliases) and YAML 1.2 core-schema meaning (:mod:`sim.scenario.yaml12`: ``no`` is text,
``1e-2`` a number); the line of every key and item is recorded, and the first schema error is
reported as a :class:`sim.errors.ScenarioError` naming the file, the line and the field
path, with "did you mean ..." for near misses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.files import SCENARIO_FILE_CAP, read_regular_file
from sim.scenario.messages import describe_error
from sim.scenario.schema import Scenario, line_in
from sim.scenario.yaml12 import CoreLoader


class _LineLoader(CoreLoader):
    """A safe, YAML 1.2 core-schema loader that refuses aliases (``*name``), which allow exponential expansion."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ScenarioError(
                "YAML aliases (*name) are not allowed in scenario files; write the value out",
                line=event.start_mark.line + 1,
            )
        return super().compose_node(parent, index)


def _walk(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    """Record the line of every key and item; refuse duplicate keys and keys that are not names."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):  # YAML's complex keys: ``? [a, b]``
                kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                raise ScenarioError(
                    f"a key must be a name, not {kind}", line=line, field=".".join(str(p) for p in path) or None
                )
            key = key_node.value
            if key in seen:
                raise ScenarioError(
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    line=line,
                    field=".".join(str(p) for p in (*path, key)),
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def _entry_named(loc: tuple[Any, ...], message: str, lines: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """The entry of the section at ``loc`` that a validator's message names, if exactly one; else ``loc``.

    Validators of whole mappings (uncertainties, an arm's settings, a sweep's grid) report on
    the mapping; a message that names one of its keys points at that key's own line.
    """
    entries = [path for path in lines if len(path) == len(loc) + 1 and path[: len(loc)] == loc]
    named = [path for path in entries if isinstance(path[-1], str) and path[-1] in message]
    return named[0] if len(named) == 1 else loc


def parse_scenario(text: str, source: str = "<scenario>", *, allow_absolute_paths: bool = False) -> Scenario:
    """Read a scenario from YAML text; ``source`` names the file in error messages.

    A graph file is named relative to the scenario's folder; an absolute path is refused
    unless ``allow_absolute_paths`` (see :func:`check_paths`).
    """
    lines: dict[tuple[Any, ...], int] = {}
    try:
        loader = _LineLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _walk(node, (), lines)
                data = loader.construct_document(node)
            else:
                data = None
        finally:
            loader.dispose()
    except ScenarioError as error:
        error.source = source
        raise ScenarioError(error.message, source=source, line=error.line, field=error.field) from None
    except RecursionError:
        raise ScenarioError(
            "is nested too deeply to read; a scenario needs only a few levels of nesting", source=source
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(f"not valid YAML: {problem}", source=source, line=mark.line + 1 if mark else None) from None
    if data is None:
        raise ScenarioError("the file is empty; a scenario needs at least a name", source=source)
    if not isinstance(data, dict):
        kind = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
            type(data), type(data).__name__
        )
        raise ScenarioError(f"a scenario is a mapping of sections, not {kind}", source=source, line=1)
    return validate_scenario(data, source=source, lines=lines, origin=source, allow_absolute_paths=allow_absolute_paths)


_NAMED_FIELD = re.compile(r"^([a-z_]+(?:\.[A-Za-z0-9_]+)*): (.+)$", re.DOTALL)
_ENTRY = re.compile(r"^entry (\d+): (.+)$", re.DOTALL)


def validate_scenario(
    data: dict[str, Any],
    *,
    source: str,
    lines: dict[tuple[Any, ...], int],
    origin: str | None,
    allow_absolute_paths: bool = False,
) -> Scenario:
    """Validate a scenario mapping, turning the first schema error into a :class:`ScenarioError`.

    Args:
        data: The scenario as read.
        source: Where the values came from (the file, or ``--set``), for messages.
        lines: The line of every value in ``source``.
        origin: The scenario file, which relative paths are read from.
        allow_absolute_paths: Accept an absolute graph-file path (see :func:`check_paths`).
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        details = error.errors()
        first = details[0]
        loc = tuple(first["loc"])
        more = (
            f" ({len(details) - 1} more error{'s' if len(details) > 2 else ''} after this one)"
            if len(details) > 1
            else ""
        )
        message = describe_error(first, Scenario)
        named = _NAMED_FIELD.match(message) if not loc else None
        if (
            named is not None and named.group(1).split(".")[0] in Scenario.model_fields
        ):  # a whole-scenario check that names the field it is about
            loc = tuple(int(part) if part.isdigit() else part for part in named.group(1).split("."))
            message = named.group(2)
        entry = _ENTRY.match(message)
        if entry is not None:  # a list's check that names the entry at fault
            loc = (*loc, int(entry.group(1)))
            message = entry.group(2)
        raise ScenarioError(
            message + more,
            source=source,
            line=line_in(lines, _entry_named(loc, message, lines)),
            field=".".join(str(p) for p in loc) or None,
        ) from None
    scenario.source = origin
    scenario._lines = lines
    scenario._absolute_paths_allowed = allow_absolute_paths
    if origin is not None:  # a scenario built in Python names its files as its code pleases
        check_paths(scenario, source)
    return scenario


def check_paths(scenario: Scenario, source: str) -> None:
    """Refuse an absolute graph-file path in a scenario unless it was allowed.

    The policy for paths in scenario files: a graph file is named relative to the scenario's
    folder (``..`` may climb out of it), so that a scenario moves and is shared with its data;
    an absolute path needs ``--allow-absolute-paths`` (``allow_absolute_paths=True`` from
    Python). Whatever the path, only a regular file is read, and its text is never echoed.
    """
    name = scenario.hierarchy.file
    if name is None or scenario._absolute_paths_allowed or not Path(name).is_absolute():
        return
    raise ScenarioError(
        f"{name!r} is an absolute path; name the graph file relative to the scenario's folder, "
        "or pass --allow-absolute-paths to read it anyway",
        source=source,
        line=scenario.line_of("hierarchy", "file"),
        field="hierarchy.file",
    )


def load_scenario(path: str | Path, *, allow_absolute_paths: bool = False) -> Scenario:
    """Read and validate a scenario file (an absolute graph-file path only with ``allow_absolute_paths``)."""
    path = Path(path)
    raw = read_regular_file(path, SCENARIO_FILE_CAP, "scenario file")
    if b"\x00" in raw:
        raise ScenarioError("is a binary file, not YAML", source=str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("is not a UTF-8 text file", source=str(path)) from None
    return parse_scenario(text, source=str(path), allow_absolute_paths=allow_absolute_paths)
