"""King James Bible character-level LM data."""

import numpy as np
import pytest

from rnnlab.data import kjv


@pytest.fixture(scope="module")
def text():
    return kjv.load_text()


def test_text_and_vocabulary(text):
    assert len(text) == 4_139_440
    assert text.startswith("In the beginning God created the heaven")
    vocab = kjv.build_vocab(text)
    assert len(vocab) == 63 and vocab == "".join(sorted(vocab)) and vocab.isascii()


def test_encode_decode_round_trip(text):
    vocab = kjv.build_vocab(text)
    sample = text[:50_000] + text[-50_000:]
    ids = kjv.encode(sample, vocab)
    assert ids.dtype == np.int32 and ids.max() < 63
    assert kjv.decode(ids, vocab) == sample
    assert len(np.unique(kjv.encode(text, vocab))) == 63
    with pytest.raises(ValueError, match="not in the vocabulary"):
        kjv.encode("naïve", vocab)


def test_contiguous_splits_and_windows(text):
    splits = kjv.load_kjv(seq_len=64, max_chars=200_000)
    vocab = splits.train.meta["vocab"]
    parts = [d.meta["ids"] for d in splits]
    assert [len(p) for p in parts] == [180_000, 10_000, 10_000]
    assert kjv.decode(np.concatenate(parts), vocab) == text[:200_000]
    for d, ids in zip(splits, parts):
        assert len(d) == (len(ids) - 1) // 64
        for k in (0, len(d) - 1):
            x, y = d.inputs[k], d.targets[k]
            assert x.shape == y.shape == (64,)
            np.testing.assert_array_equal(x, ids[64 * k : 64 * k + 64])
            np.testing.assert_array_equal(y, ids[64 * k + 1 : 64 * k + 65])  # next character
    overlapping = kjv.load_kjv(seq_len=64, stride=32, max_chars=200_000)
    assert len(overlapping.valid) == (10_000 - 64 - 1) // 32 + 1


def test_full_text_split_sizes():
    splits = kjv.load_kjv()
    sizes = [len(d.meta["ids"]) for d in splits]
    assert sum(sizes) == 4_139_440
    np.testing.assert_allclose(np.array(sizes) / 4_139_440, [0.9, 0.05, 0.05], atol=1e-6)
    assert splits.train.meta["num_classes"] == 63


def test_verses_and_testament_classification():
    from rnnlab.data import kjv as _kjv

    texts, testament, book = _kjv.load_verses()
    assert len(texts) == len(testament) == len(book)
    assert testament[0] == 0 and testament[-1] == 1 and texts[0].startswith("In the beginning")
    s = _kjv.load_testaments(per_class=50, max_len=30, seed=1)
    assert [len(d) for d in s] == [60, 20, 20]
    for d in s:
        y = np.asarray(d.targets)
        assert (y == 0).sum() == (y == 1).sum()  # stratified, balanced
        assert max(d.lengths) <= 30 and d.target_kind == "example"
        assert _kjv.decode(d.inputs[0], d.meta["vocab"]) == d.meta["text"][0][:30]
    train, test = set(s.train.meta["text"]), set(s.test.meta["text"])
    assert not train & test
