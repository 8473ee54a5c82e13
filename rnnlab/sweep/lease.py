"""rnnlab's own trial queue on an Optuna study: enqueue, claim under a lease, finish, reap.

Optuna's heartbeat covers only ``Study.optimize`` on an RDB (not ask/tell, not the journal), and
SQLite cannot hand out queued trials safely to several processes, so the sweep keeps its own:

- **enqueue**: planned trials are added as WAITING trials with their params, distributions and
  ``user_attrs`` (content ``key``, ``seed``, nested ``config``, program ``group``, plan
  ``order``, the ``sampler`` that made it); a key that already has a live (WAITING/RUNNING)
  or finished (COMPLETE, or FAIL as diverged) trial is skipped, so enqueueing the same plan
  twice adds nothing. An adaptive study's proposals are added one by one (``add_waiting``).
- **claim**: WAITING -> RUNNING, and a lease (owner, expiry) in the trial's system attrs. The
  owner renews the lease while the trial trains.
- **reap**: a RUNNING trial whose lease has expired, or whose owner process is gone (same
  host), is set FAIL (``user_attrs["stale"]``) and the same config is enqueued again (same key,
  same seed). Any worker reaps, and so does the next ``rnnlab sweep`` run.
- **finish**: COMPLETE or FAIL, only if the trial is still RUNNING under this owner's lease (a
  result that arrives after its trial was reaped is dropped; the requeued copy gives the same
  numbers).

Every state change runs under ``storage.study_lock``; the backend's own compare-and-set
(row lock on a server, log ownership in the journal) is a second guard. Thus a study ends with
each planned key COMPLETE once, nothing RUNNING, whatever was killed when.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from rnnlab.sweep.plan import PlannedTrial
from rnnlab.sweep.storage import StorageSpec, study_lock

LEASE_ATTR = "rnnlab_lease"


def _proc_start(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_id() -> str:
    """``host:pid:start`` of this process (start time guards against pid reuse)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_proc_start(pid) or 0}"


def owner_alive(owner: str) -> bool | None:
    """False if ``owner`` ran on this host and is gone; None if it cannot be told here."""
    try:
        host, pid_text, start = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    if os.path.exists("/proc/self/stat"):
        now = _proc_start(pid)
        return now is not None and (start == "0" or now == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_done(trial: Any) -> bool:
    """Finished for good: COMPLETE, or FAIL because it diverged with no finite value."""
    from optuna.trial import TrialState

    return trial.state == TrialState.COMPLETE or (
        trial.state == TrialState.FAIL and trial.user_attrs.get("diverged") is True
    )


def is_live(trial: Any) -> bool:
    from optuna.trial import TrialState

    return trial.state in (TrialState.WAITING, TrialState.RUNNING)


def is_error(trial: Any) -> bool:
    """FAIL because training raised (not diverged, not reaped)."""
    from optuna.trial import TrialState

    return (
        trial.state == TrialState.FAIL
        and not trial.user_attrs.get("diverged")
        and not trial.user_attrs.get("stale")
    )


@dataclasses.dataclass
class EnqueueReport:
    added: int = 0
    done: int = 0
    live: int = 0
    given_up: int = 0  # keys that failed with errors max_attempts times


class Queue:
    """The trial queue of one study in one storage."""

    def __init__(
        self,
        spec: StorageSpec,
        storage: Any,
        study_name: str,
        *,
        lease_seconds: float = 120.0,
    ) -> None:
        import optuna

        self.spec, self.storage, self.study_name = spec, storage, study_name
        self.study = optuna.load_study(study_name=study_name, storage=storage)
        self.study_id = self.study._study_id
        self.lease_seconds = float(lease_seconds)
        self.owner = owner_id()

    def close(self) -> None:
        """Close the storage's database connections (a server's pool)."""
        engine = getattr(self.storage, "engine", None)
        if engine is not None:
            engine.dispose()

    def lock(self) -> Any:
        return study_lock(self.spec, self.storage, self.study_name)

    def trials(self, states: Sequence[Any] | None = None) -> list[Any]:
        return self.storage.get_all_trials(
            self.study_id, deepcopy=False, states=tuple(states) if states else None
        )

    # --- enqueue -------------------------------------------------------------------------

    def enqueue(
        self,
        planned: Iterable[PlannedTrial],
        distributions: dict[str, Any],
        *,
        max_attempts: int = 3,
    ) -> EnqueueReport:
        """Add the planned trials not yet live or done (see module docstring)."""
        report = EnqueueReport()
        with self.lock():
            existing = self.trials()
            done = {t.user_attrs.get("key") for t in existing if is_done(t)}
            live = {t.user_attrs.get("key") for t in existing if is_live(t)}
            errors = Counter(t.user_attrs.get("key") for t in existing if is_error(t))
            new = []
            for p in planned:
                if p.key in done:
                    report.done += 1
                elif p.key in live:
                    report.live += 1
                elif errors[p.key] >= max_attempts:
                    report.given_up += 1
                else:
                    new.append(waiting_trial(p, distributions, attempt=errors[p.key] + 1))
            self.study.add_trials(new)
            report.added = len(new)
        return report

    def add_waiting(self, planned: PlannedTrial, distributions: dict[str, Any]) -> Any:
        """Add one new trial as WAITING and return it (call under ``lock()``, after checking
        that its key is new)."""
        trial = waiting_trial(planned, distributions)
        self.study.add_trial(trial)
        return trial

    # --- claim / renew / finish ------------------------------------------------------------

    def claim_next(self) -> Any | None:
        """Take, under one lock, the first WAITING trial in plan order of a program group no
        worker is running (so workers starting together compile different programs), else
        of any group; None if nothing waits."""
        from optuna.trial import TrialState

        with self.lock():
            waiting = sorted(self.trials((TrialState.WAITING,)), key=_order)
            running = {t.user_attrs.get("group") for t in self.trials((TrialState.RUNNING,))}
            idle = [t for t in waiting if t.user_attrs.get("group") not in running]
            return self._take(idle + [t for t in waiting if t not in idle])

    def claim(self, group: str) -> Any | None:
        """Take the first WAITING trial of ``group`` under a fresh lease; None if there is
        none."""
        from optuna.trial import TrialState

        with self.lock():
            waiting = sorted(self.trials((TrialState.WAITING,)), key=_order)
            return self._take([t for t in waiting if t.user_attrs.get("group") == group])

    def _take(self, candidates: Sequence[Any]) -> Any | None:
        """Mark the first claimable of ``candidates`` RUNNING with this owner's lease (call
        under ``lock()``)."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        for t in candidates:
            try:
                if not self.storage.set_trial_state_values(t._trial_id, TrialState.RUNNING):
                    continue
            except UpdateFinishedTrialError:
                continue
            self._write_lease(t._trial_id)
            return t
        return None

    def _write_lease(self, trial_id: int) -> None:
        lease = {"owner": self.owner, "until": time.time() + self.lease_seconds}
        self.storage.set_trial_system_attr(trial_id, LEASE_ATTR, lease)

    def renew(self, trial_ids: Iterable[int]) -> set[int]:
        """Extend this owner's leases; returns the ids no longer ours (reaped, finished)."""
        from optuna.exceptions import UpdateFinishedTrialError

        lost = set()
        for tid in trial_ids:
            try:
                self._write_lease(tid)
            except UpdateFinishedTrialError:
                lost.add(tid)
        return lost

    def finish(
        self,
        trial_id: int,
        state: Any,
        value: float | None = None,
        user_attrs: dict[str, Any] | None = None,
    ) -> bool:
        """Close a trial this owner holds; False (nothing written) if it is no longer ours."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        with self.lock():
            t = self.storage.get_trial(trial_id)
            lease = t.system_attrs.get(LEASE_ATTR) or {}
            if t.state != TrialState.RUNNING or lease.get("owner") != self.owner:
                return False
            try:
                for k, v in (user_attrs or {}).items():
                    self.storage.set_trial_user_attr(trial_id, k, v)
                values = None if value is None else [float(value)]
                self.storage.set_trial_state_values(trial_id, state, values=values)
            except UpdateFinishedTrialError:
                return False
        return True

    def release(self, trial_ids: Iterable[int], reason: str) -> None:
        """Give back trials this owner holds (interrupted): FAIL them as stale and requeue."""
        with self.lock():
            for tid in trial_ids:
                t = self.storage.get_trial(tid)
                if (t.system_attrs.get(LEASE_ATTR) or {}).get("owner") == self.owner:
                    self._fail_and_requeue(t, reason)

    # --- reap --------------------------------------------------------------------------------

    def stale(self, t: Any, now: float | None = None) -> str | None:
        """Why a RUNNING trial is stale, or None if its lease holds."""
        now = time.time() if now is None else now
        lease = t.system_attrs.get(LEASE_ATTR)
        if lease is None:
            # killed between the claim and the lease write: judge by the start time
            start = t.datetime_start.timestamp() if t.datetime_start else 0.0
            if now - start > self.lease_seconds:
                return "claimed without a lease and never renewed"
            return None
        owner = lease.get("owner", "")
        if owner != self.owner and owner_alive(owner) is False:
            return f"its worker {owner} is gone"
        if lease.get("until", 0.0) < now:
            return f"its lease (worker {owner}) expired"
        return None

    def reap(self) -> list[int]:
        """Fail and requeue every stale RUNNING trial; returns their numbers."""
        from optuna.trial import TrialState

        running = self.trials((TrialState.RUNNING,))
        if not any(self.stale(t) for t in running):
            return []
        reaped = []
        with self.lock():
            for t in self.trials((TrialState.RUNNING,)):
                why = self.stale(t)
                if why and self._fail_and_requeue(t, why):
                    reaped.append(t.number)
        return reaped

    def _fail_and_requeue(self, t: Any, why: str) -> bool:
        """(under the lock) FAIL ``t`` as stale; enqueue its config again unless its key is
        live or done elsewhere. False if someone else closed it first."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState, create_trial

        try:
            self.storage.set_trial_user_attr(t._trial_id, "stale", True)
            self.storage.set_trial_user_attr(t._trial_id, "error", f"requeued: {why}")
            self.storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:
            return False
        key = t.user_attrs.get("key")
        others = [
            o for o in self.trials() if o.number != t.number and o.user_attrs.get("key") == key
        ]
        if any(is_done(o) or is_live(o) for o in others):
            return True
        attrs = {k: v for k, v in t.user_attrs.items() if k in TRIAL_ATTRS}
        attrs["retry_of"] = t.user_attrs.get("retry_of", t.number)
        self.study.add_trial(
            create_trial(
                state=TrialState.WAITING,
                params=t.params,
                distributions=t.distributions,
                user_attrs=attrs,
            )
        )
        return True

    # --- summary -----------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts by outcome (done, diverged, running, waiting, failed, requeued) and the best."""
        return summarize(self.trials())


#: The user attrs a trial keeps when it is requeued.
TRIAL_ATTRS = ("key", "seed", "config", "group", "order", "attempt", "sampler")


def waiting_trial(p: PlannedTrial, distributions: dict[str, Any], attempt: int = 1) -> Any:
    """A WAITING ``FrozenTrial`` for ``p`` (params, distributions, user attrs)."""
    from optuna.trial import TrialState, create_trial

    attrs = {
        "key": p.key,
        "seed": p.seed,
        "config": p.config,
        "group": p.group,
        "order": p.order,
        "attempt": attempt,
        "sampler": p.sampler,
    }
    return create_trial(
        state=TrialState.WAITING,
        params=p.params,
        distributions={k: distributions[k] for k in p.params},
        user_attrs=attrs,
    )


def _order(t: Any) -> tuple[int, int]:
    return (int(t.user_attrs.get("order", 0)), t.number)


def summarize(trials: Sequence[Any]) -> dict[str, Any]:
    """Counts of a study's trials by outcome, and its best trial (value, number, params)."""
    from optuna.trial import TrialState

    c = Counter()
    best = None
    for t in trials:
        if t.state == TrialState.COMPLETE:
            c["complete"] += 1
            if t.user_attrs.get("diverged"):
                c["diverged"] += 1
            v = t.value
            if v is not None and math.isfinite(v) and (best is None or v < best.value):
                best = t
        elif t.state == TrialState.RUNNING:
            c["running"] += 1
        elif t.state == TrialState.WAITING:
            c["waiting"] += 1
        elif t.state == TrialState.FAIL:
            if t.user_attrs.get("stale"):
                c["requeued"] += 1
            elif t.user_attrs.get("diverged"):
                c["diverged"] += 1
                c["diverged_failed"] += 1
            else:
                c["failed"] += 1
    out: dict[str, Any] = {
        k: c[k] for k in ("complete", "diverged", "running", "waiting", "failed", "requeued")
    }
    out["done"] = c["complete"] + c["diverged_failed"]
    out["best"] = (
        None
        if best is None
        else {"value": best.value, "number": best.number, "params": dict(best.params)}
    )
    return out
