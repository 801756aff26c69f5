#!/usr/bin/env bash
# Training on a lent GPU machine (see README, "The shipped Sudoku model"): several small runs share
# one GPU (the models are too small to fill it), each bounded so the whole call ends in time, each
# run's console log written to $OUT/NAME.log. Usage: experiments/device_train/run.sh NAME "CSP ARGS" [NAME "ARGS" ...]
# Runs resume when their folder already holds a state.pt (pass --resume in ARGS).
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
