"""Maze LoopMDM: solve rate against maze size, and against loops, on freshly generated mazes.

The curves of docs/results/maze.md; each writes results/OUT.json, OUT.md and OUT.png (its --out):

    # "Every kind from side 11 to 201" (then experiments/maze_size_curves/run.py draws the five together)
    for k in rooms borderless open; do
      python experiments/maze_scaling/run.py --kind $k --per-size 2 --sizes 11,21,41,61,101,151,201 --loops "" \
          --time-limit 600 --chains 1 --out results/maze/maze-scaling-$k-201
    done
    python experiments/maze_scaling/run.py --kind walls --min-path-per-side 3 --per-size 2 --sizes 11,21,41,61,101,151,201 \
        --loops "" --time-limit 600 --chains 1 --out results/maze/maze-scaling-walls-201
    # "Quiet cells"
    python experiments/maze_scaling/run.py --kind perfect --per-size 2 --sizes 11,21,41,61,101,151,201 --loops "" \
        --out results/maze/maze-scaling-perfect-201
    # "Frames"
    python experiments/maze_scaling/run.py --kind walls --per-size 16 --sizes 10,15,20,30,40 --loops "" \
        --out results/maze/maze-scaling-walls
    # "Maze results"
    python experiments/maze_scaling/run.py --kind open --per-size 32 --sizes 10,15,20,25,30,35,40 \
        --loops 128,256,384,512,768 --loops-size 30 --out results/maze/maze-trace-scaling-open
    python experiments/maze_scaling/run.py --kind perfect --per-size 16 --sizes 11,21,31,41 --loops "" \
        --out results/maze/maze-trace-scaling-perfect

(docs/results/maze.md's memory runs of the 201x201 rooms and walls write results/maze/maze-memory/{rooms,walls}-201.*.)

Mazes come from `csp_diffusion.bench.load` generator specs (seeds offset away from training).
The size curve runs the solver's defaults, and records for each maze its shortest path's length and the
loops the first step ran (the third panel: loops against path length, to show whether they grow faster),
and for each side the process's peak memory so far (sides run in ascending order, so it is that side's
peak: the solver holds one side's mazes at a time). Rerun with the same OUT and settings, it keeps the
sides already measured and goes on. The loops curve runs every step cold at a fixed loop
count (a trace model: one step, with that loop cap).
Writes OUT.json, OUT.md and, with matplotlib, OUT.png. Pure neural; every path is verified.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from csp_diffusion import bench
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles import maze
from puzzles.domains import get_task
from puzzles.files import write_text
from puzzles.maze.task import MazeTask

OLDER = {"time_limit": 0.0, "chains": MazeTask.chains}  # what a curve file without these keys ran (8 chains)


def rate(solver: NeuralSolver, mazes) -> tuple[float, float, float, list[dict]]:
    """(solve rate, seconds per maze, mean loops the first step ran, per maze: path length, loops, solved)."""
    start = time.perf_counter()
    results = list(solver.solve(mazes))
    wall = time.perf_counter() - start
    each = [{"path": maze.shortest_length(m), "loops": int(r.extra.get("first_step_loops", r.extra.get("loops", 0))),
             "solved": bool(r.solved)} for m, r in zip(mazes, results)]
    return (float(np.mean([r.solved for r in results])), wall / len(mazes),
            float(np.mean([e["loops"] for e in each])), each)


def save(out: Path, report: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out.with_suffix(".json"), json.dumps(report, indent=1))


def peak_mb() -> float:
    """The process's peak resident memory so far (and the accelerator's, where there is one), in MB."""
    import torch

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return rss + (torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--kind", default="open", choices=maze.KINDS)
    ap.add_argument("--sizes", default="11,15,21,31,41")
    ap.add_argument("--per-size", type=int, default=20)
    ap.add_argument("--loops", default="4,8,16,32",
                    help="loop counts for the loops curve (at --loops-size); empty: no loops curve")
    ap.add_argument("--loops-size", type=int, default=21)
    ap.add_argument("--min-path-per-side", type=float, default=None,
                    help="draw mazes whose shortest path is at least this many times the side (walls: long paths)")
    ap.add_argument("--time-limit", type=float, default=0.0, help="seconds per maze (0 = only the step limit)")
    ap.add_argument("--chains", type=int, default=OLDER["chains"],
                    help=f"chains per maze (default: the solver's {OLDER['chains']})")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("results/maze/maze-scaling"))
    args = ap.parse_args()

    report = {"kind": args.kind, "per_size": args.per_size, "seed": args.seed, "min_path_per_side": args.min_path_per_side,
              "time_limit": args.time_limit, "chains": args.chains, "by_size": {}, "by_loops": {}}
    done = args.out.with_suffix(".json")
    if done.exists():  # resume: keep the sides an earlier run of the same curve measured
        try:
            before = json.loads(done.read_text())
        except (OSError, json.JSONDecodeError) as e:
            sys.exit(f"error: {done} is damaged ({e}); move it away to start the curve over")
        same = ("kind", "per_size", "seed", "min_path_per_side", "time_limit", "chains")
        if not (isinstance(before, dict) and isinstance(before.get("by_size"), dict)
                and all(before.get(k, OLDER.get(k)) == report[k] for k in same)):
            sys.exit(f"error: {done} holds another curve (not {', '.join(same)} as given); choose another --out")
        report["by_size"] = {int(k): v for k, v in before["by_size"].items()}
    auto = NeuralSolver("loopmdm", "maze", args.checkpoint,
                        sampler=SamplerConfig(chains=args.chains, time_limit=args.time_limit))
    for size in sorted(map(int, args.sizes.split(","))):
        if size in report["by_size"]:
            continue
        longer = f":min_path={int(args.min_path_per_side * size)}" if args.min_path_per_side else ""
        mazes = bench.load(get_task("maze"), f"gen:{args.kind}:{args.per_size}:size={size}{longer}:seed={args.seed}").puzzles
        solved, secs, ran, each = rate(auto, mazes)
        plan = auto.plan((size, size), auto.task.encode(mazes[0])[0])
        loops, steps = plan.loops, plan.max_steps
        report["by_size"][size] = {"solve_rate": solved, "seconds": secs, "loops": loops, "steps": steps,
                                   "first_step_loops": ran, "peak_mb": peak_mb(), "mazes": each}
        print(f"size {size}: {100 * solved:.0f}% at {loops} loops (first step ran {ran:.0f}) / {steps} steps, "
              f"{secs:.2f} s per maze, peak {report['by_size'][size]['peak_mb']:.0f} MB", flush=True)
        save(args.out, report)  # after each side: a long curve keeps what it has measured
    size = args.loops_size
    mazes = bench.load(get_task("maze"), f"gen:{args.kind}:{args.per_size}:size={size}:seed={args.seed}").puzzles
    for loops in [int(k) for k in args.loops.split(",") if k]:
        # every step cold, so each runs `loops` loops (warm steps would run the task's warm_loops); a trace
        # model runs one step, so the curve is of one pass with this loop cap
        steps = 1 if auto.model.trace else auto.plan((size, size)).max_steps
        fixed = NeuralSolver("loopmdm", "maze", args.checkpoint,
                             sampler=SamplerConfig(loops=loops, max_steps=steps, warm_loops=0))
        solved, secs, _, _ = rate(fixed, mazes)
        report["by_loops"][loops] = {"solve_rate": solved, "seconds": secs, "size": size}
        print(f"size {size}, {loops} loops: {100 * solved:.0f}%", flush=True)
        save(args.out, report)

    trained = max(auto.task.structure().shape)
    longer = f", shortest path at least {args.min_path_per_side:g} x the side" if args.min_path_per_side else ""
    limit = f", {args.time_limit:g} s a maze at most" if args.time_limit else ""
    lines = [f"{args.per_size} generated {args.kind} mazes per row (seed {args.seed}{longer}{limit}, {args.chains} "
             f"chain(s) a maze); model trained on "
             f"{trained}x{trained} and smaller.", "",
             "| side | loop cap | first step ran (mean) | loops per path cell (max) | step limit | solved | s per maze "
             "| peak memory (MB) |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {s} | {r['loops']} | {r['first_step_loops']:.0f} | "
              f"{max(e['loops'] / e['path'] for e in r['mazes']):.2f} | {r['steps']} | {100 * r['solve_rate']:.0f}% | "
              f"{r['seconds']:.2f} | {r['peak_mb']:.0f} |" for s, r in report["by_size"].items()]
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
    panels = 2 + bool(by_loops)
    fig, axes = plt.subplots(1, panels, figsize=(4.5 * panels, 3.4), squeeze=False)
    a = axes[0, 0]
    a.plot(list(by_size), [100 * r["solve_rate"] for r in by_size.values()], "o-")
    a.axvline(trained, color="grey", linestyle=":", label="largest trained")
    a.set_xlabel("maze side (automatic loops)")
    a.set_ylabel("shortest paths found (%)")
    a.set_ylim(0, 103)
    a.legend(fontsize=8)
    c = axes[0, 1]  # loops the first step ran against each maze's path length: the trace needs 2 per cell
    each = [e for r in by_size.values() for e in r.get("mazes", [])]
    if each:
        longest = max(e["path"] for e in each)
        for side, r in by_size.items():
            got = r.get("mazes", [])
            c.plot([e["path"] for e in got], [e["loops"] for e in got], ".", ms=4, label=f"side {side}")
        c.plot([0, longest], [0, 2 * longest], ":", color="grey", label="2 per path cell")
        c.set_xlabel("shortest path (cells)")
        c.set_ylabel("loops the first step ran")
        c.legend(fontsize=7)
    if by_loops:
        b = axes[0, 2]
        b.plot(list(by_loops), [100 * r["solve_rate"] for r in by_loops.values()], "o-", color="tab:green")
        b.set_xlabel(f"loops (side {loops_size})")
        b.set_ylim(0, 103)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
