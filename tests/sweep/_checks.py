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
