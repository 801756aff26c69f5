"""Each study variant's training FLOP/s on this machine, and what a study of given budgets would cost.

How docs/results/compare.md, "The maze study", picked its budgets. It prints and writes no results/ file:

    .venv/bin/python experiments/study_flops/run.py --task maze --budgets 1e13,2e13

Trains every variant (the study's settings, seed 0) to --probe FLOPs in a scratch folder, alone on the
machine (run nothing beside it), and prints its GFLOP/s and optimizer steps per 1e12 FLOPs, then the
training hours of a study of --budgets with --seeds seeds (scoring not included).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.runtime import pick_device  # noqa: E402
from csp_diffusion.study import VARIANTS, Study, config, match_widths  # noqa: E402
from csp_diffusion.train import train  # noqa: E402
from puzzles.domains import get_task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sudoku")
    parser.add_argument("--probe", type=float, default=3e11, help="training FLOPs per variant")
    parser.add_argument("--budgets", default="3e12,1e13")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    study = Study(task=args.task)
    task = get_task(study.task)
    widths = match_widths(study, task)
    device = pick_device(None)
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in VARIANTS:
            folder = Path(tmp) / name
            train(config(study, task, name, 0, args.probe, widths[name][0], device), folder)
            end = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()][-1]
            seconds = 60 * end["minutes"]
            rates[name] = args.probe / seconds
            print(f"{name:17s} {rates[name] / 1e9:6.1f} GFLOP/s  {end['step'] / args.probe * 1e12:7.1f} steps per 1e12",
                  flush=True)
    budgets = [float(b) for b in args.budgets.split(",")]
    hours = sum(args.seeds * b / rates[n] for b in budgets for n in VARIANTS) / 3600
    print(f"study of {args.budgets} x {args.seeds} seeds: {hours:.1f} hours of training on this machine")


if __name__ == "__main__":
    main()
