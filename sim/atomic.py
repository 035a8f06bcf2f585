"""Writing a file so that a crash leaves the old file or the new one, never a truncated one.

Every file a command writes (tables, plots, manifests, reports) is written to a hidden
temporary file beside its destination, flushed to disk and renamed onto it; a rename within
a folder is atomic. The temporary name keeps the destination's suffix, so that writers that
choose their format by it (matplotlib, pandas) still do. Below every layer, like
:mod:`sim.errors`: analysis (plots) and storage (tables) both write files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replaced_atomically(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` at once, on failure it is removed."""
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files a killed writer left in ``folder`` and below it; return them.

    Call it only while holding the folder's lock (:mod:`sim.storage.locks`): a temporary file
    is then certainly a leftover, not another command's file in the making.
    """
    leftovers = [path for path in Path(folder).rglob(".*.partial-*") if path.is_file()]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with replaced_atomically(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path``, atomically."""
    with replaced_atomically(path) as temporary:
        temporary.write_bytes(data)


def write_table(frame, path: str | os.PathLike) -> None:
    """Write a pandas table atomically, as CSV or Parquet by the path's suffix, without its index."""
    path = Path(path)
    with replaced_atomically(path) as temporary:
        if path.suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        elif path.suffix == ".csv":
            frame.to_csv(temporary, index=False)
        else:
            raise ValueError(f"write_table writes .csv or .parquet, not {path.name}")


def save_figure(fig, path: str | os.PathLike, **options) -> None:
    """``fig.savefig(path, **options)``, atomically."""
    with replaced_atomically(path) as temporary:
        fig.savefig(temporary, **options)
