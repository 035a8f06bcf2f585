"""Properties that hold for every valid scenario: finite outputs in range, strategy shares
summing to one, sanction shares summing to one or zero, and determinism by seed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from property import scenarios

from sim import BureauModel
from sim.scenario.output_names import CHOSEN_INFLATION, MOTIVATION_TYPES, STRATEGY_SHARES, TYPE_OUTPUTS

UNIT_INTERVAL = ("goal_attainment", "reported_attainment", "clarity_at_bottom", "burden", "wrongful_sanction_rate")

fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(scenario, steps=4):
    model = BureauModel.from_scenario(scenario)
    for _ in range(steps):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    return model, frame.drop(columns=[name for name in frame if name.startswith("run_value_")])  # NaN until the end


@fast
@given(scenarios())
def test_outputs_are_finite_and_in_range(scenario):
    model, frame = run(scenario)
    by_type = [name for name in TYPE_OUTPUTS if name in frame]  # NaN for a type nobody belongs to
    undefined = by_type + ([CHOSEN_INFLATION] if CHOSEN_INFLATION in frame and model.relays < 2 else [])
    undefined += [name for name in ("middle_sanction_rate",) if name in frame]  # NaN in a period nobody is inspected
    assert np.isfinite(frame.drop(columns=undefined).to_numpy(dtype=float)).all()  # no official chose: NaN
    for kind in MOTIVATION_TYPES:
        shares = frame[[f"{share}_{kind}" for share in STRATEGY_SHARES if f"{share}_{kind}" in frame]]
        if not shares.empty:
            total = shares.sum(axis=1, min_count=1)
            assert (total.isna() | np.isclose(total, 1.0)).all(), kind
    for name in UNIT_INTERVAL:
        assert frame[name].between(0, 1).all(), name
    issued = frame.get("target_factor", 1.0)  # the top's revised target, with feedback
    assert (frame["escalation_at_bottom"] >= issued - 1e-12).all()
    assert (frame["collateral_harm"] >= 0).all()
    shares = frame[list(STRATEGY_SHARES)].sum(axis=1)
    assert np.allclose(shares, 1.0)
    sanctions = frame[[f"sanction_share_{n}" for n in model.level_names]].sum(axis=1)
    assert all(math.isclose(s, 1.0) or s == 0.0 for s in sanctions)
    for state in model.levels:
        assert np.isfinite(state.attractions).all() and np.isfinite(state.belief).all()
        assert ((state.belief >= 0) & (state.belief <= 1)).all()
    used = model.levels[-1].capacity_used
    assert ((used >= 0) & (used <= 1)).all()


@settings(max_examples=15, deadline=None)
@given(scenarios())
def test_same_seed_same_numbers(scenario):
    _, first = run(scenario, steps=3)
    _, second = run(scenario, steps=3)
    pd.testing.assert_frame_equal(first, second)
