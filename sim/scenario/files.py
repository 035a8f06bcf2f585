"""Reading the files a user names: regular files only, and no more than a stated size.

A scenario or graph file is read whole. A FIFO would block the command forever, a device
such as ``/dev/zero`` would fill memory, and a huge file would take the machine down before
any check could run; so a path is refused unless it names a regular file (after following
symlinks) of at most a stated size, judged from ``stat`` before a byte is read, and the read
itself stops one byte past the cap in case the file grows meanwhile.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sim.errors import ScenarioError

MiB = 1024 * 1024

SCENARIO_FILE_CAP = 4 * MiB
"""The largest scenario file read (the largest shipped one is a few kilobytes)."""

GRAPH_FILE_CAP = 512 * MiB
"""The largest graph file read (a GraphML file of the largest hierarchy allowed takes about 250 MB)."""


def _size_text(size: int) -> str:
    return f"{size / MiB:,.1f} MiB" if size >= MiB else f"{size:,} bytes"


def read_regular_file(path: Path, cap: int, what: str, error: type[ScenarioError] = ScenarioError) -> bytes:
    """The bytes of ``path``, refusing what is not a regular file or is larger than ``cap``.

    Args:
        path: The file to read.
        cap: The largest size accepted, in bytes.
        what: What the file is meant to be, for messages (``"scenario file"``).
        error: The error class raised (a graph file's is :class:`sim.errors.GraphFileError`).

    Raises:
        ScenarioError (or ``error``): no such file, a directory, a FIFO, socket or device,
            unreadable, or over the cap; the message names the file.
    """
    source = str(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the file is judged by fstat of
        # what was opened, so it cannot be swapped for another between the check and the read
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise error(f"no such {what}", source=source) from None
    except NotADirectoryError:
        raise error(f"no such {what} (a part of the path is not a folder)", source=source) from None
    except PermissionError:
        raise error("cannot be read (permission denied)", source=source) from None
    except OSError as problem:
        raise error(f"cannot be read ({problem.strerror or problem})", source=source) from None
    try:
        _check_kind(os.fstat(descriptor), cap, what, source, error)
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as handle:
        try:
            data = handle.read(cap + 1)
        except OSError as problem:
            raise error(f"cannot be read ({problem.strerror or problem})", source=source) from None
    if len(data) > cap:
        raise error(f"is larger than the {_size_text(cap)} a {what} may have (it grew while being read)", source=source)
    return data


def _check_kind(info: os.stat_result, cap: int, what: str, source: str, error: type[ScenarioError]) -> None:
    """Refuse a directory, a FIFO, socket or device, and a regular file over ``cap``."""
    if stat.S_ISDIR(info.st_mode):
        raise error(f"is a directory, not a {what}", source=source)
    if not stat.S_ISREG(info.st_mode):
        if stat.S_ISFIFO(info.st_mode):
            kind = "a FIFO (named pipe)"
        elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
            kind = "a device"
        elif stat.S_ISSOCK(info.st_mode):
            kind = "a socket"
        else:
            kind = "not a regular file"
        raise error(f"is {kind}, not a {what}; name a regular file", source=source)
    if info.st_size > cap:
        raise error(
            f"is larger than the {_size_text(cap)} a {what} may have ({_size_text(info.st_size)})", source=source
        )
