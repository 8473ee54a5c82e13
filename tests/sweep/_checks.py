"""What every finished study must satisfy, and the numbers the fake executor must give."""

from __future__ import annotations

import math
from collections import Counter

from optuna.trial import TrialState

from rnnlab.sweep.lease import is_done
from rnnlab.sweep.testing import curve


def expected_value(config: dict, seed: int) -> float | None:
    values, _ = curve(config, seed)
    finite = [v for v in values if math.isfinite(v)]
    return min(finite) if finite else None


def check_finished(trials, planned) -> None:
    """Exactly the planned keys done once, nothing WAITING or RUNNING, the right numbers."""
    states = Counter(t.state for t in trials)
    assert states[TrialState.RUNNING] == 0, states
    assert states[TrialState.WAITING] == 0, states
    done = [t for t in trials if is_done(t)]
    keys = Counter(t.user_attrs["key"] for t in done)
    assert sorted(keys) == sorted(p.key for p in planned)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    by_key = {p.key: p for p in planned}
    for t in done:
        p = by_key[t.user_attrs["key"]]
        assert t.user_attrs["seed"] == p.seed
        assert t.params == p.params
        want = expected_value(p.config, p.seed)
        if want is None:
            assert t.state == TrialState.FAIL and t.user_attrs["diverged"] is True
        else:
            assert t.state == TrialState.COMPLETE and t.value == want


def per_trial_numbers(trials) -> dict:
    """{key: (value, intermediate values, test)} of the done trials."""
    return {
        t.user_attrs["key"]: (t.value, dict(t.intermediate_values), t.user_attrs.get("test"))
        for t in trials
        if is_done(t)
    }


def check_proposed(trials, total: int, sampler: str, cells: dict) -> None:
    """An adaptive study at its end: exactly ``total`` distinct content keys done, spread over
    the cells as ``cells`` ({variant: count}), each made by ``sampler`` with a key-derived seed,
    with the numbers the fake executor gives; nothing WAITING or RUNNING."""
    from rnnlab.sweep.plan import content_key, seed_from_key

    states = Counter(t.state for t in trials)
    assert states[TrialState.RUNNING] == 0 and states[TrialState.WAITING] == 0, states
    done = [t for t in trials if is_done(t)]
    keys = Counter(t.user_attrs["key"] for t in done)
    assert len(done) == total and len(keys) == total, (len(done), len(keys))
    assert Counter(t.params["variant"] for t in done) == Counter(cells)
    for t in trials:
        assert t.user_attrs["sampler"] == sampler
    for t in done:
        cfg = t.user_attrs["config"]
        assert t.user_attrs["key"] == content_key(cfg)
        assert t.user_attrs["seed"] == seed_from_key(t.user_attrs["key"])
        want = expected_value(cfg, t.user_attrs["seed"])
        if want is None:
            assert t.state == TrialState.FAIL and t.user_attrs["diverged"] is True
        else:
            assert t.state == TrialState.COMPLETE and t.value == want
