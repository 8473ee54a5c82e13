"""Padding, unpadding, masks, bucketing and epoch shuffling."""

import inspect

import numpy as np
import pytest

from rnnlab.data import (
    SequenceDataset,
    batch_indices,
    iterate_batches,
    mask,
    pad,
    pad_batch,
    padded_length,
    unpad,
)


def random_sequences(n=23, feature_shape=(3,), seed=0, max_len=17, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(int(t), *feature_shape)).astype(dtype)
        for t in rng.integers(1, max_len + 1, size=n)
    ]


def toy_dataset(kind="frame", n=37, seed=1):
    xs = random_sequences(n, seed=seed)
    if kind == "frame":
        ys = [np.arange(len(x)) for x in xs]
    elif kind == "labels":
        rng = np.random.default_rng(seed)
        ys = [rng.integers(1, 5, size=rng.integers(1, 6)) for _ in xs]
    else:
        ys = [np.int64(i % 3) for i in range(n)]
    return SequenceDataset(xs, ys, kind)


@pytest.mark.parametrize("feature_shape", [(), (3,), (2, 4)])
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("multiple", [1, 8])
def test_unpad_inverts_pad(feature_shape, time_major, multiple):
    seqs = random_sequences(feature_shape=feature_shape)
    x, lengths_B = pad(seqs, multiple=multiple, time_major=time_major)
    T = x.shape[0] if time_major else x.shape[1]
    assert T % multiple == 0 and T - max(map(len, seqs)) < multiple
    assert x.shape[2:] == feature_shape
    back = unpad(x, lengths_B, time_major=time_major)
    assert len(back) == len(seqs)
    for a, b in zip(back, seqs):
        np.testing.assert_array_equal(a, b)


def test_pad_is_zero_past_each_length_and_mask_marks_valid_steps():
    seqs = random_sequences(feature_shape=(3,))
    x_BTD, lengths_B = pad(seqs)
    m_BT = mask(lengths_B, x_BTD.shape[1])
    assert m_BT.sum() == sum(map(len, seqs))
    np.testing.assert_array_equal(m_BT.sum(1), lengths_B)
    assert np.all(x_BTD[~m_BT] == 0)
    np.testing.assert_array_equal(mask(lengths_B, 20, time_major=True), mask(lengths_B, 20).T)


def test_fixed_length_and_its_errors():
    seqs = random_sequences(max_len=10)
    x, _ = pad(seqs, length=12)
    assert x.shape[1] == 12
    with pytest.raises(ValueError, match="shorter than the longest"):
        pad(seqs, length=5)
    assert padded_length(9, multiple=4) == 12
    with pytest.raises(ValueError):
        pad([])
    with pytest.raises(ValueError, match="feature shape"):
        pad([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="lengths must lie"):
        unpad(np.zeros((2, 4)), np.array([1, 5]))


def test_dataset_validates_its_inputs():
    with pytest.raises(ValueError, match="targets"):
        SequenceDataset([np.zeros((2, 1))], [], "example")
    with pytest.raises(ValueError, match="same length"):
        SequenceDataset([np.zeros((2, 1))], [np.zeros(3)], "frame")
    with pytest.raises(ValueError, match="target_kind"):
        SequenceDataset([np.zeros((2, 1))], [np.zeros(2)], "framewise")


@pytest.mark.parametrize("time_major", [False, True])
def test_pad_batch_pads_each_target_kind(time_major):
    frame = toy_dataset("frame")
    b = pad_batch(frame, [0, 5, 9], time_major=time_major, multiple=4)
    assert b.y.shape[:2] == b.x.shape[:2]  # framewise targets share T and the layout
    assert b.y_lengths is None
    y_seqs = unpad(b.y, b.lengths, time_major=time_major)
    for i, y in zip(b.index, y_seqs):
        np.testing.assert_array_equal(y, frame.targets[i])

    labels = toy_dataset("labels")
    b = pad_batch(labels, [1, 2, 3, 4], time_major=time_major)
    assert b.y.shape == (4, max(len(labels.targets[i]) for i in range(1, 5)))  # batch-major
    np.testing.assert_array_equal(b.y_lengths, [len(labels.targets[i]) for i in range(1, 5)])
    for i, y in zip(b.index, unpad(b.y, b.y_lengths)):
        np.testing.assert_array_equal(y, labels.targets[i])

    example = toy_dataset("example")
    b = pad_batch(example, [3, 4, 5], time_major=time_major)
    np.testing.assert_array_equal(b.y, [0, 1, 2])


@pytest.mark.parametrize("bucket", [None, 1, 3, 1000])
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_example_exactly_once_per_epoch(bucket, shuffle):
    lengths = np.random.default_rng(0).integers(1, 50, size=103)
    for epoch in range(3):
        plan = batch_indices(lengths, 8, seed=4, epoch=epoch, bucket=bucket, shuffle=shuffle)
        assert [len(b) for b in plan].count(8) == 12
        np.testing.assert_array_equal(np.sort(np.concatenate(plan)), np.arange(103))


def test_drop_remainder_keeps_only_full_batches():
    lengths = np.arange(1, 104)
    for bucket in (None, 2):
        plan = batch_indices(lengths, 8, seed=1, bucket=bucket, drop_remainder=True)
        assert all(len(b) == 8 for b in plan) and len(plan) == 12
        assert len(np.unique(np.concatenate(plan))) == 96


@pytest.mark.parametrize("bucket", [None, 4])
def test_shuffle_is_deterministic_per_seed_and_epoch(bucket):
    lengths = np.random.default_rng(0).integers(1, 50, size=200)

    def plan(seed, epoch):
        return np.concatenate(batch_indices(lengths, 16, seed=seed, epoch=epoch, bucket=bucket))

    np.testing.assert_array_equal(plan(3, 2), plan(3, 2))
    assert not np.array_equal(plan(3, 2), plan(3, 3))
    assert not np.array_equal(plan(3, 2), plan(4, 2))


def test_bucketing_reduces_padding():
    lengths = np.random.default_rng(0).integers(1, 200, size=512)

    def padded_steps(bucket):
        plan = batch_indices(lengths, 16, seed=0, bucket=bucket)
        return sum(len(b) * lengths[b].max() for b in plan)

    assert padded_steps(8) < 0.75 * padded_steps(None)
    assert padded_steps(10_000) <= padded_steps(8)


@pytest.mark.parametrize("time_major", [False, True])
def test_iterate_batches_yields_the_dataset(time_major):
    ds = toy_dataset("frame", n=50)
    it = iterate_batches(ds, 8, seed=0, epoch=1, bucket=2, time_major=time_major, multiple=4)
    assert inspect.isgenerator(it)  # lazy: one padded batch at a time
    seen = []
    for batch in it:
        B = len(batch.index)
        assert batch.x.shape[1 if time_major else 0] == B
        assert batch.x.shape[0 if time_major else 1] % 4 == 0
        for i, x in zip(batch.index, unpad(batch.x, batch.lengths, time_major=time_major)):
            np.testing.assert_array_equal(x, ds.inputs[i])
        seen.extend(batch.index.tolist())
    assert sorted(seen) == list(range(50))


def test_subset_and_bad_arguments():
    ds = toy_dataset("example")
    sub = ds.subset([2, 0])
    assert len(sub) == 2 and sub.inputs[0] is ds.inputs[2]
    np.testing.assert_array_equal(sub.lengths, ds.lengths[[2, 0]])
    with pytest.raises(ValueError, match="batch_size"):
        batch_indices(ds.lengths, 0)
    with pytest.raises(ValueError, match="bucket"):
        batch_indices(ds.lengths, 4, bucket=0)
