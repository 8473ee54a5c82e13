"""JSB chorales rebuilt from music21: index, grouped split, piano rolls, cache."""

import json
import logging
import random

import numpy as np
import pytest

from rnnlab.data import _common, jsb

# sha256 of build_arrays(limit=1): 3 chorales, strict, quarter, music21 10.5.1.
LIMIT1_SHA256 = "fba1cda4eefe4e02a45268b1e9ccfa6765978e93f0400b89c216c06f4a8b8de9"


@pytest.fixture(scope="module")
def index():
    return jsb.chorale_index()


def test_index_counts_and_strict_set(index):
    assert len(index) == 409
    assert "bwv846" not in index  # a prelude, not a chorale
    assert index["bwv277"].suffix == ".mxl"  # preferred over the .krn copy
    strict = jsb.chorale_names("strict")
    assert len(strict) == 398
    assert set(jsb.chorale_names("all")) - set(strict) == jsb.DUPLICATES | jsb.INTERLUDES
    with pytest.raises(ValueError, match="subset"):
        jsb.chorale_names("loose")


def test_work_group():
    assert jsb.work_group("bwv248.23-s") == "bwv248"
    assert jsb.work_group("bwv248.17") == "bwv248"
    assert jsb.work_group("bwv277") == "bwv277"
    with pytest.raises(ValueError):
        jsb.work_group("chorale1")


@pytest.mark.parametrize("subset", ["strict", "all"])
def test_split_is_grouped_deterministic_and_complete(subset):
    names = jsb.chorale_names(subset)
    train, valid, test = jsb.split_names(names)
    if subset == "strict":
        assert (len(train), len(valid), len(test)) == (240, 80, 78)
    assert sorted(train + valid + test) == sorted(names)
    groups = [{jsb.work_group(n) for n in s} for s in (train, valid, test)]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    shuffled = list(names)
    random.Random(0).shuffle(shuffled)
    assert jsb.split_names(shuffled) == (train, valid, test)  # independent of listing order
    assert {"bwv248.17", "bwv248.23-s"} <= set(train) | set(valid) | set(test)


def test_piano_rolls_are_four_voice_binary_88_key(index):
    for name in ["bwv66.6", "bwv1.6", "bwv227.3"]:  # 4 parts; with a horn; two sopranos
        roll = jsb.piano_roll(index[name])
        assert roll.dtype == bool and roll.shape[1] == 88 and len(roll) >= 24
        assert roll.sum(1).max() <= 4
        assert (roll.sum(1) >= 3).mean() > 0.9
        keys = np.flatnonzero(roll.any(0)) + 21
        assert 36 <= keys.min() and keys.max() <= 81


def test_eighth_resolution_refines_the_quarter_grid(index):
    q = jsb.piano_roll(index["bwv66.6"], steps_per_quarter=1)
    e = jsb.piano_roll(index["bwv66.6"], steps_per_quarter=2)
    assert len(e) in (2 * len(q), 2 * len(q) - 1)
    np.testing.assert_array_equal(e[::2], q)
    assert not np.array_equal(e[1::2], q[: len(e[1::2])])  # passing notes appear


def test_load_limit_shapes_shift_and_content_hash(cache):
    train, valid, test = jsb.load_jsb(limit=1)
    assert [len(d) for d in (train, valid, test)] == [1, 1, 1]
    assert train.meta["names"] == ["bwv1.6"]
    for d in (train, valid, test):
        x, y = d.inputs[0], d.targets[0]
        assert x.shape == y.shape and x.shape[1] == 88 and x.dtype == np.float32
        assert d.target_kind == "frame"
        assert set(np.unique(y)) <= {0.0, 1.0}
        np.testing.assert_array_equal(x[0], 0)  # zero first frame
        np.testing.assert_array_equal(x[1:], y[:-1])  # x_t = y_{t-1}
    arrays = jsb.cached_arrays(limit=1)
    assert _common.arrays_sha256(arrays) == LIMIT1_SHA256


def test_cache_round_trip_and_recovery(cache, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="rnnlab.data")
    first = jsb.cached_arrays(limit=1)
    (path,) = cache.glob("jsb_*.npz")
    assert "music21-10.5.1" in path.name and "limit1" in path.name
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert sidecar["sha256"] == _common.arrays_sha256(first)

    builds = []
    real_build = jsb.build_arrays
    monkeypatch.setattr(jsb, "build_arrays", lambda *a: builds.append(a) or real_build(*a))

    def assert_same(again):
        assert again.keys() == first.keys()
        for k in first:
            np.testing.assert_array_equal(again[k], first[k])

    assert_same(jsb.cached_arrays(limit=1))
    assert builds == []  # read from the cache

    path.write_bytes(b"not an npz file")
    assert_same(jsb.cached_arrays(limit=1))
    assert len(builds) == 1 and "unreadable" in caplog.text

    side = path.with_name(path.name + ".json")
    side.write_text(json.dumps(dict(json.loads(side.read_text()), sha256="0" * 64)))
    assert_same(jsb.cached_arrays(limit=1))
    assert len(builds) == 2 and "hash" in caplog.text

    side.write_text(json.dumps(dict(json.loads(side.read_text()), music21="9.1.0")))
    assert_same(jsb.cached_arrays(limit=1))
    assert len(builds) == 3 and "stale" in caplog.text

    side.write_text("{garbage")
    assert_same(jsb.cached_arrays(limit=1))
    assert len(builds) == 4


def test_bad_options(cache):
    with pytest.raises(ValueError, match="resolution"):
        jsb.load_jsb(resolution="sixteenth")
    with pytest.raises(ValueError, match="limit"):
        jsb.load_jsb(limit=0)
    assert not cache.exists() or not any(cache.iterdir())


@pytest.mark.slow
def test_full_strict_build_matches_the_measured_facts(cache):
    train, valid, test = jsb.load_jsb()
    assert [len(d) for d in (train, valid, test)] == [240, 80, 78]
    assert [int(d.lengths.sum()) for d in (train, valid, test)] == [12909, 4617, 4388]
    lengths = np.concatenate([d.lengths for d in (train, valid, test)])
    assert (lengths.min(), lengths.max()) == (24, 193)
    rolls = np.concatenate([y for d in (train, valid, test) for y in d.targets])
    assert int((rolls.sum(1) == 0).sum()) == 188
    keys = np.flatnonzero(rolls.any(0)) + 21
    assert (keys.min(), keys.max()) == (36, 81)
