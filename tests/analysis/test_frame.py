"""Trials -> DataFrame, and each parameter's sampling space."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from rnnlab.analysis.frame import ParamSpace, learning_curves, study_space, trials_frame
from tests.analysis._synth import EVIL, make_study


@pytest.fixture(scope="module")
def study():
    return make_study(None, per_variant=6, failed_per_variant=1)


def test_frame_columns_and_attrs(study):
    s, truth = study
    df = trials_frame(s)
    assert len(df) == truth["complete"] + truth["failed"]
    for col in ("number", "state", "value", "diverged", "seconds", "test_loss", "valid_loss"):
        assert col in df
    for p in ("lr", "hidden", "momentum", "noise_std", "variant", "tag"):
        assert f"params_{p}" in df
    assert set(df["state"]) == {"COMPLETE", "FAIL"}
    assert df.loc[df.state == "FAIL", "value"].isna().all()
    assert int(df["diverged"].sum()) == truth["diverged"]
    assert (df["user_attrs_note"] == EVIL).all()
    assert df.attrs["test_metrics"] == ["loss"]
    assert df.attrs["rnnlab"]["dataset"] == "synthetic"
    space = df.attrs["space"]
    assert space["momentum"].kind == "one_minus_log_uniform"  # from the study's rnnlab record
    assert space["hidden"].kind == "log_int"
    got = {v: sorted(t for _, t in truth["test"][v]) for v in truth["test"]}
    for v, tests in got.items():
        sub = df[(df.params_variant == v) & (df.state == "COMPLETE")]
        assert sorted(sub["test_loss"]) == pytest.approx(tests)


def test_space_from_distributions_alone():
    s, _ = make_study(None, per_variant=3, failed_per_variant=0, rnnlab_attrs=False)
    sp = study_space(s, s.get_trials())
    assert sp["lr"].kind == "log_uniform" and sp["hidden"].kind == "log_int"
    assert sp["momentum"].kind == "uniform"  # no record of how it was sampled
    assert sp["variant"].categorical and sp["variant"].choices == ("V", "NFG", "CIFG")


def test_param_space_coordinates():
    lr = ParamSpace("lr", "log_uniform", 1e-6, 1e-2)
    assert lr.domain == pytest.approx((-6, -2))
    assert lr.to_model([1e-4, 1e-9]) == pytest.approx([-4, -6])  # clipped into the domain
    m = ParamSpace("momentum", "one_minus_log_uniform", 0.0, 0.99)
    assert m.domain == pytest.approx((-2, 0))
    assert m.to_model([0.9])[0] == pytest.approx(-1)
    assert m.from_model(np.array([-1.0]))[0] == pytest.approx(0.9)
    h = ParamSpace("hidden", "int", 20, 200)
    assert h.domain == (19.5, 200.5)
    c = ParamSpace("c", "categorical", choices=(None, True, 1, "1"))
    z = c.to_model([None, True, 1, "1", "absent"])
    assert list(z[:4]) == [0, 1, 2, 3] and math.isnan(z[4])
    with pytest.raises(ValueError, match="unknown space kind"):
        ParamSpace("x", "loguniform", 1, 2)
    with pytest.raises(ValueError, match="bad bounds"):
        ParamSpace("x", "uniform", 2, 1)


def test_learning_curves_long_form(study):
    s, _ = study
    c = learning_curves(s)
    assert list(c.columns) == ["number", "step", "value"]
    first = s.get_trials(states=(optuna.trial.TrialState.COMPLETE,))[0]
    mine = c[c.number == first.number]
    assert list(mine.step) == sorted(first.intermediate_values)


def test_frame_of_empty_study():
    df = trials_frame(optuna.create_study())
    assert len(df) == 0 and "value" in df
