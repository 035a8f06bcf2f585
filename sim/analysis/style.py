"""One look for every figure, and where figures go: file formats, size and language.

Every figure function ends in :func:`sim.analysis.plots.finish`, which saves through
:func:`save` here, so a command's ``--format pdf,svg``, ``--size 7x4`` and ``--language zh``
(or :func:`using` in Python) reach every figure the command draws without each function
taking three more arguments. The style is a set of matplotlib rcParams applied while a figure
is drawn (:func:`drawing`); it chooses no backend.

Chinese labels need a font with CJK glyphs: the first of :data:`CJK_FONTS` matplotlib finds
is used; with none, a warning says which package gives one (glyphs would show as boxes).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager

from sim.atomic import save_figure, write_bytes
from sim.errors import ScenarioError

FORMATS = ("png", "pdf", "svg")
"""The file formats figures can be written in."""

LANGUAGES = ("en", "zh")
"""The languages of figure labels."""

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)
"""Fonts with Chinese glyphs, in order of preference."""

RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": mpl.cycler(
        color=["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
    ),
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}
"""The house style: readable sizes, no top and right spines, a colour-blind-safe palette (Okabe-Ito)."""


class FigureWarning(UserWarning):
    """A figure was written, but not as well as it could be (labels crowded or cut at the size asked for)."""


warnings.filterwarnings("always", category=FigureWarning)  # each figure's, every time, not once per code line


@dataclass(frozen=True)
class FigureStyle:
    """Where and how figures are written.

    Attributes:
        formats: The file formats, each figure written once in each.
        size: Width and height in inches, replacing each figure's own (``None``: its own).
        language: ``en`` or ``zh`` for labels.
        dpi: Resolution of PNG files.
    """

    formats: tuple[str, ...] = ("png",)
    size: tuple[float, float] | None = None
    language: str = "en"
    dpi: int = 110


_CURRENT: contextvars.ContextVar[FigureStyle] = contextvars.ContextVar("figure_style", default=FigureStyle())  # noqa: B039 (frozen)


def current() -> FigureStyle:
    """The style figures are written in now."""
    return _CURRENT.get()


def language() -> str:
    """The language of labels now (``en`` or ``zh``)."""
    return current().language


@contextlib.contextmanager
def using(style: FigureStyle | None = None, **changes) -> Iterator[FigureStyle]:
    """Write every figure drawn inside in ``style`` (or the current style with ``changes``)."""
    chosen = replace(style or current(), **changes)
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def drawing() -> Iterator[None]:
    """Draw in the house style (and, for Chinese labels, with a CJK font)."""
    rc = dict(RC)
    if language() == "zh":
        font = cjk_font()
        if font is not None:
            rc["font.family"] = [font, "sans-serif"]  # named, so texts keep it when drawn later (on a page)
            rc["axes.unicode_minus"] = False
    kept: dict = {}
    with mpl.rc_context(rc):
        try:
            yield
        finally:  # what the first figure set up (a notebook's inline backend switches interactive mode on)
            kept = {key: dict.__getitem__(mpl.rcParams, key) for key in ("backend", "interactive")}
    dict.update(mpl.rcParams, kept)


def cjk_font() -> str | None:
    """The first font of :data:`CJK_FONTS` installed, or ``None`` (with a warning)."""
    for attempt in range(2):
        installed = {font.name for font in font_manager.fontManager.ttflist}
        for name in CJK_FONTS:
            if name in installed:
                return name
        if attempt == 0:  # matplotlib's font cache predates the font: add the system's CJK files to it
            for path in font_manager.findSystemFonts():
                if any(hint in Path(path).name.lower() for hint in ("wqy", "cjk", "sourcehan", "simhei", "yahei")):
                    font_manager.fontManager.addfont(path)
    warnings.warn(
        "no font with Chinese glyphs found, so Chinese labels show as boxes; install one "
        "(Debian: fonts-wqy-microhei or fonts-noto-cjk) and remove matplotlib's font cache",
        FigureWarning,
        stacklevel=3,
    )
    return None


_WRITTEN: contextvars.ContextVar[list[Path] | None] = contextvars.ContextVar("figures_written", default=None)


@contextlib.contextmanager
def recording() -> Iterator[list[Path]]:
    """Collect the path of every figure file :func:`save` writes inside (``bureausim plot`` lists them)."""
    written: list[Path] = []
    token = _WRITTEN.set(written)
    try:
        yield written
    finally:
        _WRITTEN.reset(token)


_STAGED: contextvars.ContextVar[list[tuple[Path, bytes | None]] | None] = contextvars.ContextVar(
    "figures_staged", default=None
)


@contextlib.contextmanager
def staged() -> Iterator[None]:
    """Keep every figure :func:`save` draws inside (and every :func:`remove`) in memory until the block ends.

    Then each file is written (atomically, one after another) or removed. If the block fails,
    nothing is written or removed: ``bureausim plot`` on a folder whose tables fail halfway
    leaves the folder as it was.
    """
    drawn: list[tuple[Path, bytes | None]] = []
    token = _STAGED.set(drawn)
    try:
        yield
    finally:
        _STAGED.reset(token)
    for target, data in drawn:
        if data is None:
            target.unlink(missing_ok=True)
        else:
            write_bytes(target, data)


def remove(path: Path) -> None:
    """Remove a figure file that is out of date: now, or with the figures of :func:`staged`."""
    if (drawn := _STAGED.get()) is not None:
        drawn.append((Path(path), None))
    else:
        Path(path).unlink(missing_ok=True)


def save(fig, path: str | os.PathLike, dpi: int | None = None) -> list[Path]:
    """Write ``fig`` in every format of the current style: ``path`` with each format's suffix.

    A ``path`` ending in ``.pdf`` or ``.svg`` is written in that format alone, so that
    ``result.plot_forest(path="forest.pdf")`` writes what it names; a ``.png`` path (what the
    commands give) or one without a suffix is written in every format of the style.
    """
    style = current()
    if style.size is not None:
        own = tuple(float(x) for x in fig.get_size_inches())
        fig.set_size_inches(*style.size)
        problems = crowding(fig)
        if problems:
            warnings.warn(
                f"{Path(path).stem}: at {style.size[0]:g}x{style.size[1]:g} inches its labels {problems[0]}"
                f"{f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''}; its own size is "
                f"{own[0]:.1f}x{own[1]:.1f} inches: give a larger --size, or none",
                FigureWarning,
                stacklevel=2,
            )
    named = Path(path).suffix.lower().lstrip(".")
    formats = (named,) if named in FORMATS and named != "png" else style.formats
    written = []
    drawn = _STAGED.get()
    for suffix in formats:
        target = Path(path).with_suffix(f".{suffix}")
        options = {"dpi": dpi or style.dpi} if suffix == "png" else {}
        with mpl.rc_context({key: RC[key] for key in ("svg.fonttype", "pdf.fonttype")}):
            if drawn is None:
                save_figure(fig, target, **options)
            else:
                buffer = io.BytesIO()
                fig.savefig(buffer, format=suffix, **options)
                drawn.append((target, buffer.getvalue()))
        written.append(target)
    if (recorded := _WRITTEN.get()) is not None:
        recorded.extend(written)
    return written


def crowding(fig) -> list[str]:
    """What is wrong with a figure's labels at its present size: tick labels that overlap, texts cut off.

    Draws the figure once. Checks every visible axis's tick labels against each other, and the
    titles, axis labels and tick labels against the figure's edges.
    """
    from itertools import combinations

    fig.canvas.draw()
    renderer = fig._get_renderer()
    edge = fig.bbox.padded(1)
    problems = []
    outside = [fig._suptitle, *fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_visible())]
    for artist in (a for a in outside if a is not None and a.get_visible()):
        box = artist.get_window_extent(renderer)
        if box.x0 < edge.x0 or box.x1 > edge.x1 or box.y0 < edge.y0 or box.y1 > edge.y1:
            problems.append("are cut at the edge (a title or legend)")
            break
    for ax in (ax for ax in fig.axes if ax.get_visible()):
        ticks = []
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            shown = [  # the tick labels drawn: those of ticks inside the axis's limits
                text
                for text, where in zip(axis.get_ticklabels(), axis.get_ticklocs(), strict=False)
                if text.get_visible() and text.get_text() and low <= where <= high
            ]
            boxes = [text.get_window_extent(renderer) for text in shown]
            if any(a.overlaps(b) for a, b in combinations(boxes, 2)):
                problems.append("overlap on an axis")
            ticks += shown
        for text in [ax.title, ax.xaxis.label, ax.yaxis.label, *ticks]:
            if text.get_visible() and text.get_text():
                box = text.get_window_extent(renderer)
                if box.x0 < edge.x0 or box.x1 > edge.x1 or box.y0 < edge.y0 or box.y1 > edge.y1:
                    problems.append(f"are cut at the edge ({text.get_text()[:30]!r})")
                    break
    return list(dict.fromkeys(problems))


def parse_formats(text: str) -> tuple[str, ...]:
    """``png,pdf`` → ``("png", "pdf")``; refuses a format not in :data:`FORMATS`."""
    parts = [part.strip().lower() for part in text.split(",")]
    unknown = [part for part in parts if part not in FORMATS]
    if unknown:
        named = unknown[0] or "an empty name"
        raise ScenarioError(
            f"{named} is not a figure format; give one or more of {', '.join(FORMATS)}, separated by commas",
            source="--format",
        )
    return tuple(dict.fromkeys(parts))


def parse_size(text: str) -> tuple[float, float]:
    """``7x4`` (inches) → ``(7.0, 4.0)``; refuses anything else, and sizes outside 1-40 inches."""
    try:
        width, height = (float(part) for part in text.lower().split("x"))
    except ValueError:
        raise ScenarioError(
            f"{text!r} is not a size; give width x height in inches, e.g. 7x4", source="--size"
        ) from None
    if not (1 <= width <= 40 and 1 <= height <= 40):
        raise ScenarioError(f"{text!r}: width and height must each be 1 to 40 inches", source="--size")
    return width, height


def parse_language(text: str) -> str:
    """``en`` or ``zh``; refuses anything else."""
    if text not in LANGUAGES:
        raise ScenarioError(f"{text!r} is not a language of figure labels; give en or zh", source="--language")
    return text
