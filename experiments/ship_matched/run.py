"""Ship the matched set: each model kind's seed-0 study run at one FLOP budget, as
csp_diffusion/checkpoints/TASK-KIND@BUDGET.safetensors (`csp solve --solver trm`, `csp bench --solvers
loopmdm@1e13,...`).

The matched sets of docs/results/compare.md, "The architecture study" and "The maze study". They write no
results/ file: they read results/compare-TASK/results.json and write the checkpoints named above.

    .venv/bin/python experiments/ship_matched/run.py                               # sudoku, the study's largest budget
    .venv/bin/python experiments/ship_matched/run.py --task maze --flops 2e13

A run whose checkpoint is gone (results.json keeps the rows, not the weights) is trained again with the
study's settings and scored again. Training here is not bit-reproducible (bf16 CPU kernels), so it must
reproduce its recorded solve rate within TOLERANCE, or nothing is shipped; each shipped model's own
figure is printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.compare import Study, budget_name, config, match_widths, trained_and_scored  # noqa: E402
from csp_diffusion.runtime import pick_device  # noqa: E402
from csp_diffusion.solver import SHIPPED  # noqa: E402
from puzzles.domains import get_task  # noqa: E402

KINDS = ("loopmdm", "ar", "ar-solver", "hrm", "trm")  # the study variants that are model kinds
TOLERANCE = 0.02  # of solve rate, between a retrained run and its recorded one (the seeds' sd is larger)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sudoku")
    parser.add_argument("--study", type=Path, help="the study folder (default results/compare-TASK)")
    parser.add_argument("--flops", type=float, help="the budget (default the study's largest)")
    args = parser.parse_args()
    out = args.study or ROOT / "results" / f"compare-{args.task}"
    import numpy as np

    saved = json.loads((out / "results.json").read_text())
    settings = saved["study"]
    study = Study(**{k: tuple(v) if k in ("budgets", "variants") else v for k, v in settings.items()})
    budget = args.flops or max(study.budgets)
    held = np.load(out / "eval-puzzles.npz")
    held = (held["puzzles"], held["solutions"])
    widths = match_widths(study, get_task(study.task))
    device = pick_device(study.device)
    recorded = {(r["variant"], r["seed"], r["budget_flops"]): r for r in saved["rows"]}
    ship = {}
    for kind in KINDS:
        want = recorded.get((kind, 0, budget))
        if want is None:
            raise SystemExit(f"error: the study has no {kind} seed-0 run at {budget:.3g} FLOPs yet")
        folder = out / "runs" / budget_name(budget) / f"{kind}-seed0"
        print(f"{kind}: {'checking' if (folder / 'model.safetensors').is_file() else 'retraining'} the seed-0 run",
              file=sys.stderr, flush=True)
        got = trained_and_scored(study, config(study, kind, 0, budget, widths[kind][0], device), folder, kind, held)
        if abs(got["solve_rate"] - want["solve_rate"]) > TOLERANCE:
            raise SystemExit(f"error: {kind} retrained solves {got['solve_rate']:.1%}, the study recorded "
                             f"{want['solve_rate']:.1%}: not the measured model, nothing shipped")
        same = "the study's run" if got["solved"] == want["solved"] else f"retrained; the study's run {want['solve_rate']:.1%}"
        print(f"{kind}: {got['solve_rate']:.1%} of the study's {len(held[0])} puzzles ({same})", file=sys.stderr)
        ship[kind] = folder / "model.safetensors"
    for kind, path in ship.items():
        target = SHIPPED / f"{study.task}-{kind}@{budget_name(budget)}.safetensors"
        shutil.copyfile(path, target)
        print(f"shipped {target.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
