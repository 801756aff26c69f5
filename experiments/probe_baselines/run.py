"""The obvious fixes for the study's baselines, tried: each probe is one study run (the study's data, width,
batch, warm-up and FLOP budget, seed 0) with one thing changed, scored on the study's held-out puzzles.

The probes of docs/results/compare.md (results/compare-sudoku/probes.json; the runs
go to results/compare-sudoku/runs/probes/, which is not kept):

    .venv/bin/python experiments/probe_baselines/run.py       # every probe, at the study's smallest budget (3e12)

(`--task maze` writes results/compare-maze/probes.json; docs/results/compare.md, "The maze study", says it has not been run.)

A baseline that solves nothing must first be shown to learn its own objective (cell accuracy, loss) and to
fail for its recipe, not for a setting: this compares each probe's cell accuracy and solve rate with the
study's own run of that variant at the same budget. Rows go to OUT/probes.json (rewritten after every
probe; a finished probe is read back, never retrained); the runs to OUT/runs/probes/.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.compare import Study, budget_name, config, match_widths, trained_and_scored  # noqa: E402
from csp_diffusion.runtime import pick_device  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.files import write_text  # noqa: E402

# name: (variant, training-setting overrides, model-config overrides); the study's own: lr 1e-3, batch 64
PROBES = {
    "trm-lr3e-3": ("trm", {"lr": 3e-3}, {}),
    "trm-n2-T2": ("trm", {}, {"n": 2, "recursions": 2}),  # a cheaper recursion: 3.5x the optimizer steps
    "trm-batch16": ("trm", {"batch_size": 16}, {}),  # 4x the optimizer steps on the same FLOPs
    "hrm-lr3e-3": ("hrm", {"lr": 3e-3}, {}),
    "ar-solver-lr3e-3": ("ar-solver", {"lr": 3e-3}, {}),
    "ar-lr3e-3": ("ar", {"lr": 3e-3}, {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sudoku")
    parser.add_argument("--out", type=Path, help="the study folder (default results/compare-TASK)")
    parser.add_argument("--flops", type=float, help="the budget (default the study's smallest)")
    parser.add_argument("--only", help="comma-separated probe names (default: all)")
    args = parser.parse_args()
    import numpy as np

    args.out = args.out or ROOT / "results" / f"compare-{args.task}"
    try:
        settings = json.loads((args.out / "results.json").read_text())["study"]  # the study's own settings
    except (OSError, ValueError, KeyError) as e:
        raise SystemExit(f"error: {args.out / 'results.json'} is not a study's results ({e})") from None
    if settings["task"] != args.task:
        raise SystemExit(f"error: {args.out} is a {settings['task']} study, not {args.task}")
    study = Study(**{k: tuple(v) if k in ("budgets", "variants") else v for k, v in settings.items()})
    args.flops = args.flops or min(study.budgets)
    saved = np.load(args.out / "eval-puzzles.npz")  # the study's held-out set, so its rows are the reference
    held = (saved["puzzles"], saved["solutions"])
    study.eval_puzzles = len(held[0])
    widths = match_widths(study, get_task(study.task))
    device = pick_device(study.device)
    path = args.out / "probes.json"
    rows = json.loads(path.read_text()) if path.is_file() else []
    names = args.only.split(",") if args.only else list(PROBES)
    for name in names:
        variant, settings, extra = PROBES[name]
        cfg = config(study, variant, 0, args.flops, widths[variant][0], device)
        cfg = replace(cfg, **settings, model_config={**cfg.model_config, **extra})
        folder = args.out / "runs" / "probes" / budget_name(args.flops) / name
        print(f"{name}: training at {args.flops:.3g} FLOPs", file=sys.stderr, flush=True)
        row = trained_and_scored(study, cfg, folder, variant, held)
        row = {"probe": name, "changed": {**settings, **extra}, **{k: v for k, v in row.items() if k != "solved"}}
        rows = [r for r in rows if (r["probe"], r["budget_flops"]) != (name, args.flops)] + [row]
        write_text(path, json.dumps(rows, indent=1))
        print(f"{name}: {100 * row['solve_rate']:.1f}% solved, cell accuracy {100 * row['cell_accuracy']:.1f}%, "
              f"loss {row['loss_first_last']}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
