"""The Odyssey's speech task, with Japanese Vowels standing in for TIMIT: random search over
learning rate, hidden size, momentum and input noise for each of the nine LSTM variants.

As the paper's TIMIT setup, a bidirectional LSTM layer labels every frame (here the speaker,
9 classes, ``framewise=True``; the paper labelled phones); a trial's value is its best
validation frame error rate, its test error taken at that epoch. Training as in
``rnnlab.sweep.space``: SGD with Nesterov momentum, early stopping; online updates, 150 epochs
and patience 15 in ``full`` are from memory of the paper, not verified. Set
``--set data.options.framewise=False`` for one label per utterance.

Run:   rnnlab sweep experiments/odyssey_vowels.py --preset quick --workers 2
Presets:
  smoke  2 variants x 1 trial, 1 epoch: checks the pipeline.
  quick  9 variants x 8 trials, online updates (batch 1) as the paper, at most 8 epochs with
         patience 3 (not the paper's budget).
  full   9 variants x 200 trials (1,800), the paper's protocol.
Runtime measured here: smoke 124 s wall on 2 heavily shared CPU cores (mostly compiling
two programs; validation frame error 0.84 after one epoch); quick 50 min wall with 2 workers
at load 4-9, before the variants shared programs: best test frame error 5-30% per variant
(paper_replications/greff2017); full not run.
Expect (full): the paper's speech findings - NFG and NOAF clearly worse than vanilla, NIG,
NOG and NIAF worse too on speech, CIFG and NP about equal; which frame error the best
vanilla reaches on this small corpus has not been measured.
"""

from rnnlab.sweep import ODYSSEY_OPTIM, Sweep, odyssey
from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig

PRESETS = ("smoke", "quick", "full")

#: preset -> (variants, trials per variant, epochs, patience, batch size)
_PRESETS = {
    "smoke": (("V", "CIFG"), 1, 1, None, 16),
    "quick": (None, 8, 8, 3, 1),
    "full": (None, 200, 150, 15, 1),
}


def get_config() -> Config:
    return Config(
        data=DataConfig(
            name="japanese_vowels",
            options={"framewise": True},
            batch_size=1,
            pad_multiple=32,
            eval_batch_size=512,
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
            epochs=150, patience=15, metric="error", seed=0, progress=False, checkpoint=False
        ),
    )


def get_sweep(preset: str = "quick") -> Sweep:
    variants, per_variant, epochs, patience, batch = _PRESETS[preset]
    space = odyssey(variants) if variants else odyssey()
    config = get_config().override(
        {
            **ODYSSEY_OPTIM,
            "data.batch_size": batch,
            "loop.epochs": epochs,
            "loop.patience": patience,
        }
    )
    return Sweep(config, space, trials=per_variant * space.num_cells(), seed=2017, slots=8)
