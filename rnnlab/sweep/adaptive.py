"""Adaptive search: TPE or QMC proposes each trial from the study's trials so far.

``rnnlab sweep EXPERIMENT --sampler tpe`` (or ``qmc``) plans nothing up front: a worker that
needs trials asks the ``Proposer`` to fill the queue, which, under the study lock, picks the
crossed cell furthest below its share of ``trials`` (each LSTM variant still gets an even
share; a worker keeps to the cell of the population it is training while that cell has room),
lets the sampler choose the other params, and enqueues the trial like a planned one: content
key, key-derived seed, the lease queue, ``user_attrs["sampler"]``. So kill -9 and a rerun lose
no finished trial and run no content key twice, and the study ends with exactly ``trials``
done (COMPLETE, or diverged; as in random mode, a trial whose training keeps raising is given
up after its attempts, and the next ``rnnlab sweep`` run gives a failed one another).

Samplers, each searching one cell at a time (the Odyssey searched each variant on its own):

    tpe   Optuna's TPESampler (multivariate, constant liar for trials still training; the
          cell's first 10 trials are random), fitted on the cell's trials so far, seeded by
          (study seed, cell, index in the cell).
    qmc   Optuna's QMCSampler (scrambled Sobol, one sequence per cell seeded by the study seed
          and the cell); the position in each sequence is kept in the study and advanced under
          the study lock, so workers never take the same point.

Params are searched where the random search samples them (``Param.search_distribution``):
log-uniform and log-int in log space, the Odyssey's momentum as log-uniform on 1 - momentum.

Not reproducible: which trials TPE proposes depends on which results had arrived when it
was asked, so the same study seed gives other trials with another number of workers or
slots, or after a restart (QMC's points depend only on the order of proposals, but a kill
between taking a point and enqueueing it skips that point). Random mode (``plan``) is
reproducible; each trial's numbers are a pure function of its config and seed in both modes.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rnnlab.sweep.lease import Queue
from rnnlab.sweep.plan import PlannedTrial, canonical_json, cell_counts, cell_seed, planned_trial
from rnnlab.sweep.space import Space
from rnnlab.sweep.storage import ATTR

SAMPLERS = ("random", "tpe", "qmc")

#: Proposals tried before a cell is declared too small for its share of distinct trials.
MAX_PROPOSALS = 10


def check_sampler(name: str) -> str:
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; use --sampler random, tpe or qmc.")
    return name


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0]) & 0x7FFFFFFF


class Proposer:
    """Fills a study's queue with trials its sampler proposes (see module docstring)."""

    def __init__(self, sampler: str, config: Mapping[str, Any], space: Space, seed: int) -> None:
        if check_sampler(sampler) == "random":
            raise ValueError("a random study is planned up front; it has no proposer.")
        self.sampler, self.config, self.space, self.seed = sampler, dict(config), space, seed
        self.cells = {canonical_json(c): c for c in space.cells()}
        self.search = space.search_distributions()
        self.distributions = space.distributions()

    @classmethod
    def for_study(cls, record: Mapping[str, Any]) -> Proposer | None:
        """The proposer of a study from its recorded ``user_attrs["rnnlab"]``; None for a
        random (planned) study."""
        sampler = record.get("sampler", "random")
        if sampler == "random":
            return None
        space = Space.from_dict(record["space"])
        return cls(sampler, record["config"], space, int(record["seed"]))

    def cell_of(self, params: Mapping[str, Any]) -> str:
        return canonical_json({p.name: params.get(p.name) for p in self.space.cross})

    def fill(self, queue: Queue, target: int, prefer: Mapping[str, Any] | None = None) -> int:
        """Propose trials until ``target`` are WAITING in the study or every cell has its
        share; ``prefer``: params of a trial whose cell to fill first. Returns how many."""
        from optuna.trial import TrialState

        with queue.lock():
            trials = queue.trials()
            total = int(queue.storage.get_study_user_attrs(queue.study_id)[ATTR]["trials"])
            quotas = dict(zip(self.cells, cell_counts(total, len(self.cells))))
            keys: set[str] = set()
            counts: Counter[str] = Counter()
            history: dict[str, list[Any]] = {c: [] for c in self.cells}
            for t in trials:
                cell = self.cell_of(t.params)
                history.setdefault(cell, []).append(t)
                key = t.user_attrs.get("key")
                if key not in keys:
                    keys.add(key)
                    counts[cell] += 1
            waiting = sum(1 for t in trials if t.state == TrialState.WAITING)
            cell = None if prefer is None else self.cell_of(prefer)
            added = 0
            while waiting + added < target:
                if cell is None or counts[cell] >= quotas.get(cell, 0):
                    cell = self._neediest(counts, quotas)
                    if cell is None:
                        break
                planned = self._propose(queue, cell, history[cell], counts[cell], len(keys), keys)
                history[cell].append(queue.add_waiting(planned, self.distributions))
                keys.add(planned.key)
                counts[cell] += 1
                added += 1
        return added

    def _neediest(self, counts: Mapping[str, int], quotas: Mapping[str, int]) -> str | None:
        """The cell furthest below its share (the first such cell in order), or None."""
        room = {c: quotas[c] - counts[c] for c in self.cells if quotas[c] > counts[c]}
        return max(room, key=room.get) if room else None

    def _propose(
        self, queue: Queue, cell: str, history: Sequence[Any], index: int, order: int, keys: set
    ) -> PlannedTrial:
        fixed = self.cells[cell]
        for attempt in range(MAX_PROPOSALS):
            if self.sampler == "tpe":
                raw = self._tpe(history, _seed(self.seed, cell_seed(fixed), index, attempt))
            else:
                raw = self._qmc(queue, _seed(self.seed, cell_seed(fixed)))
            params = {p.name: p.from_search(raw[p.name]) for p in self.space.params}
            planned = planned_trial(
                self.config,
                self.space,
                {**params, **fixed},
                fixed,
                index,
                order=order,
                sampler=self.sampler,
            )
            if planned.key not in keys:
                return planned
        raise ValueError(
            f"the space is too small for its share of distinct trials in cell {fixed}: the "
            f"{self.sampler} sampler proposed trials already in the study {MAX_PROPOSALS} times; "
            "lower --trials or widen the space."
        )

    def _tpe(self, history: Sequence[Any], seed: int) -> dict[str, Any]:
        """TPE's proposal from the cell's trials (COMPLETE as results, live ones pending)."""
        import optuna
        from optuna.trial import TrialState, create_trial

        told = []
        for t in history:
            if t.state == TrialState.COMPLETE:
                state, value = TrialState.COMPLETE, t.value
            elif t.state in (TrialState.WAITING, TrialState.RUNNING):
                state, value = TrialState.RUNNING, None
            else:
                continue  # failed or diverged without a value: TPE ignores those
            params = {p.name: p.to_search(t.params[p.name]) for p in self.space.params}
            told.append(
                create_trial(state=state, value=value, params=params, distributions=self.search)
            )
        study = optuna.create_study(
            direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed)
        )
        study.add_trials(told)
        return study.ask(self.search).params

    def _qmc(self, queue: Queue, seed: int) -> dict[str, Any]:
        """The next point of the cell's Sobol sequence (position kept in the study)."""
        import optuna

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)
        return sampler.sample_relative(queue.study, None, self.search)


def proposed(queue: Queue, space: Space) -> list[PlannedTrial]:
    """Every distinct trial a sampler has put in the study (its latest copy), as planned
    trials, so that ``Queue.enqueue`` gives failed ones another attempt like planned ones."""
    latest: dict[str, Any] = {}
    for t in queue.trials():
        if "key" in t.user_attrs:
            latest[t.user_attrs["key"]] = t
    out = []
    for key, t in latest.items():
        a = t.user_attrs
        cell = {p.name: t.params.get(p.name) for p in space.cross}
        out.append(
            PlannedTrial(
                key,
                int(a["seed"]),
                dict(t.params),
                a["config"],
                cell,
                0,
                a["group"],
                int(a.get("order", 0)),
                a.get("sampler", "random"),
            )
        )
    return out
