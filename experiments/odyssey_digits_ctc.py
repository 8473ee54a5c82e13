"""The Odyssey's handwriting task, with digit strings standing in for IAM Online: random search
over learning rate, hidden size, momentum and input noise for each of the nine LSTM variants.

As the paper's IAM setup, a bidirectional LSTM layer is trained with CTC; here on 3-6
handwritten digits (UCI 8x8) side by side, read column by column. A trial's value is its best
validation label error rate (best-path decoding), its test error taken at that epoch.
Training as in ``rnnlab.sweep.space``: SGD with Nesterov momentum, early stopping; online
updates, 150 epochs and patience 15 in ``full`` are from memory of the paper, not verified.

Run:   rnnlab sweep experiments/odyssey_digits_ctc.py --preset quick --workers 2
Presets:
  smoke  2 variants x 1 trial, 1 epoch on 64 strings: checks the pipeline.
  quick  9 variants x 4 trials, online updates (batch 1) as the paper, at most 8 epochs with
         patience 3 on 1,200 training strings (not the paper's budget).
  full   9 variants x 200 trials (1,800), the paper's protocol on 3,000 training strings.
Runtime measured here: smoke 87 s wall on 2 heavily shared CPU cores (mostly compiling
two programs; validation label error rate 1.07 after one epoch); quick and full not measured yet.
Expect (full): the paper's handwriting findings - NFG and NOAF clearly worse than vanilla,
NIG, NOG and NIAF worse as well, CIFG and NP about equal; the best vanilla label error rate on
this task has not been measured.
"""

from rnnlab.sweep import ODYSSEY_OPTIM, Sweep, odyssey
from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig

PRESETS = ("smoke", "quick", "full")

#: preset -> (variants, trials per variant, epochs, patience, (train, valid, test), batch)
_PRESETS = {
    "smoke": (("V", "CIFG"), 1, 1, None, (64, 32, 32), 16),
    "quick": (None, 4, 8, 3, (1200, 200, 200), 1),
    "full": (None, 200, 150, 15, (3000, 600, 600), 1),
}


def get_config() -> Config:
    return Config(
        data=DataConfig(
            name="digits_ctc", options={}, batch_size=1, pad_multiple=16, eval_batch_size=600
        ),
        model=ModelConfig(
            cell="lstm",
            hidden=100,
            cell_options={"variant": "V"},
            bidirectional=True,
            init="normal",
            init_std=0.1,
        ),
        optim=OptimConfig(
            name="sgd", lr=1e-3, momentum=0.9, nesterov=True, scale_lr_by_momentum=True
        ),
        loop=LoopConfig(
            epochs=150, patience=15, metric="ler", seed=0, progress=False, checkpoint=False
        ),
    )


def get_sweep(preset: str = "quick") -> Sweep:
    variants, per_variant, epochs, patience, sizes, batch = _PRESETS[preset]
    space = odyssey(variants) if variants else odyssey()
    config = get_config().override(
        {
            **ODYSSEY_OPTIM,
            "data.options": {"num_sequences": sizes},
            "data.batch_size": batch,
            "loop.epochs": epochs,
            "loop.patience": patience,
        }
    )
    return Sweep(config, space, trials=per_variant * space.num_cells(), seed=2017, slots=8)
