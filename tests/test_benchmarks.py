"""The benchmark scripts run and print their tables (at tiny settings, on the CPU): the commands
of benchmarks/gpu.sh that do not need a GPU, and the probes behind benchmarks/README.md. A
script that breaks is found here, not on the day a GPU is lent to measure with it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.slow


def _run(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _rows(table: str) -> list[list[str]]:
    """The body rows of the markdown tables in ``table``, as lists of cells."""
    lines = [ln for ln in table.splitlines() if ln.startswith("|") and not ln.startswith("|---")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines if "---" not in ln]


def _number(cell: str) -> float:
    return float(re.match(r"[\d.]+", cell).group())


def test_bench_lstm_rows_run():
    out = _run(
        "benchmarks/bench_lstm.py",
        "--only",
        "in-loop projection, custom VJP",
        "--rounds",
        "1",
        "--reps",
        "1",
        "--rep-seconds",
        "0.05",
    )
    rows = [r for r in _rows(out) if r[0].startswith("rnnlab")]
    assert len(rows) >= 3, out
    for r in rows:
        assert r[1] != "failed", out
        assert _number(r[2]) > 0


def test_bench_population_strategies_run():
    out = _run(
        "benchmarks/bench_population.py",
        "--quick",
        "--P",
        "1",
        "2",
        "--B",
        "1",
        "--kinds",
        "vmap",
        "map",
        "chunked",
        "loop",
    )
    rows = _rows(out)[1:]
    assert {r[2].split()[0] for r in rows} == {"vmap", "map", "chunked", "loop"}, out
    assert all(_number(r[3]) > 0 for r in rows)


def test_bench_scan_runs():
    out = _run("benchmarks/bench_scan.py", "--lengths", "50", "--repeats", "1", "--hidden", "8")
    rows = _rows(out)[1:]
    assert len(rows) == 5, out


def test_probe_donation_gives_the_same_parameters():
    out = _run("benchmarks/probe_donation.py", "--cases", "16:1,16:2", "--rounds", "2")
    rows = _rows(out)[1:]
    assert [r[:2] for r in rows] == [["16", "1"], ["16", "2"]], out
    assert all(r[-1] == "True" for r in rows), out


def test_sweep_timeline_known_answer(tmp_path):
    """Two workers, two groups: a population on one worker counts its overlapping trials
    once; a group split over both workers counts each worker's span."""
    import datetime

    import optuna

    t0 = datetime.datetime(2026, 1, 1)
    spans = [  # group, worker, hidden, start s, end s
        ("a", "w1", 40, 0, 10),
        ("a", "w1", 48, 0, 12),
        ("b", "w1", 100, 12, 20),
        ("b", "w2", 120, 5, 15),
    ]
    db = tmp_path / "study.db"
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{db}")
    for group, worker, hidden, start, end in spans:
        study.add_trial(
            optuna.trial.FrozenTrial(
                number=0,
                state=optuna.trial.TrialState.COMPLETE,
                value=1.0,
                datetime_start=t0 + datetime.timedelta(seconds=start),
                datetime_complete=t0 + datetime.timedelta(seconds=end),
                params={},
                distributions={},
                user_attrs={
                    "group": group,
                    "worker": worker,
                    "config": {"model": {"hidden": hidden}},
                },
                system_attrs={},
                intermediate_values={},
                trial_id=0,
            )
        )
    out = _run("benchmarks/sweep_timeline.py", str(db))
    rows = {r[0]: r for r in _rows(out)[1:]}
    assert [rows["a"][i] for i in (1, 3, 4, 5, 8)] == ["2", "48", "40-48", "1", "12.0"]
    assert [rows["b"][i] for i in (1, 3, 5, 6, 7, 8)] == ["2", "128", "2", "5.0", "20.0", "18.0"]
    assert "worker-seconds in groups: 30.0" in out
