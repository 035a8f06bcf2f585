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
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager

from sim.atomic import save_figure
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


def save(fig, path: str | os.PathLike, dpi: int | None = None) -> list[Path]:
    """Write ``fig`` in every format of the current style: ``path`` with each format's suffix."""
    style = current()
    if style.size is not None:
        fig.set_size_inches(*style.size)
    written = []
    for suffix in style.formats:
        target = Path(path).with_suffix(f".{suffix}")
        options = {"dpi": dpi or style.dpi} if suffix == "png" else {}
        with mpl.rc_context({key: RC[key] for key in ("svg.fonttype", "pdf.fonttype")}):
            save_figure(fig, target, **options)
        written.append(target)
    if (recorded := _WRITTEN.get()) is not None:
        recorded.extend(written)
    return written


def parse_formats(text: str) -> tuple[str, ...]:
    """``png,pdf`` → ``("png", "pdf")``; refuses a format not in :data:`FORMATS`."""
    formats = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ScenarioError(
            f"{unknown[0] if unknown else 'nothing'} is not a figure format; give one or more of "
            f"{', '.join(FORMATS)}, separated by commas",
            source="--format",
        )
    return formats


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
