"""One self-contained HTML page per results folder: the scenario, tables, figures, provenance.

The page is a view of what the folder holds: its tables are read from the folder's CSV files,
its figures are the folder's PNG plots embedded as data URIs, and its scenario and provenance
come from ``manifest.json``. It has no scripts, style sheets or images outside the file, so
it opens from disk in any browser and can be archived or mailed as one file.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.atomic import write_text
from sim.errors import ScenarioError
from sim.experiments.explain import figure_stems
from sim.experiments.reopen import damaged_tables_refused, read_manifest
from sim.storage.results_folder import read_table

MAX_ROWS = 300
"""Rows of a table shown on the page; the CSV file in the folder has them all."""

KIND_TITLES = {
    "run": "Run",
    "compare": "Comparison of arms",
    "sweep": "Parameter sweep",
    "sensitivity": "Sensitivity analysis",
    "robustness": "Robustness across futures",
    "explain": "Where the goal is lost",
    "calibrate": "Calibration",
}


@dataclass
class Table:
    """A table shown on the page: a title, what it says, its rows, and the file it came from."""

    title: str
    note: str
    frame: pd.DataFrame
    source: str


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the HTML report of a results folder and return its path (default ``folder/report.html``).

    Raises:
        ScenarioError: when ``folder`` is not a results folder.
    """
    folder = Path(folder)
    manifest, scenario, kind = read_manifest(folder)
    reference = scenario.reference_arm
    arms = [reference, *(arm.name for arm in scenario.arms if arm.name != reference)] if scenario.arms else []
    with damaged_tables_refused(folder, "cannot be reported: a table or the manifest is missing or damaged"):
        page = render(folder, manifest, tables_for(kind, folder, manifest), figures_in(folder, kind, arms))
    out = Path(out) if out is not None else folder / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, page)
    return out


# --- what each kind of folder shows --------------------------------------------------------------


def tables_for(kind: str, folder: Path, manifest: dict) -> list[Table]:
    """The tables of a folder of this kind, most important first."""
    read = _reader(folder)
    if kind == "run":
        return [
            read(
                "summary.csv",
                "Summary",
                "Per output: mean, sd and 95% CI over replications of its run value (its mean after the burn-in), "
                "and the same of its last period.",
            )
        ]
    if kind == "compare":
        reference = manifest.get("reference") or "the reference arm"
        tables = [
            read(
                "effects.csv",
                "Effects",
                f"Per arm and outcome: mean with 95% CI, and the paired difference from {reference} (common random "
                "numbers) with its 95% CI, Cohen's d (pooled SD), the paired dz (SD of the differences), the paired "
                "t-test's p-value and the verdict.",
            )
        ]
        if (folder / "factorial.csv").is_file():
            tables.append(
                read(
                    "factorial.csv",
                    "Main effects and interactions",
                    "Per outcome and term of the factorial design: a main effect is switching the factor on, "
                    "averaged over the other factors; an interaction is the difference in differences. Each with "
                    "its paired 95% CI over replications.",
                )
            )
        return tables
    if kind == "sweep":
        return [read("sweep.csv", "Sweep", "Per arm, point and outcome: mean and 95% CI over replications.")]
    if kind == "explain":
        tables = [
            read(
                "shortfall.csv",
                "Shortfall by mechanism",
                "Per arm: the loss of goal attainment (1 − attainment) each mechanism accounts for (its Shapley "
                "value, switching mechanisms off with common random numbers), what is lost with every mechanism "
                "off (unexplained) and the total; mean and 95% CI over replications. The parts add up to the total.",
            ),
            read(
                "levels.csv",
                "Shortfall by level",
                "Per arm: the loss each relay causes (its Shapley value, a relay switched off passing the directive "
                "on unchanged) and what the grassroots lose of an intact directive.",
            ),
        ]
        if (folder / "reform.csv").is_file():
            reference = manifest.get("reference") or "the reference arm"
            tables.append(
                read(
                    "reform.csv",
                    "Why each reform helps",
                    f"Per arm: its effect on goal attainment against {reference}, split by the mechanism it runs "
                    "through (Shapley values of the difference), the effect with every mechanism off, and the total.",
                )
            )
        return tables
    if kind == "calibrate":
        return [
            read(
                "at_calibrated.csv",
                "Targets at the calibrated point",
                f"The calibrated point ({manifest.get('calibration', {}).get('calibrated_by', 'see manifest.json')}): "
                "every target's value there (10 replications) beside its observation, met when within 1.96 total sds.",
            ),
            read(
                "posterior_summary.csv",
                "Posterior",
                "Per parameter of the last ABC-SMC population: mean, sd, 5/50/95% quantiles and contraction "
                "(1 − posterior / prior variance).",
            ),
            read(
                "predictive_checks.csv",
                "Posterior predictive checks",
                "Every target, held-out ones included: the predictive mean, its 90% range over posterior draws, z, "
                "and consistent when |z| ≤ 2.",
            ),
            read(
                "waves.csv",
                "History matching",
                "Per wave: points run, the share of the parameter box it ruled out and the share left.",
            ),
            read("patterns.csv", "Pattern checks", "The pattern claims at the points checked."),
        ]
    if kind == "sensitivity":
        return [
            read("indices.csv", "Sensitivity indices", f"{manifest.get('method', '').title()} indices per outcome."),
            read("samples.csv", "Sample", "The sample matrix: one row per point."),
        ]
    tables = [
        _ranks(read("rankings.csv", "", "")),
        read(
            "satisficing.csv",
            "Satisficing",
            "Share of futures in which each arm meets each threshold, and all of them together.",
        ),
        read(
            "regret_summary.csv",
            "Regret",
            "Regret is an arm's shortfall from the best arm in the same future. Per arm and outcome: its mean, "
            "90th percentile and maximum over futures (minimax regret chooses the smallest maximum).",
        ),
        read(
            "distribution.csv",
            "Outcomes across futures",
            "Per arm and outcome: mean, 10th, 50th and 90th percentile over the futures.",
        ),
    ]
    if (folder / "discovery.csv").is_file():
        tables.append(
            read(
                "discovery.csv",
                "Scenario discovery",
                "Per question and box: the futures where the condition holds (cases) and the PRIM box chosen: "
                "coverage (share of all cases in the box), density (share of the box that are cases), mass (share of "
                "all futures). A question's later boxes are searched for among the futures its earlier boxes "
                "leave out.",
            )
        )
        boxes = read("discovery_boxes.csv", "Box limits", "")
        restricted = boxes.frame[boxes.frame["restricted"].astype(str) == "True"].drop(columns="restricted")
        tables.append(
            Table(
                "Box limits",
                "The restricted parameters of each chosen box: the range inside the box against the range of all "
                "futures, and PRIM's quasi-p-values (below 0.05: the restriction is unlikely to be chance).",
                restricted,
                boxes.source,
            )
        )
    tables.append(read("futures.csv", "Futures", "The futures drawn by Latin hypercube: one row per future."))
    return tables


def _reader(folder: Path):
    def read(name: str, title: str, note: str) -> Table:
        path = folder / name
        if not path.is_file():
            raise ScenarioError(f"has no {name}; was the experiment finished?", source=str(folder))
        return Table(title, note, read_table(path), name)

    return read


def _ranks(rankings: Table) -> Table:
    wide = rankings.frame.pivot(index="arm", columns="criterion", values="rank")
    order = list(dict.fromkeys(rankings.frame["arm"]))
    wide = wide.reindex(index=order, columns=list(dict.fromkeys(rankings.frame["criterion"])))
    wide = wide.rename_axis(columns=None).reset_index()
    return Table(
        "Rankings",
        "Each arm's rank under each criterion (1 is best; ties share the better rank). An arm that ranks well "
        "under every criterion is robust; where criteria disagree, the choice depends on the criterion.",
        wide,
        rankings.source,
    )


FIGURE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}
"""The figure files the page embeds (a PDF is for papers: the page names it, the folder holds it)."""


def figure_folder(folder: Path, kind: str) -> Path:
    """Where a folder of this kind keeps its figures: ``plots/``, or beside the tables for a calibration."""
    return folder if kind == "calibrate" else folder / "plots"


def figures_in(folder: Path, kind: str = "run", arms: list[str] | None = None) -> list[Path]:
    """The folder's figures: every PNG or SVG (PNG where both exist), waterfalls first, then by name.

    The waterfalls come arm by arm in the order of ``arms`` (reference first, then the
    scenario's order): by mechanism, by level, then the reform's.
    """
    plots = figure_folder(folder, kind)
    if not plots.is_dir():
        return []
    found = {path.stem: path for path in plots.iterdir() if path.suffix == ".svg"}
    found |= {path.stem: path for path in plots.iterdir() if path.suffix == ".png"}
    places = {}
    for position, arm in enumerate(arms or [""]):
        for rank, stem in enumerate(figure_stems(arm, None)):
            places[stem] = f"{position:05d}-{rank}"
    return sorted(found.values(), key=lambda path: _figure_order(path, places))


def pdfs_in(folder: Path, kind: str = "run") -> list[Path]:
    """The folder's PDF figures, in name order."""
    plots = figure_folder(folder, kind)
    return sorted(plots.glob("*.pdf")) if plots.is_dir() else []


def _figure_order(path: Path, places: dict[str, str]) -> tuple[bool, str, int]:
    """Where a figure comes on the page.

    Waterfalls first (at their ``places``, else by name); then name order, with a discovery
    question's later boxes (``..._box2_...``) after its first.
    """
    first = not path.stem.startswith("waterfall")
    if path.stem in places:
        return (False, places[path.stem], 0)
    match = re.match(r"^(.*?)_box(\d+)(_.*)$", path.stem)
    return (first, "~" + match.group(1) + match.group(3), int(match.group(2))) if match else (first, "~" + path.stem, 1)


# --- the page ------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.82rem; margin: 0.6rem 0 0.4rem; }
th, td { padding: 0.2rem 0.55rem; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
th { background: #f4f4f6; position: sticky; top: 0; } .n { text-align: right; } .t { text-align: left; }
.scroll { overflow-x: auto; max-height: 36rem; overflow-y: auto; max-width: 100%; }
td.t { max-width: 28rem; overflow-wrap: anywhere; } th { white-space: nowrap; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; } pre { background: #f7f7f9; padding: 0.8rem; overflow-x: auto; }
.note { font-size: 0.85rem; color: #555; } dl { display: grid; grid-template-columns: 14rem 1fr; gap: 0.2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; word-break: break-all; }
"""


def render(folder: Path, manifest: dict, tables: list[Table], figures: list[Path]) -> str:
    """The page's HTML."""
    scenario = manifest.get("scenario", {})
    kind = manifest.get("kind", "run")
    name = scenario.get("name", folder.name)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(name)}: {_e(KIND_TITLES[kind])}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(name)}: {_e(KIND_TITLES[kind])}</h1>",
        f'<p class="lead">{_e(scenario.get("description", ""))}</p>',
        f"<p>{_e(_headline(manifest))}</p>",
        "<h2>Tables</h2>",
    ]
    for table in tables:
        parts.append(_table_html(table))
    parts.append("<h2>Figures</h2>")
    if not figures:
        parts.append('<p class="note">This folder holds no figures.</p>')
    for path in figures:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = path.stem.replace("_", " ")
        parts.append(
            f'<figure><img alt="{_e(caption)}" src="data:{FIGURE_TYPES[path.suffix]};base64,{data}">'
            f"<figcaption>{_e(caption)} ({_e(path.relative_to(folder).as_posix())})</figcaption></figure>"
        )
    pdfs = pdfs_in(folder, kind)
    if pdfs:
        names = ", ".join(path.relative_to(folder).as_posix() for path in pdfs)
        parts.append(f'<p class="note">Also written as PDF, in the folder: {_e(names)}.</p>')
    parts += [
        "<h2>Scenario</h2>",
        f'<p class="note">{_e(_scenario_note(kind, scenario))}</p>',
        f"<pre>{_e(yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True))}</pre>",
        "<h2>Provenance</h2>",
        _provenance(folder, manifest),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _scenario_note(kind: str, scenario: dict) -> str:
    note = "As validated, with every default filled in; from manifest.json."
    uncertain = list(scenario.get("uncertainties") or {})
    if kind in ("robustness", "sensitivity") and uncertain:
        note += (
            f" The values given under parameters for {', '.join(uncertain)} were not run: every "
            f"{'future' if kind == 'robustness' else 'sample point'} replaced them with its own."
        )
    if kind == "sweep":
        note += " Every point replaced the values of the parameters it sweeps."
    return note


def _headline(manifest: dict) -> str:
    facts = []
    if "runs_finished" in manifest:
        facts.append(f"{manifest['runs_finished']} runs finished, {manifest.get('runs_failed', 0)} failed")
    if "futures" in manifest:
        facts.append(f"{manifest['futures']} futures")
    if "points" in manifest:
        facts.append(f"{manifest['points']} points")
    if manifest.get("replications") or manifest.get("replication_seeds"):
        facts.append(f"{manifest.get('replications') or len(manifest['replication_seeds'])} replications")
    if manifest.get("stop_reason"):
        facts.append(manifest["stop_reason"])
    return "; ".join(facts) + ("." if facts else "")


def _table_html(table: Table) -> str:
    frame = table.frame
    shown = frame.head(MAX_ROWS)
    more = (
        f'<p class="note">First {MAX_ROWS} of {len(frame)} rows; {table.source} holds them all.</p>'
        if len(frame) > MAX_ROWS
        else ""
    )
    body = _html_table(shown)
    return (
        f"<h3>{_e(table.title)}</h3><p class='note'>{_e(table.note)} <em>({_e(table.source)})</em></p>"
        f'<div class="scroll">{body}</div>{more}'
    )


def _html_table(frame: pd.DataFrame) -> str:
    """The frame as an HTML table: numbers to four significant digits and right-aligned, text left."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame]
    head = "".join(f'<th class="{"n" if n else "t"}">{_e(c)}</th>' for c, n in zip(frame.columns, numeric, strict=True))
    rows = []
    for values in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="{"n" if n else "t"}">{_e(_cell(v))}</td>' for v, n in zip(values, numeric, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.4g}"
    return str(value)


def _provenance(folder: Path, manifest: dict) -> str:
    seeds = manifest.get("replication_seeds") or []
    shown = ", ".join(str(s) for s in seeds[:6]) + (f", … ({len(seeds)} in all)" if len(seeds) > 6 else "")
    dependencies = ", ".join(f"{k} {v}" for k, v in (manifest.get("dependencies") or {}).items() if v)
    last = " (the last command)" if len(manifest.get("invocations") or []) > 1 else ""
    rows = [
        (f"command{last}", " ".join(manifest.get("command") or []) or "(Python API)"),
        ("scenario file", manifest.get("scenario_file") or ""),
        ("scenario hash", manifest.get("scenario_hash", "")),
        ("kind", manifest.get("kind", "run")),
        ("bureausim", manifest.get("bureausim") or ""),
        ("git commit", manifest.get("git_commit") or "unknown"),
        (f"created{last}", manifest.get("created", "")),
        ("master seed", manifest.get("master_seed", "")),
        ("replication seeds", shown),
        (f"executor{last}", manifest.get("executor", "in-process")),
        (f"wall time{last}", f"{manifest.get('wall_time_seconds', '')} s"),
        ("python", manifest.get("python", "")),
        ("platform", manifest.get("platform", "")),
        ("dependencies", dependencies),
        ("results folder", folder.name),
    ]
    items = "".join(f"<dt>{_e(key)}</dt><dd>{_e(value)}</dd>" for key, value in rows)
    invocations = pd.DataFrame(manifest.get("invocations") or [])
    if invocations.empty:
        return f"<dl>{items}</dl>"
    invocations["command"] = [" ".join(c) or "(Python API)" for c in invocations["command"]]
    return (
        f"<dl>{items}</dl><h3>Invocations</h3><p class='note'>Every command that worked on this folder, in order, "
        f"and the runs it ran (a resume runs what is missing; a re-analysis runs nothing).</p>"
        f'<div class="scroll">{_html_table(invocations)}</div>'
    )


def _e(value: object) -> str:
    return html.escape(str(value))
