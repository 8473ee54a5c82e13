"""Moving digits: bouncing sklearn digits, next-frame targets, seeded and registered."""

import numpy as np
import pytest

import rnnlab.data as rd
from rnnlab.data import digits, moving_digits

SMALL = {"num_sequences": (40, 10, 10)}


@pytest.fixture(scope="module")
def splits():
    return moving_digits.load_moving_digits(**SMALL)


def test_shapes_targets_are_next_frames_and_pixels_in_range(splits):
    for d in splits:
        assert d.target_kind == "frame" and d.meta["frame_shape"] == (16, 16, 1)
        assert d.meta["task"] == moving_digits.TASK and d.meta["metric"] == moving_digits.METRIC
        for x, y in zip(d.inputs, d.targets):
            assert x.dtype == np.float32 and x.shape == y.shape == (len(x), 16, 16, 1)
            assert 10 <= len(x) <= 20
            np.testing.assert_array_equal(x[1:], y[:-1])  # target t = input t + 1
            assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.0
    assert len(set(np.concatenate([d.lengths for d in splits]).tolist())) > 3


def test_frames_show_the_digits_moving_and_bouncing():
    images, _ = digits.images_and_labels()
    d = moving_digits.load_moving_digits(num_sequences=(20, 0, 0), max_digits=1, length=30)
    bounced = False
    for x, y, pick, pos in zip(
        d.train.inputs, d.train.targets, d.train.meta["digit_index"], d.train.meta["positions"]
    ):
        frames = np.concatenate([x[:1], y])[..., 0]  # all T + 1 frames
        (path,) = pos
        assert path.min() >= 0 and path.max() <= 16 - 8
        step = np.diff(path, axis=0)
        assert np.all(np.abs(step) <= 1) and np.all(np.abs(step).sum(1) > 0)
        bounced |= bool(np.any(step[1:] != step[:-1]))
        for t, (r, c) in enumerate(path):
            np.testing.assert_array_equal(frames[t, r : r + 8, c : c + 8], images[pick[0]])
            assert frames[t].sum() == pytest.approx(images[pick[0]].sum(), rel=1e-5)
    assert bounced


def test_seeded_and_splits_use_disjoint_images(splits):
    again = moving_digits.load_moving_digits(**SMALL)
    for a, b in zip(splits, again):
        for x, y in zip(a.inputs, b.inputs):
            np.testing.assert_array_equal(x, y)
    other = moving_digits.load_moving_digits(seed=1, **SMALL)
    assert not np.array_equal(other.train.inputs[0][:10], splits.train.inputs[0][:10])
    used = [set(np.concatenate(d.meta["digit_index"]).tolist()) for d in splits]
    assert not (used[0] & used[1] or used[0] & used[2] or used[1] & used[2])


def test_registered_with_info_and_baselines():
    assert "moving_digits" in rd.available()
    info = rd.info("moving_digits", **SMALL)
    assert info["target_kind"] == "frame" and info["input_shape"] == ("T", 16, 16, 1)
    s = rd.load("moving_digits", canvas=12, length=5, **SMALL)
    assert s.valid.inputs[0].shape == (5, 12, 12, 1)
    b = moving_digits.baselines(s.valid, s.train)
    assert 0 < b["copy_last_mse"] and 0 < b["mean_nll"] < b["copy_last_nll"]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"length": 0}, "length"),
        ({"min_digits": 3, "max_digits": 2}, "min_digits"),
        ({"canvas": 7}, "canvas"),
        ({"max_speed": 0}, "max_speed"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        moving_digits.load_moving_digits(**SMALL, **options)
