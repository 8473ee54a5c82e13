"""Digit-string transcription with CTC: 3-6 handwritten digits (UCI 8x8) side by side,
read column by column (T = 8 per digit, D = 8), labels digit + 1, blank 0.

Selected on the validation label error rate (best-path decoding, edit distance / number
of reference labels), reported on test.

Run:   rnnlab train experiments/digits_ctc.py --workdir runs/digits_ctc
Expect: early stopping after 14 epochs (best epoch 8): validation label error rate 1.5%,
test 1.9% (CTC loss 0.05 nats per label), in 63 s wall on 2 busy CPU cores.
"""

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig


def get_config() -> Config:
    return Config(
        data=DataConfig(name="digits_ctc", batch_size=32, pad_multiple=16, eval_batch_size=600),
        model=ModelConfig(cell="lstm", hidden=64, bidirectional=True),
        optim=OptimConfig(name="adam", lr=0.01, clip_norm=1.0),
        loop=LoopConfig(epochs=15, patience=5, metric="ler", seed=0),
    )
