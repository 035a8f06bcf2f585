"""Feedback from the top (docs/ODD.md, section 15): inspections and targets revised from beliefs.

Off by default (the golden files); on, the revision follows its formula exactly, acts through what
the top believes (so summed claims, which show the goal met, make it inspect less while the
grassroots fail, and completion rates make it inspect more), and an aspiration the beliefs always
meet is the negative control: the top then has nothing to correct.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small
from test_engines import assert_identical

from sim import BureauModel
from sim.scenario.output_names import FEEDBACK_OUTPUTS

HIERARCHY = {"branching": [4, 4, 6]}


def model(steps=12, seed=2, engine=None, **parameters) -> BureauModel:
    built = BureauModel(small(hierarchy=HIERARCHY), seed=seed, steps=steps, engine=engine, **parameters)
    built.run_model()
    return built


def frame(built: BureauModel) -> pd.DataFrame:
    return built.datacollector.get_model_vars_dataframe()


def test_off_its_values_change_nothing():
    plain = frame(model())
    pd.testing.assert_frame_equal(plain, frame(model(feedback_aspiration=0.1, feedback_target_response=3.0)))
    assert not set(FEEDBACK_OUTPUTS) & set(plain.columns)


def test_a_round_revises_inspections_and_targets_by_the_formula():
    built = model(steps=8, feedback_every=4, feedback_target_response=0.5, relay_report_rule="rate")
    steps = frame(built)
    believed = steps["reported_attainment"].iloc[:4].mean()
    assert steps["inspection_factor"].iloc[3] == 1.0  # the revision comes at the end of the round
    assert steps["inspection_factor"].iloc[4] == pytest.approx(np.exp(0.9 - believed))
    assert steps["target_factor"].iloc[4] == pytest.approx(np.exp(0.5 * (believed - 0.9)))
    assert built.inspection_intensity()[0] == pytest.approx(0.25 * built.inspection_factor)  # after the last round
    bottom = built.levels[-1].target_received.mean()
    plain = model(steps=8, relay_report_rule="rate").levels[-1].target_received.mean()
    assert bottom != plain


def final_factor(rule: str, **parameters) -> np.ndarray:
    """Per replication, the top's inspection factor after 60 periods of yearly (four-period) rounds."""
    return np.array(
        [
            frame(
                model(
                    steps=60,
                    seed=seed,
                    feedback_every=4,
                    relay_report_rule=rule,
                    **parameters,
                )
            )["inspection_factor"].iloc[-1]
            for seed in range(4)
        ]
    )


def test_feedback_through_summed_claims_inspects_less_while_rates_make_the_top_inspect_more():
    summed, rates = final_factor("sum"), final_factor("rate")
    assert (summed < 1).all() and (rates > 1).all()
    # negative control: a top that discounts summed claims to believing 0.7 inspects more under them too
    assert (final_factor("sum", accountability_statistical_discount=0.3) > 1).all()


def test_a_round_without_a_task_in_force_revises_nothing():
    """A portfolio whose only task starts in period 5: the first rounds believe nothing (NaN) and change nothing."""
    scenario = small(hierarchy=HIERARCHY, tasks=[{"name": "late", "start": 5}])
    built = BureauModel(scenario, seed=1, steps=8, feedback_every=2, relay_report_rule="rate")
    built.run_model()
    steps = frame(built)
    assert (steps["inspection_factor"].iloc[:5] == 1.0).all()
    assert np.isfinite(steps["inspection_factor"]).all() and np.isfinite(built.levels[-1].target_received).all()
    assert steps["inspection_factor"].iloc[-1] != 1.0


def test_engines_agree_exactly_with_feedback():
    values = {"feedback_every": 3, "feedback_target_response": 0.5, "relay_report_rule": "rate"}
    assert_identical(model(engine="agents", **values), model(engine="vectorized", **values))
