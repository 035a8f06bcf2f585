"""HTML reports: one self-contained page per results folder, checked in a real browser.

Every kind of folder (run, compare, sweep, sensitivity, robustness) is made small, reported,
and the page is checked for its tables, figures, scenario and provenance; headless Chromium
then opens it from disk with every network request refused and checks that every figure
loaded and nothing was fetched.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import SCENARIOS, headless_chromium

import sim
from sim.app.cli import main
from sim.app.report import write_report

TINY = ["hierarchy.branching=[2, 2, 3]", "steps=8", "replications=2"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """One small results folder of every kind."""
    root = tmp_path_factory.mktemp("reports")
    quiet = {"workers": 1, "progress": False}
    baseline = sim.load_scenario(SCENARIOS / "baseline.yaml").with_overrides(TINY)
    assert main(["run", str(SCENARIOS / "baseline.yaml"), "--out", str(root / "run"), "--quiet", *_sets(TINY)]) == 0
    sim.compare(
        sim.load_scenario(SCENARIOS / "reforms" / "fault_tolerance.yaml").with_overrides(TINY),
        out=root / "compare",
        **quiet,
    )
    sim.sweep(
        sim.load_scenario(SCENARIOS / "patterns" / "p7_oversight.yaml").with_overrides(TINY),
        out=root / "sweep",
        **quiet,
    )
    sim.sensitivity(baseline, method="morris", samples=2, out=root / "sensitivity", **quiet)
    robust = sim.load_scenario(SCENARIOS / "robustness" / "reforms.yaml").with_overrides([*TINY, "replications=1"])
    sim.robustness(robust, futures=12, out=root / "robustness", **quiet)
    sim.explain(
        sim.load_scenario(SCENARIOS / "reforms" / "fault_tolerance.yaml").with_overrides(TINY),
        permutations=2,
        out=root / "explain",
        **quiet,
    )
    return {kind: root / kind for kind in ("run", "compare", "sweep", "sensitivity", "robustness", "explain")}


def _sets(assignments: list[str]) -> list[str]:
    return [part for assignment in assignments for part in ("--set", assignment)]


EXPECTED_TABLES = {
    "run": ["Summary"],
    "compare": ["Effects"],
    "sweep": ["Sweep"],
    "sensitivity": ["Sensitivity indices", "Sample"],
    "robustness": [
        "Rankings",
        "Satisficing",
        "Regret",
        "Outcomes across futures",
        "Scenario discovery",
        "Box limits",
        "Futures",
    ],
    "explain": ["Shortfall by mechanism", "Shortfall by level", "Why each reform helps"],
}


@pytest.mark.parametrize("kind", list(EXPECTED_TABLES))
def test_each_kind_of_folder_gets_a_page_with_its_tables_figures_scenario_and_provenance(folders, kind):
    folder = folders[kind]
    page = write_report(folder).read_text(encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    titles = re.findall(r"<h3>(.*?)</h3>", page)
    invocations = [] if kind == "run" else ["Invocations"]  # experiments list every command that worked on them
    assert titles == EXPECTED_TABLES[kind] + invocations
    assert page.count("<table") == len(EXPECTED_TABLES[kind] + invocations)
    figures = sorted((folder / "plots").glob("*.png"))
    assert figures, "every command writes figures"
    assert page.count('<img alt="') == len(figures)
    for figure in figures:
        assert f"(plots/{figure.name})" in page
    assert f"name: {manifest['scenario']['name']}" in page  # the scenario as YAML
    assert f"<dt>master seed</dt><dd>{manifest['master_seed']}</dd>" in page
    assert "<dt>git commit</dt>" in page and "<dt>dependencies</dt>" in page


def test_the_page_has_no_script_and_nothing_outside_the_file(folders):
    page = write_report(folders["robustness"]).read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)


def test_the_robustness_page_shows_every_arm_and_the_scenario_thresholds(folders):
    result = sim.load_results(folders["robustness"])
    page = write_report(folders["robustness"]).read_text(encoding="utf-8")
    rankings = page.split("<h3>Rankings</h3>")[1].split("<h3>")[0]
    for arm in result.scenario.arms:
        assert f'<td class="t">{arm.name}</td>' in rankings
    satisficing = page.split("<h3>Satisficing</h3>")[1].split("<h3>")[0]
    for condition in result.scenario.robustness.satisficing:
        assert condition.replace(">", "&gt;").replace("<", "&lt;") in satisficing


def test_long_tables_are_cut_with_a_note(folders, monkeypatch):
    monkeypatch.setattr("sim.app.report.MAX_ROWS", 5)
    page = write_report(folders["robustness"]).read_text(encoding="utf-8")
    assert "First 5 of 12 rows; futures.csv holds them all." in page


def test_report_command_writes_the_page_and_refuses_a_folder_that_is_not_results(folders, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["report", str(folders["compare"]), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    error = capsys.readouterr().err
    assert "is not a results folder (no manifest.json)" in error and "Traceback" not in error
    assert list(empty.iterdir()) == []


def test_every_figure_loads_in_a_browser_with_the_network_refused(folders, tmp_path):
    from playwright.sync_api import sync_playwright

    path = write_report(folders["robustness"])
    expected = len(list((folders["robustness"] / "plots").glob("*.png")))
    fetched = []
    with sync_playwright() as playwright:
        browser = headless_chromium(playwright, tmp_path / "profile")
        try:
            page = browser.new_page()

            def refuse(route):
                if not route.request.url.startswith(("file:", "data:")):
                    fetched.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            page.route("**/*", refuse)
            page.goto(path.resolve().as_uri(), wait_until="load")
            loaded = page.evaluate(
                "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)"
            )
            title = page.title()
            tables = page.locator("table").count()
        finally:
            browser.close()
    assert loaded == [True] * expected, "every figure is embedded and decodes"
    assert fetched == []
    assert title.startswith("reforms: Robustness across futures")
    assert tables == len(EXPECTED_TABLES["robustness"]) + 1  # and the invocations


def test_report_into_a_folder_that_does_not_exist_yet(folders, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "page.html"
    assert main(["report", str(folders["sweep"]), "--out", str(out)]) == 0
    assert out.is_file()


def test_report_on_an_unfinished_experiment_says_how_to_finish_it(folders, tmp_path, capsys):
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "experiment.json").write_text((folders["compare"] / "experiment.json").read_text())
    assert main(["report", str(unfinished)]) == 2
    error = capsys.readouterr().err
    assert "has not finished (no manifest.json yet)" in error and "same --out" in error
    assert sorted(p.name for p in unfinished.iterdir()) == ["experiment.json"]


def test_the_scenario_section_says_which_values_the_futures_replaced(folders):
    page = write_report(folders["robustness"]).read_text(encoding="utf-8")
    assert "The values given under parameters for relay.escalation, relay.dilution" in page
    assert "every future replaced them with its own" in page


def test_the_explain_page_opens_with_its_waterfalls(folders):
    page = write_report(folders["explain"]).read_text(encoding="utf-8")
    captions = re.findall(r'<img alt="([^"]*)"', page)
    assert captions[0].startswith("waterfall")
    assert sum(caption.startswith("waterfall") for caption in captions) == len(captions) > 0
    # arm by arm in the scenario's order, reference first: by mechanism, by level, then the reform's
    assert captions[:3] == ["waterfall status quo", "waterfall levels status quo", "waterfall fault tolerance"]
    assert captions[3:5] == ["waterfall levels fault tolerance", "waterfall reform fault tolerance"]


def test_svg_figures_are_embedded_and_pdfs_named(folders, tmp_path):
    import shutil

    from sim.analysis import style

    folder = tmp_path / "run"
    shutil.copytree(folders["run"], folder)
    for path in (folder / "plots").glob("*.png"):
        path.unlink()
    with style.using(formats=("svg", "pdf")):
        sim.load_results(folder)  # the folder reopens with its figures in other formats
        from sim.analysis.plots import write_plots

        result = sim.load_results(folder)
        write_plots(result.steps, ["province", "municipality", "county", "township"], folder / "plots")
    page = write_report(folder).read_text(encoding="utf-8")
    svgs = sorted((folder / "plots").glob("*.svg"))
    assert page.count('src="data:image/svg+xml;base64,') == len(svgs) > 0
    assert "Also written as PDF, in the folder: plots/attainment.pdf" in page


def test_wide_tables_scroll_inside_the_page_and_never_widen_it(folders, tmp_path):
    from playwright.sync_api import sync_playwright

    path = write_report(folders["robustness"])
    with sync_playwright() as playwright:
        browser = headless_chromium(playwright, tmp_path / "profile")
        try:
            page = browser.new_page()
            page.set_viewport_size({"width": 800, "height": 900})
            page.goto(path.resolve().as_uri(), wait_until="load")
            page_fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            wrappers = page.evaluate(
                "Array.from(document.querySelectorAll('table')).map(t => "
                "t.parentElement.classList.contains('scroll') && getComputedStyle(t.parentElement).overflowX)"
            )
            wider = page.evaluate(
                "Array.from(document.querySelectorAll('.scroll')).some(d => d.scrollWidth > d.clientWidth)"
            )
        finally:
            browser.close()
    assert page_fits, "a table widened the page"
    assert wrappers and all(value == "auto" for value in wrappers)
    assert wider, "at 800 pixels some table is wider than the page, and scrolls inside its box"
