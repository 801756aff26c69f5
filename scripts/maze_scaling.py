"""Maze LoopMDM: solve rate against maze size, and against loops, on freshly generated mazes.

    python scripts/maze_scaling.py --per-size 50 --sizes 10,15,20,25,30,35,40 --loops 128,256,384,512,768 \
        --loops-size 30 --out results/maze-trace-scaling-open

Mazes come from `csp_diffusion.bench.load` generator specs (seeds offset away from training).
The size curve runs the solver's defaults; the loops curve runs every step cold at a fixed loop count
(a trace model: one step, with that loop cap).
Writes OUT.json, OUT.md and, with matplotlib, OUT.png. Pure neural; every path is verified.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from csp_diffusion import bench
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles.files import write_text


def rate(solver: NeuralSolver, mazes) -> tuple[float, float, float]:
    """(solve rate, seconds per maze, mean loops the first step ran)."""
    start = time.perf_counter()
    results = list(solver.solve(mazes))
    loops = float(np.mean([r.extra.get("first_step_loops", r.extra["loops"]) for r in results]))
    return float(np.mean([r.solved for r in results])), (time.perf_counter() - start) / len(mazes), loops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--kind", default="open", choices=("perfect", "open"))
    ap.add_argument("--sizes", default="11,15,21,31,41")
    ap.add_argument("--per-size", type=int, default=20)
    ap.add_argument("--loops", default="4,8,16,32",
                    help="loop counts for the loops curve (at --loops-size); empty: no loops curve")
    ap.add_argument("--loops-size", type=int, default=21)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("results/maze-scaling"))
    args = ap.parse_args()

    report = {"kind": args.kind, "per_size": args.per_size, "seed": args.seed, "by_size": {}, "by_loops": {}}
    auto = NeuralSolver("loopmdm", "maze", args.checkpoint)
    for size in map(int, args.sizes.split(",")):
        mazes = bench.load("maze", f"gen:{args.kind}:{args.per_size}:size={size}:seed={args.seed}").puzzles
        solved, secs, ran = rate(auto, mazes)
        plan = auto.plan((size, size), auto.task.encode(mazes[0])[0])
        loops, steps = plan.loops, plan.max_steps
        report["by_size"][size] = {"solve_rate": solved, "seconds": secs, "loops": loops, "steps": steps, "first_step_loops": ran}
        print(f"size {size}: {100 * solved:.0f}% at {loops} loops (first step ran {ran:.0f}) / {steps} steps, "
              f"{secs:.2f} s per maze", flush=True)
    size = args.loops_size
    mazes = bench.load("maze", f"gen:{args.kind}:{args.per_size}:size={size}:seed={args.seed}").puzzles
    for loops in [int(k) for k in args.loops.split(",") if k]:
        # every step cold, so each runs `loops` loops (warm steps would run the task's warm_loops); a trace
        # model runs one step, so the curve is of one pass with this loop cap
        steps = 1 if auto.model.trace else auto.plan((size, size)).max_steps
        fixed = NeuralSolver("loopmdm", "maze", args.checkpoint,
                             sampler=SamplerConfig(loops=loops, max_steps=steps, warm_loops=0))
        solved, secs, _ = rate(fixed, mazes)
        report["by_loops"][loops] = {"solve_rate": solved, "seconds": secs, "size": size}
        print(f"size {size}, {loops} loops: {100 * solved:.0f}%", flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out.with_suffix(".json"), json.dumps(report, indent=1))
    trained = max(auto.task.structure().shape)
    lines = [f"{args.per_size} generated {args.kind} mazes per row (seed {args.seed}); model trained on "
             f"{trained}x{trained} and smaller.", "",
             "| side | loop cap | first step ran (mean) | step limit | solved | s per maze |", "|---|---|---|---|---|---|"]
    lines += [f"| {s} | {r['loops']} | {r['first_step_loops']:.0f} | {r['steps']} | {100 * r['solve_rate']:.0f}% | "
              f"{r['seconds']:.2f} |" for s, r in report["by_size"].items()]
    if report["by_loops"]:
        lines += ["", f"| loops (side {size}; a trace model: one step with this cap) | solved |", "|---|---|"]
        lines += [f"| {k} | {100 * r['solve_rate']:.0f}% |" for k, r in report["by_loops"].items()]
    write_text(args.out.with_suffix(".md"), "\n".join(lines) + "\n")
    plot(report, args.out.with_suffix(".png"), size, max(auto.task.structure().shape))


def plot(report: dict, path: Path, loops_size: int, trained: int) -> None:
    """The size curve (and the loops curve, if any) as a PNG; nothing without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    by_size = {int(k): v for k, v in report["by_size"].items()}
    by_loops = {int(k): v for k, v in report["by_loops"].items()}
    fig, axes = plt.subplots(1, 2 if by_loops else 1, figsize=(9 if by_loops else 4.5, 3.4), squeeze=False)
    a = axes[0, 0]
    a.plot(list(by_size), [100 * r["solve_rate"] for r in by_size.values()], "o-")
    a.axvline(trained, color="grey", linestyle=":", label="largest trained")
    a.set_xlabel("maze side (automatic loops)")
    a.set_ylabel("shortest paths found (%)")
    a.set_ylim(0, 103)
    a.legend(fontsize=8)
    if by_loops:
        b = axes[0, 1]
        b.plot(list(by_loops), [100 * r["solve_rate"] for r in by_loops.values()], "o-", color="tab:green")
        b.set_xlabel(f"loops (side {loops_size})")
        b.set_ylim(0, 103)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
