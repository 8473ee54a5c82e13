"""Every notebook runs top to bottom on small settings and shows its key number.

Each notebook ends by printing ``RESULT {json}``; the checks below read it. The quickstart
runs in the default suite; the others take one to a few minutes each on 2 CPU cores and are
``slow`` (``make test-slow``).
"""

import json
import math
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

HERE = Path(__file__).parent.parent / "notebooks"


def run(name, tmp_path, monkeypatch) -> dict:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("RNNLAB_NOTEBOOK_SMALL", "1")
    nb = nbformat.read(HERE / f"{name}.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    lines = [
        line
        for o in outputs
        if o.output_type == "stream"
        for line in o.get("text", "").splitlines()
        if line.startswith("RESULT ")
    ]
    assert len(lines) == 1, "a notebook prints one RESULT line"
    return json.loads(lines[0][len("RESULT ") :])


def test_every_notebook_is_tested_and_built_from_its_source():
    names = sorted(p.stem for p in HERE.glob("*.ipynb"))
    assert names == sorted(p.stem for p in (HERE / "src").glob("*.py"))
    assert names == sorted(CHECKS)
    sys.path.insert(0, str(HERE))
    try:
        import build
    finally:
        sys.path.remove(str(HERE))
    for name in names:  # the stored notebook is its source (python notebooks/build.py --sync)
        stored = nbformat.read(HERE / f"{name}.ipynb", as_version=4).cells
        source = build.build(HERE / "src" / f"{name}.py").cells
        assert [c.source for c in stored] == [c.source for c in source], name


def _quickstart(r):
    assert r["lstm_test_mse"] < 0.6 * r["mean_mse"]  # learned the signal
    assert r["gru_test_mse"] < 0.6 * r["mean_mse"]
    assert 10**-3.5 <= r["best_population_lr"] <= 10**-1.5


def _inside(r):
    assert r["equations_match"] < 1e-4  # the NumPy transcription is the library's LSTM
    assert r["grad_ratio_lag50"]["Elman RNN (tanh)"] < 1e-2 * r["grad_ratio_lag50"]["LSTM"]
    assert r["ablation_nll"]["NOAF"] > r["ablation_nll"]["V"]
    assert r["clip_diverged"][2:] == [False, False]  # clipped trials stay finite
    assert all(math.isfinite(v) for v in r["regulariser_test_nll"].values())


def _populations(r):
    assert r["max_alone_vs_population_diff"] < 1e-5  # a trial alone = in the population
    assert r["mixed_alone_diff"] < 1e-5
    assert r["population_seconds"] > 0


def _sweep(r):
    assert r["trials"] >= 6 and r["report_files"] >= 5
    assert set(r["variants"]) == {"NFG", "CIFG"}
    assert 0 <= r["lr_main_fraction"] <= 1


def _forecasting(r):
    t = r["taylor_rmse_mw"]
    assert t["LSTM"] < t["persistence"]  # day-ahead demand: beats the last half-hour
    m = r["msft_rmse_usd"]
    assert m["LSTM"] < 1.1 * m["persistence"]  # next-day price: at best level with it


def _text(r):
    assert r["text_params"]["Transformer"] == pytest.approx(r["text_params"]["LSTM"], rel=0.2)
    assert r["seq2seq_exact"] > 0.5
    assert r["anomaly_recall"] > 0.5 and r["anomaly_precision"] > 0.5
    assert r["convlstm_test_mse_per_pixel"] < r["copy_last_mse_per_pixel"]


CHECKS = {
    "01_quickstart": _quickstart,
    "02_inside_the_lstm": _inside,
    "03_populations": _populations,
    "04_sweep_analysis": _sweep,
    "05_forecasting": _forecasting,
    "06_text_attention_anomalies": _text,
}
FAST = {"01_quickstart"}


@pytest.mark.parametrize(
    "name",
    [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(CHECKS)],
)
def test_notebook(name, tmp_path, monkeypatch):
    CHECKS[name](run(name, tmp_path, monkeypatch))
