"""Ship the architecture study's matched set: each core kind's seed-0 snapshot at the study's largest budget,
copied as csp_diffusion/checkpoints/TASK-KIND@BUDGET.safetensors (what `--solver KIND@BUDGET` loads). The study's
row for that snapshot is its measurement; nothing is retrained. Refuses a kind whose snapshot is not scored yet.

    .venv/bin/python experiments/ship_matched/run.py --task sudoku            # results/compare-sudoku, its largest budget
    .venv/bin/python experiments/ship_matched/run.py --task maze --flops 3e13
    .venv/bin/python experiments/ship_matched/run.py --task sudoku --kinds loopmdm,hrm   # those scored so far
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.study import budget_name  # noqa: E402

SHIPPED = ROOT / "csp_diffusion" / "checkpoints"
KINDS = ("loopmdm", "ar", "ar-solver", "hrm", "trm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sudoku")
    parser.add_argument("--study", type=Path, help="the study folder (default results/compare-TASK)")
    parser.add_argument("--flops", type=float, help="the budget (default the study's largest)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)} (default all)")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    if not kinds or any(k not in KINDS for k in kinds):
        parser.error(f"--kinds takes a comma-separated list of {', '.join(KINDS)}")
    out = args.study or ROOT / "results" / f"compare-{args.task}"
    if not (out / "results.json").is_file():
        raise SystemExit(f"error: {out / 'results.json'} is missing: run experiments/study/run.py --task {args.task} first")
    saved = json.loads((out / "results.json").read_text())
    budget = args.flops or max(saved["study"]["budgets"])
    scored = {(r["variant"], r["seed"], r["budget_flops"]) for r in saved["rows"]}
    for kind in kinds:
        path = out / "runs" / f"{kind}-seed0" / "snapshots" / f"{budget_name(budget)}.safetensors"
        if (kind, 0, budget) not in scored or not path.is_file():
            raise SystemExit(f"error: the study has no scored {kind} seed-0 snapshot at {budget:.3g} FLOPs yet")
    for kind in kinds:
        target = SHIPPED / f"{args.task}-{kind}@{budget_name(budget)}.safetensors"
        shutil.copyfile(out / "runs" / f"{kind}-seed0" / "snapshots" / f"{budget_name(budget)}.safetensors", target)
        print(f"shipped {target.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
