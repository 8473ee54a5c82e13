"""W&B per trial, offline: one run per trial with the study as its group, its config, one
history row per epoch and its summary; never a password; a broken W&B never stops a worker."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
from optuna.trial import TrialState

from rnnlab.cli import main
from rnnlab.sweep import Worker, experiment, prepare, resolve
from rnnlab.sweep.lease import is_done
from rnnlab.sweep.testing import fake_run_queue
from rnnlab.sweep.tracking import run_settings, run_summary
from tests.sweep._wandb_files import offline_runs
from tests.sweep.conftest import EXPERIMENT, FAKE, PG_PASSWORD


@pytest.fixture
def wandb_offline(monkeypatch, tmp_path):
    folder = tmp_path / "wandb"
    folder.mkdir()
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(folder))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("RNNLAB_FAKE_EPOCH_SECONDS", "0.01")
    return str(folder)


def _check_runs(runs, trials, study: str) -> None:
    done = {t.user_attrs["key"][:16]: t for t in trials if is_done(t)}
    assert sorted(r["name"] for r in runs) == sorted(done)
    for r in runs:
        t = done[r["name"]]
        assert r["group"] == study and r["project"] == "rnnlab" and r["exit"] == 0
        c = r["config"]
        assert c["key"] == t.user_attrs["key"] and c["seed"] == t.user_attrs["seed"]
        assert c["sampler"] == "random" and c["variant"] == t.params["variant"]
        assert c["params"] == t.params and c["optim"] == t.user_attrs["config"]["optim"]
        assert [h["epoch"] for h in r["history"]] == list(range(1, len(r["history"]) + 1))
        assert len(r["history"]) == t.user_attrs["epochs_trained"]
        curve = {h["epoch"]: h["valid_loss"] for h in r["history"] if "valid_loss" in h}
        assert curve == {e: v for e, v in t.intermediate_values.items()}
        s = r["summary"]
        assert s["diverged"] == t.user_attrs["diverged"] and s["best_epoch"] > 0
        assert s["epochs_trained"] == t.user_attrs["epochs_trained"] and s["seconds"] >= 0
        if t.state == TrialState.COMPLETE:
            assert (
                s["best_valid_loss"] == t.value and s["test_loss"] == t.user_attrs["test"]["loss"]
            )


def test_wandb_flag_logs_one_offline_run_per_trial(tmp_path, worker_env, wandb_offline, capsys):
    db = str(tmp_path / "study.db")
    argv = ["sweep", EXPERIMENT, "--preset", "small", "--storage", db, "--study", "wb"]
    assert main([*argv, "--executor", FAKE, "--no-progress", "--wandb"]) == 0
    capsys.readouterr()
    import optuna

    from rnnlab.sweep.storage import open_storage

    trials = optuna.load_study(study_name="wb", storage=open_storage(resolve(db, "wb"))).trials
    runs = offline_runs(wandb_offline)
    assert len(runs) == 6
    _check_runs(runs, trials, "wb")


def test_config_loop_wandb_turns_it_on_and_a_broken_wandb_is_one_warning(
    tmp_path, wandb_offline, monkeypatch
):
    sweep, _ = experiment.load(EXPERIMENT, "small")
    config = sweep.config_dict()
    config["loop"]["wandb"] = True
    sweep = dataclasses.replace(sweep, config=config)
    spec = resolve(str(tmp_path / "on.db"), "on")
    prep = prepare(spec, sweep, "on")
    assert Worker(prep.queue, fake_run_queue, slots=3).run().completed == 6
    _check_runs(offline_runs(wandb_offline), prep.queue.trials(), "on")

    import wandb

    def refuse(**kwargs):
        raise RuntimeError("api key not configured\nrun wandb login")

    monkeypatch.setattr(wandb, "init", refuse)
    lines = []
    spec = resolve(str(tmp_path / "off.db"), "off")
    prep = prepare(spec, sweep, "off")
    stats = Worker(prep.queue, fake_run_queue, slots=3, log=lines.append, wandb=True).run()
    assert stats.completed == 6 and stats.failed == 0
    assert lines == [
        "warning: W&B init failed (RuntimeError: api key not configured); "
        "training goes on without W&B logging."
    ]


def test_run_settings_and_summary():
    url = "postgresql://alice:hunter2@db.example/odyssey"
    attrs = {"key": "ab" * 32, "seed": 5, "config": {"loop": {"wandb_project": "p"}}}
    s = run_settings("study-x", url, 7, {"lr": 1e-3, "variant": "NIG"}, attrs, "runs/x")
    assert "hunter2" not in json.dumps(s)
    assert s["config"]["storage"] == "postgresql://alice:***@db.example/odyssey"
    assert (s["project"], s["group"], s["name"]) == ("p", "study-x", "ab" * 8)
    assert s["config"]["variant"] == "NIG" and s["config"]["trial_number"] == 7
    assert s["dir"] == ("runs/x" if not os.environ.get("WANDB_DIR") else None)
    diverged = {"best_metric": float("inf"), "diverged": True, "test": {"loss": float("inf")}}
    assert run_summary("loss", diverged) == {
        "diverged": True,
        "best_epoch": 0,
        "epochs_trained": 0,
        "seconds": 0.0,
    }


def test_no_password_in_any_wandb_file(pg_database, tmp_path, worker_env, wandb_offline, capsys):
    argv = ["sweep", EXPERIMENT, "--preset", "small", "--storage", pg_database, "--study", "pw"]
    argv += ["--run-dir", str(tmp_path / "run"), "--executor", FAKE, "--no-progress", "--wandb"]
    assert main(argv) == 0
    capsys.readouterr()
    assert len(offline_runs(wandb_offline)) == 6
    for folder, _, files in os.walk(wandb_offline):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                assert PG_PASSWORD.encode() not in f.read(), os.path.join(folder, name)
