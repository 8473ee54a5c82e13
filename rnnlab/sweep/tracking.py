"""Weights & Biases logging of a sweep: one W&B run per trial, grouped by study.

On with ``rnnlab sweep ... --wandb`` or a study config with ``loop.wandb=true`` (the project
is ``loop.wandb_project``, as for ``rnnlab train``). Each trial's run has ``group`` = the study
name and ``name`` = the first 16 characters of its content key (the name of its checkpoint
folder); its config is the trial's config dict plus its params, variant, sampler, content
key, seed, trial number, study name and storage (password hidden); each epoch's record is
one history row (step = epoch); its summary holds the best validation metric, every test
metric at the best epoch, diverged, best epoch, epochs trained and wall time. A trial trained
again after its worker died gets a new run of the same name. W&B files go to ``$WANDB_DIR``,
else the study's run folder.

W&B is never required: if it is not installed or a run cannot start, the worker prints one
warning line and trains on without it (and starts no more runs).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from rnnlab.sweep.storage import redact

NAME_CHARS = 16


def run_settings(
    study: str,
    storage_url: str,
    number: int,
    params: Mapping[str, Any],
    attrs: Mapping[str, Any],
    run_dir: str | None = None,
) -> dict[str, Any]:
    """The ``wandb.init`` arguments of one trial (no password: the URL is redacted)."""
    config = dict(attrs["config"])
    loop = config.get("loop") or {}
    extra = {
        "params": dict(params),
        "sampler": attrs.get("sampler", "random"),
        "key": attrs["key"],
        "seed": attrs.get("seed"),
        "trial_number": number,
        "study": study,
        "storage": redact(storage_url),
    }
    if "variant" in params:
        extra["variant"] = params["variant"]
    return {
        "project": str(loop.get("wandb_project", "rnnlab")),
        "group": study,
        "name": str(attrs["key"])[:NAME_CHARS],
        "config": {**config, **extra},
        "dir": None if os.environ.get("WANDB_DIR") else run_dir,
    }


def run_summary(metric: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """A finished trial's W&B summary from the fields the worker records."""
    out: dict[str, Any] = {
        f"best_valid_{metric}": float(result.get("best_metric", math.nan)),
        "diverged": bool(result.get("diverged", False)),
        "best_epoch": int(result.get("best_epoch", 0)),
        "epochs_trained": int(result.get("epochs_trained", 0)),
        "seconds": float(result.get("seconds", 0.0)),
    }
    out.update({f"test_{k}": v for k, v in (result.get("test") or {}).items()})
    return {k: v for k, v in out.items() if not (isinstance(v, float) and not math.isfinite(v))}


class Tracker:
    """The W&B runs of one worker's trials, by content key."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.runs: dict[str, Any] = {}
        self.broken = False

    def _fail(self, what: str, error: BaseException) -> None:
        if not self.broken:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            self.log(
                f"warning: W&B {what} failed ({type(error).__name__}: {reason}); "
                "training goes on without W&B logging."
            )
        self.broken = True

    def start(self, key: str, settings: Mapping[str, Any]) -> None:
        if self.broken:
            return
        try:
            import wandb

            self.runs[key] = wandb.init(
                **settings, reinit="create_new", settings=wandb.Settings(console="off")
            )
        except Exception as e:  # any failure of W&B must leave training alone
            self._fail("init", e)

    def epoch(self, key: str, record: Mapping[str, Any]) -> None:
        run = self.runs.get(key)
        if run is None:
            return
        try:
            run.log(dict(record), step=int(record["epoch"]))
        except Exception as e:
            self.runs.pop(key, None)
            self._fail("log", e)

    def finish(self, key: str, summary: Mapping[str, Any] | None = None) -> None:
        """End a trial's run: with its summary if it finished, else marked failed."""
        run = self.runs.pop(key, None)
        if run is None:
            return
        try:
            if summary is not None:
                run.summary.update(dict(summary))
            run.finish(exit_code=0 if summary is not None else 1)
        except Exception as e:
            self._fail("finish", e)

    def close(self) -> None:
        for key in list(self.runs):
            self.finish(key)
