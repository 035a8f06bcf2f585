"""Scenario discovery with PRIM (sim.analysis.discovery) on synthetic futures whose answer is known.

400 futures drawn uniformly over four parameters in [0, 1]; the condition holds in the corner
x1 < 0.3 and x2 > 0.6 (12% of the space). PRIM should find that box, restrict only x1 and x2,
and call those restrictions significant; on cases drawn at random it should find nothing
dense. Each PRIM call takes a fraction of a second (the first imports the EMA Workbench).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from pandas.testing import assert_frame_equal

import sim.analysis.discovery
from sim.analysis.discovery import Discovery, discover, discover_boxes

PARAMETERS = ["x1", "x2", "x3", "x4"]


def futures(seed: int, count: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(count, len(PARAMETERS))), columns=PARAMETERS)


def corner(frame: pd.DataFrame) -> np.ndarray:
    return ((frame["x1"] < 0.3) & (frame["x2"] > 0.6)).to_numpy()


@pytest.fixture(scope="module", params=[0, 1], ids=["seed0", "seed1"])
def found(request) -> Discovery:
    frame = futures(request.param)
    return discover(frame, corner(frame), label="x1 low and x2 high")


def inside(found: Discovery) -> np.ndarray:
    """Which futures lie in the chosen box (limits are inclusive)."""
    limits = found.limits.set_index("parameter")
    mask = np.ones(len(found.futures), dtype=bool)
    for name in found.futures.columns:
        values = found.futures[name].to_numpy()
        mask &= (values >= limits.at[name, "lower"]) & (values <= limits.at[name, "upper"])
    return mask


def test_prim_finds_the_corner_and_restricts_only_its_two_parameters(found):
    assert found.note == ""
    limits = found.limits.set_index("parameter")
    assert list(limits.index) == PARAMETERS
    assert limits.index[limits["restricted"]].tolist() == ["x1", "x2"]
    assert limits.at["x1", "upper"] == pytest.approx(0.3, abs=0.07)
    assert limits.at["x2", "lower"] == pytest.approx(0.6, abs=0.07)
    # the other side of each restricted parameter, and every other parameter, keeps the futures' full range
    for name in PARAMETERS:
        assert limits.at[name, "range_lower"] == found.futures[name].min()
        assert limits.at[name, "range_upper"] == found.futures[name].max()
    assert limits.at["x1", "lower"] == limits.at["x1", "range_lower"]
    assert limits.at["x2", "upper"] == limits.at["x2", "range_upper"]
    for name in ("x3", "x4"):
        assert (limits.at[name, "lower"], limits.at[name, "upper"]) == (
            limits.at[name, "range_lower"],
            limits.at[name, "range_upper"],
        )
    stats = found.stats
    assert stats["coverage"] >= 0.8 and stats["density"] >= 0.8
    assert stats["mass"] == pytest.approx(0.12, abs=0.03)
    assert stats["cases"] == int(found.cases.sum()) and stats["futures"] == 400
    assert stats["restricted"].startswith("x1 in [") and "; x2 in [" in stats["restricted"]
    assert "x3" not in stats["restricted"] and "x4" not in stats["restricted"]


def test_the_real_restrictions_are_significant_and_only_on_the_restricted_side(found):
    limits = found.limits.set_index("parameter")
    assert limits.at["x1", "qp_upper"] < 0.05 and np.isnan(limits.at["x1", "qp_lower"])
    assert limits.at["x2", "qp_lower"] < 0.05 and np.isnan(limits.at["x2", "qp_upper"])
    assert limits.loc[["x3", "x4"], ["qp_lower", "qp_upper"]].isna().all().all()


def test_the_chosen_box_holds_the_futures_and_cases_its_trajectory_step_says(found):
    step = found.trajectory.iloc[found.chosen]
    box = inside(found)
    assert box.sum() == step["n"]
    assert (box & found.cases).sum() == step["k"]
    assert step["coverage"] == pytest.approx(step["k"] / found.cases.sum())
    assert step["density"] == pytest.approx(step["k"] / step["n"])
    assert step["mass"] == pytest.approx(step["n"] / 400)
    assert step["res_dim"] == 2


def test_selecting_another_step_gives_that_steps_box(found):
    trajectory = found.trajectory
    same = found.select(found.chosen)
    assert_frame_equal(same.limits, found.limits)
    assert same.note == f"step {found.chosen} chosen by hand"
    for step in (0, found.chosen // 2, len(trajectory) - 1):
        picked = found.select(step)
        assert picked.chosen == step
        assert inside(picked).sum() == trajectory.at[step, "n"], step
        assert (inside(picked) & picked.cases).sum() == trajectory.at[step, "k"], step
        assert picked.limits["restricted"].sum() == trajectory.at[step, "res_dim"], step
        assert picked.stats["coverage"] == trajectory.at[step, "coverage"]
    assert not found.select(0).limits["restricted"].any(), "step 0 is every future"
    assert found.chosen == chosen_by_rule(trajectory, found.min_density), "select returns a copy"
    with pytest.raises(ValueError, match="not on the trajectory"):
        found.select(len(trajectory))
    with pytest.raises(ValueError, match="no box was searched for"):
        discover(found.futures, np.zeros(len(found.futures), dtype=bool)).select(0)


def chosen_by_rule(trajectory: pd.DataFrame, min_density: float) -> int:
    """The step with the highest coverage among those with density >= min_density, the denser of equals."""
    dense = trajectory[trajectory["density"] >= min_density]
    best = dense[dense["coverage"] == dense["coverage"].max()]
    return int(best["density"].idxmax())


def test_the_chosen_box_is_the_most_covering_of_the_dense_ones(found):
    assert found.chosen == chosen_by_rule(found.trajectory, found.min_density)
    chosen = {found.min_density: found.chosen}
    for bar in (0.5, 0.95, 1.0):
        again = discover(found.futures, found.cases, min_density=bar)
        assert_frame_equal(again.trajectory, found.trajectory)
        assert again.chosen == chosen_by_rule(found.trajectory, bar), bar
        chosen[bar] = again.chosen
    coverage = [found.trajectory.at[chosen[bar], "coverage"] for bar in sorted(chosen)]
    assert coverage == sorted(coverage, reverse=True), "a higher bar never buys more coverage"
    assert len(set(chosen.values())) >= 2, "the bar must make a difference on this trajectory"


def test_the_peeling_trajectory_starts_from_every_future_and_gains_density_at_each_step(found):
    trajectory = found.trajectory
    assert list(trajectory.columns) == ["step", "coverage", "density", "mass", "res_dim", "n", "k"]
    assert trajectory["step"].tolist() == list(range(len(trajectory)))
    first = trajectory.iloc[0]
    assert (first["coverage"], first["mass"], first["res_dim"], first["n"]) == (1.0, 1.0, 0, 400)
    assert first["density"] == pytest.approx(found.cases.mean())
    # every step of PRIM (peel or paste) is taken only if it raises the density
    assert (np.diff(trajectory["density"]) > 0).all()
    # a peel removes futures, and with them perhaps cases: coverage never rises while mass falls
    peels = np.diff(trajectory["mass"]) < 0
    assert (np.diff(trajectory["coverage"])[peels] <= 1e-12).all()
    assert (trajectory["coverage"].between(0, 1) & trajectory["density"].between(0, 1)).all()
    assert trajectory["mass"].min() >= sim.analysis.discovery.MASS_MIN


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_cases_drawn_at_random_give_no_dense_box(seed):
    frame = futures(seed)
    cases = np.random.default_rng(100 + seed).uniform(size=len(frame)) < 0.3
    found = discover(frame, cases)
    assert found.note == "no box reaches density 0.8; the densest is chosen"
    assert found.chosen == found.trajectory["density"].idxmax()
    # PRIM chases noise, but the densest box it finds stays far below the real corner's (>= 0.9)
    assert found.stats["density"] < 0.6


def test_a_bar_of_density_1_takes_the_most_covering_pure_box():
    frame = futures(0)
    found = discover(frame, corner(frame), min_density=1.0)
    assert found.note == ""
    assert found.stats["density"] == 1.0
    assert 0.8 <= found.stats["coverage"] < 1.0
    assert (inside(found) <= found.cases).all(), "a pure box holds cases only"


def test_a_condition_that_holds_nowhere_or_everywhere_searches_for_no_box(monkeypatch, tmp_path):
    def no_prim(*args):
        raise AssertionError("PRIM must not run")

    monkeypatch.setattr(sim.analysis.discovery, "_find_boxes", no_prim)
    frame = futures(0, count=50)
    for cases, note, coverage in (
        (np.zeros(50, dtype=bool), "the condition holds in no future", 0.0),
        (np.ones(50, dtype=bool), "the condition holds in every future", 1.0),
    ):
        found = discover(frame, cases, label="nothing to find")
        assert found.chosen is None and found.note == note
        assert found.trajectory[["coverage", "density", "mass", "res_dim"]].iloc[0].tolist() == [
            coverage,
            coverage,
            1.0,
            0,
        ]
        assert not found.limits["restricted"].any()
        stats = found.stats
        assert np.isnan(stats["coverage"]) and stats["restricted"] == "" and stats["note"] == note
        assert stats["box"] == 1 and np.isnan(stats["step"])  # the same columns as a row with a box
        for plot in (found.plot_trajectory, found.plot_pairs):
            assert isinstance(plot(), Figure)
        plt.close("all")


def test_cases_must_match_the_futures():
    with pytest.raises(ValueError, match="3 case flags for 4 futures"):
        discover(futures(0, count=4), [True, False, True])


def test_integer_parameters_are_peeled_as_integers():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"share": rng.uniform(size=300), "cap": rng.integers(0, 11, size=300)})
    found = discover(frame, (frame["cap"] <= 3).to_numpy())
    limits = found.limits.set_index("parameter")
    assert limits.index[limits["restricted"]].tolist() == ["cap"]
    assert (limits.at["cap", "lower"], limits.at["cap", "upper"]) == (0.0, 3.0)
    assert found.stats["density"] == 1.0 and found.stats["coverage"] == 1.0


def test_plots_are_figures_and_are_written_as_png(found, tmp_path):
    trajectory = found.plot_trajectory()
    assert isinstance(trajectory, Figure)
    assert len(trajectory.axes) == 2, "the trajectory and its colour bar"
    axis = trajectory.axes[0]
    assert "chosen: step" in " ".join(text.get_text() for text in axis.texts)
    pairs = found.plot_pairs()
    assert isinstance(pairs, Figure) and len(pairs.axes) == 4, "a 2 x 2 grid of the two restricted parameters"
    assert [ax.get_xlabel() for ax in pairs.axes[2:]] == ["x1", "x2"]
    plt.close(trajectory)
    plt.close(pairs)
    for name, plot in (("trajectory.png", found.plot_trajectory), ("pairs.png", found.plot_pairs)):
        figure = plot(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert not plt.fignum_exists(figure.number), "a figure written to a file is closed"


def test_the_discovery_figures_are_labelled_and_never_crowd(found):
    from test_figures import check_figure

    check_figure(found.plot_trajectory())
    check_figure(found.plot_pairs())


def test_two_regions_need_two_boxes_found_one_after_another():
    """Cases in a corner of (x1, x2) and in another of (x3, x4): one box cannot hold both."""
    frame = futures(6, count=800)
    first_region = (frame["x1"] < 0.35) & (frame["x2"] < 0.35)
    second_region = (frame["x3"] > 0.8) & (frame["x4"] > 0.8)
    cases = (first_region | second_region).to_numpy()
    first, second = discover_boxes(frame, cases, label="regions", boxes=2)
    assert (first.number, second.number) == (1, 2) and second.label == "regions (box 2)"
    one = first.limits.set_index("parameter")
    assert one.index[one["restricted"]].tolist() == ["x1", "x2"]
    assert one.at["x1", "upper"] == pytest.approx(0.35, abs=0.07)
    assert one.at["x2", "upper"] == pytest.approx(0.35, abs=0.07)
    two = second.limits.set_index("parameter")
    assert two.at["x3", "restricted"] and two.at["x3", "lower"] == pytest.approx(0.8, abs=0.05)
    assert 0.6 < first.stats["coverage"] < 0.9 and second.stats["coverage"] > 0.15
    assert first.stats["coverage"] + second.stats["coverage"] > 0.95  # coverage is a share of all cases
    # the second box is searched for among the futures the first box chosen leaves out
    held = first.trajectory.loc[first.chosen, ["n", "k"]]
    assert second.trajectory.at[0, "n"] == len(frame) - held["n"]
    assert second.trajectory.at[0, "k"] == cases.sum() - held["k"]


def test_the_search_stops_when_the_boxes_hold_every_case():
    frame = futures(0)
    found = discover_boxes(frame, corner(frame), boxes=3)
    assert len(found) == 1 and found[0].stats["coverage"] == 1.0


def test_a_later_box_says_it_was_searched_outside_the_earlier_ones_and_draws_only_those_futures():
    frame = futures(6, count=800)
    cases = (((frame["x1"] < 0.35) & (frame["x2"] < 0.35)) | ((frame["x3"] > 0.8) & (frame["x4"] > 0.8))).to_numpy()
    first, second = discover_boxes(frame, cases, boxes=2)
    outside = len(frame) - first.trajectory.at[first.chosen, "n"]
    assert first.searched.all() and second.searched.sum() == outside
    assert second.stats["note"].startswith(f"searched among the {outside} futures outside boxes 1-1")
    pairs = second.plot_pairs()
    drawn = sum(len(collection.get_offsets()) for collection in pairs.axes[1].collections)
    assert drawn == outside, "the off-diagonal panel draws only the futures the box was searched among"
    plt.close("all")
    assert first.select(first.chosen).limits.equals(first.limits), "an earlier box can still be reselected"


@pytest.mark.parametrize("boxes", [0, 2.5, True])
def test_the_number_of_boxes_is_a_whole_number_of_at_least_one(boxes):
    frame = futures(0)
    with pytest.raises(ValueError, match="whole number of at least 1"):
        discover_boxes(frame, corner(frame), boxes=boxes)
