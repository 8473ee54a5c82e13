"""Runs in a folder: ``train(config, workdir)``, ``train_population(...)``, ``load(workdir)``.

A run folder holds ``run.json`` (the config and trials: what a resume must match),
``checkpoints/`` (the whole population state after every epoch, named leaves),
``metrics.jsonl`` (one line per trial-epoch), ``summary.json`` (test metrics at the best
validation epoch, best epoch, wall time, versions) and, with W&B on, ``wandb.json`` (the
run id, so a resumed run continues the same W&B run). Kill a run at any moment and start it
again: it resumes from its last checkpoint and ends with the numbers of an uninterrupted run.
A finished run given more ``loop.epochs`` trains on; ``overwrite=True`` starts afresh.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from rnnlab.train import checkpoint, problem, step
from rnnlab.train.config import Config
from rnnlab.train.population import (
    Group,
    Population,
    Runner,
    Trial,
    TrialResult,
    default_strategy,
    group_for,
    population_trials,
)

# Fields a resumed run may change: the epoch limit and what is displayed or logged.
_RESUMABLE = {"loop": ("epochs", "progress", "wandb", "wandb_project")}


@dataclasses.dataclass
class PopulationResult:
    """The results of P trials, in order; arrays over trials for the common fields."""

    trials: list[TrialResult]

    def __getitem__(self, i: int) -> TrialResult:
        return self.trials[i]

    def __len__(self) -> int:
        return len(self.trials)

    def _arr(self, name: str) -> np.ndarray:
        return np.asarray([getattr(t, name) for t in self.trials])

    @property
    def best_metric(self) -> np.ndarray:
        return self._arr("best_metric")

    @property
    def diverged(self) -> np.ndarray:
        return self._arr("diverged")

    @property
    def test(self) -> dict[str, np.ndarray]:
        return {k: np.asarray([t.test[k] for t in self.trials]) for k in self.trials[0].test}


def versions() -> dict[str, str]:
    """Versions of what produced a result."""
    import flax
    import optax

    import rnnlab

    return {
        "rnnlab": rnnlab.__version__,
        "jax": jax.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "backend": jax.default_backend(),
    }


def _signature(trials: Sequence[Trial], strategy: str) -> dict:
    sig = {
        "trials": [{"config": t.config.to_dict(), "seed": t.seed} for t in trials],
        "strategy": strategy,
    }
    return json.loads(json.dumps(sig))  # as it reads back from run.json (tuples -> lists)


def _fixed(signature: dict) -> dict:
    """The part of a run's signature a resume must match (the epoch limit and what is
    displayed or logged may change)."""
    out = json.loads(json.dumps(signature))
    for t in out["trials"]:
        for section, keys in _RESUMABLE.items():
            for k in keys:
                t["config"][section].pop(k, None)
    return out


def _diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    out = []
    for k in keys:
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}")
    return out


def _open_workdir(workdir: str, signature: dict, overwrite: bool) -> None:
    path = os.path.join(workdir, "run.json")
    if overwrite and os.path.exists(workdir):
        shutil.rmtree(workdir)
    if os.path.exists(path):
        with open(path) as f:
            old = _fixed(json.load(f))
        new = _fixed(signature)
        if old != new:
            if len(old["trials"]) == len(new["trials"]):
                diffs = sorted(
                    {d for a, b in zip(old["trials"], signature["trials"]) for d in _diff(a, b)}
                    | ({"strategy"} if old["strategy"] != signature["strategy"] else set())
                )
            else:
                diffs = ["the number of trials"]
            raise ValueError(
                f"{workdir} holds a different run (it differs in {', '.join(diffs)}); "
                "use another workdir, or --overwrite to replace it."
            )
    os.makedirs(workdir, exist_ok=True)
    with open(path, "w") as f:
        json.dump(signature, f, indent=1)


class _Log:
    """metrics.jsonl (one line per trial-epoch, tagged with the population epoch) and, when
    asked, one Weights & Biases run whose id is kept in the run folder."""

    def __init__(self, config: Config, workdir: str | None, P: int):
        self.path = None if workdir is None else os.path.join(workdir, "metrics.jsonl")
        self.run = None
        if config.loop.wandb:
            import wandb

            id_path = None if workdir is None else os.path.join(workdir, "wandb.json")
            run_id = None
            if id_path and os.path.exists(id_path):
                with open(id_path) as f:
                    run_id = json.load(f)["id"]
            self.run = wandb.init(
                project=config.loop.wandb_project,
                config=config.to_dict(),
                dir=workdir,
                id=run_id,
                resume="allow",
            )
            if id_path and run_id is None:
                with open(id_path, "w") as f:
                    json.dump({"id": self.run.id}, f)

    def history(self, rounds_done: int, P: int) -> list[list[dict]]:
        """Per-trial records of the completed rounds; lines of an interrupted round (after
        the last checkpoint) are dropped from the file."""
        out: list[list[dict]] = [[] for _ in range(P)]
        if self.path is None or not os.path.exists(self.path):
            return out
        with open(self.path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        lines = [r for r in lines if r["round"] < rounds_done]
        with open(self.path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in lines)
        for r in lines:
            rec = {k: v for k, v in r.items() if k not in ("round", "trial", "seconds")}
            out[r["trial"]].append(rec)
        return out

    def log(self, rnd: int, records: list[tuple[int, dict]], seconds: float) -> None:
        if self.path is not None:
            with open(self.path, "a") as f:
                for s, rec in records:
                    line = {"round": rnd, "trial": s, **rec, "seconds": round(seconds, 3)}
                    f.write(json.dumps(line) + "\n")
        if self.run is not None:
            for s, rec in records:
                prefix = "" if len(records) == 1 else f"trial{s}/"
                self.run.log({f"{prefix}{k}": v for k, v in rec.items()}, step=rnd)

    def close(self, results: list[TrialResult]) -> None:
        if self.run is not None:
            if len(results) == 1:
                self.run.summary.update({f"test_{k}": v for k, v in results[0].test.items()})
            self.run.finish()


def _progress(config: Config, start: int):
    from tqdm.auto import tqdm

    return tqdm(
        total=config.loop.epochs,
        initial=start,
        desc="epochs",
        unit="epoch",
        disable=not config.loop.progress,
    )


def run_trials(
    trials: Sequence[Trial],
    *,
    strategy: str | None = None,
    chunk_size: int = 8,
    devices: Sequence = (),
    workdir: str | os.PathLike | None = None,
    overwrite: bool = False,
    callback: Callable[[int, list], None] | None = None,
) -> list[TrialResult]:
    """Train ``trials`` (one program) together, each in its own slot, resumably in
    ``workdir``; ``callback(round, [(trial index, record)])`` after every epoch (an
    exception there stops the run after that epoch's checkpoint)."""
    config = trials[0].config
    runner = Runner(strategy or default_strategy(config.data.batch_size), chunk_size, devices)
    P = len(trials)
    slots = runner.round_slots(P, config.data.batch_size)
    group = group_for(config, slots, runner)  # checks data, model, metric before any write
    pop = Population(group)
    for i, t in enumerate(trials):
        pop.assign(i, t)
    workdir = None if workdir is None else os.fspath(workdir)
    manager, rounds = None, 0
    if workdir is not None:
        _open_workdir(workdir, _signature(trials, runner.strategy.value), overwrite)
        if config.loop.checkpoint:
            manager = checkpoint.Manager(os.path.join(workdir, "checkpoints"))
            if manager.latest() is not None:
                rounds = manager.latest()
                state = manager.restore(jax.device_get(pop.pop))
                state = step.resume(state, config.loop.epochs, config.loop.patience)
                pop.pop = group.place(state)
    log = _Log(config, workdir, P)
    if rounds:
        epochs = jax.device_get(pop.pop.epoch)
        for i, hist in enumerate(log.history(rounds, P)):
            pop.slots[i].history = hist
            pop.slots[i].epoch = int(epochs[i])
    start = time.perf_counter()
    bar = _progress(config, max((len(s.history) for s in pop.slots if s), default=0))
    while jax.device_get(pop.pop.active).any():
        t0 = time.perf_counter()
        pop.train_epoch()
        records = pop.end_epoch()
        if manager is not None:
            manager.save(rounds + 1, jax.device_get(pop.pop))
        log.log(rounds, records, time.perf_counter() - t0)
        rounds += 1
        bar.update(1)
        best = jax.device_get(pop.pop.best_metric)[:P]
        bar.set_postfix(best=float(np.min(best)), active=int(jax.device_get(pop.pop.active).sum()))
        if callback is not None:
            callback(rounds - 1, records)
    bar.close()
    results = [r for _, r in pop.finish([i for i in range(P)])]
    for r in results:
        r.seconds = time.perf_counter() - start
    log.close(results)
    if workdir is not None:
        _write_summary(workdir, results, group)
    return results


def _write_summary(workdir: str, results: list[TrialResult], group: Group) -> None:
    summary = {
        "trials": [r.summary() | {"history": None} for r in results],
        "problem": group.problem._asdict(),
        "versions": versions(),
    }
    if len(results) == 1:
        summary = {**summary["trials"][0], **{k: v for k, v in summary.items() if k != "trials"}}
    with open(os.path.join(workdir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=float)


def train(
    config: Config, workdir: str | os.PathLike | None = None, *, overwrite: bool = False, **kw: Any
) -> TrialResult:
    """Train one model of ``config`` (seed ``config.loop.seed``), resumably in ``workdir``.

    Returns its ``TrialResult``: best validation metric and epoch, every valid and test
    metric at the best parameters, per-epoch history, the best parameters, wall time.
    """
    return run_trials(
        [Trial(config, config.loop.seed)], workdir=workdir, overwrite=overwrite, **kw
    )[0]


def train_population(
    config: Config,
    hparams: dict[str, Any] | None = None,
    seeds: Sequence[int] | None = None,
    **kw: Any,
) -> PopulationResult:
    """Train P trials of ``config`` in one program: per-trial continuous hyperparameters
    (``{"lr": lr_P}``) and seeds; each trial's numbers equal training it alone. Keyword
    arguments as ``run_trials`` (strategy, devices, workdir, ...)."""
    return PopulationResult(run_trials(population_trials(config, hparams, seeds), **kw))


def _restore(workdir: str) -> tuple[Config, Group, Any]:
    """(config, group, last saved population state) of the single-model run in ``workdir``."""
    path = os.path.join(workdir, "run.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{workdir} is not a run folder (no run.json).")
    with open(path) as f:
        sig = json.load(f)
    if len(sig["trials"]) != 1:
        raise ValueError(f"{workdir} holds a population of {len(sig['trials'])} trials.")
    config = Config.from_dict(sig["trials"][0]["config"])
    group = group_for(config, 1, Runner(sig["strategy"]))
    pop = Population(group)
    pop.assign(0, Trial(config, sig["trials"][0]["seed"]))
    manager = checkpoint.Manager(os.path.join(workdir, "checkpoints"))
    if manager.latest() is None:
        raise FileNotFoundError(f"{workdir} has no checkpoint yet.")
    return config, group, manager.restore(jax.device_get(pop.pop))


def load(workdir: str | os.PathLike) -> tuple[Config, Any, Any]:
    """(config, model, best parameters) of the single-model run in ``workdir``."""
    config, group, state = _restore(os.fspath(workdir))
    best = step.eval_params(jax.tree.map(lambda a: a[0], state), True)
    params = group.lone_params(best, config.model)
    return config, step.make_program(config, group.problem).model, params


def evaluate(workdir: str | os.PathLike, split: str = "test") -> dict[str, float]:
    """Every metric of the best parameters of the run in ``workdir`` on ``split``."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be train, valid or test, got {split!r}.")
    config, group, state = _restore(os.fspath(workdir))
    batches = problem.eval_batches(
        getattr(group.splits, split), config.data.eval_batch_size, config.data.pad_multiple
    )
    metrics = group.evaluate(group.place(state), batches, best=True)
    return {k: float(v[0]) for k, v in metrics.items()}
