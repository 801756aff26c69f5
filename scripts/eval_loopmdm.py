"""Measure a LoopMDM Sudoku checkpoint on the real collections: the figures the README reports.

    python scripts/eval_loopmdm.py [--checkpoint PATH] [--limit 1000] [--chains 1] [--out results/sudoku-loopmdm]

Runs, pure neural (no search, no oracle, no propagation; conflicts in the model's own
grid are detected, and with --chains C the first verified of C chains is kept):
  1. each collection, first `--limit` puzzles, at the model's K_max loops with retraction;
  2. retraction on vs off, same step and chain budget, on top95 and the first
     `--ablation-limit` 17-clue puzzles;
  3. solve rate at loops 1, 2, 4, 8, K_max (and beyond) on the same two sets;
  4. the time to solve one puzzle.
Writes OUT.json (every figure) and OUT.md (tables for the README).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles import sudoku
from puzzles.domains import SudokuTask
from puzzles.files import write_text

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "norvig_top95": "norvig_top95.txt",
    "tdoku_magictour_top1465": "tdoku_magictour_top1465.txt",
    "sudokuexchange_diabolical_dev5000": "sudokuexchange_diabolical_dev5000.txt",
    "tdoku_17_clue_dev5000": "tdoku_17_clue_dev5000.txt",
}
TARGETS = {"norvig_top95": 0.80, "tdoku_magictour_top1465": 0.80,
           "sudokuexchange_diabolical_dev5000": 0.95, "tdoku_17_clue_dev5000": 0.60}
console = Console(stderr=True)


def run(solver: NeuralSolver, grids: list[np.ndarray], label: str, progress: Progress) -> dict:
    task = progress.add_task(label, total=len(grids))
    results = []
    start = time.perf_counter()
    for r in solver.solve(grids):
        results.append(r)
        progress.advance(task)
    wall = time.perf_counter() - start
    progress.remove_task(task)
    solved = sum(r.verified for r in results)
    return {
        "puzzles": len(results), "solved": solved, "solve_rate": solved / len(results),
        "puzzles_per_s": len(results) / wall, "wall_s": wall,
        "mean_steps": statistics.mean(r.extra["steps"] for r in results),
        "mean_retractions": statistics.mean(r.extra["retractions"] for r in results),
        "mean_restarts": statistics.mean(r.extra["restarts"] for r in results),
        "median_s": statistics.median(r.seconds for r in results),
        "loops": solver.config.loops, "chains": solver.config.chains, "retract": solver.config.retract,
        "max_steps": solver.config.max_steps,
    }


def progress_bar(items: list, label: str):
    with Progress(console=console) as progress:
        yield from progress.track(items, description=label)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--puzzles", type=Path, default=ROOT.parent / "shared" / "puzzles" / "sudoku")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--ablation-limit", type=int, default=200)
    ap.add_argument("--chains", type=int, default=1)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--warm-loops", type=int, default=None, help="loops per step after the first, warm (default: the task's)")
    ap.add_argument("--time-limit", type=float, default=0.0, help="seconds per puzzle (0 = only the step limit)")
    ap.add_argument("--temperature", type=float, default=None,
                    help=f"the noisy chains' temperature (default: the task's, {SudokuTask.temperature})")
    ap.add_argument("--spare-after", type=int, default=SamplerConfig.spare_after,
                    help="steps before the extra chains join a puzzle still unsolved (0 = all start together)")
    ap.add_argument("--offset", type=int, default=0, help="skip this many puzzles of each file first (part 1)")
    ap.add_argument("--latency-limit", type=int, default=95, help="top95 puzzles solved one at a time for part 4")
    ap.add_argument("--loop-counts", default="1,2,4,8,12,16")
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated collections for part 1")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: main,retraction,loops,latency")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "sudoku-loopmdm")
    args = ap.parse_args()
    if args.temperature is not None and args.temperature <= 0:
        ap.error("--temperature must be above 0")
    if args.spare_after < 0 or args.offset < 0:
        ap.error("--spare-after and --offset must be 0 or more")
    skip = set(filter(None, args.skip.split(",")))

    solver = NeuralSolver("loopmdm", "sudoku", args.checkpoint)
    k_max = solver.model.config.max_loops
    base = dict(loops=k_max, max_steps=args.steps, chains=args.chains, warm_loops=args.warm_loops,
                time_limit=args.time_limit, temperature=args.temperature, spare_after=args.spare_after)
    grids = {name: [s.givens for s in sudoku.read_file(args.puzzles / f)] for name, f in SETS.items()}
    report: dict = {"checkpoint": str(args.checkpoint or "shipped"), "params": solver.params,
                    "flops_per_step": solver.model.flops(k_max, 81, 21), "k_max": k_max, "base": base}

    with Progress(console=console) as progress:
        if "main" not in skip:
            report["main"] = {}
            for name in args.sets.split(","):
                gs = grids[name]
                solver.config = SamplerConfig(**base)
                report["main"][name] = run(solver, gs[args.offset: args.offset + args.limit], name, progress)
                console.print(name, report["main"][name])
        ablation_sets = {"norvig_top95": grids["norvig_top95"],
                         "tdoku_17_clue_dev5000": grids["tdoku_17_clue_dev5000"][: args.ablation_limit]}
        if "retraction" not in skip:
            report["retraction"] = {}
            for name, gs in ablation_sets.items():
                for retract in (True, False):
                    solver.config = SamplerConfig(**{**base, "retract": retract})
                    report["retraction"][f"{name}/{'on' if retract else 'off'}"] = r = run(
                        solver, gs, f"{name} retract={retract}", progress)
                    console.print(name, retract, r)
        if "loops" not in skip:
            report["loops"] = {}
            for name, gs in ablation_sets.items():
                for loops in sorted({*map(int, args.loop_counts.split(",")), k_max}):
                    solver.config = SamplerConfig(**{**base, "loops": loops})
                    report["loops"][f"{name}/{loops}"] = r = run(solver, gs, f"{name} loops={loops}", progress)
                    console.print(name, loops, r)
    if "latency" not in skip:  # each puzzle alone, as `csp solve sudoku PUZZLE` runs it (model loaded once)
        solver.config = SamplerConfig(**base)
        solved, given_up = [], []
        for one in progress_bar(grids["norvig_top95"][: args.latency_limit], "top95, one at a time"):
            t0 = time.perf_counter()
            r = next(iter(solver.solve([one])))
            (solved if r.verified else given_up).append(time.perf_counter() - t0)
        report["latency"] = {"puzzles": len(solved) + len(given_up), "solved": len(solved),
                             "solved_median_s": statistics.median(solved) if solved else None,
                             "solved_max_s": max(solved, default=None),
                             "given_up_median_s": statistics.median(given_up) if given_up else None,
                             "given_up_max_s": max(given_up, default=None)}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out.with_suffix(".json"), json.dumps(report, indent=2) + "\n")
    write_text(args.out.with_suffix(".md"), markdown(report, args) + "\n")
    print(markdown(report, args))


def markdown(rep: dict, args) -> str:
    lines = [f"Checkpoint: {rep['checkpoint']} ({rep['params'] / 1e6:.2f}M parameters, "
             f"{rep['flops_per_step'] / 1e9:.2f} GFLOP per puzzle per step at K_max={rep['k_max']} loops); "
             f"step limit {args.steps}, {args.chains} chain(s) per puzzle, warm loops {args.warm_loops if args.warm_loops is not None else f'default ({SudokuTask.warm_loops})'}, "
             f"time limit {args.time_limit or 'none'}, noisy chains' temperature {args.temperature if args.temperature is not None else SudokuTask.temperature}, "
             f"extra chains join after {args.spare_after} steps{f'; puzzles from number {args.offset + 1} of each file' if args.offset else ''}.", ""]
    if "main" in rep:
        lines += ["| set | puzzles | solved | rate | target | puzzles/s | mean steps | mean retractions | mean restarts |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, r in rep["main"].items():
            lines.append(f"| {name} | {r['puzzles']} | {r['solved']} | {100 * r['solve_rate']:.1f}% | "
                         f"{100 * TARGETS[name]:.0f}% | {r['puzzles_per_s']:.1f} | {r['mean_steps']:.1f} | "
                         f"{r['mean_retractions']:.1f} | {r['mean_restarts']:.2f} |")
        lines.append("")
    if "retraction" in rep:
        lines += ["| set | retraction | solved | rate | mean steps | mean retractions |", "|---|---|---|---|---|---|"]
        for key, r in rep["retraction"].items():
            name, mode = key.split("/")
            lines.append(f"| {name} | {mode} | {r['solved']}/{r['puzzles']} | {100 * r['solve_rate']:.1f}% | "
                         f"{r['mean_steps']:.1f} | {r['mean_retractions']:.1f} |")
        lines.append("")
    if "loops" in rep:
        names = sorted({k.split("/")[0] for k in rep["loops"]})
        counts = sorted({int(k.split("/")[1]) for k in rep["loops"]})
        lines += ["| loops | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for c in counts:
            cells = [f"{100 * rep['loops'][f'{n}/{c}']['solve_rate']:.1f}%" for n in names]
            lines.append(f"| {c}{' (K_max)' if c == rep['k_max'] else ''} | " + " | ".join(cells) + " |")
        lines.append("")
    if "latency" in rep:
        lat = rep["latency"]

        def s(x):
            return "-" if x is None else f"{x:.2f} s"

        lines.append(f"Top95 puzzles one at a time (model loaded; time limit {args.time_limit or 'none'}): "
                     f"{lat['solved']}/{lat['puzzles']} solved, median {s(lat['solved_median_s'])}, "
                     f"slowest {s(lat['solved_max_s'])}; given up: median {s(lat['given_up_median_s'])}, "
                     f"slowest {s(lat['given_up_max_s'])}.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
