"""The architecture study (the project's issue "An architecture study a reviewer accepts"), run in the
background across sittings: resumable, each snapshot's scores written as they land.

Sudoku: every variant trained once per seed to 1e14 training FLOPs, snapshots at 1e12, 3e12, 1e13, 3e13, 1e14,
each scored on the ladder (generated easy, medium and hard, 500 each, and the first 500 of the forum-hardest
file in ../shared/puzzles when it is there) with the argmax and sampler decoders (and each kind's own on the
easy tier at the largest budget, for the gates). Mazes: trained on 9x9 grids and smaller to 3e13, scored on
9x9, 15x15 and random-wall 30x30. Learning rates: the sweep's picks (experiments/study/lr_sweep.py).

    python experiments/study/run.py --task sudoku     # resumable: rerun the same command
    python experiments/study/run.py --task maze

Output: results/study/<task>/ (results.json, report.md, plots); checkpoints under results/study/<task>/runs/
(not tracked). Compute plan and what was spent: docs/results/compare.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.compare import Study, run  # noqa: E402

FORUM = ROOT.parent / "shared" / "puzzles" / "tdoku_forum_hardest_1905_dev5000.txt"
CORE = ("loopmdm", "mdm-same-params", "ar-solver", "hrm", "trm")
PLAN = {
    "sudoku": {"budgets": (1e12, 3e12, 1e13, 3e13, 1e14),
               "variants": CORE + ("ar", "mdm-same-compute", "trm-mixer", "loopmdm-mask", "loopmdm-correct",
                                   "hrm-noised"),
               "single_seed": ("ar", "mdm-same-compute", "trm-mixer", "loopmdm-mask", "loopmdm-correct", "hrm-noised")},
    "maze": {"budgets": (1e12, 3e12, 1e13, 3e13), "variants": CORE + ("ar", "mdm-same-compute"),
             "single_seed": ("ar", "mdm-same-compute")},
}


def lrs(task: str) -> dict:
    """Each kind's learning rate: the sweep's best at its largest budget (most solved, then the lower loss)."""
    path = ROOT / "results" / "study" / "lr-sweep.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    rows = [r for r in rows if r["task"] == "sudoku" and r["budget"] == max(x["budget"] for x in rows)]
    best = {}
    for r in rows:
        kind = r["kind"]
        key = (r["solved"], -(r["loss"] or 1e9))
        if kind not in best or key > best[kind][0]:
            best[kind] = (key, r["lr"])
    return {k: v[1] for k, v in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=sorted(PLAN), default="sudoku")
    args = ap.parse_args()
    plan = PLAN[args.task]
    tiers = ()
    if args.task == "sudoku":
        ladder = [f"{t}=gen:{t}:500:seed=777" for t in ("easy", "medium", "hard")]
        tiers = tuple(ladder + ([f"forum={FORUM}"] if FORUM.is_file() else []))
    study = Study(task=args.task, lrs=lrs(args.task), tiers=tiers, **plan)
    print(f"learning rates: {study.lrs}", flush=True)
    out = ROOT / "results" / "study" / args.task

    def on_event(e: dict) -> None:
        if e.get("event") in ("phase", "variant", "snapshot") or e.get("event") == "evaluated":
            print(json.dumps({k: v for k, v in e.items() if k in ("event", "what", "name", "variant", "seed",
                                                                   "budget", "budget_flops", "tier", "solve_rate")}),
                  flush=True)

    run(study, out, on_event)


if __name__ == "__main__":
    main()
