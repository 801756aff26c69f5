#!/usr/bin/env bash
# Training on a lent GPU machine: several small runs share one GPU (the models are too small to fill it),
# each bounded so the whole call ends in time, each run's console log written to $OUT/NAME.log.
# Usage: experiments/device_train/run.sh NAME "CSP ARGS" [NAME "ARGS" ...]
# Runs resume when their folder already holds a state.pt (pass --resume in ARGS).
#
# The shipped Sudoku model (docs/results/sudoku.md, "The shipped model"), in three calls:
#   experiments/device_train/run.sh sudoku "train loopmdm --task sudoku --minutes 6 --batch-size 512 --lr 1.5e-3 --bf16 \
#       --pool-size 200000 --out runs/gpu-sudoku16 --eval-every 3 --set max_loops=16"
#   experiments/device_train/run.sh sudoku "train loopmdm --task sudoku --resume runs/gpu-sudoku16 --minutes 12.3"
#   experiments/device_train/run.sh sudoku "train loopmdm --task sudoku --resume runs/gpu-sudoku16 --minutes 19.5"
# It writes no results/ file: results/sudoku/sudoku-loopmdm-train-log.jsonl is that run's runs/gpu-sudoku16/log.jsonl kept
# (docs/maze-history.md gives the maze model's calls the same way).
set -u
export PYTHONUNBUFFERED=1 CSP_CACHE=${CSP_CACHE:-runs/cache} OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
OUT=${OUT:-runs/device-out}; mkdir -p "$OUT"
LIMIT=${LIMIT:-540}  # seconds; a run still going then is stopped (SIGTERM checkpoints it first)
nvidia-smi -L 2>/dev/null | head -1
pids=()
while [ $# -ge 2 ]; do
  name=$1; args=$2; shift 2
  ( timeout -s TERM "$LIMIT" python3 -m cli $args >"$OUT/$name.log" 2>&1; echo "exit $?" >>"$OUT/$name.log" ) &
  pids+=($!)
done
wait "${pids[@]}"
