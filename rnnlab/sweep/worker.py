"""A sweep worker: claims queued trials of one program group at a time and trains them as a
population with an executor (default ``rnnlab.train.run_queue``).

The executor pulls trials through ``next_trial`` (each one a claim under a lease), and reports
through ``on_epoch`` (told to the study as an intermediate value: the validation metric, so
optuna-dashboard shows the learning curve) and ``on_done`` (the trial's best checkpoint is saved
in the run folder, its results written as user attrs, its state set: COMPLETE with value = best
validation metric; FAIL with ``diverged=True`` when it diverged before any finite value; FAIL
with ``error`` if training raised). With W&B on (``--wandb`` or the config's ``loop.wandb``),
each trial is also one W&B run (``rnnlab.sweep.tracking``). A background thread renews this
worker's leases and reaps other workers' stale trials. In an adaptive study
(``rnnlab.sweep.adaptive``) the worker first asks the study's sampler to fill the queue, up to
``slots`` waiting trials, preferring the cell of the population it trains. The worker leaves
when no trial is waiting, none can be proposed and none is running anywhere (it waits for
others' running trials, so that it can take them over if their worker dies).

Run alone (the ``rnnlab sweep`` command starts these): ``RNNLAB_SWEEP_STORAGE=URL python -m
rnnlab.sweep --study NAME``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from rnnlab.sweep import adaptive, engine, tracking
from rnnlab.sweep.lease import Queue
from rnnlab.sweep.storage import ATTR, StorageError, open_storage, redact, resolve

STORAGE_ENV = "RNNLAB_SWEEP_STORAGE"


def _field(result: Any, name: str, default: Any = None) -> Any:
    if isinstance(result, Mapping):
        return result.get(name, default)
    return getattr(result, name, default)


def _floats(d: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in dict(d or {}).items()}


def _metric(config: Mapping[str, Any]) -> str:
    return str((config.get("loop") or {}).get("metric", "loss"))


@dataclasses.dataclass
class _InFlight:
    trial_id: int
    number: int
    trial: Any
    metric: str
    lost: bool = False


@dataclasses.dataclass
class WorkerStats:
    completed: int = 0
    failed: int = 0
    dropped: int = 0  # results that came after their trial was reaped


class Worker:
    """Runs queued trials of one study until none is left (see module docstring)."""

    def __init__(
        self,
        queue: Queue,
        executor: Callable[..., Any] | None = None,
        *,
        slots: int = 8,
        run_dir: str | None = None,
        poll_seconds: float = 2.0,
        max_executor_errors: int = 3,
        log: Callable[[str], None] | None = None,
        wandb: bool = False,
    ) -> None:
        self.queue = queue
        self.executor = executor if executor is not None else engine.default_executor()
        self.slots = int(slots)
        self.run_dir = queue.spec.run_dir if run_dir is None else run_dir
        self.poll_seconds = float(poll_seconds)
        self.max_executor_errors = int(max_executor_errors)
        self.log = log or (lambda msg: None)
        self.wandb = bool(wandb)
        self.tracker = tracking.Tracker(self.log)
        record = queue.storage.get_study_user_attrs(queue.study_id).get(ATTR) or {}
        self.proposer = adaptive.Proposer.for_study(record)
        self.stats = WorkerStats()
        self._inflight: dict[str, _InFlight] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> WorkerStats:
        beat = threading.Thread(target=self._heartbeat, name="rnnlab-lease", daemon=True)
        beat.start()
        errors = 0
        try:
            while not self._stop.is_set():
                self.queue.reap()
                if self.proposer is not None:
                    self.proposer.fill(self.queue, self.slots)
                first = self.queue.claim_next()
                if first is None:
                    if not self._others_running():
                        break
                    time.sleep(self.poll_seconds)
                    continue
                try:
                    self._run_group(first)
                    errors = 0
                except Exception as e:  # the executor failed: its trials are failed, named
                    errors += 1
                    self._fail_inflight(f"{type(e).__name__}: {e}")
                    self.log(f"executor error ({errors}/{self.max_executor_errors}): {e}")
                    if errors >= self.max_executor_errors:
                        raise
        except BaseException:
            with self._lock:
                ids = [f.trial_id for f in self._inflight.values()]
                self._inflight.clear()
            if ids:
                self.queue.release(ids, "its worker was interrupted")
            raise
        finally:
            self._stop.set()
            beat.join(timeout=5)
            self.tracker.close()
        return self.stats

    def stop(self) -> None:
        """Take no new trials; the ones training finish."""
        self._stop.set()

    def _others_running(self) -> bool:
        from optuna.trial import TrialState

        return bool(self.queue.trials((TrialState.RUNNING,)))

    def _heartbeat(self) -> None:
        period = max(0.2, self.queue.lease_seconds / 4)
        last_reap = time.monotonic()
        while not self._stop.wait(period):
            with self._lock:
                ids = {f.trial_id: f for f in self._inflight.values()}
            for tid in self.queue.renew(ids):
                ids[tid].lost = True
            if time.monotonic() - last_reap > self.queue.lease_seconds / 2:
                self.queue.reap()
                last_reap = time.monotonic()

    def _run_group(self, claimed: Any) -> None:
        """Train ``claimed`` (a trial this worker holds) and the trials of its program group
        that it claims while slots free up."""
        group = claimed.user_attrs.get("group")
        pending = [claimed]
        first: dict[str, Any] = {}  # params of the group's first trial: its cell fills first

        def next_trial() -> Any:
            if pending:
                ft = pending.pop()
            elif self._stop.is_set():
                return None
            else:
                ft = self.queue.claim(group)
            if ft is None and self.proposer is not None:
                if self.proposer.fill(self.queue, self.slots, prefer=first or None):
                    ft = self.queue.claim(group)
            if ft is None:
                return None
            first.update({} if first else ft.params)
            attrs = ft.user_attrs
            config = engine.make_config(attrs["config"])
            trial = engine.make_trial(config, int(attrs["seed"]), attrs["key"])
            with self._lock:
                self._inflight[attrs["key"]] = _InFlight(
                    ft._trial_id, ft.number, trial, _metric(attrs["config"])
                )
            if self.wandb or (attrs["config"].get("loop") or {}).get("wandb"):
                settings = tracking.run_settings(
                    self.queue.study_name,
                    self.queue.spec.url,
                    ft.number,
                    ft.params,
                    attrs,
                    self.run_dir,
                )
                self.tracker.start(attrs["key"], settings)
            return trial

        try:
            self.executor(
                next_trial, slots=self.slots, on_epoch=self._on_epoch, on_done=self._on_done
            )
        finally:
            if pending:  # the executor failed before taking it: give it back untouched
                self.queue.release([claimed._trial_id], "its worker's executor never took it")
        self._fail_inflight("the executor returned without finishing the trial")

    # --- callbacks -----------------------------------------------------------------------------

    def _on_epoch(self, trial: Any, record: Mapping[str, Any]) -> None:
        from optuna.exceptions import UpdateFinishedTrialError

        f = self._inflight.get(trial.key)
        if f is None or f.lost:
            return
        self.tracker.epoch(trial.key, record)
        value = record.get(f"valid_{f.metric}")
        if value is None or not math.isfinite(float(value)):
            return
        try:
            self.queue.storage.set_trial_intermediate_value(
                f.trial_id, int(record["epoch"]), float(value)
            )
        except UpdateFinishedTrialError:
            f.lost = True

    def _on_done(self, trial: Any, result: Any) -> None:
        from optuna.trial import TrialState

        with self._lock:
            f = self._inflight.pop(trial.key, None)
        if f is None:
            return
        best = float(_field(result, "best_metric", math.nan))
        diverged = bool(_field(result, "diverged", False))
        attrs: dict[str, Any] = {
            "valid": _floats(_field(result, "valid")),
            "test": _floats(_field(result, "test")),
            "diverged": diverged,
            "seconds": float(_field(result, "seconds", 0.0)),
            "epochs_trained": int(_field(result, "epochs_trained", 0)),
            "best_epoch": int(_field(result, "best_epoch", 0)),
            "worker": self.queue.owner,
        }
        params = _field(result, "params")
        if params is not None and math.isfinite(best):
            rel = os.path.join("checkpoints", trial.key[:16])
            engine.save_checkpoint(os.path.join(self.run_dir, rel), trial.config, params)
            attrs["checkpoint"] = rel
        if math.isfinite(best):
            state, value = TrialState.COMPLETE, best
        else:
            state, value = TrialState.FAIL, None
            if not diverged:
                attrs["error"] = f"non-finite best metric {best}"
        if self.queue.finish(f.trial_id, state, value, attrs):
            if state == TrialState.COMPLETE or diverged:
                self.stats.completed += 1
            else:
                self.stats.failed += 1
            self.tracker.finish(
                trial.key, tracking.run_summary(f.metric, {"best_metric": best, **attrs})
            )
        else:
            self.stats.dropped += 1
            self.tracker.finish(trial.key)

    def _fail_inflight(self, error: str) -> None:
        from optuna.trial import TrialState

        with self._lock:
            flights = list(self._inflight.values())
            self._inflight.clear()
        for f in flights:
            self.tracker.finish(f.trial.key)
            if self.queue.finish(f.trial_id, TrialState.FAIL, None, {"error": error[:2000]}):
                self.stats.failed += 1


# --- the worker process ----------------------------------------------------------------------


def worker_command(
    study: str,
    *,
    executor: str | None,
    slots: int,
    run_dir: str,
    lease_seconds: float,
    wandb: bool = False,
) -> list[str]:
    """The command line of one worker process (the storage URL goes in the environment; ``-P``:
    the working folder does not shadow the installed rnnlab)."""
    cmd = [sys.executable, "-P", "-m", "rnnlab.sweep", "--study", study, "--slots", str(slots)]
    cmd += ["--run-dir", run_dir, "--lease", str(lease_seconds)]
    if executor:
        cmd += ["--executor", executor]
    if wandb:
        cmd.append("--wandb")
    return cmd


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rnnlab.sweep",
        description=f"Run queued trials of a study (storage URL in ${STORAGE_ENV}).",
    )
    p.add_argument("--study", required=True, help="study name")
    p.add_argument("--executor", default=None, help="package.module:function (run_queue)")
    p.add_argument("--slots", type=int, default=8, help="trials trained at once")
    p.add_argument("--run-dir", default=None, help="folder for checkpoints")
    p.add_argument("--lease", type=float, default=120.0, help="lease seconds")
    p.add_argument("--wandb", action="store_true", help="one W&B run per trial")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # a terminated worker gives its trials back
    url = os.environ.pop(STORAGE_ENV, None)  # not left where a logger could record it
    if not url:
        print(f"rnnlab sweep worker: error: ${STORAGE_ENV} is not set", file=sys.stderr)
        return 2
    try:
        spec = resolve(url, args.study, args.run_dir)
        storage = open_storage(spec, create=False)
        queue = Queue(spec, storage, args.study, lease_seconds=args.lease)
        executor = engine.load_callable(args.executor) if args.executor else None
        worker = Worker(
            queue,
            executor,
            slots=args.slots,
            run_dir=spec.run_dir,
            log=lambda m: print(f"worker {os.getpid()}: {m}", file=sys.stderr, flush=True),
            wandb=args.wandb,
        )
        worker.run()
    except KeyboardInterrupt:
        return 130
    except (StorageError, ValueError, RuntimeError, KeyError) as e:
        msg = redact(str(e).splitlines()[0] if str(e) else type(e).__name__, url)
        print(f"rnnlab sweep worker: error: {msg}", file=sys.stderr)
        if os.environ.get("RNNLAB_DEBUG"):
            traceback.print_exc()
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
