"""Run folders: kill and restart ends exactly like an uninterrupted run; more epochs extend a
finished run; a different run is refused; summary, load and eval; the CLI's one-line errors."""

import json

import jax
import numpy as np
import pytest

from rnnlab import cells, cli
from rnnlab.train import evaluate, load, train, train_population


class Killed(Exception):
    pass


def _kill_after(round_to_die):
    def callback(rnd, records):
        if rnd == round_to_die:
            raise Killed

    return callback


def _lines(path):
    with open(path) as f:
        recs = [json.loads(x) for x in f]
    for r in recs:
        r.pop("seconds")
    return recs


def _same(a, b):
    assert a.history == b.history and a.test == b.test and a.best_metric == b.best_metric
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params)):
        np.testing.assert_array_equal(x, y)


def test_resume_equals_uninterrupted_run(tiny, tmp_path):
    cfg = tiny.override(
        {"loop.epochs": 4, "optim.schedule": "plateau", "optim.plateau_patience": 1}
    )
    full = train(cfg, tmp_path / "full")
    with pytest.raises(Killed):
        train(cfg, tmp_path / "cut", callback=_kill_after(1))
    assert len(_lines(tmp_path / "cut" / "metrics.jsonl")) == 2
    resumed = train(cfg, tmp_path / "cut")
    assert _lines(tmp_path / "cut" / "metrics.jsonl") == _lines(tmp_path / "full" / "metrics.jsonl")
    _same(resumed, full)
    summary = json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert summary["test"] == full.test and summary["best_epoch"] == full.best_epoch
    assert summary["versions"]["jax"] == jax.__version__


def test_more_epochs_extend_a_finished_run(tiny, tmp_path):
    full = train(tiny.override({"loop.epochs": 4}), tmp_path / "full")
    train(tiny.override({"loop.epochs": 2}), tmp_path / "ext")
    extended = train(tiny.override({"loop.epochs": 4}), tmp_path / "ext")
    _same(extended, full)


def test_same_seed_same_numbers_other_seed_other_numbers(tiny):
    a, b = train(tiny), train(tiny)
    c = train(tiny.override({"loop.seed": 5}))
    assert a.history == b.history and a.test == b.test
    assert a.history != c.history


def test_population_resume(tiny, tmp_path):
    hp, seeds = {"lr": np.array([0.3, 0.05, 0.15, 0.1], np.float32)}, [0, 1, 2, 0]
    full = train_population(tiny, hp, seeds, strategy="vmap", workdir=tmp_path / "a")
    with pytest.raises(Killed):
        train_population(
            tiny, hp, seeds, strategy="vmap", workdir=tmp_path / "b", callback=_kill_after(0)
        )
    resumed = train_population(tiny, hp, seeds, strategy="vmap", workdir=tmp_path / "b")
    for a, b in zip(resumed, full):
        _same(a, b)


def test_other_run_in_same_workdir_is_refused_then_overwritten(tiny, tmp_path):
    train(tiny.override({"loop.epochs": 1}), tmp_path)
    other = tiny.override({"loop.epochs": 1, "model.hidden": 4})
    with pytest.raises(ValueError, match=r"differs in .*model\.hidden.*--overwrite"):
        train(other, tmp_path)
    assert train(other, tmp_path, overwrite=True).params["head"]["kernel"].shape[0] == 4


@pytest.mark.parametrize(
    "model",
    [{}, {"model.cell": "lstm", "model.cell_options": {"variant": "NIG"}, "model.hidden": 7}],
    ids=["gru", "lstm-NIG"],
)
def test_load_and_eval_give_the_best_parameters(tiny, tmp_path, model):
    """An LSTM variant trains as the switchable LSTM at its bucket; load gives back the
    variant's own parameters at its own size."""
    cfg = tiny.override(model)
    res = train(cfg, tmp_path)
    config, loaded, params = load(tmp_path)
    assert config == cfg
    assert jax.tree.structure(params) == jax.tree.structure(res.params)
    for x, y in zip(jax.tree.leaves(params), jax.tree.leaves(res.params)):
        np.testing.assert_array_equal(x, y)
    assert loaded.cell == cells.get(cfg.model.cell, cfg.model.hidden, **cfg.model.cell_options)
    np.testing.assert_allclose(evaluate(tmp_path, "test")["loss"], res.test["loss"], rtol=1e-5)


def test_bad_input_is_one_line_before_any_work(tmp_path, capsys):
    exp = "experiments/sine.py"
    cases = [
        (["--set", "optim.lr=abc"], "OptimConfig.lr must be float, got 'abc'"),
        (["--set", "optim.lrr=1"], "unknown config key 'optim.lrr'"),
        (["--set", "loop.metric=nope"], "loop.metric 'nope' is not a metric of sine"),
        (["--set", "model.scan=par"], "ModelConfig.scan must be one of"),
        (["--cell", "lstmm"], "unknown cell 'lstmm'"),
        (["--devices", "3"], "data.batch_size 32 does not split over --devices 3"),
        (["--devices", "0"], "--devices must be at least 1"),
        (["--devices", "4"], "--devices 4, but JAX sees 1"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as e:
            cli.main(["train", exp, "--workdir", str(tmp_path / "w"), *args])
        err = capsys.readouterr().err.strip()
        assert e.value.code == 2 and err.startswith("rnnlab train: error: ") and message in err
        assert "\n" not in err
    assert not (tmp_path / "w").exists()  # nothing written


@pytest.mark.slow
def test_wandb_resume_continues_the_same_run(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg = tiny.override({"loop.epochs": 1, "loop.wandb": True})
    train(cfg, tmp_path)
    first = json.loads((tmp_path / "wandb.json").read_text())["id"]
    train(cfg.override({"loop.epochs": 2}), tmp_path)
    assert json.loads((tmp_path / "wandb.json").read_text())["id"] == first
