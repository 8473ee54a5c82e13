#!/usr/bin/env bash
# GPU benchmark: single-model LSTM step (rnnlab rows + flax + the cuDNN LSTM of
# jax.experimental.rnn as the reference), population strategies, parallel vs sequential scans.
# Writes one markdown file with every table; a few minutes on one GPU.
#
#   bash benchmarks/gpu.sh [OUT.md]          # run from the repository root
#
# Needs a CUDA jaxlib (jax[cuda12]) in the active Python (or $PYTHON); torch is not needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=${1:-benchmarks/gpu_results.md}
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD
export XLA_PYTHON_CLIENT_PREALLOCATE=false

backend=$($PY -c "import jax; print(jax.default_backend())")
if [ "$backend" != "gpu" ]; then
  echo "gpu.sh: jax backend is '$backend', not gpu; nothing measured." >&2
  exit 1
fi
{
  echo "# GPU benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo '```'
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
  $PY -c "import jax, jaxlib; print('jax', jax.__version__, 'jaxlib', jaxlib.__version__, jax.devices())"
  echo '```'
  echo
  echo "## LSTM training step (B=32, T=100, H=128, D=88): bench_lstm.py --gpu --rounds 2"
  echo
  $PY benchmarks/bench_lstm.py --gpu --rounds 2 --reps 3 --rep-seconds 0.2
  echo
  echo "## Population step (H=64, B=16 and 1): bench_population.py --quick, no torch rows"
  echo
  $PY benchmarks/bench_population.py --quick --P 1 8 32 128 --kinds vmap map chunked loop
  echo
  echo "## Parallel vs sequential scans: bench_scan.py"
  echo
  $PY benchmarks/bench_scan.py --lengths 100 1000 10000
} 2>&1 | tee "$OUT"
echo "wrote $OUT" >&2
