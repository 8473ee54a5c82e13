"""Digits as row sequences and the CTC transcription task."""

import numpy as np
import pytest

from rnnlab.data import digits, pad_batch


@pytest.fixture(scope="module")
def raw():
    return digits.images_and_labels()


def test_rows_split_is_stratified_disjoint_and_seeded(raw):
    images, labels = raw
    splits = digits.load_digits_rows()
    assert [len(d) for d in splits] == [1078, 360, 359]
    index = [d.meta["image_index"] for d in splits]
    assert sorted(np.concatenate(index).tolist()) == list(range(1797))
    for d, idx in zip(splits, index):
        assert d.input_dim == 8 and all(x.shape == (8, 8) for x in d.inputs)
        np.testing.assert_array_equal(np.stack(d.inputs), images[idx])
        np.testing.assert_array_equal(np.array(d.targets), labels[idx])
        share = np.bincount(labels[idx], minlength=10) / len(idx)
        np.testing.assert_allclose(share, np.bincount(labels) / 1797, atol=0.01)
    assert 0 <= images.min() and images.max() == 1
    again = digits.load_digits_rows(seed=0)
    np.testing.assert_array_equal(again.test.meta["image_index"], index[2])
    assert not np.array_equal(digits.load_digits_rows(seed=1).test.meta["image_index"], index[2])


@pytest.mark.slow  # importing sklearn.datasets takes ~2.5 s
def test_reads_what_sklearn_load_digits_returns(raw):
    from sklearn.datasets import load_digits

    dg = load_digits()
    np.testing.assert_array_equal(raw[0], (dg.images / 16.0).astype(np.float32))
    np.testing.assert_array_equal(raw[1], dg.target)


@pytest.mark.parametrize("scan", ["columns", "rows"])
def test_ctc_labels_transcribe_the_concatenated_digits(raw, scan):
    images, labels = raw
    splits = digits.load_digits_ctc(num_sequences=(200, 50, 50), scan=scan)
    image_sets = [set(idx.tolist()) for idx in digits.split_indices(labels, 0)]
    for d, allowed in zip(splits, image_sets):
        assert d.target_kind == "labels" and d.meta["blank"] == digits.BLANK == 0
        for x, y, pick in zip(d.inputs, d.targets, d.meta["digit_index"]):
            assert 3 <= len(y) <= 6 and x.shape == (8 * len(y), 8)
            assert set(pick.tolist()) <= allowed  # no image shared between splits
            np.testing.assert_array_equal(y, labels[pick] + 1)
            assert y.min() >= 1 and y.max() <= 10
            for k, i in enumerate(pick):
                segment = x[8 * k : 8 * k + 8]
                np.testing.assert_array_equal(
                    segment.T if scan == "columns" else segment, images[i]
                )
    lens = np.concatenate([d.target_lengths for d in splits])
    assert set(lens.tolist()) == {3, 4, 5, 6}


def test_ctc_batches_carry_label_lengths():
    train = digits.load_digits_ctc(num_sequences=(20, 1, 1)).train
    b = pad_batch(train, range(20))
    np.testing.assert_array_equal(b.y_lengths, train.target_lengths)
    np.testing.assert_array_equal(b.lengths, 8 * b.y_lengths)
    assert b.x.shape == (20, 8 * b.y_lengths.max(), 8)
    assert b.y.shape == (20, b.y_lengths.max())
    with pytest.raises(ValueError, match="scan"):
        digits.concat_digits(np.zeros((3, 8, 8)), "diagonal")
