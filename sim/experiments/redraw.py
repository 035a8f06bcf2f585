"""Drawing a finished results folder's figures again, from its tables: ``bureausim plot FOLDER``.

Every figure is a view of tables already on disk, so another format (a PDF for the paper),
another size or the other language needs no run. The folder is read back as its command's
result (:func:`sim.experiments.reopen.load_results`), and the figures are drawn by the same
function that drew them first (the kind's ``draw``, :func:`~sim.analysis.plots.write_plots`
for a run, :func:`~sim.experiments.calibrate.draw_calibration` for a calibration), in the
style asked for (:mod:`sim.analysis.style`). Tables and the manifest are left as they are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.analysis import style
from sim.analysis.plots import write_plots
from sim.experiments.kinds import KINDS
from sim.experiments.reopen import damaged_tables_refused, load_results, read_manifest
from sim.storage.locks import output_lock


def redraw(
    folder: str | os.PathLike,
    *,
    formats: str | Sequence[str] | None = None,
    size: str | tuple[float, float] | None = None,
    language: str | None = None,
) -> list[Path]:
    """Draw the figures of the results folder ``folder`` again; return the files written.

    Args:
        folder: A finished folder of ``bureausim run``, of an experiment (compare, sweep,
            sensitivity, robustness, explain) or of ``calibrate``.
        formats: File formats, ``"pdf,png"`` or ``["pdf", "png"]`` (default: the style in
            force, PNG unless :func:`sim.analysis.style.using` says otherwise).
        size: ``"7x4"`` or ``(7, 4)``, width and height in inches for every figure (default:
            each figure's own).
        language: ``en`` or ``zh`` (default: the style in force).

    Every figure is drawn before any file is touched (none is written if one fails); then each
    replaces the file of the same name and format, atomically; figures in other formats
    already there are kept. The
    folder's lock is held meanwhile: a command writing the folder makes this refuse, and a
    command started meanwhile refuses.

    Raises:
        ScenarioError: a bad option, or a folder that is not a finished results folder or whose
            tables cannot be read; nothing is written then.
        FolderBusy: another bureausim command is writing the folder.
    """
    folder = Path(folder)
    changes = _style_changes(formats, size, language)
    _, _, kind = read_manifest(folder)
    manifest = (folder / "manifest.json").read_bytes()
    result = load_results(folder)  # a folder that cannot be read back is refused before the lock file is made
    with output_lock(folder), style.using(**changes):
        if (folder / "manifest.json").read_bytes() != manifest:  # a command finished there meanwhile
            result = load_results(folder)
        with (
            style.recording() as written,
            style.staged(),
            damaged_tables_refused(
                folder, "cannot be drawn: a table is missing or damaged, or lacks what its figures read"
            ),
        ):
            draw(kind, result)
    return written


def _style_changes(formats, size, language) -> dict[str, Any]:
    """The style fields the options change, each checked as the command line checks it."""
    changes: dict[str, Any] = {}
    if formats is not None:
        changes["formats"] = style.parse_formats(formats if isinstance(formats, str) else ",".join(formats))
    if size is not None:
        changes["size"] = style.parse_size(size if isinstance(size, str) else "x".join(str(part) for part in size))
    if language is not None:
        changes["language"] = style.parse_language(language)
    return changes


def draw(kind: str, result) -> None:
    """Draw ``result``'s figures as the command of ``kind`` draws them."""
    if kind == "run":
        write_plots(result.steps, result.level_names, result.folder / "plots", result.scenario.burn_in_periods)
    elif kind == "calibrate":
        from sim.experiments.calibrate import draw_calibration  # its modules import only when needed

        draw_calibration(result)
    else:
        KINDS[kind].draw(result)
