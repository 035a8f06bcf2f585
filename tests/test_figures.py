"""Every kind of figure the tool writes: file types, labels in words, and no tick labels that overlap.

Each figure is drawn from the tables of a real (small) experiment, then checked on the drawn
figure itself: the bounding boxes of every axis's visible tick labels must not intersect, every
visible panel must say what it shows (a title or an axis label), and no title, axis label, tick
label or legend entry may be a snake_case name. A negative control draws a deliberately crowded
axis and checks that the overlap check catches it.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sim import compare, explain, robustness, sensitivity, sweep
from sim.analysis import style
from sim.analysis.plots import oversight_lines, plot_time_series, waterfall
from sim.experiments.replications import run
from sim.scenario.loader import parse_scenario
from sim.scenario.output_labels import describe_output, label
from sim.scenario.output_names import model_output_names, optional_output_names
from sim.scenario.parameters import Parameters

SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")


def overlapping_ticks(fig) -> list[tuple[str, str]]:
    """Pairs of visible tick labels on the same axis whose drawn boxes intersect."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
            for (a, box_a), (b, box_b) in combinations(boxes, 2):
                if box_a.overlaps(box_b):
                    found.append((a, b))
    return found


def figure_texts(fig) -> list[str]:
    """Titles, axis labels, tick labels and legend entries of the figure."""
    texts = [fig._suptitle.get_text()] if fig._suptitle else []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        if ax.get_legend():
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    for legend in fig.legends:
        texts += [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]


def check_figure(fig) -> None:
    assert not overlapping_ticks(fig), overlapping_ticks(fig)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    labelled_grid = fig._suptitle is not None and any(ax.get_xlabel() for ax in panels)  # a grid, labelled at its edges
    for ax in panels:
        assert ax.get_title() or ax.get_xlabel() or ax.get_ylabel() or labelled_grid, "a panel says nothing"
    snake = [t for t in figure_texts(fig) if SNAKE.search(t)]
    assert not snake, f"snake_case names in the figure: {snake}"
    plt.close(fig)


SCENARIO = """
name: figures
seed: 5
steps: 12
replications: 3
hierarchy: {branching: [2, 3, 4]}
uncertainties:
  relay.escalation: [0.0, 0.4]
  accountability.inspection_rate: [0.05, 1.0]
  task.risk: [0.0, 0.2]
robustness:
  futures: 6
  satisficing: [goal_attainment >= 0.4]
outcomes:
  - {name: goal_attainment, direction: maximize}
  - {name: burden, direction: minimize}
  - {name: implementation_gap, direction: minimize}
  - {name: wrongful_sanction_rate, direction: minimize}
"""

ARMS = """
arms:
  - {name: status_quo}
  - {name: fault_tolerance, policies: [fault_tolerance]}
  - {name: onsite_inspection, policies: [onsite_inspection]}
  - {name: burden_reduction_with_a_long_name, policies: [burden_reduction]}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("figures")


def scenario(extra: str = ARMS):
    """The figures' scenario, with its arms (or, given other YAML, with that instead)."""
    return parse_scenario(SCENARIO + extra)


def test_run_figures(folder):
    result = run(scenario(""), out=folder / "run")
    for path in sorted((folder / "run" / "plots").glob("*.png")):
        assert path.read_bytes()[:4] == b"\x89PNG"
    from sim.analysis.plots import figure_groups

    for _, (title, outputs) in figure_groups(result.level_names).items():
        check_figure(_drawn_series(result.steps, outputs, title, result.scenario.burn_in_periods))


def _drawn_series(steps, outputs, title, burn_in):
    """The figure plot_time_series draws, caught before it is saved and closed."""
    (figure,) = caught(plot_time_series, steps, outputs, title, Path("unused.png"), burn_in)
    return figure


def test_the_time_series_mark_the_burn_in(folder):
    result = run(scenario("burn_in: 4\n"), out=folder / "burn")
    fig = _drawn_series(result.steps, ["goal_attainment"], "Goal versus reported attainment", 4)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "burn-in" in texts
    assert fig.axes[0].get_xlabel() == "period"
    plt.close(fig)


def test_comparison_figures(folder):
    result = compare(scenario(), out=folder / "compare", progress=False)
    forest = result.plot_forest()
    check_figure(forest)
    check_figure(result.plot_series())


def test_the_forest_plot_sorts_arms_best_first(folder):
    result = compare(scenario(), out=folder / "compare_sorted", progress=False)
    fig = result.plot_forest()
    ticks = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels()]
    first = result.effects[
        (result.effects["outcome"] == "goal_attainment") & (result.effects["verdict"] != "reference")
    ]
    expected = list(first.sort_values("difference", ascending=False)["arm"].str.replace("_", " "))
    assert ticks == expected
    plt.close(fig)


def test_sweep_figures(folder):
    one = sweep(
        scenario("sweep: {grid: {relay.escalation: [0.0, 0.1, 0.2, 0.3]}}\n"), out=folder / "s1", progress=False
    )
    check_figure(one.plot("goal_attainment"))
    grid = "sweep: {grid: {relay.escalation: [0.0, 0.2], accountability.inspection_rate: [0.1, 0.5, 1.0]}}\n"
    two = sweep(scenario(grid), out=folder / "s2", progress=False)
    check_figure(two.plot("goal_attainment"))


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_sensitivity_figures(folder, method):
    result = sensitivity(scenario(""), method=method, samples=4, out=folder / method, progress=False)
    fig = result.plot("goal_attainment")
    if method == "morris":  # the μ*-σ plane: a point per parameter
        assert fig.axes[0].get_xlabel().startswith("μ*") and fig.axes[0].get_ylabel().startswith("σ")
    check_figure(fig)


def test_robustness_figures(folder):
    result = robustness(scenario(), out=folder / "robust", progress=False)
    check_figure(result.plot_distribution("goal_attainment"))
    check_figure(result.plot_regret("goal_attainment"))


def test_explain_figures(folder):
    result = explain(scenario(), permutations=2, out=folder / "explain", progress=False)
    check_figure(result.plot_waterfall("status_quo"))
    check_figure(result.plot_levels("status_quo"))
    check_figure(result.plot_reform("fault_tolerance"))


def test_the_oversight_curve_is_drawn_against_inspections():
    rates = [0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0]
    rows = [
        {"inspection_rate": r, "outcome": o, "n": 3, "mean": v, "ci_low": v - 0.01, "ci_high": v + 0.01}
        for r in rates
        for o, v in (
            ("goal_attainment", 0.6 - (r - 0.3) ** 2 / 20),
            ("burden", 0.1 + r / 10),
            ("share_falsify", 0.3 / (1 + r)),
        )
    ]
    fig = oversight_lines(pd.DataFrame(rows))
    titles = [ax.get_title().replace("\n", " ") for ax in fig.axes]
    assert titles == ["goal attainment", "burden at the grassroots (share of capacity)", "share falsification"]
    check_figure(fig)


def test_a_waterfall_adds_up_from_the_intended_goal():
    parts = pd.DataFrame(
        [
            {
                "arm": "",
                "part": "unexplained",
                "name": "unexplained",
                "n": 4,
                "mean": 0.05,
                "ci_low": 0.04,
                "ci_high": 0.06,
            },
            {"arm": "", "part": "contribution", "name": "dilution", "n": 4, "mean": 0.2, "ci_low": 0.1, "ci_high": 0.3},
            {"arm": "", "part": "contribution", "name": "falsify", "n": 4, "mean": 0.1, "ci_low": 0.0, "ci_high": 0.2},
            {"arm": "", "part": "total", "name": "total", "n": 4, "mean": 0.35, "ci_low": 0.3, "ci_high": 0.4},
        ]
    )
    fig = waterfall(parts, "test")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "intended (1.0)",
        "lost with every mechanism off",
        "dilution",
        "falsification",
        "realised attainment",
    ]
    bars = [patch for patch in ax.patches]
    assert bars[-1].get_width() == pytest.approx(0.65)  # 1 - 0.35
    assert bars[2].get_x() == pytest.approx(0.95) and bars[2].get_width() == pytest.approx(-0.2)
    check_figure(fig)


def test_the_overlap_check_catches_crowded_labels():
    """Negative control: fifty long tick labels on a small axis must be caught."""
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_xticks(range(50), [f"a long tick label {i}" for i in range(50)])
    assert overlapping_ticks(fig)
    plt.close(fig)


@pytest.mark.parametrize("formats", [("png",), ("pdf",), ("svg",), ("png", "pdf", "svg")])
def test_figures_are_written_in_the_formats_and_size_asked_for(tmp_path, formats):
    magic = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}
    with style.using(formats=formats, size=(5.0, 3.0)):
        result = run(scenario(""), out=tmp_path / "out")
    written = sorted((result.folder / "plots").iterdir())
    assert {path.suffix[1:] for path in written} == set(formats)
    for path in written:
        assert path.read_bytes()[:5].startswith(magic[path.suffix[1:]]), path.name


def test_chinese_labels_exist_for_every_output_and_are_drawn():
    level_names = ["province", "municipality", "county", "township"]
    p = Parameters(
        relay={"report_rule": "rate", "inflation_options": [0, 0.1], "escalation_by_level": [0.1, 0.1, 0.1]},
        execution={"motivated_share": 0.5},
        middle={"relay_choice": True, "shielding": True},
        feedback={"every": 6},
    )
    names = [*model_output_names(level_names, ["env"]), *optional_output_names(p, level_names)]
    for name in names:
        found = describe_output(name)
        assert not SNAKE.search(found.en), name
        assert re.search(r"[\u4e00-\u9fff]", found.zh), f"{name} has no Chinese label"
    assert label("goal_attainment", "zh") == "目标实际完成度"


def caught(draw, *args) -> list:
    """The figures ``draw(*args)`` saves, caught before they are written and closed."""
    figures = []
    original_save, original_close = style.save, plt.close
    style.save = lambda fig, path, dpi=None: figures.append(fig) or []
    plt.close = lambda fig=None: None
    try:
        draw(*args)
    finally:
        style.save, plt.close = original_save, original_close
    return figures


def test_the_validation_figures_are_labelled_and_never_crowd(tmp_path):
    from sim.checks.patterns import PATTERNS, ClaimResult
    from sim.checks.validation import plot_closed_forms, plot_pattern, plot_replications, plot_robustness

    for pattern in PATTERNS:
        results = [
            ClaimResult(pattern.id, claim.text, 6, 0.1 * k, 0.1 * k - 0.05, 0.1 * k + 0.05, 0.0)
            for k, claim in enumerate(pattern.claims)
        ]
        for fig in caught(plot_pattern, pattern, results, tmp_path):
            check_figure(fig)
    closed = pd.DataFrame(
        [
            (name, rate, depth, (1 + rate) ** depth, (1 + rate) ** depth)
            for name in ("P1", "P2")
            for rate in (0.05, 0.1)
            for depth in range(1, 6)
        ],
        columns=["pattern", "rate", "depth", "model", "closed_form"],
    )
    robustness = pd.DataFrame([{"pattern": p.id, "point": k, "holds": k % 2 == 0} for p in PATTERNS for k in range(4)])
    replications = pd.DataFrame(
        [
            {"n": n, "outcome": o, "relative_half_width": 1 / n}
            for n in range(2, 10)
            for o in ("goal_attainment", "burden")
        ]
    )
    figures = [
        *caught(plot_closed_forms, closed, tmp_path),
        *caught(plot_robustness, robustness, tmp_path),
        *caught(plot_replications, replications, tmp_path),
    ]
    assert len(figures) == 4
    for fig in figures:
        check_figure(fig)


ENGLISH = re.compile(
    r"\b(the|of|against|over|mean|per|with|from|and|on|by|replications|period|difference|regret|where|why|lost|relay"
    r"|median|maximum|futures|share|screening|held)\b",
    re.IGNORECASE,
)
"""Words of the figures' English sentences: none may be left in a figure drawn in Chinese."""


def english_left(fig, names: list[str]) -> list[str]:
    """The figure's texts that still hold English words, once the given names (arms, parameters) are set aside."""
    left = []
    for text in figure_texts(fig):
        flat = text.replace("\n", " ")
        for name in sorted(names, key=len, reverse=True):
            flat = flat.replace(name, "")
        if ENGLISH.search(flat):
            left.append(text)
    plt.close(fig)
    return left


def test_every_figure_kind_drawn_in_chinese_has_no_english_sentence_left(tmp_path):
    from sim.analysis.plots import parameter_words, shown

    with style.using(language="zh"):
        base = scenario()
        arms = [shown(arm.name) for arm in base.arms]
        parameters = [parameter_words(path) for path in base.uncertainties]
        names = arms + parameters + [shown(a) for a in ("burden_reduction", "with_a_long_name")]
        compared = compare(base, out=tmp_path / "c", progress=False)
        swept = sweep(scenario("sweep: {grid: {relay.escalation: [0.0, 0.2]}}\n"), out=tmp_path / "s", progress=False)
        screened = sensitivity(scenario(""), method="morris", samples=4, out=tmp_path / "m", progress=False)
        indexed = sensitivity(scenario(""), method="sobol", samples=4, out=tmp_path / "o", progress=False)
        robust = robustness(base, out=tmp_path / "r", progress=False)
        explained = explain(base, permutations=2, out=tmp_path / "e", progress=False)
        ran = run(scenario(""), out=tmp_path / "run")
        figures = {
            "forest": compared.plot_forest(),
            "series": compared.plot_series(),
            "sweep": swept.plot("goal_attainment"),
            "morris": screened.plot("goal_attainment"),
            "sobol": indexed.plot("goal_attainment"),
            "distribution": robust.plot_distribution("goal_attainment"),
            "regret": robust.plot_regret("goal_attainment"),
            "waterfall": explained.plot_waterfall("status_quo"),
            "levels": explained.plot_levels("status_quo"),
            "reform": explained.plot_reform("fault_tolerance"),
            "run": _drawn_series(ran.steps, ["goal_attainment", "burden"], "Goal versus reported attainment", 0),
        }
        relays = [relay for relay in explained.levels["name"] if "→" in str(relay)]
        for kind, fig in figures.items():
            assert not english_left(fig, names + relays), (kind, english_left(fig, names + relays))
    with style.using(language="en"):  # negative control: the same check finds the English of an English figure
        assert english_left(compared.plot_forest(), names)


def test_a_path_naming_pdf_or_svg_writes_that_format_and_a_png_path_every_format(tmp_path):
    parts = pd.DataFrame(
        [
            {"arm": "", "part": "unexplained", "name": "unexplained", "n": 4, "mean": 0.1, "ci_low": 0, "ci_high": 0.2},
            {"arm": "", "part": "total", "name": "total", "n": 4, "mean": 0.1, "ci_low": 0.0, "ci_high": 0.2},
        ]
    )
    waterfall(parts, "test", tmp_path / "a.svg")
    waterfall(parts, "test", tmp_path / "b.pdf")
    with style.using(formats=("png", "svg")):
        waterfall(parts, "test", tmp_path / "c.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.svg", "b.pdf", "c.png", "c.svg"]


@pytest.mark.parametrize("text", ["", "png,,svg", " , ", "png,jpeg"])
def test_an_empty_or_unknown_format_is_refused(text):
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="is not a figure format"):
        style.parse_formats(text)


def test_the_morris_plane_keeps_every_whisker_on_its_axes():
    from sim.analysis.plots import sensitivity_bars

    indices = pd.DataFrame(
        {
            "outcome": "goal_attainment",
            "parameter": ["relay.escalation", "task.risk", "relay.dilution"],
            "mu": [0.1, 0.2, 0.05],
            "mu_star": [0.1, 0.2, 0.05],
            "mu_star_conf": [0.05, 0.11, 0.3],
            "sigma": [0.02, 0.05, 0.01],
        }
    )
    fig = sensitivity_bars(indices, "morris", "goal_attainment")
    assert fig.axes[0].get_xlim()[1] >= (indices["mu_star"] + indices["mu_star_conf"]).max()
    check_figure(fig)


def test_a_size_too_small_for_a_figure_is_written_with_a_warning_and_its_own_size_without(tmp_path):
    result = compare(scenario(), out=tmp_path / "c", progress=False)
    with style.using(size=(3.0, 2.0)), pytest.warns(style.FigureWarning, match="give a larger --size"):
        result.plot_forest(tmp_path / "small.png")
    assert (tmp_path / "small.png").is_file()
    import warnings

    own = tuple(float(x) for x in result.plot_forest().get_size_inches())
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("error", style.FigureWarning)
        with style.using(size=own):  # forced, so checked: at its own size nothing is crowded
            result.plot_forest(tmp_path / "own.png")
        with style.using(size=(own[0] * 1.5, own[1] * 1.5)):
            result.plot_forest(tmp_path / "large.png")


def test_what_a_staged_block_removes_or_draws_happens_only_if_it_ends_well(tmp_path):
    stale, drawn = tmp_path / "stale.png", tmp_path / "drawn.png"
    stale.write_bytes(b"old")
    fig, _ = plt.subplots()
    with pytest.raises(RuntimeError), style.staged():
        style.remove(stale)
        style.save(fig, drawn)
        raise RuntimeError("a table fails halfway")
    assert stale.read_bytes() == b"old" and not drawn.exists()
    with style.staged():
        style.remove(stale)
        style.save(fig, drawn)
        assert stale.exists() and not drawn.exists()  # nothing happens before the block ends
    assert not stale.exists() and drawn.read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_no_two_arms_look_alike_however_many_there_are():
    from sim.analysis.plots import arm_looks

    arms = [f"arm {k}" for k in range(20)]
    looks = arm_looks(arms)
    assert len(set(looks.values())) == len(arms)
    bands = pd.DataFrame(
        [
            {"arm": arm, "output": "goal_attainment", "period": t, "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}
            for arm in arms
            for t in (1, 2, 3)
        ]
    )
    from sim.analysis.plots import series_by_arm

    fig = series_by_arm(bands, ["goal_attainment"])
    drawn = [(line.get_color(), line.get_linestyle()) for line in fig.axes[0].get_lines()]
    assert len(set(drawn)) == len(arms)
    plt.close(fig)
