"""The architecture study's learning-rate sweep: each core kind's recipe (csp_diffusion/study/runs.py, RECIPES and
SCHEDULE) at lr 1e-4, 3e-4 and 1e-3, one seed, to 1e13 training FLOPs, kept at 3e12 and 1e13; each kept model
scored on 200 generated easy Sudokus (a seed of their own: the study's sets are not tuned on) with its kind's
native decoder, and its training loss. The study trains each kind at the rate that solves most at 1e13 (ties:
the lower final loss).

    python experiments/study/lr_sweep.py              # train what is missing, score, print and write
    python experiments/study/lr_sweep.py --report     # the table from what is scored

Runs live in runs/lr-sweep/ (resumable: rerun the command); each scored model is one line of
results/study/lr-sweep.jsonl, written as it lands.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion import bench, models  # noqa: E402
from csp_diffusion.runtime import pick_device  # noqa: E402
from csp_diffusion.sampler import SamplerConfig  # noqa: E402
from csp_diffusion.solver import NeuralSolver  # noqa: E402
from csp_diffusion.study import Study, budget_name, config, match_widths  # noqa: E402
from csp_diffusion.train import train  # noqa: E402
from puzzles.domains import get_task  # noqa: E402

VARIANTS = ("loopmdm", "hrm", "ar-solver", "trm", "trm-mixer")
LRS = (1e-4, 3e-4, 1e-3)
BUDGET, KEPT = 1e13, (3e12, 1e13)
EVAL = "gen:easy:200:seed=21"
OUT = ROOT / "results" / "study" / "lr-sweep.jsonl"
RUNS = ROOT / "runs" / "lr-sweep"


def scored() -> dict:
    if not OUT.is_file():
        return {}
    rows = [json.loads(line) for line in OUT.read_text().splitlines()]
    return {(r["variant"], r["lr"], r["budget"]): r for r in rows}


def sweep(task_name: str) -> None:
    study = Study(task=task_name, variants=VARIANTS)
    task, device = get_task(task_name), pick_device(None)
    widths = match_widths(study, task)
    pset = bench.load(task, EVAL)
    done = scored()
    for lr in (1e-3, 3e-4, 1e-4):  # rate by rate, so every kind has a point early
        for name in VARIANTS:
            if all((name, lr, b) in done for b in KEPT):
                continue
            folder = RUNS / task_name / f"{name}-lr{lr:g}"
            cfg = config(study, task, name, 0, BUDGET, widths[name][0], device, lr=lr, snapshots=list(KEPT))
            log = folder / "log.jsonl"
            if not (log.is_file() and '"event": "end"' in log.read_text()):
                print(f"training {name} lr {lr:g}", flush=True)
                train(cfg, folder, resume=(folder / "state.pt").is_file())
            events = [json.loads(line) for line in log.read_text().splitlines()]
            for budget in KEPT:
                path = folder / "snapshots" / f"{budget_name(budget)}.safetensors"
                solver = NeuralSolver(cfg.model, task_name, path, None,
                                      SamplerConfig(**models.sampling_defaults(cfg.model, task, "native")))
                results = list(solver.solve_screened(pset.puzzles, reasons=[None] * len(pset.puzzles)))
                at = next(e for e in events if e.get("event") == "snapshot" and e["budget"] == budget)
                losses = [e["loss"] for e in events if e.get("event") == "step" and e["step"] <= at["step"]]
                row = {"task": task_name, "variant": name, "kind": cfg.model, "lr": lr, "budget": budget,
                       "width": widths[name][0], "params": widths[name][1], "step": at["step"],
                       "loss": losses[-1] if losses else None,
                       "solved": sum(r.solved for r in results), "puzzles": len(results), "eval": EVAL,
                       "minutes": next((e["minutes"] for e in reversed(events) if "minutes" in e
                                        and e.get("step", 0) <= at["step"]), None)}
                OUT.parent.mkdir(parents=True, exist_ok=True)
                with open(OUT, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)


def report() -> None:
    rows = scored()
    print(f"| variant | lr | solved at {budget_name(KEPT[0])} | solved at {budget_name(KEPT[-1])} | loss | steps |")
    print("|---|---|---|---|---|---|")
    for name in VARIANTS:
        for lr in LRS:
            a, b = rows.get((name, lr, KEPT[0])), rows.get((name, lr, KEPT[-1]))
            if b:
                print(f"| {name} | {lr:g} | {a['solved'] if a else '-'}/{b['puzzles']} | {b['solved']}/{b['puzzles']} | "
                      f"{b['loss']} | {b['step']} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sudoku")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    if not args.report:
        sweep(args.task)
    report()
