"""Search spaces and plans: ranges, Optuna distributions, determinism, content keys, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from rnnlab.sweep import Param, Space, content_key, odyssey, plan, seed_from_key
from rnnlab.sweep.plan import canonical_json, cell_counts
from rnnlab.train import hidden_bucket
from tests.sweep.fake_experiment import base_config


def test_param_kinds_sample_in_range():
    rng = np.random.default_rng(0)
    cases = {
        "log_uniform": Param("a", "log_uniform", 1e-6, 1e-2),
        "uniform": Param("b", "uniform", 0.0, 1.0),
        "int": Param("c", "int", 2, 5),
        "log_int": Param("d", "log_int", 20, 200),
        "one_minus_log_uniform": Param("e", "one_minus_log_uniform", 0.01, 1.0),
    }
    for kind, p in cases.items():
        xs = np.array([p.sample(rng) for _ in range(4000)])
        lo, hi = (0.0, 0.99) if kind == "one_minus_log_uniform" else (p.low, p.high)
        assert xs.min() >= lo and xs.max() <= hi, kind
        if kind in ("int", "log_int"):
            assert all(isinstance(p.sample(rng), int) for _ in range(5))
    # log-uniform: log10 is uniform -> about half the samples below the geometric mean
    lr = np.array([cases["log_uniform"].sample(rng) for _ in range(4000)])
    assert abs(np.mean(lr < 1e-4) - 0.5) < 0.04
    # 1 - logU[0.01, 1]: 1 - m is log-uniform on [0.01, 1]: half of them have m > 0.9
    m = np.array([cases["one_minus_log_uniform"].sample(rng) for _ in range(4000)])
    assert abs(np.mean(m > 0.9) - 0.5) < 0.04
    h = np.array([cases["log_int"].sample(rng) for _ in range(4000)])
    assert abs(np.mean(h < math.sqrt(20 * 200)) - 0.5) < 0.05
    assert Param("f", "categorical", choices=("x", "y")).sample(rng) in ("x", "y")


def test_bad_params_are_named():
    with pytest.raises(ValueError, match="unknown kind"):
        Param("a", "gauss", 0, 1)
    with pytest.raises(ValueError, match="low > 0"):
        Param("lr", "log_uniform", 0.0, 1.0)
    with pytest.raises(ValueError, match="unknown LSTM variants"):
        odyssey(("V", "XYZ"))


def test_odyssey_space_and_distributions():
    space = odyssey()
    d = space.distributions()
    assert d["lr"] == FloatDistribution(1e-6, 1e-2, log=True)
    assert d["hidden"] == IntDistribution(20, 200, log=True)
    assert d["momentum"] == FloatDistribution(0.0, 0.99)
    assert d["noise_std"] == FloatDistribution(0.0, 1.0)
    assert d["variant"] == CategoricalDistribution(
        ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")
    )
    as_dict = space.to_dict()
    assert as_dict["momentum"]["kind"] == "one_minus_log_uniform"
    assert as_dict["variant"]["crossed"] is True
    assert Space.from_dict(as_dict) == space
    assert space.targets()["variant"] == "model.cell_options.variant"


def test_plan_is_deterministic_and_keys_hash_the_config():
    space = odyssey(("V", "NIG", "CIFG"))
    a = plan(base_config(), space, 30, seed=3)
    b = plan(base_config(), space, 30, seed=3)
    assert [t.key for t in a] == [t.key for t in b]
    assert [t.params for t in a] == [t.params for t in b]
    assert len({t.key for t in a}) == 30
    for t in a:
        assert t.key == content_key(t.config)
        assert t.seed == seed_from_key(t.key)
        assert t.config["optim"]["lr"] == t.params["lr"]
        assert t.config["model"]["hidden"] == t.params["hidden"]
        assert t.config["model"]["cell_options"]["variant"] == t.params["variant"]
        # the canonical text round-trips the sampled floats exactly
        assert canonical_json(t.config) == canonical_json(
            __import__("json").loads(canonical_json(t.config))
        )
    c = plan(base_config(), space, 30, seed=4)
    assert not {t.key for t in a} & {t.key for t in c}


def test_plan_spreads_over_variants_and_grows_without_changing_old_trials():
    space = odyssey(("V", "NIG", "CIFG"))
    assert cell_counts(10, 3) == [4, 3, 3]
    small = plan(base_config(), space, 10, seed=1)
    big = plan(base_config(), space, 31, seed=1)
    counts = {v: sum(t.params["variant"] == v for t in small) for v in ("V", "NIG", "CIFG")}
    assert counts == {"V": 4, "NIG": 3, "CIFG": 3}
    assert {t.key for t in small} <= {t.key for t in big}


def test_plan_groups_programs_together():
    space = odyssey(("V", "NIG"))
    trials = plan(base_config(), space, 40, seed=0)
    groups = [t.group for t in trials]
    # each group is one contiguous run
    runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
    assert len(runs) == len(set(groups))
    assert [t.order for t in trials] == list(range(40))
    for t in trials:  # V and NIG of one bucket share a program
        same = [u for u in trials if u.group == t.group]
        assert len({hidden_bucket(u.params["hidden"]) for u in same}) == 1
    assert any(
        len({u.params["variant"] for u in trials if u.group == t.group}) == 2 for t in trials
    )


def test_seed_comes_from_the_key_not_the_position():
    space = odyssey(("V", "NIG"))
    trials = plan(base_config(), space, 8, seed=0)
    shuffled = list(reversed(trials))
    assert {t.key: t.seed for t in trials} == {t.key: t.seed for t in shuffled}
    # a different base config changes keys and seeds
    other = base_config()
    other["loop"]["epochs"] = 5
    assert {t.seed for t in plan(other, space, 8, seed=0)} != {t.seed for t in trials}


def test_a_space_too_small_is_refused():
    space = Space(
        cross=(
            Param("variant", "categorical", choices=("V",), target="model.cell_options.variant"),
        )
    )
    with pytest.raises(ValueError, match="too small"):
        plan(base_config(), space, 2, seed=0)


def test_adaptive_samplers_search_where_random_search_samples():
    lr = Param("lr", "log_uniform", 1e-6, 1e-2)
    m = Param("m", "one_minus_log_uniform", 0.01, 1.0)
    h = Param("h", "log_int", 20, 200)
    assert lr.search_distribution() == FloatDistribution(1e-6, 1e-2, log=True)
    assert h.search_distribution() == IntDistribution(20, 200, log=True)
    # momentum is searched as log-uniform 1 - m, recorded as m in [0, 0.99]
    assert m.search_distribution() == FloatDistribution(0.01, 1.0, log=True)
    assert m.distribution() == FloatDistribution(0.0, 0.99)
    assert m.to_search(0.9) == pytest.approx(0.1) and m.from_search(0.1) == 0.9
    assert m.to_search(0.99) <= 1.0 and m.to_search(0.0) == 1.0
    assert m.from_search(0.0100000000001) == 0.99  # rounded to 12 digits, kept in range
    assert h.from_search(57.6) == 58 and h.from_search(250) == 200
    assert lr.from_search(0.0012345678901234) == 0.00123456789012
    space = odyssey(("V", "NIG"))
    assert set(space.search_distributions()) == {"lr", "hidden", "momentum", "noise_std"}
