#!/usr/bin/env bash
# Every CPU table of benchmarks/README.md in one run (about 45 minutes on 2 cores), so that
# all rows come from one day: each script's output goes to OUT/<name>.md, and OUT/log.txt
# records when each ran, the load average and this process's 1024^3 matmul rate.
#
#     bash benchmarks/all.sh [OUT]        # default OUT: benchmarks/results-<date>
#
# Needs the bench extra (torch 2.13 CPU): pip install -e ".[bench]". Run it on an otherwise
# idle machine; nothing else should run until it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results-$(date -u +%Y-%m-%d)}
mkdir -p "$out"
export PYTHONPATH=.
py=${PYTHON:-python}
log="$out/log.txt"

matmul() {
  "$py" -c "import sys; sys.path.insert(0, 'benchmarks'); from bench_population import matmul_gflops; print(round(matmul_gflops()))"
}

run() {
  local name=$1
  shift
  echo "$name: start $(date -u +%FT%TZ), $(uptime | sed 's/.*load/load/'), matmul $(matmul) GFLOP/s" | tee -a "$log"
  "$@" > "$out/$name.md"
  echo "$name: end $(date -u +%FT%TZ), $(uptime | sed 's/.*load/load/')" | tee -a "$log"
}

run lstm "$py" benchmarks/bench_lstm.py
run lstm_torch_1thread env RNNLAB_BENCH_TORCH_THREADS=1 "$py" benchmarks/bench_lstm.py --only torch
run probe_step "$py" benchmarks/probe_step.py "{}" "{'unroll': 2}" "{'hoist': True}" \
  "{'donate': True}" "{'split': 2}" "{'flags': 'xnn'}" "{'flags': 'eigen'}" \
  "{'flags': 'fast_math'}" "{'flags': 'concurrency'}" "{'custom_vjp': False}" --rounds 8
run probe_data_parallel "$py" benchmarks/probe_data_parallel.py
run breakdown "$py" benchmarks/breakdown.py
run population "$py" benchmarks/bench_population.py --quick
run population_2dev "$py" benchmarks/bench_population.py --quick --devices 2 --B 16 1 --P 8 32 --kinds map chunked torch
run population_2dev_p128 "$py" benchmarks/bench_population.py --quick --devices 2 --B 16 1 --P 128 --kinds map chunked torch
run population_torch_1thread env RNNLAB_BENCH_TORCH_THREADS=1 "$py" benchmarks/bench_population.py --quick --B 16 1 --P 8 32 --kinds map chunked torch
run scan "$py" benchmarks/bench_scan.py
run trials "$py" benchmarks/bench_trials.py --trials 12 --limit 12 --epochs 3 --slots 6 --rows cab
run epoch "$py" benchmarks/bench_epoch.py --hidden 48,64,96,184 --cases chunked:1,chunked:4,chunked:8
run epoch_fgr "$py" benchmarks/bench_epoch.py --variant FGR --hidden 64,128 --cases chunked:1
run sweep "$py" benchmarks/bench_sweep.py experiments/odyssey_jsb.py --preset quick --rows a2w
echo "all done: $out" | tee -a "$log"
