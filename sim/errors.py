"""Errors raised for user mistakes.

Every mistake a user can make in a scenario file, a graph file or on the command line is
reported as a :class:`ScenarioError`: the command line prints its message and exits with
status 2, without a traceback and without writing anything.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario, graph file or command-line value that cannot be used.

    Args:
        message: What is wrong and what is allowed, in one paragraph.
        source: The file (or ``--set`` option) the value came from, when known.
        line: The 1-based line of the offending value in ``source``, when known.
        field: The dotted path of the offending field, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        """Render as ``file:line: field: message``, leaving out what is unknown."""
        where = ""
        if self.source:
            where = self.source + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class RunsFailed(RuntimeError):
    """An experiment in which no run finished: nothing to summarise (see ``failures.jsonl``)."""


class HierarchyError(ScenarioError):
    """A hierarchy that is not a single-rooted tree with consistent levels."""
