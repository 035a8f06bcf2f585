"""Time with a length (docs/ODD.md, section 14): periods of months or weeks, the same years.

Without ``time.period_months`` (and at a period as long as the one the values are stated for)
the model is the one without a length, number for number. With a shorter period the
time-dependent values are converted, and the long-run outputs settle where they do with other
short periods: the differences that remain shrink as periods shrink (discretisation of the
learning process), while a model that leaves its payoff flows unconverted keeps drifting (the
negative control). P6 is restated in real time: a campaign of a year, stated in the quarters
the defaults are stated for, cuts falsification while it runs and is followed by a rebound, in
monthly and in weekly periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, small

import sim.scenario.timing as timing
from sim import BureauModel
from sim.analysis.statistics import describe
from sim.model.run import replication_seeds, run_one
from sim.scenario.loader import load_scenario
from sim.scenario.parameters import Relay

HIERARCHY = {"branching": [4, 4, 6]}
WEEK, HALF_MONTH = 12 / 52, 0.5
LONG_RUN = ("goal_attainment", "share_substantive", "share_falsify")


def frame(built: BureauModel) -> pd.DataFrame:
    return built.datacollector.get_model_vars_dataframe()


def run(months: float | None, steps: int, seed: int = 3, **parameters) -> BureauModel:
    built = BureauModel(small(hierarchy=HIERARCHY), seed=seed, steps=steps, time_period_months=months, **parameters)
    built.run_model()
    return built


def test_without_a_length_or_at_the_stated_period_nothing_is_converted():
    plain = frame(run(None, 10))
    pd.testing.assert_frame_equal(plain, frame(run(3.0, 10)), check_exact=True)
    pd.testing.assert_frame_equal(plain, frame(run(1.0, 10, time_rates_per_months=1.0)), check_exact=True)


def test_the_conversions():
    p = run(1.0, 1, campaign_start=20, campaign_end=21, accountability_audit_lag=1).p
    delta = 1 / 3
    assert p.learning.forgetting == pytest.approx(1 - 0.8**delta)
    assert p.accountability.inspection_rate == pytest.approx(0.25 * delta)
    assert p.execution.report_value == pytest.approx(0.5 * delta)
    assert p.accountability.hosting_cost == pytest.approx(0.08 / delta)
    assert p.relay.escalation_pressure == pytest.approx(Relay().escalation_pressure / delta)
    assert (p.campaign.start, p.campaign.end) == (58, 61)  # quarter 20 begins at month 3 × 19 + 1
    assert p.accountability.audit_lag == 3
    assert run(1.0, 1, campaign_start=20, campaign_end=22, campaign_notice=2).p.campaign.notice == 6
    assert p.task.target == 1.0 and p.learning.learning_rate == 1.0  # amounts and event weights stay
    longer = run(12.0, 1, campaign_start=20, campaign_end=21).p  # four quarters a period: the window keeps one
    assert longer.campaign.end > longer.campaign.start


def test_ranking_happens_once_per_stated_period():
    """Ranking sanctions a fixed share whenever it happens: in monthly periods, once a quarter."""
    ranked = {"hierarchy": {"branching": [2, 10]}}
    values = {"accountability_ranking_fraction": 0.1, "accountability_inspection_rate": 0.0}
    values |= {"accountability_incident_visibility": 0.0, "accountability_third_party_rate": 0.0}
    built = BureauModel(small(**ranked), seed=1, steps=6, time_period_months=1.0, **values)
    counts = []
    for _ in range(6):
        built.step()
        counts.append(int(built.levels[-1].sanctions_now.sum()))
    assert counts == [2, 0, 0, 2, 0, 0]  # one of ten in each of two groups, in months 1 and 4


def test_a_portfolios_own_values_are_converted_too():
    scenario = small(
        hierarchy=HIERARCHY,
        tasks=[
            {"name": "a", "risk": 0.3, "inspection_rate": 0.6, "start": 4, "end": 8},
            {"name": "b", "set": {"accountability.third_party_rate": 0.2}},
        ],
    )
    built = BureauModel(scenario, seed=1, steps=1, time_period_months=1.0)
    a, b = built.p.tasks
    assert a.risk == pytest.approx(1 - 0.7 ** (1 / 3))
    assert a.inspection_rate == pytest.approx(0.2)
    assert (a.start, a.end) == (10, 22)
    assert b.set["accountability.third_party_rate"] == pytest.approx(1 - 0.8 ** (1 / 3))


def long_run(months: float, years: int = 20, seeds=range(4)) -> pd.Series:
    """Mean over seeds of each long-run output over the second half of ``years`` years of ``months`` periods."""
    steps = round(years * 12 / months)
    values = [frame(run(months, steps, seed=seed))[list(LONG_RUN)].iloc[steps // 2 :].mean() for seed in seeds]
    return sum(values) / len(values)


def test_short_periods_settle_where_other_short_periods_do_and_unconverted_flows_do_not(monkeypatch):
    """Weekly and half-monthly periods agree on the long run; without converted payoff flows they drift apart."""
    gap = (long_run(WEEK) - long_run(HALF_MONTH)).abs()
    assert (gap < 0.03).all(), gap
    for path in ("execution.report_value", "execution.intrinsic_motivation", "execution.effort_cost"):
        monkeypatch.delitem(timing.CONVERSIONS, path)
    broken = (long_run(WEEK) - long_run(HALF_MONTH)).abs()
    assert broken["share_substantive"] > 0.05, broken


def dips_and_rebounds(months: float, campaign: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Per replication, falsification before the campaign minus late in it, and after it minus late in it.

    The campaign runs from quarter 60 to quarter 64 (stated in the defaults' quarters), whatever the
    period; before is quarters 45-59, late in it 62-63, after 70-84 (the years after it).
    """
    scenario = load_scenario(SCENARIOS / "patterns" / "p6_campaign.yaml").with_overrides(
        [f"parameters.time.period_months={months}", f"policies=[{{campaign: {{start: 60, end: 64{campaign}}}}}]"]
    )
    delta = months / 3

    def window(shares: pd.Series, start: int, end: int) -> float:  # quarters [start, end) in the model's periods
        first, after = (round((quarter - 1) / delta) + 1 for quarter in (start, end))
        return shares[(shares.index >= first) & (shares.index < after)].mean()

    dips, rebounds = [], []
    for k, seed in enumerate(replication_seeds(scenario.seed, 10)):
        steps = run_one(scenario, seed, replication=k, steps=round(110 / delta), agents=False).steps
        falsify = steps.set_index("period")["share_falsify"]
        during = window(falsify, 62, 64)
        dips.append(window(falsify, 45, 60) - during)
        rebounds.append(window(falsify, 70, 85) - during)
    return np.asarray(dips), np.asarray(rebounds)


@pytest.mark.parametrize("months", [1.0, WEEK])
def test_p6_in_real_time_a_campaign_of_a_year_cuts_falsification_and_it_rebounds(months):
    for name, values in zip(("dip", "rebound"), dips_and_rebounds(months), strict=True):
        assert describe(values)["ci_low"] > 0, (name, values)  # the 95% interval lies above 0


def test_control_p6_in_real_time_a_campaign_that_inspects_no_more_changes_nothing():
    """A campaign window with the status quo's inspection rate and on-site share: no dip."""
    dips, _ = dips_and_rebounds(1.0, ", multiplier: 1.0, onsite_share: 0.2")
    assert not describe(dips)["ci_low"] > 0


# --- anticipation of an announced campaign ------------------------------------------------------------

ANNOUNCED = {"campaign_start": 8, "campaign_end": 12, "campaign_notice": 3}


def test_units_prepare_for_an_announced_campaign_and_nothing_else_changes_before_it():
    """With certain anticipation nobody fakes or shirks in the three periods of notice; before them, nothing moved."""
    silent = frame(run(None, 12, **{k: v for k, v in ANNOUNCED.items() if k != "campaign_notice"}))
    told = frame(run(None, 12, campaign_anticipation=1.0, **ANNOUNCED))
    pd.testing.assert_frame_equal(silent.iloc[:4], told.iloc[:4], check_exact=True)  # periods 1-4
    notice = told.iloc[4:7]  # periods 5, 6, 7
    assert (notice["share_falsify"] == 0).all() and (notice["share_shirk"] == 0).all()
    assert (silent.iloc[4:7][["share_falsify", "share_shirk"]].sum(axis=1) > 0).all()
    assert (notice["share_formalism"] > silent.iloc[4:7]["share_formalism"]).all()


def test_control_an_unannounced_campaign_or_no_anticipation_changes_nothing():
    silent = frame(run(None, 12, campaign_start=8, campaign_end=12))
    pd.testing.assert_frame_equal(silent, frame(run(None, 12, campaign_anticipation=0.0, **ANNOUNCED)))


def test_engines_agree_exactly_on_an_announced_campaign_in_a_portfolio():
    from test_engines import assert_identical

    tasks = [{"name": "a", "set": {"campaign.start": 5, "campaign.end": 8, "campaign.notice": 2}}, {"name": "b"}]
    runs = []
    for engine in ("agents", "vectorized"):
        built = BureauModel(small(hierarchy=HIERARCHY, tasks=tasks), seed=3, steps=9, engine=engine)
        built.run_model()
        runs.append(built)
    assert_identical(*runs)
    assert runs[0].tasks.announced(3).tolist() == [True, False]
