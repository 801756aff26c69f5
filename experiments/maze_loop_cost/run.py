"""What a first step costs on large mazes: path lengths of a generated set, and the core's seconds per loop.

The figure of docs/results/maze.md, "The maze kinds after the fine-tune" (201x201 perfect mazes, dense
passes); it prints, and results/maze/maze-kinds-finetuned/perfect201-cost.txt is that output kept:

    python experiments/maze_loop_cost/run.py --spec gen:perfect:20:size=201:seed=1

Times one step of --loops loops on the set's first maze (one thread, the shipped model), and projects the
trace's first step (2 loops per path cell) over the set. Peak memory is the process's resident peak.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import torch

from csp_diffusion import bench
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles import maze
from puzzles.domains import get_task
from puzzles.errors import UserError


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="gen:perfect:20:size=201:seed=1")
    ap.add_argument("--loops", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(1)
    try:
        mazes = bench.load(get_task("maze"), args.spec).puzzles
    except UserError as e:
        sys.exit(f"error: {e}")
    paths = [maze.shortest_length(m) for m in mazes]
    solver = NeuralSolver("loopmdm", "maze", sampler=SamplerConfig(loops=args.loops, max_steps=1, warm_loops=0, chains=1))
    start = time.perf_counter()
    list(solver.solve(mazes[:1]))
    per_loop = (time.perf_counter() - start) / args.loops
    print(f"shortest paths (cells): min {min(paths)}, median {np.median(paths):.0f}, max {max(paths)}")
    print(f"{args.loops} loops on the first maze: {per_loop * args.loops:.1f} s ({per_loop:.2f} s per loop); "
          f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"a first step of 2 loops per path cell: median {2 * np.median(paths) * per_loop / 60:.0f} min per maze; "
          f"all {len(paths)}: {sum(2 * p * per_loop for p in paths) / 3600:.0f} h")


if __name__ == "__main__":
    main()
