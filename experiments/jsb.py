"""JSB Chorales polyphonic music (Greff et al. 2017, "Odyssey" music task): vanilla LSTM (V).

One LSTM layer of H=100 cells (vanilla: all gates, peepholes, tanh activations) reads the
88-key piano roll one quarter note at a time and predicts the next frame as 88 independent
Bernoullis; the metric is the negative log-likelihood per time step (nats, summed over
keys), selected on validation, reported on test.

Run:   rnnlab train experiments/jsb.py --workdir runs/jsb
Expect: early stopping at epoch 57 (best epoch 47): validation NLL 8.96, test NLL 8.98
nats/step, in 85 s wall on 2 busy CPU cores (about 45 s of it compiling one step per padded
length; later epochs take under 1 s). Greff et al. report about 8.4-8.6 for their best
vanilla LSTMs after a 200-trial random search on the Boulanger-Lewandowski split; our
chorales are rebuilt from music21 (rnnlab.data.jsb), so the numbers are close, not equal.
Quick look: --set data.options.limit=20 --epochs 2.
"""

from rnnlab.train import Config, DataConfig, LoopConfig, ModelConfig, OptimConfig


def get_config() -> Config:
    return Config(
        data=DataConfig(
            name="jsb", options={}, batch_size=8, bucket=8, pad_multiple=32, eval_batch_size=128
        ),
        model=ModelConfig(cell="lstm", hidden=100, cell_options={"variant": "V"}),
        optim=OptimConfig(name="adam", lr=0.01, clip_norm=1.0),
        loop=LoopConfig(epochs=100, patience=10, metric="loss", seed=0),
    )
