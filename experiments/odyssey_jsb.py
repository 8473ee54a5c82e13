"""The Odyssey on JSB Chorales (Greff et al. 2017, music task): random search over learning
rate, hidden size, momentum and input noise for each of the nine LSTM variants.

One unidirectional LSTM layer reads the 88-key piano roll and predicts the next frame as 88
Bernoullis; a trial's value is its best validation NLL per time step, and its test NLL is
taken at that epoch. Training follows the paper as far as it could be checked (see
``rnnlab.sweep.space``): SGD with Nesterov momentum (step scaled by 1 - momentum), early
stopping on validation; online updates (batch 1), at most 150 epochs and patience 15 in
``full`` are from memory of the paper, not verified.

Run:   rnnlab sweep experiments/odyssey_jsb.py --preset quick --workers 2
       rnnlab sweep status experiments/odyssey_jsb.py --preset quick
       rnnlab analyze runs/odyssey_jsb-quick/study.db
Faster: add ``--set data.pad_multiple=0`` (every chorale padded to the longest; the loops
stop at each step's longest chorale, so each bucket compiles one training program instead of
one per padded length, and an epoch runs as one program): quick with 2 workers 363.9 s
instead of 633.9 s (2026-12-03, benchmarks/README.md 3c; 205.2 s on 2026-12-07 with the epoch
in one program). It is another config, so its trials get
other seeds than the presets' (whose pad_multiple=32 keeps the recorded results of
paper_replications/greff2017).
Presets:
  smoke  2 variants x 1 trial, 1 epoch on 10 chorales per split: checks the pipeline.
  demo   9 variants x 3 trials, 6 epochs of online updates on 100 chorales per split,
         hidden sizes log-uniform in [33, 48] (one hidden-size bucket: the eight variants
         other than FGR share one compiled program): the README's main job, a real study of
         every variant in minutes (too small to separate the variants).
  quick  9 variants x 8 trials, online updates (batch 1) on all chorales as the paper, but
         at most 8 epochs with patience 3: trials that learn reach 11-13 nats, not the
         paper's ~8.5 (a look at the variants' ordering in minutes, not the paper's budget).
  full   9 variants x 200 trials (1,800), the paper's protocol on all 382 chorales.
Runtime measured here: demo 71 s wall with 2 workers and an empty compilation cache (best
test NLL 12.8 nats; 2026-12-07); smoke 134 s wall on 2 heavily shared CPU cores (mostly compiling
two programs; validation NLL 60.6 after one epoch); quick 6 min wall with 2 workers on 2
quiet cores (359.5 s; 203.5 s as a second study on the warm compilation cache; 2026-12-02,
benchmarks/README.md 3c), 49 min at load 4-9 before the variants shared programs: best test NLL
11.7-13.2 per variant, the learning rate 89% of the variance (paper_replications/greff2017);
full not run.
Expect (full): the paper's findings - no variant significantly better than vanilla; NFG and
NOAF significantly worse; NIG, NOG, NIAF, CIFG, NP not significantly different on music; best
vanilla test NLL about 8.4-8.6 nats per step on the Boulanger-Lewandowski split (our chorales
are rebuilt from music21, so close, not equal).
"""

import dataclasses

from rnnlab.sweep import ODYSSEY_OPTIM, Param, Sweep, odyssey
from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig

PRESETS = ("smoke", "demo", "quick", "full")

#: preset -> (variants, trials per variant, epochs, patience, chorales per split, batch size)
_PRESETS = {
    "smoke": (("V", "CIFG"), 1, 1, None, 10, 8),
    "demo": (None, 3, 6, None, 100, 1),
    "quick": (None, 8, 8, 3, None, 1),
    "full": (None, 200, 150, 15, None, 1),
}


def get_config() -> Config:
    """The base config (sampled fields are overwritten per trial)."""
    return Config(
        data=DataConfig(
            name="jsb", options={}, batch_size=1, bucket=8, pad_multiple=32, eval_batch_size=128
        ),
        model=ModelConfig(
            cell="lstm", hidden=100, cell_options={"variant": "V"}, init="normal", init_std=0.1
        ),
        optim=OptimConfig(
            name="sgd", lr=1e-3, momentum=0.9, nesterov=True, scale_lr_by_momentum=True
        ),
        loop=LoopConfig(
            epochs=150, patience=15, metric="loss", seed=0, progress=False, checkpoint=False
        ),
    )


def get_sweep(preset: str = "quick") -> Sweep:
    variants, per_variant, epochs, patience, limit, batch = _PRESETS[preset]
    space = odyssey(variants) if variants else odyssey()
    if preset == "demo":  # one hidden-size bucket: two programs (FGR and the others)
        hidden = Param("hidden", "log_int", 33, 48, target="model.hidden")
        params = tuple(hidden if p.name == "hidden" else p for p in space.params)
        space = dataclasses.replace(space, params=params)
    config = get_config().override(
        {
            **ODYSSEY_OPTIM,
            "data.options": {} if limit is None else {"limit": limit},
            "data.batch_size": batch,
            "loop.epochs": epochs,
            "loop.patience": patience,
        }
    )
    return Sweep(config, space, trials=per_variant * space.num_cells(), seed=2017, slots=8)
