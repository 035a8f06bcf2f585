"""Errors raised for user mistakes, and for experiments that produced nothing.

Every mistake a user can make (in a scenario file, a graph file, on the command line, or in
where and how an experiment runs) is a :class:`UserError`: the command line prints its
message and exits with status 2, without a traceback and without writing anything. The
subclasses say which kind of mistake it is, so a caller can catch one kind:

- :class:`ScenarioError`: a scenario file, a ``--set`` value or a command-line option;
- :class:`GraphFileError`: a hierarchy, read from a graph file or generated, that is not a
  single-rooted tree with consistent levels (``HierarchyError`` is its older name);
- :class:`FolderBusy`: a results folder another bureausim command is writing;
- :class:`ClusterUnreachable`: a Dask scheduler that cannot be reached.

This module sits below every layer: any of them may raise these.
"""

from __future__ import annotations


class UserError(ValueError):
    """A value given by the user that cannot be used.

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


class ScenarioError(UserError):
    """A scenario, ``--set`` value or command-line option that cannot be used."""


class GraphFileError(ScenarioError):
    """A hierarchy (from a graph file or generated) that is not a single-rooted tree with consistent levels."""


HierarchyError = GraphFileError
"""The older name of :class:`GraphFileError`."""


class FolderBusy(UserError):
    """A results folder that another bureausim command is writing at this moment."""


class ClusterUnreachable(UserError):
    """A Dask scheduler that cannot be reached at the address given."""


class RunsFailed(RuntimeError):
    """An experiment in which no run finished: nothing to summarise (see ``failures.jsonl``)."""
