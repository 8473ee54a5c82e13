"""Paper replications: every ``smoke`` preset runs end to end and writes well-formed,
sensible numbers (``rnnlab replicate NAME --preset smoke``)."""

from __future__ import annotations

import json
import math
import os

import pytest

from rnnlab import cli, replicate
from rnnlab.replicate import _common as C


def _finite(x: str | float) -> bool:
    return math.isfinite(float(x))


def _files(out: str, names: list[str]) -> None:
    for n in names:
        path = os.path.join(out, n)
        assert os.path.exists(path) and os.path.getsize(path) > 0, n
    with open(os.path.join(out, "summary.json")) as f:
        meta = json.load(f)
    assert meta["machine"]["cores"] >= 1 and meta["wall_seconds"] > 0


def test_parser_and_errors():
    args = cli.build_parser().parse_args(["replicate", "chung2014", "--preset", "quick"])
    assert (args.name, args.preset, args.out) == ("chung2014", "quick", None)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["replicate", "nope"])
    with pytest.raises(ValueError, match="unknown replication"):
        replicate.module("nope")
    with pytest.raises(ValueError, match="unknown preset"):
        replicate.run("chung2014", "huge", "unused")
    for name in replicate.PAPERS:
        assert set(replicate.module(name).PRESETS) == set(C.PRESETS)


def test_hochreiter1997_criteria():
    import numpy as np

    from rnnlab.replicate import hochreiter1997 as H

    ok = H.correct("adding", np.array([[0.50], [0.55]]), np.array([[0.53], [0.50]]))
    assert ok.tolist() == [True, False]
    logits = np.log(np.array([[0.8, 0.1, 0.05, 0.05], [0.6, 0.2, 0.1, 0.1]]))
    assert H.correct("temporal_order", logits, np.array([0, 0])).tolist() == [True, False]
    assert 0.1 < H.chance("adding") < 0.2


@pytest.mark.slow
def test_hochreiter1997_smoke(tmp_path):
    out = str(tmp_path)
    res = replicate.run("hochreiter1997", "smoke", out)
    _files(out, ["trials.csv", "success.csv", "summary.json", "success_vs_lag.png"])
    rows = C.read_csv(os.path.join(out, "success.csv"))
    p = replicate.module("hochreiter1997").PRESETS["smoke"]
    assert len(rows) == len(p["cells"]) * (len(p["adding_T"]) + len(p["order_L"]))
    for r in rows:
        assert 0.0 <= float(r["success_rate"]) <= 1.0
        assert 0.0 <= float(r["mean_fraction_correct"]) <= float(r["best_fraction_correct"]) <= 1
        assert int(r["trials"]) == len(p["lrs"]) * p["seeds"] and int(r["params"]) > 0
    for t in res["trials"]:
        assert t["test_sequences"] == p["num_test"] and _finite(t["test_loss"])
        assert t["updates"] == p["epochs"] * (p["num_train"] // p["batch_size"])


@pytest.mark.slow
def test_chung2014_smoke(tmp_path):
    out = str(tmp_path)
    res = replicate.run("chung2014", "smoke", out)
    _files(out, ["trials.csv", "table.csv", "summary.json", "curves.png"])
    (row,) = C.read_csv(os.path.join(out, "table.csv"))
    # 88 Bernoullis at p = 0.5 cost 88 log 2 = 61 nats per step; training must beat that
    assert row["cell"] == "gru" and int(row["params"]) == 22766
    assert 0 < float(row["test_nll"]) < 61.0 and float(row["paper_test_nll"]) == 8.54
    assert all(_finite(t["valid_nll"]) for t in res["trials"])


@pytest.mark.slow
def test_feng2024_smoke(tmp_path):
    out = str(tmp_path)
    res = replicate.run("feng2024", "smoke", out)
    _files(out, ["lm.csv", "speed.csv", "summary.json", "speed.png"])
    p = replicate.module("feng2024").PRESETS["smoke"]
    speed = C.read_csv(os.path.join(out, "speed.csv"))
    assert len(speed) == len(p["speed_cells"]) * len(p["lengths"])
    assert all(float(r["median_seconds"]) > 0 for r in speed)
    (lm,) = res["lm"]
    # uniform over the 63 KJV symbols is log2(63) = 5.98 bits per character
    assert lm["scan"] == "parallel" and 0 < lm["test_bpc"] < 5.98


@pytest.mark.slow
def test_jozefowicz2015_smoke(tmp_path):
    out = str(tmp_path)
    res = replicate.run("jozefowicz2015", "smoke", out)
    _files(out, ["trials.csv", "table.csv", "summary.json", "scores.png"])
    (row,) = res["table"]
    assert row["arch"] == "lstm_fb1" and row["trials"] == 2
    assert 0 < row["test_of_best"] < 61.0 and row["median_test"] >= row["test_of_best"] - 1e-6


def test_temporal_order_length_scales_the_lags():
    import numpy as np

    from rnnlab.data import synthetic

    b = synthetic.temporal_order(0, 200, length=30)
    assert b.x.shape == (200, 33, 8) and set(b.lengths) <= set(range(30, 34))
    sym = b.x.argmax(-1)
    for i in range(200):
        pos = np.flatnonzero((sym[i] == 4) | (sym[i] == 5))
        assert len(pos) == 2 and 3 <= pos[0] <= 6 and 15 <= pos[1] <= 18
    same = synthetic.temporal_order(5, 20), synthetic.temporal_order(5, 20, length=100)
    assert all(np.array_equal(a, c) for a, c in zip(*same))


@pytest.mark.slow
def test_greff2017_smoke(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the study goes to runs/ here, as `rnnlab sweep` puts it
    out = str(tmp_path / "out")
    res = replicate.run("greff2017", "smoke", out)
    _files(out, ["conclusions.csv", "cost.csv", "variants.png"])
    assert res["importance"] == []  # fANOVA needs 5 trials; smoke has 2
    assert os.path.exists(os.path.join(out, "music", "report.html"))
    assert os.path.exists(tmp_path / "runs" / "odyssey_jsb-smoke" / "study.db")
    (cost,) = res["cost"]
    assert cost["task"] == "music" and cost["complete_trials"] == 2
    rows = {(r["variant"], r["task"]): r for r in res["conclusions"]}
    # one trial per variant: Welch needs two, so nothing is claimed either way
    assert rows[("CIFG", "music")]["ours"] == "untested" and rows[("CIFG", "music")]["n"] == 1
    assert rows[("CIFG", "music")]["paper"] == "same" and rows[("NFG", "music")]["paper"] == "worse"
    again = replicate.run("greff2017", "smoke", out)  # resumes the finished study: no training
    assert again["cost"] == res["cost"]


def test_greff2017_verdicts():
    from rnnlab.replicate import greff2017 as G

    assert G.verdict({"p": 0.01, "significant": True, "direction": "worse"}) == "worse"
    assert G.verdict({"p": 0.30, "significant": False, "direction": "worse"}) == "same"
    assert G.verdict({"p": float("nan"), "significant": False, "direction": "better"}) == "untested"
    assert G.verdict(None) == "untested"
    welch = {
        "NFG": {
            "all": {
                "p": 0.001,
                "significant": True,
                "direction": "worse",
                "n": 9,
                "n_ref": 9,
                "diff": 3.0,
            }
        }
    }
    rows = G.conclusions({"music": {"summary": {"welch": welch}}})
    by = {r["variant"]: r for r in rows}
    assert by["NFG"]["agree"] is True and by["NFG"]["mean_diff"] == 3.0
    assert by["CIFG"]["ours"] == "untested" and by["CIFG"]["agree"] is None
    assert {r["task"] for r in rows} == {"music"} and len(rows) == len(G.PAPER)
