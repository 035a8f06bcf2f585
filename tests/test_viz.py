"""The interactive page: its model, drawing and parameters, and a real browser session.

The browser test starts ``bureausim viz`` on a free localhost port and drives Debian's
Chromium (``/usr/bin/chromium``, installed by ``.ci/run``) with Playwright: it presses STEP
and checks that the charts changed and that the page shows no error."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from conftest import ROOT, headless_chromium, small
from mesa.visualization.solara_viz import _check_model_params

from sim.app.viz import LEVERS, VizModel, hierarchy_figure, model_params, series_figure, tasks_figure
from sim.scenario.schema import Scenario


def test_reform_checkboxes_switch_policies_and_sliders_set_levers():
    model = VizModel(small(), fault_tolerance=True, onsite_inspection=False, relay_escalation=0.3)
    assert model.p.accountability.excuse_genuine == 0.9
    assert model.p.accountability.onsite_share == small().parameters.accountability.onsite_share
    assert model.p.relay.escalation == 0.3


def test_model_params_fit_the_model_mesa_builds():
    params = model_params(small())
    _check_model_params(VizModel.__init__, params)  # raises on a parameter the model does not take
    model = VizModel(**{k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()})
    model.step()
    assert model.steps == 1


def test_mechanism_checkboxes_switch_the_middle_levels_on_from_the_scenarios_values():
    params = model_params(small())
    assert params["middle_relay_choice"]["value"] is False and params["middle_shielding"]["value"] is False
    model = VizModel(small(), middle_relay_choice=True, middle_shielding=True, middle_inspection_rate=0.5)
    model.step()
    assert model.p.middle.relay_choice and model.p.middle.shielding
    assert "relay_share_clarify" in model.outputs and "shield_share" in model.outputs
    switched_on = small(parameters={"middle": {"relay_choice": True}})
    assert model_params(switched_on)["middle_relay_choice"]["value"] is True


def test_hierarchy_figure_colours_the_grassroots_by_strategy():
    model = VizModel(small())
    model.step()
    figure = hierarchy_figure(model)
    points = figure.axes[0].collections[1]
    assert len(points.get_offsets()) == len(model.agents)
    assert len({tuple(c) for c in points.get_facecolors()[-96:]}) > 1  # several strategies at the grassroots


def test_a_large_hierarchy_is_drawn_as_one_bar_per_unit_and_drills_down():
    from sim.app.viz import MOST_UNITS, units_figure

    scenario = small(hierarchy={"branching": [6, 10, 8]})  # 547 officials: above the tree's limit
    model = VizModel(scenario)
    model.step()
    level, units, grassroots = model.groups
    assert level == 1 and len(set(units)) == 6 <= MOST_UNITS and len(grassroots) == 480
    figure = hierarchy_figure(model)
    bars = [patch for patch in figure.axes[0].patches]
    assert len(bars) == 6 * 6  # a bar per unit and strategy
    heights = np.array([bar.get_height() for bar in bars]).reshape(6, 6)
    assert np.allclose(heights.sum(axis=0), 1.0)  # every unit's mix adds up to its grassroots
    drilled = VizModel(scenario, unit="municipality 2")
    drilled.step()
    level, units, grassroots = drilled.groups
    assert level == 2 and len(set(units)) == 10 and len(grassroots) == 80
    assert (drilled.layout.ancestor[1][grassroots] == 1).all()
    assert "within municipality 2" in units_figure(drilled).axes[0].get_title()


def test_the_second_arm_runs_on_the_same_seed_with_one_more_reform():
    from sim import BureauModel

    model = VizModel(small(), seed=4, compare_with="onsite_inspection")
    alone = BureauModel(small(), seed=4, policies=["onsite_inspection"])
    for _ in range(4):
        model.step()
        alone.step()
    assert model.twin.outputs == alone.outputs
    assert model.outputs != model.twin.outputs
    assert ("Compared with (dashed)", "+ onsite_inspection, same seed") in model.levers()


def test_charts_start_at_period_one_and_speak_the_language_chosen():
    from sim.app.viz import series_figure

    model = VizModel(small(), language="中文")
    for _ in range(3):
        model.step()
    figure = series_figure(model, ["goal_attainment"], "Goal versus reported attainment")
    line = figure.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [1, 2, 3]
    assert figure.axes[0].get_title() == "实际与上报完成度"
    assert line.get_label() == "目标实际完成度"
    twin = VizModel(small(), language="中文", compare_with="onsite_inspection")
    twin.step()
    legend = series_figure(twin, ["goal_attainment"], "Goal versus reported attainment").axes[0].get_legend()
    assert "+ 现场看实物、查实情" in [text.get_text() for text in legend.get_texts()]  # the reform in Chinese too


PORTFOLIO = [{"name": "hard", "target": 0.5}, {"name": "soft", "issuer": "bureau", "target": 0.5, "measurability": 0.2}]


def test_before_the_first_period_the_charts_say_so_in_the_language_chosen():
    for language, words in (("English", "No period has run yet"), ("中文", "尚未运行任何一期")):
        model = VizModel(small(), language=language)
        figures = [
            series_figure(model, ["goal_attainment"], "Goal versus reported attainment"),
            hierarchy_figure(model),
        ]
        for figure in figures:
            texts = [text.get_text() for ax in figure.axes for text in ax.texts]
            assert any(words in text for text in texts), texts
        model.step()
        stepped = [
            series_figure(model, ["goal_attainment"], "Goal versus reported attainment"),
            hierarchy_figure(model),
        ]
        assert not any(words in text.get_text() for figure in stepped for ax in figure.axes for text in ax.texts)


def test_a_portfolio_gets_a_task_selector_and_its_chart():
    scenario = small(tasks=PORTFOLIO)
    params = model_params(scenario)
    assert params["task"]["values"][1:] == ["hard", "soft"]
    _check_model_params(VizModel.__init__, params)
    model = VizModel(scenario, task="soft")
    for _ in range(3):
        model.step()
    codes = model.grassroots_strategies()
    assert (codes == model.levels[-1].strategy_code[:, 1]).all()
    assert "on soft" in hierarchy_figure(model).axes[0].get_title()
    chart = tasks_figure(model)
    assert [line.get_label() for line in chart.axes[0].get_lines()] == ["hard", "soft"]
    assert "strategies on soft" in chart.axes[1].get_title()
    whole = VizModel(scenario)
    whole.step()
    dominant = np.argmax(whole.levels[-1].capacity_share, axis=1)
    assert (whole.grassroots_strategies() == whole.levels[-1].strategy_code[np.arange(len(dominant)), dominant]).all()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "viz", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("bureausim viz did not start serving within 90 s")
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def chart_images(page) -> list[str]:
    return [image.get_attribute("src") or "" for image in page.locator("img").all()]


SCREENSHOTS = ROOT / "results" / "viz_screenshots"
"""Where the browser test saves a screenshot of every state of the page (git ignores results/)."""


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the page's select labelled ``label`` (a Vuetify menu)."""
    page.get_by_label(label).first.click(force=True)
    page.locator(".v-menu__content .v-list-item", has_text=option).first.click()
    page.wait_for_timeout(500)


def settled(page, before: list[str], seconds: float = 30) -> list[str]:
    """The chart images once they differ from ``before`` (or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while chart_images(page) == before and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    page.wait_for_timeout(800)
    return chart_images(page)


def test_every_state_of_the_page_in_a_real_browser(server, tmp_path):
    """Start, step, compare two arms, switch to Chinese, drill down: each state redraws the charts (screenshot each)."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    states = {}
    with sync_playwright() as playwright:
        browser = headless_chromium(playwright, tmp_path / "profile")
        try:
            page = browser.new_page()
            page.goto(server, wait_until="networkidle", timeout=90_000)
            step, reset = page.get_by_role("button", name="STEP"), page.get_by_role("button", name="RESET")
            step.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)

            def shoot(name: str) -> None:
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
                states[name] = (chart_images(page), page.inner_text("body"))

            def steps(count: int) -> None:
                before = chart_images(page)
                for _ in range(count):
                    step.click()
                    page.wait_for_timeout(600)
                settled(page, before)

            shoot("1_start")
            values = page.locator(".v-input__slider .v-slider input")  # each slider shows its value at its right
            shown = [(field.is_visible(), field.get_attribute("value")) for field in values.all()]
            slider_values = [value for _, value in shown]
            steps(3)
            shoot("2_stepped")
            choose(page, "Compare with", "onsite_inspection")
            reset.click()
            page.wait_for_timeout(1500)
            steps(3)
            shoot("3_two_arms")
            choose(page, "Language", "中文")
            reset.click()
            page.wait_for_timeout(1500)
            steps(3)
            shoot("4_chinese")
            choose(page, "Hierarchy: unit shown", "municipality 3")
            reset.click()
            page.wait_for_timeout(1500)
            steps(1)
            shoot("5_drilled_down")
        finally:
            browser.close()
    names = list(states)
    for earlier, later in itertools.pairwise(names):
        changed = sum(a != b for a, b in zip(states[earlier][0], states[later][0], strict=False))
        assert changed >= 2, f"{later}: the charts did not change from {earlier}"
    assert "Compared with (dashed)" in states["3_two_arms"][1]
    assert "Values in use" in states["1_start"][1] and "Escalation per relay" in states["1_start"][1]
    assert shown and all(visible for visible, _ in shown), "a slider does not show its value"
    levers = model_params(Scenario(name="default"))
    expected = [levers[keyword]["value"] for keyword in LEVERS if keyword in levers]  # after Controls' two sliders
    lever_steps = [LEVERS[keyword][3] for keyword in LEVERS if keyword in levers]
    seen = [float(value) for value in slider_values[-len(expected) :]]
    assert len(slider_values) == len(expected) + 2
    assert all(abs(a - b) <= step / 2 + 1e-9 for a, b, step in zip(seen, expected, lever_steps, strict=True)), seen
    for name, (_, text) in states.items():
        assert "Traceback" not in text and "Error" not in text, name
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000, name


def test_step_in_a_real_browser_changes_the_charts(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = headless_chromium(playwright, tmp_path / "profile")
        try:
            page = browser.new_page()
            page.goto(server, wait_until="networkidle", timeout=90_000)
            step = page.get_by_role("button", name="STEP")
            step.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            before = chart_images(page)
            assert len(before) >= 4, "the hierarchy and three charts"
            for _ in range(3):
                step.click()
                page.wait_for_timeout(700)
            deadline = time.monotonic() + 30
            while chart_images(page) == before and time.monotonic() < deadline:
                page.wait_for_timeout(500)
            after = chart_images(page)
            page.screenshot(path=str(tmp_path / "viz.png"), full_page=True)
            text = page.inner_text("body")
        finally:
            browser.close()
    assert sum(a != b for a, b in zip(before, after, strict=False)) >= 3, "stepping redrew the charts"
    assert "Traceback" not in text and "Error" not in text
    assert (tmp_path / "viz.png").stat().st_size > 10_000, "a screenshot of the page after stepping"
