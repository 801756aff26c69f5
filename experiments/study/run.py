"""The architecture study (the project's issue "An architecture study a reviewer accepts"), run in the
background across sittings: resumable, each snapshot's scores written as they land.

Sudoku: every variant trained once per seed to 1e14 training FLOPs, snapshots at 1e12, 3e12, 1e13, 3e13, 1e14,
each scored on the ladder (generated easy, medium and hard, 500 each, and the first 500 of the forum-hardest
file in ../shared/puzzles/sudoku) with the argmax and sampler decoders (and each kind's own on the
easy tier at the largest budget, for the gates). Mazes: trained on 9x9 grids and smaller to 3e13, scored on
9x9, 15x15 and random-wall 30x30. Learning rates: the sweep's picks (experiments/study/lr_sweep.py, Sudoku;
the maze study takes them too).

    python experiments/study/run.py --task sudoku     # resumable: rerun the same command
    python experiments/study/run.py --task maze
    python experiments/study/run.py --task sudoku --report   # the report again from results.json, nothing run

Several processes may run one study (one a core): each trains and scores the runs no other holds.

Output: results/compare-<task>/ (results.json, report.md, ladder.json, plots); checkpoints under
results/compare-<task>/runs/ (not committed). Compute plan and what was spent: docs/results/compare.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from csp_diffusion.study import Study, rewrite, run  # noqa: E402

FORUM = ROOT.parent / "shared" / "puzzles" / "sudoku" / "tdoku_forum_hardest_1905_dev5000.txt"
CORE = ("loopmdm", "mdm-same-params", "ar-solver", "hrm", "trm")
PLAN = {
    "sudoku": {"budgets": (1e12, 3e12, 1e13, 3e13, 1e14),
               # the retraction pair first (the project's central question), then the crossed cell, then the extras
               "variants": CORE + ("loopmdm-correct", "loopmdm-mask", "hrm-noised", "ar", "mdm-same-compute"),
               "single_seed": ("ar", "mdm-same-compute", "loopmdm-mask", "loopmdm-correct", "hrm-noised")},
    # TRM's mixer variant ran in the sweep only: the plan kept it if the sweep put it ahead of TRM's attention
    # variant, and it did not (its loss at chance at every rate; docs/results/compare.md)
    "maze": {"budgets": (1e12, 3e12, 1e13, 3e13), "variants": CORE + ("ar", "mdm-same-compute"),
             "single_seed": ("ar", "mdm-same-compute")},
}


SWEPT = {"mdm-same-params": "loopmdm", "mdm-same-compute": "loopmdm", "loopmdm-mask": "loopmdm",
         "loopmdm-correct": "loopmdm", "ar": "ar-solver", "hrm-noised": "hrm"}  # variants that take a swept one's rate


def lrs(variants: tuple[str, ...]) -> dict:
    """Each variant's learning rate: its sweep's best at the sweep's largest budget (most solved, then the lower
    loss), or the rate of the swept variant it belongs with (SWEPT). A variant whose sweep has not finished gets
    none (the study waits for it: run experiments/study/lr_sweep.py); refuses to run with no variant ready."""
    path = ROOT / "results" / "study" / "lr-sweep.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    top = max((r["budget"] for r in rows), default=None)
    best, tried = {}, {}
    for r in rows:
        if r["task"] != "sudoku" or r["budget"] != top:
            continue
        tried.setdefault(r["variant"], set()).add(r["lr"])
        key = (r["solved"], -(r["loss"] if r["loss"] is not None else 1e9))
        if r["variant"] not in best or key > best[r["variant"]][0]:
            best[r["variant"]] = (key, r["lr"])
    from lr_sweep import LRS

    out = {name: best[SWEPT.get(name, name)][1] for name in variants if tried.get(SWEPT.get(name, name)) == set(LRS)}
    if not out:
        raise SystemExit("error: the learning-rate sweep has finished no variant: run experiments/study/lr_sweep.py first")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=sorted(PLAN), default="sudoku")
    ap.add_argument("--report", action="store_true", help="write the report again from results.json; run nothing")
    args = ap.parse_args()
    plan = PLAN[args.task]
    tiers = ()
    if args.task == "sudoku":
        ladder = [f"{t}=gen:{t}:500:seed=777" for t in ("easy", "medium", "hard")]
        if not FORUM.is_file():
            raise SystemExit(f"error: {FORUM} is missing: the study's hardest tier is its first 500 puzzles")
        tiers = (*ladder, f"forum={FORUM}")
    rates = lrs(plan["variants"])
    waiting = [v for v in plan["variants"] if v not in rates]
    if waiting:
        print(f"waiting for the learning-rate sweep (experiments/study/lr_sweep.py), not run yet: {', '.join(waiting)}",
              flush=True)
    study = Study(task=args.task, lrs=rates, tiers=tiers, **{**plan, "variants": tuple(v for v in plan["variants"]
                                                                                         if v in rates)})
    print(f"learning rates: {study.lrs}", flush=True)
    out = ROOT / "results" / f"compare-{args.task}"

    def on_event(e: dict) -> None:
        if e.get("event") in ("phase", "variant", "snapshot") or e.get("event") == "evaluated":
            print(json.dumps({k: v for k, v in e.items() if k in ("event", "what", "name", "variant", "seed",
                                                                   "budget", "budget_flops", "tier", "solve_rate")}),
                  flush=True)

    if args.report:
        rewrite(study, out)
    else:
        run(study, out, on_event)


if __name__ == "__main__":
    from csp_diffusion.errors import CheckpointError
    from puzzles.errors import UserError

    try:
        main()
    except (UserError, CheckpointError) as e:  # bad input: one line, no traceback
        raise SystemExit(f"error: {e}") from None
