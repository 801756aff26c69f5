"""Peak memory of one warm sampler call on a batch of large mazes: every chain of every maze at once.

The figure of docs/results/sudoku.md, "Speed", and docs/results/maze.md, "Every kind from side 11 to 201"
(CPU pieces of at most 65,536 cells); it prints one line a run, and results/maze/maze-memory/walls-201-warm.txt
holds the two lines (the 151x151 rooms of the default --spec: results/maze/maze-memory/rooms-151-warm.txt):

    python experiments/maze_memory/run.py --spec gen:walls:2:size=201:min_path=603:seed=3
    python experiments/maze_memory/run.py --spec gen:walls:2:size=201:min_path=603:seed=3 --one-piece

Once a maze's greedy chain has failed, its spare chains join it, and the sampler's warm steps (4 loops
from the carried core state) run over all of them. This runs one such call, on the shipped maze model,
and prints the process's peak resident memory before and after it, and its seconds. `--one-piece` runs
the batch as one piece, as the sampler did before its CPU pieces were bounded in cells
(`Sampler.CPU_CELLS`). Run each variant in its own process: the peak is the process's.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import torch

from csp_diffusion import bench
from csp_diffusion.sampler import Sampler
from csp_diffusion.solver import NeuralSolver
from puzzles.domains import get_task
from puzzles.errors import UserError


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="gen:rooms:2:size=151:seed=3")
    ap.add_argument("--chains", type=int, default=8)
    ap.add_argument("--loops", type=int, default=4)
    ap.add_argument("--one-piece", action="store_true")
    args = ap.parse_args()
    try:
        mazes = bench.load(get_task("maze"), args.spec).puzzles
        solver = NeuralSolver("loopmdm", "maze", device="cpu")
    except UserError as e:
        sys.exit(f"error: {e}")
    if len({m.shape for m in mazes}) != 1:
        sys.exit("error: the mazes must share one shape")
    task = solver.task
    v = torch.stack([torch.as_tensor(task.encode(m)[0]) for m in mazes] * args.chains)
    structure = task.structure(mazes[0].shape)
    sampler = Sampler(solver.model, task, solver.config, solver.device, solver.autocast)
    if args.one_piece:
        sampler.CPU_CELLS = 1 << 40  # this sampler's own bound, above any batch: the batch runs as one piece
    state = torch.zeros(len(v), v.shape[1], solver.model.config.dim,
                        dtype=torch.bfloat16 if solver.autocast else torch.float32)
    before, start = peak_mb(), time.perf_counter()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=solver.autocast):
        sampler.run_model(v, v > 0, torch.as_tensor(structure.positions), torch.as_tensor(structure.graph), args.loops,
                          state=state)
    print(f"{len(v)} grids of {v.shape[1]} cells, {'one piece' if args.one_piece else 'pieces bounded in cells'}: "
          f"peak {before:.0f} MB before the call, {peak_mb():.0f} MB after, {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
