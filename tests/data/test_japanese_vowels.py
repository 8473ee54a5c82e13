"""JapaneseVowels read from sktime's .ts files."""

import importlib.util

import numpy as np
import pytest

from rnnlab.data import japanese_vowels as jv


@pytest.fixture(scope="module")
def splits():
    return jv.load_japanese_vowels()


def test_sizes_shapes_and_classes(splits):
    assert [len(d) for d in splits] == [216, 54, 370]
    lengths = np.concatenate([d.lengths for d in splits])
    assert (lengths.min(), lengths.max()) == (7, 29)
    for d in splits:
        assert d.input_dim == 12 and d.target_kind == "example"
        assert all(x.dtype == np.float32 and x.shape[1] == 12 for x in d.inputs)
        assert set(np.array(d.targets).tolist()) == set(range(9))
    np.testing.assert_array_equal(np.bincount(splits.valid.targets), [6] * 9)  # stratified


def test_valid_is_carved_from_train_deterministically(splits):
    x_tr, _, x_te, _ = jv.raw_splits()
    assert (len(x_tr), len(x_te)) == (270, 370)
    raw = jv.load_japanese_vowels(standardize=False)
    train_ids, valid_ids = raw.train.meta["source_index"], raw.valid.meta["source_index"]
    assert not set(train_ids) & set(valid_ids)
    assert sorted([*train_ids, *valid_ids]) == list(range(270))
    for d, ids in ((raw.train, train_ids), (raw.valid, valid_ids)):
        for x, i in zip(d.inputs, ids):
            np.testing.assert_array_equal(x, x_tr[i].astype(np.float32))
    again = jv.load_japanese_vowels(standardize=False)
    np.testing.assert_array_equal(again.valid.meta["source_index"], valid_ids)
    other = jv.load_japanese_vowels(standardize=False, seed=1)
    assert set(other.valid.meta["source_index"]) != set(valid_ids)


def test_standardised_with_train_statistics_only(splits):
    frames = np.concatenate(splits.train.inputs)
    np.testing.assert_allclose(frames.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(frames.std(0), 1, atol=1e-4)
    assert np.abs(np.concatenate(splits.test.inputs).mean(0)).max() > 1e-3  # not refitted


def test_framewise_labels_every_frame(splits):
    fw = jv.load_japanese_vowels(framewise=True)
    assert fw.train.target_kind == "frame"
    for seq, y in zip(fw.test.targets, splits.test.targets):
        assert seq.shape == (len(seq),) and np.all(seq == y)
    np.testing.assert_array_equal(fw.test.lengths, splits.test.lengths)


@pytest.mark.slow  # importing sktime's loader and pandas takes ~5 s
def test_matches_sktime_loader():
    pytest.importorskip("sktime")
    from sktime.datasets import load_japanese_vowels

    X, y = load_japanese_vowels(split="train", return_X_y=True, return_type="df-list")
    x_tr, y_tr, _, _ = jv.raw_splits()
    np.testing.assert_array_equal(y.astype(int) - 1, y_tr)
    for a, b in zip(X, x_tr):
        np.testing.assert_allclose(a.to_numpy(), b)


def test_missing_sktime_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sktime" else real(name, *a)
    )
    with pytest.raises(ImportError, match=r'pip install -e "\.\[data\]"'):
        jv.load_japanese_vowels()
