"""Digit-string transcription with CTC: 3-6 handwritten digits (UCI 8x8) side by side,
read column by column (T = 8 per digit, D = 8), labels digit + 1, blank 0.

Selected on the validation label error rate (best-path decoding, edit distance / number
of reference labels), reported on test.

Run:   rnnlab train experiments/digits_ctc.py --workdir runs/digits_ctc
Expect: early stopping after 14 epochs (best epoch 8): validation label error rate 1.5%,
test 1.9% (CTC loss 0.05 nats per label), in 63 s wall on 2 busy CPU cores.
"""

from rnnlab.train import TrainConfig


def get_config() -> TrainConfig:
    return TrainConfig(
        dataset="digits_ctc",
        cell="lstm",
        hidden=64,
        bidirectional=True,
        optimizer="adam",
        lr=1e-2,
        clip_norm=1.0,
        batch_size=32,
        pad_multiple=16,
        eval_batch_size=600,
        epochs=15,
        patience=5,
        metric="ler",
        seed=0,
    )
