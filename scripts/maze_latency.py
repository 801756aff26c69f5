"""Time the shipped maze LoopMDM on mazes solved one at a time, as `csp solve maze` runs one maze.

    csp generate maze -n 10 --size 30 --kind open --min-path 110 --seed 1 -o hard10.maze
    python scripts/maze_latency.py hard10.maze [--time-limit 2]

Prints, per maze, the wall seconds with the model loaded (* = solved, verified) and a summary line.
"""

from __future__ import annotations

import argparse
import time

from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles import maze as mz


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--time-limit", type=float, default=0.0, help="seconds per maze (0 = only the step limit)")
    ap.add_argument("--checkpoint", default=None, help="a maze LoopMDM checkpoint (default: the shipped one)")
    args = ap.parse_args()
    solver = NeuralSolver("loopmdm", "maze", args.checkpoint, sampler=SamplerConfig(time_limit=args.time_limit))
    times = []
    for maze in mz.read_file(args.file):
        start = time.perf_counter()
        r = next(iter(solver.solve([maze])))
        times.append((r.verified, time.perf_counter() - start))
    print(" ".join(f"{s:.2f}{'*' if ok else ''}" for ok, s in times))
    solved = [s for ok, s in times if ok]
    failed = [s for ok, s in times if not ok]
    span = lambda xs: f"{min(xs):.2f}-{max(xs):.2f} s" if xs else "-"  # noqa: E731
    print(f"{len(solved)}/{len(times)} solved in {span(solved)}; given up in {span(failed)}")


if __name__ == "__main__":
    main()
