"""One writer per output folder: a lock held while a command writes there.

Two commands writing to the same folder at once would interleave results; the second one is
refused instead. The lock is an ``flock`` on a hidden file beside the folder
(``.<name>.lock``), released by the operating system when the process ends, however it ends,
so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sim.errors import FolderBusy


@contextlib.contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold the lock of ``folder`` for the duration of the block, or refuse if another process holds it.

    The lock belongs to the folder itself, not to the name it was given by: a symlink to a
    folder another command is writing (or a path through a symlinked parent) finds that lock.
    """
    folder = Path(folder).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    path = folder.parent / f".{folder.name}.lock"
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "another process"
            raise FolderBusy(
                f"is being written by another bureausim command (process {holder}); wait for it to finish "
                "or choose another --out",
                source=str(folder),
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(handle)
